import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CodeLensRequest, HoverRequest, InlayHintRequest, type MarkupContent } from 'vscode-languageserver-protocol/node';
import { ChainRulesRequest, ChainsRequest, PodInventoryNotification, ServiceAtRequest, ServiceListRequest, ServiceRequest, ServicesRequest } from '../../server/src/protocol';
import { fixture, marked } from '../support/fixtures';
import { LspSession } from '../support/lspClient';

const URI = 'file:///dumps/seed-kube-dns.nft-save.txt';
const seed = fixture('seed-kube-dns.nft-save.txt');

function at(word: string, offset = 3) {
  const index = seed.indexOf(word);
  assert.ok(index >= 0, word);
  return marked(seed.slice(0, index + offset) + '┃' + seed.slice(index + offset));
}

const PODS = JSON.stringify({
  kind: 'List',
  items: [
    { metadata: { name: 'coredns-5d78c9869d-4xk2p', namespace: 'kube-system' }, spec: { nodeName: 'node-1' }, status: { podIP: '10.32.0.3' } },
    { metadata: { name: 'coredns-5d78c9869d-9qz7m', namespace: 'kube-system' }, spec: { nodeName: 'node-2' }, status: { podIP: '10.32.0.4' } },
  ],
});

describe('services in the editor, over JSON-RPC, on the seed kube-dns dump', () => {
  let lsp: LspSession;
  before(async () => {
    lsp = await LspSession.start();
    await lsp.open(URI, seed);
  });
  after(async () => lsp.stop());

  async function hoverText(position: { line: number; character: number }): Promise<string> {
    const hover = await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri: URI }, position });
    return (hover?.contents as MarkupContent | undefined)?.value ?? '';
  }

  it('hovering KUBE-SEP-S4MK5EVI7CLHCCS6 shows the endpoint 10.32.0.3:53, its 50 % share and its service', async () => {
    const text = await hoverText(at(':KUBE-SEP-S4MK5EVI7CLHCCS6'));
    const service = text.split('\n\n---\n\n')[0]!;
    assert.equal(service, [
      '**Service `kube-system/kube-dns:dns-tcp`** (TCP)',
      '',
      'Endpoint **10.32.0.3:53**',
      '',
      'Pod: unknown (set `netfilterExplorer.podInventory` to a `kubectl get pods -A -o json` file to see pod names)',
      '',
      'Share: 50 % of cluster IP 10.96.0.10:53/TCP',
    ].join('\n'));
  });

  it('hovering the cluster IP 10.96.0.10/32 names the service and where its traffic goes', async () => {
    const text = await hoverText(at('10.96.0.10/32', 2));
    assert.equal(text, '**cluster IP 10.96.0.10:53/TCP** of service `kube-system/kube-dns:dns-tcp` → 10.32.0.3:53 50 %, 10.32.0.4:53 50 %');
  });

  it('shows the effective share after --probability and after the fall-through jump', async () => {
    const hints = await lsp.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri: URI }, range: { start: { line: 0, character: 0 }, end: { line: 22, character: 0 } } });
    assert.deepEqual(hints?.map((h) => [h.position.line, h.position.character, h.label]), [[19, 135, '≈ 50 %'], [20, 109, '≈ 50 %']]);
  });

  it('puts code lenses above the service and endpoint chains', async () => {
    const lenses = await lsp.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri: URI } });
    assert.deepEqual(lenses?.map((l) => [l.range.start.line, l.command?.title]), [
      [7, 'kube-system/kube-dns:dns-tcp → 10.32.0.3:53 · 50 %'],
      [7, '3 references'],
      [8, 'kube-system/kube-dns:dns-tcp → 10.32.0.4:53 · 50 %'],
      [8, '3 references'],
      [10, 'kube-system/kube-dns:dns-tcp · 2 endpoints'],
      [10, '3 references'],
    ]);
  });

  it('answers the Services view level by level: namespaces, their services, a service with its entries and endpoints', async () => {
    const tree = await lsp.connection.sendRequest(ServicesRequest, { textDocument: { uri: URI } });
    assert.deepEqual(tree && { ...tree, uri: undefined, version: undefined }, {
      uri: undefined,
      version: undefined,
      total: 1,
      endpointTotal: 2,
      namespaceTotal: 1,
      filter: '',
      matched: 1,
      namespaces: [{ namespace: 'kube-system', services: 1 }],
      podSource: null,
    });
    const list = await lsp.connection.sendRequest(ServiceListRequest, { textDocument: { uri: URI }, namespace: 'kube-system' });
    assert.deepEqual(list?.services, [{
      id: 'kube-system/kube-dns:dns-tcp/TCP',
      namespace: 'kube-system',
      name: 'kube-dns',
      port: 'dns-tcp',
      protocol: 'TCP',
      title: 'kube-system/kube-dns:dns-tcp',
      nameSource: 'comment',
      hashConfirmed: true,
      endpointCount: 2,
      skewed: false,
      state: 'ok',
      entryTitles: ['cluster IP 10.96.0.10:53/TCP'],
      range: { start: { line: 10, character: 1 }, end: { line: 10, character: 26 } },
    }]);
    const service = await lsp.connection.sendRequest(ServiceRequest, { textDocument: { uri: URI }, id: 'kube-system/kube-dns:dns-tcp/TCP' });
    const entry = service!.entries[0]!;
    assert.equal(entry.title, 'cluster IP 10.96.0.10:53/TCP');
    assert.deepEqual(entry.ruleRange, { start: { line: 18, character: 0 }, end: { line: 18, character: 150 } });
    assert.deepEqual(entry.chain?.range, { start: { line: 10, character: 1 }, end: { line: 10, character: 26 } });
    assert.deepEqual(entry.endpoints.map((e) => [e.ip, e.port, e.share, e.chain.name, e.chain.range.start.line]), [
      ['10.32.0.3', 53, 0.5, 'KUBE-SEP-S4MK5EVI7CLHCCS6', 7],
      ['10.32.0.4', 53, 0.5, 'KUBE-SEP-ZT5TVM6PMFDFQAMO', 8],
    ]);
    assert.equal(await lsp.connection.sendRequest(ServiceRequest, { textDocument: { uri: URI }, id: 'nope/nope:x/TCP' }), null);
  });

  it('filters the services in the server: by an endpoint address, and nothing for a word no service has', async () => {
    const hit = await lsp.connection.sendRequest(ServicesRequest, { textDocument: { uri: URI }, filter: ' 10.32.0.4  KUBE-DNS ' });
    assert.deepEqual([hit?.filter, hit?.matched, hit?.total, hit?.namespaces], ['10.32.0.4 kube-dns', 1, 1, [{ namespace: 'kube-system', services: 1 }]]);
    const miss = await lsp.connection.sendRequest(ServicesRequest, { textDocument: { uri: URI }, filter: 'kube-dns ns6' });
    assert.deepEqual([miss?.matched, miss?.namespaces], [0, []]);
    const list = await lsp.connection.sendRequest(ServiceListRequest, { textDocument: { uri: URI }, namespace: 'kube-system', filter: 'no-such-thing' });
    assert.deepEqual([list?.total, list?.services], [0, []]);
  });

  it('filters by what an edit made: an endpoint address typed over is found by its new value only', async () => {
    const uri = 'file:///dumps/seed-edited-address.nft-save.txt';
    await lsp.open(uri, seed);
    const matched = async (filter: string) => (await lsp.connection.sendRequest(ServicesRequest, { textDocument: { uri }, filter }))?.matched;
    assert.deepEqual([await matched('10.32.0.3'), await matched('10.32.0.9')], [1, 0]);
    const line = seed.split('\n').findIndex((l) => l.endsWith('--to-destination 10.32.0.3:53'));
    const column = seed.split('\n')[line]!.lastIndexOf('10.32.0.3');
    await lsp.edit(uri, 2, line, column, column + '10.32.0.3'.length, '10.32.0.9');
    await lsp.diagnosticsFor(uri, 2);
    assert.deepEqual([await matched('10.32.0.3'), await matched('10.32.0.9'), await matched('10.32.0.4')], [0, 1, 1]);
    await lsp.close(uri);
  });

  it('finds the service, entry and endpoint a line belongs to', async () => {
    const at = (line: number, filter?: string) => lsp.connection.sendRequest(ServiceAtRequest, { textDocument: { uri: URI }, line, ...(filter ? { filter } : {}) });
    const rule = await at(18);
    assert.deepEqual([rule?.service.title, rule?.via, rule?.entry, rule?.endpoint, rule?.index], ['kube-system/kube-dns:dns-tcp', 'entry rule', 0, null, 0]);
    // The declaration of KUBE-SEP-S4MK5EVI7CLHCCS6, and its DNAT rule.
    assert.deepEqual([(await at(7))?.via, (await at(7))?.endpoint], ['endpoint chain', { condition: null, index: 0 }]);
    const dnat = seed.split('\n').findIndex((l) => l.startsWith('-A KUBE-SEP-ZT5TVM6PMFDFQAMO -p tcp'));
    assert.deepEqual((await at(dnat))?.endpoint, { condition: null, index: 1 });
    // A rule of the service chain: the entry it is the chain of.
    assert.deepEqual([(await at(19))?.via, (await at(19))?.entry], ['entry chain', 0]);
    assert.equal(await at(0), null);
    assert.equal(await at(13), null, 'KUBE-MARK-MASQ belongs to no service');
    assert.equal((await at(18, 'no-such-thing'))?.index, null, 'hidden by the filter');
  });

  it('names the pods once an inventory arrives', async () => {
    await lsp.connection.sendNotification(PodInventoryNotification, { source: 'pods.json', text: PODS });
    const text = await hoverText(at(':KUBE-SEP-S4MK5EVI7CLHCCS6'));
    assert.match(text, /^Pod: \*\*kube-system\/coredns-5d78c9869d-4xk2p\*\* on node node-1$/m);
    const service = await lsp.connection.sendRequest(ServiceRequest, { textDocument: { uri: URI }, id: 'kube-system/kube-dns:dns-tcp/TCP' });
    assert.deepEqual(service?.entries[0]?.endpoints.map((e) => e.pod?.name), ['coredns-5d78c9869d-4xk2p', 'coredns-5d78c9869d-9qz7m']);
    assert.equal((await lsp.connection.sendRequest(ServicesRequest, { textDocument: { uri: URI } }))?.podSource, 'pods.json');
    // The filter finds pods and their nodes; the Chains view names the pod behind an endpoint chain.
    assert.equal((await lsp.connection.sendRequest(ServicesRequest, { textDocument: { uri: URI }, filter: 'node-2' }))?.matched, 1);
    const chains = await lsp.connection.sendRequest(ChainsRequest, { textDocument: { uri: URI } });
    const sep = chains?.tables[0]?.entries.find((e) => 'chain' in e && e.chain.name === 'KUBE-SEP-S4MK5EVI7CLHCCS6');
    assert.deepEqual(sep && 'chain' in sep && sep.chain.endpoint, { ip: '10.32.0.3', port: 53, pod: 'coredns-5d78c9869d-4xk2p' });
    const jump = (await lsp.connection.sendRequest(ChainRulesRequest, { textDocument: { uri: URI }, table: 'nat', chain: 'KUBE-SVC-ERIFXISQEP7F7OF4' }))?.[0];
    assert.deepEqual(jump?.targetChain, { ruleCount: 2, service: 'kube-system/kube-dns:dns-tcp', endpoint: { ip: '10.32.0.3', port: 53, pod: 'coredns-5d78c9869d-4xk2p' } });
    await lsp.connection.sendNotification(PodInventoryNotification, { source: null });
    assert.match(await hoverText(at(':KUBE-SEP-S4MK5EVI7CLHCCS6')), /^Pod: unknown/m);
  });
});

describe('service diagnostics over JSON-RPC', () => {
  it('kube-proxy overall rules: svc6 has no endpoints, on its REJECT rule (line 9)', async () => {
    const lsp = await LspSession.start();
    try {
      const uri = 'file:///dumps/overall.rules';
      await lsp.open(uri, fixture('k8s-overall-modern.rules'));
      const diagnostics = await lsp.diagnosticsFor(uri, 1);
      assert.deepEqual(diagnostics.map((d) => [d.range.start.line, d.code, d.severity]), [[8, 'no-endpoints', 3]]);
    } finally {
      await lsp.stop();
    }
  });
});

describe('the chains requests behind the Chains view', () => {
  it('list tables and chains, and a chain expanded into its rules with jumps and shares', async () => {
    const lsp = await LspSession.start();
    try {
      await lsp.open(URI, seed);
      const chains = await lsp.connection.sendRequest(ChainsRequest, { textDocument: { uri: URI } });
      assert.deepEqual(chains?.tables.map((t) => t.name), ['nat']);
      assert.equal(chains!.tables[0]!.chainCount, 9);
      const byName = new Map(chains!.tables[0]!.entries.flatMap((e) => ('chain' in e ? [[e.chain.name, e.chain] as const] : [])));
      assert.equal(byName.size, 9, 'a table of 9 chains lists them, without groups');
      assert.deepEqual(byName.get('PREROUTING'), { name: 'PREROUTING', builtin: true, policy: 'ACCEPT', counters: { packets: 0, bytes: 0 }, range: { start: { line: 2, character: 1 }, end: { line: 2, character: 11 } }, ruleCount: 1, incoming: 0, service: null });
      assert.equal(byName.get('KUBE-SEP-S4MK5EVI7CLHCCS6')?.service, 'kube-system/kube-dns:dns-tcp');
      assert.deepEqual(byName.get('KUBE-SEP-S4MK5EVI7CLHCCS6')?.endpoint, { ip: '10.32.0.3', port: 53 });
      assert.equal(byName.get('KUBE-SERVICES')?.incoming, 2);

      const services = await lsp.connection.sendRequest(ChainRulesRequest, { textDocument: { uri: URI }, table: 'nat', chain: 'KUBE-SERVICES' });
      assert.deepEqual(services?.map((r) => [r.line, r.target, r.targetIsChain, r.comment]), [[18, 'KUBE-SVC-ERIFXISQEP7F7OF4', true, 'kube-system/kube-dns:dns-tcp cluster IP']]);
      assert.equal(services?.[0]?.text, '-d 10.96.0.10/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 -j KUBE-SVC-ERIFXISQEP7F7OF4');
      const svc = await lsp.connection.sendRequest(ChainRulesRequest, { textDocument: { uri: URI }, table: 'nat', chain: 'KUBE-SVC-ERIFXISQEP7F7OF4' });
      assert.deepEqual(svc?.map((r) => [r.target, r.share]), [['KUBE-SEP-S4MK5EVI7CLHCCS6', 0.5], ['KUBE-SEP-ZT5TVM6PMFDFQAMO', 0.5]]);
      const dnat = await lsp.connection.sendRequest(ChainRulesRequest, { textDocument: { uri: URI }, table: 'nat', chain: 'KUBE-SEP-S4MK5EVI7CLHCCS6' });
      assert.deepEqual(dnat?.map((r) => [r.target, r.targetIsChain]), [['KUBE-MARK-MASQ', true], ['DNAT', false]]);
      assert.deepEqual(dnat?.map((r) => r.targetChain), [{ ruleCount: 1, service: null }, undefined]);
      assert.deepEqual(svc?.map((r) => r.targetChain?.endpoint), [{ ip: '10.32.0.3', port: 53 }, { ip: '10.32.0.4', port: 53 }]);
      assert.equal(await lsp.connection.sendRequest(ChainRulesRequest, { textDocument: { uri: URI }, table: 'nat', chain: 'NOPE' }), null);
    } finally {
      await lsp.stop();
    }
  });
});
