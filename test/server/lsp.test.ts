import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CallHierarchyIncomingCallsRequest,
  CallHierarchyOutgoingCallsRequest,
  CallHierarchyPrepareRequest,
  CompletionRequest,
  type CompletionItem,
  DefinitionRequest,
  type DocumentSymbol,
  DocumentHighlightRequest,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  HoverRequest,
  type MarkupContent,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
  WorkspaceSymbolRequest,
} from 'vscode-languageserver-protocol/node';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fixture, marked, repoRoot } from '../support/fixtures';
import { LspSession } from '../support/lspClient';

const SEED_URI = 'file:///dumps/seed-kube-dns.nft-save.txt';
const seed = fixture('seed-kube-dns.nft-save.txt');

/** The seed dump with a cursor mark placed inside the `occurrence`-th appearance of `word`, `offset` characters in. */
function seedAt(word: string, occurrence = 0, offset = 3) {
  let at = -1;
  for (let i = 0; i <= occurrence; i++) at = seed.indexOf(word, at + 1);
  assert.ok(at >= 0, word);
  return marked(seed.slice(0, at + offset) + '┃' + seed.slice(at + offset));
}

function range(line: number, start: number, end: number) {
  return { start: { line, character: start }, end: { line, character: end } };
}

describe('the language server over JSON-RPC, on the seed kube-dns dump', () => {
  let lsp: LspSession;
  before(async () => {
    lsp = await LspSession.start();
    await lsp.open(SEED_URI, seed);
  });
  after(async () => lsp.stop());

  it('publishes no diagnostics for the valid dump', async () => {
    assert.deepEqual(await lsp.diagnosticsFor(SEED_URI, 1), []);
  });

  it('goes from `-j KUBE-SVC-ERIF┃XISQEP7F7OF4` to the declaration on line 11', async () => {
    const cursor = seedAt('-j KUBE-SVC-ERIFXISQEP7F7OF4', 0, 10);
    const result = await lsp.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: SEED_URI }, position: cursor });
    assert.deepEqual(result, { uri: SEED_URI, range: range(10, 1, 26) });
  });

  it('goes from the chain name of `-A KUBE-SEP-ZT5TVM6PMFDFQAMO` to its declaration', async () => {
    const cursor = seedAt('-A KUBE-SEP-ZT5TVM6PMFDFQAMO', 0, 5);
    const result = await lsp.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: SEED_URI }, position: cursor });
    assert.deepEqual(result, { uri: SEED_URI, range: range(8, 1, 26) });
  });

  it('answers null for a definition on a word that is not a chain (DNAT)', async () => {
    const cursor = seedAt('-j DNAT', 0, 4);
    assert.equal(await lsp.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: SEED_URI }, position: cursor }), null);
  });

  it('finds the declaration, both rules and the jump of KUBE-SEP-S4MK5EVI7CLHCCS6', async () => {
    const cursor = seedAt(':KUBE-SEP-S4MK5EVI7CLHCCS6');
    const result = await lsp.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri: SEED_URI }, position: cursor, context: { includeDeclaration: true } });
    assert.deepEqual(result?.map((l) => l.range), [range(7, 1, 26), range(14, 3, 28), range(15, 3, 28), range(19, 139, 164)]);
    const withoutDeclaration = await lsp.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri: SEED_URI }, position: cursor, context: { includeDeclaration: false } });
    assert.equal(withoutDeclaration?.length, 3);
  });

  it('highlights the chain under the cursor: definitions as writes, jumps as reads', async () => {
    const cursor = seedAt('-j KUBE-SVC-ERIFXISQEP7F7OF4', 0, 6);
    const result = await lsp.connection.sendRequest(DocumentHighlightRequest.type, { textDocument: { uri: SEED_URI }, position: cursor });
    assert.deepEqual(result?.map((h) => [h.range.start.line, h.kind]), [[10, 3], [18, 2], [19, 3], [20, 3]]);
  });

  it('hovers KUBE-SVC-ERIFXISQEP7F7OF4 with its table, rules, callers and callees', async () => {
    const cursor = seedAt('-j KUBE-SVC-ERIFXISQEP7F7OF4', 0, 8);
    const hover = await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri: SEED_URI }, position: cursor });
    const value = (hover?.contents as MarkupContent).value;
    const [service, chain] = value.split('\n\n---\n\n');
    assert.equal(service, [
      '**Service `kube-system/kube-dns:dns-tcp`** (TCP)',
      '',
      'SVC chain — cluster traffic: picks one of all endpoints',
      '',
      'Entered by: cluster IP 10.96.0.10:53/TCP',
      '',
      '| endpoint | share | pod |',
      '|---|---|---|',
      '| 10.32.0.3:53 | 50 % |  |',
      '| 10.32.0.4:53 | 50 % |  |',
    ].join('\n'));
    assert.equal(chain!.split('\n')[0], '**KUBE-SVC-ERIFXISQEP7F7OF4** — user chain in table `nat`');
    assert.match(value, /^2 rules · declared on line 11$/m);
    assert.match(value, /^Jumped to from: `KUBE-SERVICES`$/m);
    assert.match(value, /^Jumps to: `KUBE-SEP-S4MK5EVI7CLHCCS6`, `KUBE-SEP-ZT5TVM6PMFDFQAMO`$/m);
    assert.deepEqual(hover?.range, range(18, 125, 150));
  });

  it('hovers a built-in chain with its policy and a target with what it does', async () => {
    const prerouting = await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri: SEED_URI }, position: seedAt(':PREROUTING') });
    assert.match((prerouting?.contents as MarkupContent).value, /^\*\*PREROUTING\*\* — built-in chain in table `nat`\n\npolicy ACCEPT · 1 rule · declared on line 3/);
    const dnat = await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri: SEED_URI }, position: seedAt('-j DNAT', 0, 4) });
    assert.equal((dnat?.contents as MarkupContent).value, '**DNAT** — target extension: rewrite the destination address (and port)');
  });

  it('names the first ten calling chains and counts the others once each, however many rules they jump by', async () => {
    // C01 and C12 jump twice: C01 is named with its two rules; C12 is one of the 4 others (C11-C14).
    const callers = Array.from({ length: 14 }, (_, i) => `C${String(i + 1).padStart(2, '0')}`);
    const text = [
      '*filter',
      ':INPUT ACCEPT [0:0]',
      ':TARGET - [0:0]',
      ...callers.map((c) => `:${c} - [0:0]`),
      '-A INPUT -j C01',
      ...callers.flatMap((c) => (c === 'C01' || c === 'C12' ? [`-A ${c} -p tcp -j TARGET`, `-A ${c} -p udp -j TARGET`] : [`-A ${c} -j TARGET`])),
      'COMMIT',
      '',
    ].join('\n');
    const uri = 'file:///dumps/callers.iptables-save';
    await lsp.open(uri, text);
    const hover = await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 2, character: 3 } });
    assert.match((hover?.contents as MarkupContent).value, /^Jumped to from: `C01` \(2 rules\), `C02`, `C03`, `C04`, `C05`, `C06`, `C07`, `C08`, `C09`, `C10`, and 4 more$/m);
    await lsp.close(uri);
  });

  it('outlines table nat with its nine chains and their rule counts', async () => {
    const symbols = (await lsp.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: SEED_URI } })) as DocumentSymbol[];
    assert.deepEqual(symbols.map((s) => [s.name, s.detail, s.range.start.line, s.range.end.line]), [['nat', '9 chains · 10 rules', 1, 21]]);
    assert.deepEqual(symbols[0]!.children!.map((c) => [c.name, c.detail]), [
      ['PREROUTING', 'policy ACCEPT · 1 rule'],
      ['INPUT', 'policy ACCEPT · 0 rules'],
      ['OUTPUT', 'policy ACCEPT · 1 rule'],
      ['POSTROUTING', 'policy ACCEPT · 0 rules'],
      ['KUBE-MARK-MASQ', '1 rule'],
      ['KUBE-SEP-S4MK5EVI7CLHCCS6', '2 rules'],
      ['KUBE-SEP-ZT5TVM6PMFDFQAMO', '2 rules'],
      ['KUBE-SERVICES', '1 rule'],
      ['KUBE-SVC-ERIFXISQEP7F7OF4', '2 rules'],
    ]);
    const svc = symbols[0]!.children!.find((c) => c.name === 'KUBE-SVC-ERIFXISQEP7F7OF4')!;
    assert.deepEqual([svc.range.start.line, svc.range.end.line], [19, 20]);
  });

  it('finds the chain in workspace symbols by a fragment of its hash', async () => {
    const result = await lsp.connection.sendRequest(WorkspaceSymbolRequest.type, { query: 'ERIFX' });
    assert.deepEqual(result?.map((s) => [s.name, s.containerName]), [['KUBE-SVC-ERIFXISQEP7F7OF4', 'nat']]);
  });

  it('shows who calls KUBE-SVC-ERIFXISQEP7F7OF4 and whom it calls', async () => {
    const items = await lsp.connection.sendRequest(CallHierarchyPrepareRequest.type, { textDocument: { uri: SEED_URI }, position: seedAt(':KUBE-SVC-ERIFXISQEP7F7OF4') });
    assert.equal(items?.[0]?.name, 'KUBE-SVC-ERIFXISQEP7F7OF4');
    const incoming = await lsp.connection.sendRequest(CallHierarchyIncomingCallsRequest.type, { item: items![0]! });
    assert.deepEqual(incoming?.map((c) => [c.from.name, c.fromRanges]), [['KUBE-SERVICES', [range(18, 125, 150)]]]);
    const outgoing = await lsp.connection.sendRequest(CallHierarchyOutgoingCallsRequest.type, { item: items![0]! });
    assert.deepEqual(outgoing?.map((c) => [c.to.name, c.fromRanges.map((r) => r.start.line)]), [['KUBE-SEP-S4MK5EVI7CLHCCS6', [19]], ['KUBE-SEP-ZT5TVM6PMFDFQAMO', [20]]]);
  });

  it('folds the table, the declarations and the rules of each chain', async () => {
    const result = await lsp.connection.sendRequest(FoldingRangeRequest.type, { textDocument: { uri: SEED_URI } });
    assert.deepEqual(result?.map((f) => [f.startLine, f.endLine]), [[1, 21], [2, 10], [14, 15], [16, 17], [19, 20]]);
  });

  it('renames KUBE-SVC-ERIFXISQEP7F7OF4 everywhere it is named, and refuses a built-in chain', async () => {
    const cursor = seedAt(':KUBE-SVC-ERIFXISQEP7F7OF4');
    const prepared = await lsp.connection.sendRequest(PrepareRenameRequest.type, { textDocument: { uri: SEED_URI }, position: cursor });
    assert.deepEqual(prepared, { range: range(10, 1, 26), placeholder: 'KUBE-SVC-ERIFXISQEP7F7OF4' });
    const edit = await lsp.connection.sendRequest(RenameRequest.type, { textDocument: { uri: SEED_URI }, position: cursor, newName: 'KUBE-SVC-DNS-TCP' });
    assert.deepEqual(edit?.changes?.[SEED_URI]?.map((e) => [e.range.start.line, e.range.start.character, e.newText]), [
      [10, 1, 'KUBE-SVC-DNS-TCP'], [18, 125, 'KUBE-SVC-DNS-TCP'], [19, 3, 'KUBE-SVC-DNS-TCP'], [20, 3, 'KUBE-SVC-DNS-TCP'],
    ]);
    await assert.rejects(
      lsp.connection.sendRequest(PrepareRenameRequest.type, { textDocument: { uri: SEED_URI }, position: seedAt(':PREROUTING') }),
      /built-in chain of table 'nat' and cannot be renamed/,
    );
    await assert.rejects(
      lsp.connection.sendRequest(RenameRequest.type, { textDocument: { uri: SEED_URI }, position: cursor, newName: 'KUBE-SERVICES' }),
      /already has a chain 'KUBE-SERVICES'/,
    );
    await assert.rejects(
      lsp.connection.sendRequest(RenameRequest.type, { textDocument: { uri: SEED_URI }, position: cursor, newName: 'KUBE-SVC-THIS-NAME-IS-FAR-TOO-LONG' }),
      /allows 28 characters/,
    );
  });
});

describe('completion', () => {
  let lsp: LspSession;
  const uri = 'file:///dumps/typing.rules';
  before(async () => {
    lsp = await LspSession.start();
  });
  after(async () => lsp.stop());

  async function complete(text: string): Promise<CompletionItem[]> {
    const cursor = marked(text);
    await lsp.open(uri, cursor.text);
    const result = await lsp.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: cursor });
    await lsp.close(uri);
    return Array.isArray(result) ? result : (result?.items ?? []);
  }

  it('offers the user chains of the table and the targets after -j, but not built-in chains', async () => {
    const items = await complete(seed.replace('COMMIT', '-A KUBE-SERVICES -j ┃\nCOMMIT'));
    const labels = items.map((i) => i.label);
    assert.ok(labels.includes('KUBE-SVC-ERIFXISQEP7F7OF4'));
    assert.ok(labels.includes('ACCEPT') && labels.includes('DNAT') && labels.includes('MASQUERADE'));
    assert.ok(!labels.includes('PREROUTING'));
    assert.equal(items.find((i) => i.label === 'KUBE-SEP-S4MK5EVI7CLHCCS6')?.detail, 'user chain · 2 rules');
  });

  it('offers chains, built-in ones too, after -A, and modules after -m', async () => {
    const chains = (await complete(seed.replace('COMMIT', '-A KUBE-S┃\nCOMMIT'))).map((i) => i.label);
    assert.ok(chains.includes('PREROUTING') && chains.includes('KUBE-SERVICES'));
    const modules = (await complete(seed.replace('COMMIT', '-A KUBE-SERVICES -m ┃\nCOMMIT'))).map((i) => i.label);
    assert.ok(modules.includes('statistic') && modules.includes('comment') && modules.includes('recent'));
  });

  it('offers the table names after *', async () => {
    assert.deepEqual((await complete('*┃\n')).map((i) => i.label), ['filter', 'nat', 'mangle', 'raw', 'security']);
  });
});

describe('diagnostics over JSON-RPC', () => {
  let lsp: LspSession;
  before(async () => {
    lsp = await LspSession.start();
  });
  after(async () => lsp.stop());

  it('reports the two chains a partial restore jumps to without declaring, as information', async () => {
    const uri = 'file:///dumps/partial.rules';
    await lsp.open(uri, fixture('k8s-syncrepeated-2-partial-add-svc3.rules'));
    const diagnostics = await lsp.diagnosticsFor(uri, 1);
    assert.deepEqual(diagnostics.map((d) => [d.severity, d.code, d.range.start.line]), [[3, 'undeclared-target', 19], [3, 'undeclared-target', 20]]);
  });

  it('updates the diagnostics after an edit introduces a jump to a missing chain, and clears them when fixed', async () => {
    const uri = 'file:///dumps/edited.iptables-save';
    await lsp.open(uri, seed);
    assert.deepEqual(await lsp.diagnosticsFor(uri, 1), []);
    const broken = seed.replace('-j KUBE-SVC-ERIFXISQEP7F7OF4', '-j KUBE-SVC-TYPO');
    await lsp.change(uri, 2, broken);
    const diagnostics = await lsp.diagnosticsFor(uri, 2);
    assert.deepEqual(diagnostics.map((d) => [d.severity, d.code, d.range]), [
      [4, 'unused-chain', range(10, 1, 26)],
      [1, 'undeclared-target', range(18, 125, 138)],
    ]);
    assert.match(String(diagnostics[1]!.message), /Jump to 'KUBE-SVC-TYPO', which table 'nat' does not declare/);
    await lsp.change(uri, 3, seed);
    assert.deepEqual(await lsp.diagnosticsFor(uri, 3), []);
  });

  it('follows typing within a line: keystrokes on a probability give the skew of the final text, as a fresh open does', async () => {
    const uri = 'file:///dumps/typed.iptables-save';
    await lsp.open(uri, seed);
    assert.deepEqual(await lsp.diagnosticsFor(uri, 1), []);
    const lines = seed.split('\n');
    const line = lines.findIndex((l) => l.includes('--probability 0.50000000000'));
    const value = lines[line]!.indexOf('0.50000000000');
    // Two keystrokes: 0.5… becomes 0.9…, then a digit is added at the end of the value.
    await lsp.edit(uri, 2, line, value + 2, value + 3, '9');
    await lsp.edit(uri, 3, line, value + 13, value + 13, '1');
    const diagnostics = await lsp.diagnosticsFor(uri, 3);
    assert.deepEqual(diagnostics.map((d) => [d.code, d.range]), [['skewed-probability', range(line, value, value + 14)]]);
    assert.match(String(diagnostics[0]!.message), /here it is 0\.89999999991, so its endpoint gets 90 % instead of 50 %/);
    lines[line] = lines[line]!.replace('0.50000000000', '0.900000000001');
    await lsp.open('file:///dumps/typed-fresh.iptables-save', lines.join('\n'));
    assert.deepEqual(await lsp.diagnosticsFor('file:///dumps/typed-fresh.iptables-save', 1), diagnostics);
    // Typing the old value back clears it.
    await lsp.edit(uri, 4, line, value, value + 14, '0.50000000000');
    assert.deepEqual(await lsp.diagnosticsFor(uri, 4), []);
  });

  it('reports each kind of mistake in a hand-broken dump on the line where it is', async () => {
    const uri = 'file:///dumps/broken.iptables-save';
    const text = [
      '# Generated by iptables-save v1.8.9',
      '-A INPUT -j ACCEPT',
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-A - [0:0]',
      ':KUBE-A - [0:0]',
      '-A PREROUTING -j KUBE-A',
      '-A KUBE-A -p tcp --dport',
      'COMMIT',
      '-A PREROUTING -j ACCEPT',
      '*mangel',
      'COMMIT',
      '*filter',
      ':INPUT ACCEPT [0:0]',
      ':UNUSED - [0:0]',
    ].join('\n');
    await lsp.open(uri, text);
    const diagnostics = await lsp.diagnosticsFor(uri, 1);
    assert.deepEqual(diagnostics.map((d) => [d.range.start.line, d.code, d.severity]), [
      [1, 'outside-table', 1],
      [5, 'duplicate-chain', 1],
      [7, 'missing-value', 1],
      [9, 'after-commit', 1],
      [10, 'unknown-table', 1],
      [12, 'missing-commit', 1],
      [14, 'unused-chain', 4],
    ]);
  });

  it('leaves out the unused-chain hints when the setting turns them off', async () => {
    const quiet = await LspSession.start({ diagnostics: { unusedChains: false } });
    try {
      const uri = 'file:///dumps/weave.iptables-save';
      await quiet.open(uri, fixture('bossjones-kubeadm-weave-2018.iptables-save.txt'));
      assert.deepEqual(await quiet.diagnosticsFor(uri, 1), []);
    } finally {
      await quiet.stop();
    }
  });

  it('analyses an opened dump once, with the settings, when they come late', async () => {
    // The client answers the request for settings after 300 ms: the dump waits for them rather than being analysed with the defaults first.
    const slow = await LspSession.start({ diagnostics: { unusedChains: false } }, 300);
    try {
      const uri = 'file:///dumps/weave-late-settings.iptables-save';
      await slow.open(uri, fixture('bossjones-kubeadm-weave-2018.iptables-save.txt'));
      assert.deepEqual(await slow.diagnosticsFor(uri, 1), []);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(slow.published.filter((p) => p.uri === uri).length, 1);
    } finally {
      await slow.stop();
    }
  });
});

describe('the netfilter-language-server command', () => {
  const bin = path.join(repoRoot, 'dist', 'server.js');

  it('prints its usage with --help', () => {
    const result = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^Usage: netfilter-language-server --stdio/);
  });

  it('refuses to start without a transport, and says which to choose', () => {
    const result = spawnSync(process.execPath, [bin], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /choose a transport: --stdio, --node-ipc or --socket=PORT/);
  });
});
