import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CallHierarchyIncomingCallsRequest,
  CallHierarchyPrepareRequest,
  DocumentHighlightRequest,
  type DocumentSymbol,
  DocumentSymbolRequest,
  HoverRequest,
  type MarkupContent,
  ReferencesRequest,
  type ShowMessageParams,
  WorkspaceSymbolRequest,
} from 'vscode-languageserver-protocol/node';
import { generateDump } from '../../server/src/kube/generate';
import { CHAIN_PAGE_SIZE, MAX_FOUND_CHAINS } from '../../server/src/features/chains';
import { MAX_CALLERS } from '../../server/src/features/callHierarchy';
import { MAX_HIGHLIGHTS, MAX_REFERENCES } from '../../server/src/features/navigation';
import { OUTLINE_MAX_CHAINS, OUTLINE_MAX_SYMBOLS, OUTLINE_PAGE_SIZE } from '../../server/src/features/symbols';
import { ChainGroupRequest, ChainsRequest, FindChainsRequest } from '../../server/src/protocol';
import { LspSession } from '../support/lspClient';

/** Every symbol of an outline, depth first. */
function flatten(symbols: DocumentSymbol[]): DocumentSymbol[] {
  return symbols.flatMap((s) => [s, ...flatten(s.children ?? [])]);
}

const contains = (outer: DocumentSymbol['range'], inner: DocumentSymbol['range']) =>
  (outer.start.line < inner.start.line || (outer.start.line === inner.start.line && outer.start.character <= inner.start.character)) &&
  (inner.end.line < outer.end.line || (inner.end.line === outer.end.line && inner.end.character <= outer.end.character));

describe('answers that would be too large on a big dump are cut, and say so', () => {
  // 2,500 services x 3 endpoints, comment-less: 2,375 KUBE-SVC and 7,125 KUBE-SEP chains, all jumping to KUBE-MARK-MASQ.
  const dump = generateDump(2_500, 3);
  const lines = dump.text.split('\n');
  const uri = 'file:///big/node.iptables-save';
  const messages: ShowMessageParams[] = [];
  let lsp: LspSession;
  before(async () => {
    lsp = await LspSession.start();
    lsp.connection.onNotification('window/showMessage', (m: ShowMessageParams) => {
      messages.push(m);
    });
    await lsp.open(uri, dump.text);
    await lsp.diagnosticsFor(uri, 1, 60_000);
  });
  after(async () => lsp.stop());

  /** A jump to KUBE-MARK-MASQ about the middle of the dump. */
  function masqJump(): { line: number; character: number } {
    const line = lines.findIndex((l, i) => i > lines.length / 2 && l.startsWith('-A KUBE-SEP-') && l.endsWith('-j KUBE-MARK-MASQ'));
    return { line, character: lines[line]!.lastIndexOf('KUBE-MARK-MASQ') + 3 };
  }

  it('outlines the chains in groups and pages, within the symbol budget, without overlaps', async () => {
    const symbols = (await lsp.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
    const all = flatten(symbols);
    assert.ok(all.length <= OUTLINE_MAX_SYMBOLS, `${all.length} symbols`);
    const nat = symbols.find((s) => s.name === 'nat')!;
    assert.ok(Number(nat.detail!.split(' ')[0]!.replace(/,/g, '')) > OUTLINE_MAX_CHAINS);
    const names = nat.children!.map((c) => c.name);
    assert.ok(names.includes('KUBE-SERVICES') && names.includes('KUBE-MARK-MASQ') && names.includes('PREROUTING'), names.join(', '));
    const sepPages = nat.children!.filter((c) => c.name.startsWith('KUBE-SEP-* ('));
    assert.equal(sepPages.length, Math.ceil(7_125 / OUTLINE_PAGE_SIZE));
    assert.match(sepPages[0]!.name, /^KUBE-SEP-\* \(1 of 15\)$/);
    assert.match(sepPages[0]!.detail!, /^\S+ – \S+ · 500 chains, each in Go to Symbol in Workspace$/);
    // Every symbol's selection lies in its range, children in their parent; the groups of nat follow each other without overlapping.
    for (const parent of all) {
      assert.ok(contains(parent.range, parent.selectionRange), parent.name);
      for (const child of parent.children ?? []) assert.ok(contains(parent.range, child.range), `${child.name} in ${parent.name}`);
    }
    for (let i = 1; i < nat.children!.length; i++) {
      const [a, b] = [nat.children![i - 1]!, nat.children![i]!];
      assert.ok(a.range.end.line < b.range.start.line, `${a.name} (to line ${a.range.end.line}) before ${b.name} (from line ${b.range.start.line})`);
    }
    // The breadcrumbs of a line of a KUBE-SEP chain: nat › its page.
    const line = masqJump().line;
    const page = sepPages.find((p) => p.range.start.line <= line && line <= p.range.end.line);
    assert.ok(page, `a page holds line ${line}`);
    // Each chain still reachable: workspace symbols find a chain of a page by its hash.
    const chain = lines[line]!.split(' ')[1]!;
    const found = await lsp.connection.sendRequest(WorkspaceSymbolRequest.type, { query: chain.slice(-10) });
    assert.ok(found?.some((s) => s.name === chain), chain);
  });

  it('lists the references nearest the cursor and tells how many there are', async () => {
    const position = masqJump();
    messages.length = 0;
    const locations = await lsp.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position, context: { includeDeclaration: true } });
    assert.equal(locations?.length, MAX_REFERENCES);
    const declaration = lines.findIndex((l) => l.startsWith(':KUBE-MARK-MASQ '));
    assert.equal(locations![0]!.range.start.line, declaration, 'the declaration first');
    const rest = locations!.slice(1).map((l) => l.range.start.line);
    assert.ok(rest[0]! <= position.line && position.line <= rest.at(-1)!, 'around the cursor');
    assert.deepEqual(rest, [...rest].sort((a, b) => a - b));
    assert.equal(messages.length, 1);
    assert.match(messages[0]!.message, /^KUBE-MARK-MASQ is named in [\d,]+ places; Find All References lists the 2,000 nearest the cursor \(lines [\d,]+–[\d,]+\)/);
    // A small chain: all of its references, and no message.
    messages.length = 0;
    const svc = lines.findIndex((l) => l.startsWith('-A KUBE-SERVICES ') && l.includes('-j KUBE-SVC-'));
    const small = await lsp.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position: { line: svc, character: lines[svc]!.lastIndexOf('KUBE-SVC-') + 3 }, context: { includeDeclaration: true } });
    assert.ok(small!.length > 1 && small!.length < 100);
    assert.equal(messages.length, 0);
  });

  it('highlights at most the nearest places, and the hover counts the calling chains', async () => {
    const position = masqJump();
    const highlights = await lsp.connection.sendRequest(DocumentHighlightRequest.type, { textDocument: { uri }, position });
    assert.equal(highlights?.length, MAX_HIGHLIGHTS);
    assert.ok(highlights!.some((h) => h.range.start.line === position.line));
    const hover = await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
    assert.match((hover?.contents as MarkupContent).value, /^Jumped to from: (`KUBE-[A-Z]+-\w+`, ){9}`KUBE-[A-Z]+-\w+`, and [\d,]+ more$/m);
  });

  it('lists the first calling chains in the call hierarchy, and says how many there are', async () => {
    const items = await lsp.connection.sendRequest(CallHierarchyPrepareRequest.type, { textDocument: { uri }, position: masqJump() });
    messages.length = 0;
    const calls = await lsp.connection.sendRequest(CallHierarchyIncomingCallsRequest.type, { item: items![0]! });
    assert.equal(calls?.length, MAX_CALLERS);
    assert.equal(messages.length, 1);
    assert.match(messages[0]!.message, /^[\d,]+ chains jump to KUBE-MARK-MASQ; the call hierarchy lists the first 2,000\./);
  });

  it('gives the Chains view groups of chains, a group when it is expanded, and Go to Chain the matches of what is typed', async () => {
    const chains = await lsp.connection.sendRequest(ChainsRequest, { textDocument: { uri } });
    const nat = chains!.tables.find((t) => t.name === 'nat')!;
    const label = (e: (typeof nat.entries)[number]) => ('chain' in e ? e.chain.name : e.group.label);
    const labels = nat.entries.map(label);
    // Lone chains stay; KUBE-SERVICES, KUBE-NODEPORTS and KUBE-POSTROUTING share a prefix, KUBE-MARK-MASQ has its own.
    assert.deepEqual(labels.filter((l) => !l.startsWith('KUBE-SEP-') && !l.startsWith('KUBE-SVC-')), ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'KUBE-EXT-*', 'KUBE-FW-*', 'KUBE-MARK-MASQ', 'KUBE-*', 'KUBE-SVL-*']);
    const sepPages = nat.entries.filter((e) => 'group' in e && e.group.label.startsWith('KUBE-SEP-* ('));
    assert.equal(sepPages.length, Math.ceil(7_125 / CHAIN_PAGE_SIZE));
    const first = sepPages[0]!;
    assert.ok('group' in first);
    assert.match(`${first.group.label} | ${first.group.detail}`, /^KUBE-SEP-\* \(1 of 15\) \| \w{16} – \w{16}$/);
    assert.ok(JSON.stringify(chains).length < 20_000, `${JSON.stringify(chains).length} bytes`);
    const page = await lsp.connection.sendRequest(ChainGroupRequest, { textDocument: { uri }, table: 'nat', key: first.group.key });
    assert.equal(page?.length, CHAIN_PAGE_SIZE);
    const names = page!.map((c) => c.name);
    assert.deepEqual(names, [...names].sort());
    assert.equal(page![0]!.endpoint?.port, 8080);
    assert.equal(await lsp.connection.sendRequest(ChainGroupRequest, { textDocument: { uri }, table: 'nat', key: 'NOPE' }), null);

    const chain = names[7]!;
    const found = await lsp.connection.sendRequest(FindChainsRequest, { textDocument: { uri }, query: chain.slice(-8).toLowerCase() });
    assert.ok(found?.chains.some((c) => c.name === chain && c.table === 'nat'), JSON.stringify(found));
    const many = await lsp.connection.sendRequest(FindChainsRequest, { textDocument: { uri }, query: 'KUBE-SEP nat' });
    assert.deepEqual([many?.total, many?.chains.length], [7_125, MAX_FOUND_CHAINS]);
    const exact = await lsp.connection.sendRequest(FindChainsRequest, { textDocument: { uri }, query: '', exact: { chain, table: 'nat' } });
    assert.deepEqual(exact?.chains.map((c) => c.name), [chain]);
    const line = lines.findIndex((l) => l.startsWith(`:${chain} `));
    assert.equal(exact?.chains[0]?.range.start.line, line);
  });
});
