// The Services and Chains views walked as VS Code walks them (getChildren, getTreeItem,
// resolveTreeItem, reveal), on a stub of the `vscode` module, with the server's feature functions
// answering in-process: the level-by-level services tree, its filter, pages and reveal.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../../server/src/core/analysis';
import { chainGroup, chainRules, chainsResult, findChains } from '../../server/src/features/chains';
import { serviceAt, serviceDetails, serviceList, servicesTree } from '../../server/src/features/servicesTree';
import { parsePodInventory, type PodInventory } from '../../server/src/kube/inventory';
import type { ServiceListParams, ServiceListResult, ServicesResult, ServiceSummary } from '../../server/src/protocol';
import { installVscodeStub, statusMessages, treeViews } from './vscodeStub';

installVscodeStub();
// Loaded after the stub: they import vscode.
/* eslint-disable @typescript-eslint/no-require-imports */
const { ServicesView } = require('../../client/src/servicesView') as typeof import('../../client/src/servicesView');
const { ChainsView, chainMatcher, chainPickItem } = require('../../client/src/chainsView') as typeof import('../../client/src/chainsView');
type Tracker = ConstructorParameters<typeof ServicesView>[0];
type Provider = import('vscode').TreeDataProvider<unknown>;

const repoRoot = path.resolve(__dirname, '../../..');
const fixture = (name: string) => fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'kube-proxy', name), 'utf8');

const PODS = JSON.stringify({
  kind: 'List',
  items: [
    { metadata: { name: 'coredns-5d78c9869d-4xk2p', namespace: 'kube-system' }, spec: { nodeName: 'node-1' }, status: { podIP: '10.32.0.3' } },
    { metadata: { name: 'coredns-5d78c9869d-9qz7m', namespace: 'kube-system' }, spec: { nodeName: 'node-2' }, status: { podIP: '10.32.0.4' } },
  ],
});

/** A DumpTracker answering from the server's feature functions on one dump, counting what is asked. */
function inProcessTracker(text: string, pods?: PodInventory) {
  const analysis = analyze(text);
  const lines = text.split('\n');
  const uri = 'file:///dumps/dump.iptables-save';
  const asked: string[] = [];
  const tracker = {
    dump: { uri, version: 1 },
    onDidChange: () => ({ dispose: () => undefined }),
    readingMessage: () => undefined,
    servicesSeen: () => false,
    servicesTree: async (filter = '') => {
      asked.push(`tree ${filter}`);
      return servicesTree(analysis, uri, 1, pods, filter);
    },
    serviceList: async (params: Omit<ServiceListParams, 'textDocument'>) => {
      asked.push(`list ${params.namespace} ${params.filter ?? ''}`);
      return serviceList(analysis, uri, 1, pods, params);
    },
    service: async (id: string) => {
      asked.push(`service ${id}`);
      return serviceDetails(analysis, pods, id) ?? undefined;
    },
    serviceAt: async (_dump: unknown, line: number, filter: string) => {
      asked.push(`at ${line} ${filter}`);
      return serviceAt(analysis, pods, line, filter) ?? undefined;
    },
    chainsResult: async () => chainsResult(analysis, uri, 1, pods),
    chainGroup: async (table: string, key: string) => {
      asked.push(`group ${table} ${key}`);
      return chainGroup(analysis, pods, table, key) ?? undefined;
    },
    chainRules: async (table: string, chain: string) => chainRules(analysis, table, chain, pods) ?? undefined,
  };
  return { tracker: tracker as unknown as Tracker, asked, analysis, pods, lines };
}

/** A tree as `label — description` lines, indented by depth, expanding what `expand` says (as the electron suite reads it). */
async function treeLines(provider: Provider, expand: (label: string, depth: number) => boolean = () => true, maxDepth = 6): Promise<string[]> {
  const out: string[] = [];
  const walk = async (element: unknown, depth: number): Promise<void> => {
    for (const child of (await provider.getChildren(element as never)) ?? []) {
      const item = await provider.getTreeItem(child as never);
      const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
      const description = typeof item.description === 'string' ? item.description : '';
      out.push(`${'  '.repeat(depth)}${label}${description ? ` — ${description}` : ''}`);
      if (depth < maxDepth && item.collapsibleState !== 0 && expand(label, depth)) await walk(child, depth + 1);
    }
  };
  await walk(undefined, 0);
  return out;
}

describe('the Services view, level by level', () => {
  it('shows kube-dns with both endpoints and their pods, asking for the namespace and the service it shows', async () => {
    const { tracker, asked } = inProcessTracker(fixture('seed-kube-dns.nft-save.txt'), parsePodInventory(PODS, 'pods.json'));
    const view = new ServicesView(tracker);
    assert.deepEqual(await treeLines(view as unknown as Provider), [
      'kube-system — 1 service',
      '  kube-dns:dns-tcp — TCP · 2 endpoints',
      '    cluster IP 10.96.0.10:53/TCP — 2 endpoints',
      '      10.32.0.3:53 — 50 % · coredns-5d78c9869d-4xk2p',
      '      10.32.0.4:53 — 50 % · coredns-5d78c9869d-9qz7m',
    ]);
    assert.deepEqual(asked, ['tree ', 'list kube-system ', 'service kube-system/kube-dns:dns-tcp/TCP']);
    // The service's tooltip is asked for when it is hovered.
    const [ns] = await view.getChildren();
    const [service] = await view.getChildren(ns);
    const item = view.getTreeItem(service!);
    assert.equal(item.tooltip, undefined);
    const resolved = await view.resolveTreeItem(item, service!);
    const tooltip = (resolved.tooltip as { value: string }).value;
    assert.match(tooltip, /^\*\*`kube-system\/kube-dns:dns-tcp`\*\* \(TCP\)/);
    assert.match(tooltip, /Chains: `KUBE-SVC-ERIFXISQEP7F7OF4`/);
    assert.match(tooltip, /- cluster IP 10\.96\.0\.10:53\/TCP — 2 endpoints/);
  });

  it('filters in the server: one service left opens down to its REJECT; nothing left says so', async () => {
    const { tracker } = inProcessTracker(fixture('k8s-overall-modern.rules'));
    const view = new ServicesView(tracker);
    const treeView = treeViews.at(-1)!;
    assert.deepEqual((await treeLines(view as unknown as Provider, () => false)).filter((l) => !l.startsWith(' ')), ['ns1 — 1 service', 'ns2 — 1 service', 'ns3 — 1 service', 'ns4 — 1 service', 'ns5 — 1 service', 'ns6 — 1 service']);
    view.setFilter('172.30.0.46');
    const [ns] = await view.getChildren();
    assert.equal(view.getTreeItem(ns!).collapsibleState, 2, 'expanded');
    const [service] = await view.getChildren(ns);
    assert.equal(view.getTreeItem(service!).collapsibleState, 2, 'expanded');
    assert.deepEqual(await treeLines(view as unknown as Provider), [
      'ns6 — 1 service',
      '  svc6:p80 — TCP · no endpoints',
      '    cluster IP 172.30.0.46:80/TCP — REJECT 100 %',
      '      REJECT — 100 %',
    ]);
    assert.equal(treeView.message, 'Filter "172.30.0.46": 1 of 6 services.');
    view.setFilter('no-such-service');
    assert.deepEqual(await view.getChildren(), []);
    assert.equal(treeView.message, 'No service matches "no-such-service" (of 6 services).');
    view.setFilter('');
    assert.equal((await view.getChildren()).length, 6);
    assert.equal(treeView.message, undefined);
  });

  it('reveals the endpoint of the line, clearing a filter that hides it', async () => {
    const text = fixture('seed-kube-dns.nft-save.txt');
    const { tracker, asked, analysis, pods, lines } = inProcessTracker(text);
    const view = new ServicesView(tracker);
    const treeView = treeViews.at(-1)!;
    const line = lines.findIndex((l) => l.startsWith('-A KUBE-SEP-S4MK5EVI7CLHCCS6 -p tcp'));
    const node = (await view.reveal(tracker.dump!, line))?.node;
    assert.equal(node?.kind, 'endpoint');
    assert.equal(node?.kind === 'endpoint' && node.endpoint.ip, '10.32.0.3');
    assert.equal(treeView.revealed.at(-1), node);
    view.setFilter('ns6');
    const hidden = serviceAt(analysis, pods, line, 'ns6')!;
    assert.equal(hidden.index, null);
    asked.length = 0;
    const shown = (await view.reveal(tracker.dump!, line))?.node;
    assert.deepEqual(asked.filter((a) => a.startsWith('at ')), [`at ${line} ns6`, `at ${line} `], 'asked under the filter, then again without it');
    assert.equal(view.filter, '');
    assert.equal(shown?.kind === 'endpoint' && shown.endpoint.ip, '10.32.0.3');
    assert.match(statusMessages.at(-1)!, /filter "ns6" cleared to show kube-system\/kube-dns:dns-tcp/);
  });

  it('shows a namespace of 2,345 services in pages of 500, each asked when it is expanded', async () => {
    const summary = (i: number): ServiceSummary => ({
      id: `big/svc-${i}:http/TCP`, namespace: 'big', name: `svc-${i}`, port: 'http', protocol: 'TCP', title: `big/svc-${i}:http`,
      nameSource: 'comment', hashConfirmed: true, endpointCount: 1, skewed: false, state: 'ok', entryTitles: ['cluster IP 10.0.0.1:80/TCP'], range: null,
    });
    const asked: Array<Omit<ServiceListParams, 'textDocument'>> = [];
    const tree: ServicesResult = { uri: 'file:///big', version: 1, total: 2_345, endpointTotal: 2_345, namespaceTotal: 1, filter: '', matched: 2_345, namespaces: [{ namespace: 'big', services: 2_345 }], podSource: null };
    const tracker = {
      dump: { uri: 'file:///big', version: 1 },
      onDidChange: () => ({ dispose: () => undefined }),
      readingMessage: () => undefined,
      servicesSeen: () => false,
      servicesTree: async () => tree,
      serviceList: async (params: Omit<ServiceListParams, 'textDocument'>): Promise<ServiceListResult> => {
        asked.push(params);
        const offset = params.offset ?? 0;
        const services: ServiceSummary[] = [];
        for (let i = offset; i < Math.min(2_345, offset + (params.limit ?? 2_345)); i++) services.push(summary(i));
        return { uri: 'file:///big', version: 1, total: 2_345, offset, services };
      },
    } as unknown as Tracker;
    const view = new ServicesView(tracker);
    const [ns] = await view.getChildren();
    assert.equal(view.getTreeItem(ns!).collapsibleState, 1, 'collapsed: more than 50 services');
    const pages = await view.getChildren(ns);
    assert.deepEqual(pages.map((p) => view.getTreeItem(p).label), ['services 1–500', 'services 501–1,000', 'services 1,001–1,500', 'services 1,501–2,000', 'services 2,001–2,345']);
    assert.deepEqual(asked, []);
    const last = await view.getChildren(pages[4]);
    assert.deepEqual(asked, [{ namespace: 'big', offset: 2_000, limit: 345 }]);
    assert.equal(last.length, 345);
    assert.equal(view.getTreeItem(last[0]!).label, 'svc-2000:http');
  });
});

describe('the Chains view names the endpoint and pod of each KUBE-SEP chain from the chains answer', () => {
  it('follows KUBE-SERVICES to the endpoints and their DNAT', async () => {
    const { tracker } = inProcessTracker(fixture('seed-kube-dns.nft-save.txt'), parsePodInventory(PODS, 'pods.json'));
    const view = new ChainsView(tracker);
    const lines = await treeLines(view as unknown as Provider, (label) => ['nat', 'KUBE-SERVICES', 'KUBE-SVC-ERIFXISQEP7F7OF4', 'KUBE-SEP-S4MK5EVI7CLHCCS6'].includes(label), 4);
    assert.ok(lines.some((l) => l.startsWith('    KUBE-SEP-S4MK5EVI7CLHCCS6 — 50 % · → 10.32.0.3:53 coredns-5d78c9869d-4xk2p · ')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('  KUBE-SEP-ZT5TVM6PMFDFQAMO — kube-system/kube-dns:dns-tcp · 10.32.0.4:53 coredns-5d78c9869d-9qz7m · 2 rules')), lines.join('\n'));
    assert.ok(lines.some((l) => /^ {8}DNAT — .*--to-destination 10\.32\.0\.3:53/.test(l)), lines.join('\n'));
  });

  it('shows a table of 600 chains in groups, and asks for the chains of a group when it is expanded', async () => {
    const names = ['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-MARK-MASQ'];
    for (let i = 0; i < 596; i++) names.push(`KUBE-SEP-${String(i).padStart(16, '0')}`);
    const text = ['*nat', ...names.map((n) => (n === 'PREROUTING' ? ':PREROUTING ACCEPT [0:0]' : `:${n} - [0:0]`)), '-A PREROUTING -j KUBE-SERVICES', 'COMMIT', ''].join('\n');
    const { tracker, asked } = inProcessTracker(text);
    const view = new ChainsView(tracker);
    const lines = await treeLines(view as unknown as Provider, (label) => label === 'nat', 1);
    assert.deepEqual(lines, [
      'nat — 600 chains',
      '  PREROUTING — policy ACCEPT · 1 rule',
      '  KUBE-* — 2 chains',
      '  KUBE-MARK-MASQ — 0 rules',
      '  KUBE-SEP-* (1 of 2) — 0000000000000000 – 0000000000000499 · 500 chains',
      '  KUBE-SEP-* (2 of 2) — 0000000000000500 – 0000000000000595 · 96 chains',
    ]);
    assert.deepEqual(asked, []);
    const [table] = await view.getChildren();
    const groups = await view.getChildren(table);
    const page = await view.getChildren(groups[4]);
    assert.deepEqual(asked, ['group nat KUBE-SEP-#2']);
    assert.equal(page.length, 96);
  });

  it("lists Go to Chain…'s matches as the server found them, each always shown (VS Code's own match would hide them)", () => {
    const found = findChains(analyze(fixture('seed-kube-dns.nft-save.txt')), undefined, 'KUBE-SEP nat');
    const items = found.chains.map(chainPickItem);
    assert.deepEqual(items.map((i) => [i.label, i.description]), [
      ['KUBE-SEP-S4MK5EVI7CLHCCS6', 'nat · 2 rules · kube-system/kube-dns:dns-tcp'],
      ['KUBE-SEP-ZT5TVM6PMFDFQAMO', 'nat · 2 rules · kube-system/kube-dns:dns-tcp'],
    ]);
    assert.ok(items.every((i) => i.alwaysShow === true));
  });

  it('narrows the last Go to Chain… answer as the server would answer what is typed next', () => {
    const analysis = analyze(fixture('seed-kube-dns.nft-save.txt'));
    const all = findChains(analysis, undefined, '').chains;
    for (const query of ['ZT5TVM', 'sep nat', 'kube-dns', 'nat kube-system/kube-dns:dns-tcp svc', 'filter']) {
      const narrowed = all.filter(chainMatcher(query));
      assert.deepEqual(narrowed.map((c) => c.name), findChains(analysis, undefined, query).chains.map((c) => c.name), query);
    }
    // By hand: 'ZT5TVM' is one endpoint chain, 'kube-dns' the service's SVC and two SEP chains.
    assert.deepEqual(findChains(analysis, undefined, 'ZT5TVM').chains.map((c) => c.name), ['KUBE-SEP-ZT5TVM6PMFDFQAMO']);
    assert.deepEqual(findChains(analysis, undefined, 'kube-dns').chains.map((c) => c.name), ['KUBE-SEP-S4MK5EVI7CLHCCS6', 'KUBE-SEP-ZT5TVM6PMFDFQAMO', 'KUBE-SVC-ERIFXISQEP7F7OF4']);
  });
});
