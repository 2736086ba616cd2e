import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  endpointAddress,
  endpointTableMarkdown,
  entryDescription,
  formatBytes,
  formatCounters,
  formatShare,
  entryState,
  listPages,
  PAGE_SIZE,
  PAGE_THRESHOLD,
  serviceDescription,
  serviceLabel,
} from '../../client/src/model';
import type { EndpointItem, ServiceItem } from '../../server/src/protocol';

const r = (line: number, start = 0, end = 10) => ({ start: { line, character: start }, end: { line, character: end } });

function endpoint(ip: string, share: number, chainLine: number, extra: Partial<EndpointItem> = {}): EndpointItem {
  return { ip, port: 53, share, local: false, chain: { name: `KUBE-SEP-${ip.replace(/\W/g, '')}`, range: r(chainLine, 1, 26) }, ...extra };
}

/** The seed kube-dns dump as the server answers it (line numbers 0-based, as in the protocol). */
function seed(pods = true): ServiceItem {
  const eps = [
    endpoint('10.32.0.3', 0.5, 7, pods ? { pod: { namespace: 'kube-system', name: 'coredns-5d78c9869d-4xk2p', node: 'node-1' } } : {}),
    endpoint('10.32.0.4', 0.5, 8, pods ? { pod: { namespace: 'kube-system', name: 'coredns-5d78c9869d-9qz7m', node: 'node-2' } } : {}),
  ];
  eps[0]!.chain.name = 'KUBE-SEP-S4MK5EVI7CLHCCS6';
  eps[1]!.chain.name = 'KUBE-SEP-ZT5TVM6PMFDFQAMO';
  return {
    id: 'kube-system/kube-dns:dns-tcp/TCP',
    namespace: 'kube-system',
    name: 'kube-dns',
    port: 'dns-tcp',
    protocol: 'TCP',
    title: 'kube-system/kube-dns:dns-tcp',
    nameSource: 'comment',
    hashConfirmed: true,
    chains: [{ name: 'KUBE-SVC-ERIFXISQEP7F7OF4', range: r(10, 1, 26) }],
    endpointCount: 2,
    skewed: false,
    state: 'ok',
    entryTitles: ['cluster IP 10.96.0.10:53/TCP'],
    range: r(10, 1, 26),
    entries: [
      {
        kind: 'clusterIP',
        address: '10.96.0.10',
        port: 53,
        title: 'cluster IP 10.96.0.10:53/TCP',
        ruleRange: r(18, 0, 150),
        chain: { name: 'KUBE-SVC-ERIFXISQEP7F7OF4', range: r(10, 1, 26) },
        sourceRanges: [],
        sessionAffinitySeconds: null,
        endpoints: eps,
        outcomes: {},
        conditions: [],
      },
    ],
  };
}

function rejected(): ServiceItem {
  return {
    ...seed(),
    id: 'ns6/svc6:p80/TCP',
    namespace: 'ns6',
    name: 'svc6',
    port: 'p80',
    title: 'ns6/svc6:p80',
    hashConfirmed: false,
    chains: [],
    endpointCount: 0,
    state: 'noEndpoints',
    entryTitles: ['cluster IP 172.30.0.46:80/TCP'],
    range: r(8),
    entries: [{ ...seed().entries[0]!, title: 'cluster IP 172.30.0.46:80/TCP', address: '172.30.0.46', port: 80, ruleRange: r(8), endpoints: [], outcomes: { REJECT: 1 } }],
  };
}

describe('client model: formatting', () => {
  it('formats shares as the server does: one decimal from 10 %, two figures below, no trailing zeros', () => {
    const cases: Array<[number, string]> = [
      [1, '100 %'],
      [0.5, '50 %'],
      [1 / 3, '33.3 %'],
      [0.33333333349, '33.3 %'],
      [2 / 3, '66.7 %'],
      [0.25, '25 %'],
      [0.1, '10 %'],
      [0.0999, '9.99 %'],
      [1 / 12, '8.33 %'],
      [0.05, '5 %'],
      [0.01, '1 %'],
      [0.00999, '1 %'],
      [0.0012, '0.12 %'],
      [0.00012, '0.012 %'],
      [0, '0 %'],
      [0.99999, '100 %'],
    ];
    for (const [share, text] of cases) assert.equal(formatShare(share), text, `share ${share}`);
  });

  it('formats counters and bytes', () => {
    assert.equal(formatCounters({ packets: 0, bytes: 0 }), '0 pkts · 0 B');
    assert.equal(formatCounters({ packets: 1, bytes: 1023 }), '1 pkt · 1023 B');
    assert.equal(formatCounters({ packets: 12345, bytes: 1536 }), '12,345 pkts · 1.5 KiB');
    assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB');
    assert.equal(formatBytes(300 * 1024 ** 2), '300 MiB');
  });

  it('writes endpoint addresses, IPv6 in brackets', () => {
    assert.equal(endpointAddress({ ip: '10.32.0.3', port: 53 }), '10.32.0.3:53');
    assert.equal(endpointAddress({ ip: 'fd00::3', port: 53 }), '[fd00::3]:53');
    assert.equal(endpointAddress({ ip: '10.32.0.3', port: null }), '10.32.0.3');
  });

  it('labels and describes services and entries', () => {
    assert.equal(serviceLabel(seed()), 'kube-dns:dns-tcp');
    assert.equal(serviceDescription(seed()), 'TCP · 2 endpoints');
    assert.equal(serviceDescription(rejected()), 'TCP · no endpoints');
    assert.equal(entryDescription(seed().entries[0]!), '2 endpoints');
    assert.equal(entryDescription(rejected().entries[0]!), 'REJECT 100 %');
  });

  it('tells the states of entries apart: no endpoints, local only', () => {
    assert.equal(entryState(seed().entries[0]!), 'ok');
    assert.equal(entryState(rejected().entries[0]!), 'noEndpoints');
    assert.equal(entryState({ ...seed().entries[0]!, kind: 'nodePort', endpoints: [endpoint('10.32.0.3', 1, 7, { local: true })] }), 'localOnly');
  });
});

describe('client model: the endpoint table', () => {
  it('has a row per entry and endpoint with share and pod', () => {
    assert.equal(
      endpointTableMarkdown(seed()),
      [
        '**kube-system/kube-dns:dns-tcp** (TCP)',
        '',
        '| entry | endpoint | share | pod |',
        '|---|---|---|---|',
        '| cluster IP 10.96.0.10:53/TCP | 10.32.0.3:53 | 50 % | kube-system/coredns-5d78c9869d-4xk2p on node-1 |',
        '| cluster IP 10.96.0.10:53/TCP | 10.32.0.4:53 | 50 % | kube-system/coredns-5d78c9869d-9qz7m on node-2 |',
        '',
      ].join('\n'),
    );
  });

  it('lists REJECT and conditions, and escapes pipes', () => {
    const table = endpointTableMarkdown(rejected());
    assert.ok(table.includes('| cluster IP 172.30.0.46:80/TCP | REJECT | 100 % |  |'), table);
    const s = seed(false);
    s.entries[0]!.conditions.push({ condition: 'from a|b', ruleRange: r(30), endpoints: [endpoint('10.32.0.9', 1, 40)], outcomes: {} });
    const t = endpointTableMarkdown(s);
    assert.ok(t.includes('| cluster IP 10.96.0.10:53/TCP, from a\\|b | 10.32.0.9:53 | 100 % |  |'), t);
  });
});

describe('client model: long service lists', () => {
  it('shows a namespace\'s services at once up to the threshold, in pages above', () => {
    assert.equal(listPages(0), undefined);
    assert.equal(listPages(PAGE_THRESHOLD), undefined);
    const pages = listPages(10_000)!;
    assert.equal(pages.length, 10_000 / PAGE_SIZE);
    assert.deepEqual(pages[1], { offset: PAGE_SIZE, count: PAGE_SIZE });
    assert.deepEqual(listPages(PAGE_THRESHOLD + 1)!.at(-1), { offset: PAGE_THRESHOLD, count: 1 });
  });
});

describe('client: the bundled samples', () => {
  it('"Open Sample" offers the files of samples/, as they are', () => {
    const root = path.resolve(__dirname, '..', '..', '..');
    const bundle = fs.readFileSync(path.join(root, 'dist', 'client.js'), 'utf8');
    // esbuild's text loader makes each a string literal: `var seed_kube_dns_default = '...';`
    const literals = [...bundle.matchAll(/^var \w+_default = ('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*");$/gm)].map((m) => new Function(`return ${m[1]}`)() as string);
    for (const name of ['seed-kube-dns.iptables-save', 'k8s-overall-modern.iptables-save']) {
      const text = fs.readFileSync(path.join(root, 'samples', name), 'utf8');
      assert.ok(literals.includes(text), `dist/client.js must carry samples/${name} (run npm run build)`);
    }
  });
});
