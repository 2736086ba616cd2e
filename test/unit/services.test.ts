import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze } from '../../server/src/core/analysis';
import { serviceModelOf } from '../../server/src/kube';
import { endpointHash, servicePortHash } from '../../server/src/kube/hashes';
import { parsePodInventory } from '../../server/src/kube/inventory';
import { parseKubeComment } from '../../server/src/kube/names';
import { kernelProbability } from '../../server/src/core/statistic';
import { servicesJson, type ServicesJson } from '../../server/src/kube/report';
import { fixture, LOCAL_TRAFFIC_POLICY_DUMP } from '../support/fixtures';

function table(text: string): ServicesJson['services'] {
  return servicesJson(serviceModelOf(analyze(text))).services;
}

type Entry = ServicesJson['services'][number]['entries'][number];

function clusterIP(address: string, port: number, endpoints: Array<[string, number, number]>, extra: Partial<Entry> = {}): Entry {
  return { kind: 'clusterIP', address, port, endpoints: endpoints.map(([ip, p, probability]) => ({ ip, port: p, probability })), sessionAffinity: null, ...extra };
}

/** 1/3 as iptables-save prints it after the kernel stored round(2^31 / 3). */
const THIRD = 715827883 / 2 ** 31;

describe('kube-proxy chain-name hashes', () => {
  it('match the test vectors from kube-proxy', () => {
    assert.equal(servicePortHash('default/kubernetes:https', 'tcp'), 'NPX46M4PTMTKRN6Y');
    assert.equal(servicePortHash('kube-system/kube-dns:dns', 'UDP'), 'TCOU7JCQXEZGVUNU');
    assert.equal(endpointHash('ns1/svc1:p80', 'tcp', '10.180.0.1:80'), 'SXIVWICOYRO3J4NJ');
    assert.equal(servicePortHash('kube-system/kube-dns:dns-tcp', 'tcp'), 'ERIFXISQEP7F7OF4');
    assert.equal(endpointHash('kube-system/kube-dns:dns-tcp', 'tcp', '10.32.0.3:53'), 'S4MK5EVI7CLHCCS6');
  });
});

describe('kube-proxy comments', () => {
  it('name the service port and say what the rule is for', () => {
    assert.deepEqual(parseKubeComment('kube-system/kube-dns:dns-tcp cluster IP'), { service: { namespace: 'kube-system', name: 'kube-dns', port: 'dns-tcp' }, role: 'cluster-ip' });
    assert.deepEqual(parseKubeComment('ns4/svc4:p80 -> 10.180.0.4:80'), { service: { namespace: 'ns4', name: 'svc4', port: 'p80' }, role: 'endpoint', endpoint: '10.180.0.4:80' });
    assert.deepEqual(parseKubeComment('default/jtest'), { service: { namespace: 'default', name: 'jtest', port: '' }, role: 'plain' });
    assert.equal(parseKubeComment('pod traffic for ns2/svc2:p80 external destinations')?.role, 'pod-traffic-external');
    assert.equal(parseKubeComment('kubernetes service portals'), undefined);
  });
});

describe('kernel probabilities', () => {
  it('are what the statistic match stores: round(p * 2^31) / 2^31', () => {
    assert.equal(kernelProbability('0.33333333349'), THIRD);
    assert.equal(kernelProbability('0.3333333333'), THIRD);
    assert.equal(kernelProbability('0.50000000000'), 0.5);
    assert.equal(kernelProbability('1.5'), undefined);
    assert.equal(kernelProbability('-0.1'), undefined);
    assert.equal(kernelProbability('nan'), undefined);
  });
});

describe('the seed kube-dns dump', () => {
  const expected = [
    { namespace: 'kube-system', name: 'kube-dns', port: 'dns-tcp', protocol: 'TCP', entries: [clusterIP('10.96.0.10', 53, [['10.32.0.3', 53, 0.5], ['10.32.0.4', 53, 0.5]])] },
  ];

  for (const name of ['seed-kube-dns.nft-save.txt', 'seed-kube-dns.legacy-save.txt', 'seed-kube-dns.nft-save-counters.txt', 'seed-kube-dns.rules']) {
    it(`${name}: 10.96.0.10:53 goes to 10.32.0.3:53 and 10.32.0.4:53, half each`, () => {
      assert.deepEqual(table(fixture(name)), expected);
    });
  }

  it('ties each KUBE-SEP to its service by comment, with hashes that confirm the names', () => {
    const model = serviceModelOf(analyze(fixture('seed-kube-dns.nft-save.txt')));
    const service = model.services[0]!;
    assert.equal(service.hash, 'ERIFXISQEP7F7OF4');
    assert.equal(service.hashConfirmed, true);
    assert.deepEqual(service.endpoints.map((e) => [e.chain.chain.name, e.ip, e.port, e.nameSource, e.hashConfirmed, e.local]), [
      ['KUBE-SEP-S4MK5EVI7CLHCCS6', '10.32.0.3', 53, 'comment', true, false],
      ['KUBE-SEP-ZT5TVM6PMFDFQAMO', '10.32.0.4', 53, 'comment', true, false],
    ]);
    assert.deepEqual(model.diagnostics, []);
  });
});

describe("kube-proxy's overall test rules (TestOverallIPTablesRules)", () => {
  const svc2External = (kind: Entry['kind'], address: string | null, port: number): Entry => ({ kind, address, port, endpoints: [], outcomes: { DROP: 1 }, sessionAffinity: null });
  const affinity = { timeoutSeconds: 10800 };
  const expected: ServicesJson['services'] = [
    { namespace: 'ns1', name: 'svc1', port: 'p80', protocol: 'TCP', entries: [clusterIP('172.30.0.41', 80, [['10.180.0.1', 80, 1]])] },
    {
      namespace: 'ns2', name: 'svc2', port: 'p80', protocol: 'TCP',
      // externalTrafficPolicy Local and no local endpoint: outside traffic is dropped by KUBE-EXTERNAL-SERVICES.
      entries: [
        clusterIP('172.30.0.42', 80, [['10.180.0.2', 80, 1]]),
        svc2External('nodePort', null, 3001),
        svc2External('externalIP', '192.168.99.22', 80),
        svc2External('loadBalancerIP', '1.2.3.4', 80),
      ],
    },
    {
      namespace: 'ns3', name: 'svc3', port: 'p80', protocol: 'TCP',
      entries: [clusterIP('172.30.0.43', 80, [['10.180.0.3', 80, 1]]), { kind: 'nodePort', address: null, port: 3003, endpoints: [{ ip: '10.180.0.3', port: 80, probability: 1 }], sessionAffinity: null }],
    },
    {
      namespace: 'ns4', name: 'svc4', port: 'p80', protocol: 'TCP',
      entries: [
        clusterIP('172.30.0.44', 80, [['10.180.0.4', 80, 0.5], ['10.180.0.5', 80, 0.5]]),
        { kind: 'externalIP', address: '192.168.99.33', port: 80, endpoints: [{ ip: '10.180.0.4', port: 80, probability: 0.5 }, { ip: '10.180.0.5', port: 80, probability: 0.5 }], sessionAffinity: null },
      ],
    },
    {
      namespace: 'ns5', name: 'svc5', port: 'p80', protocol: 'TCP',
      entries: [
        clusterIP('172.30.0.45', 80, [['10.180.0.3', 80, 1]], { sessionAffinity: affinity }),
        { kind: 'nodePort', address: null, port: 3002, endpoints: [{ ip: '10.180.0.3', port: 80, probability: 1 }], sessionAffinity: affinity },
        { kind: 'loadBalancerIP', address: '5.6.7.8', port: 80, endpoints: [{ ip: '10.180.0.3', port: 80, probability: 1 }], sourceRanges: ['203.0.113.0/25'], sessionAffinity: affinity },
      ],
    },
    { namespace: 'ns6', name: 'svc6', port: 'p80', protocol: 'TCP', entries: [{ kind: 'clusterIP', address: '172.30.0.46', port: 80, endpoints: [], outcomes: { REJECT: 1 }, sessionAffinity: null }] },
  ];

  it('the restore input gives the service table worked out from the rules', () => {
    assert.deepEqual(table(fixture('k8s-overall-modern.rules')), expected);
  });

  it('the same rules dumped back by iptables-nft-save give the same table', () => {
    assert.deepEqual(table(fixture('k8s-overall-modern.nft-save.txt')), expected);
  });

  it('for svc2, pods (10.0.0.0/8) and the node itself still reach the endpoint through KUBE-SVC', () => {
    const model = serviceModelOf(analyze(fixture('k8s-overall-modern.rules')));
    const svc2 = model.services.find((s) => s.key === 'ns2/svc2:p80')!;
    const lb = svc2.entries.find((e) => e.kind === 'loadBalancerIP')!;
    assert.deepEqual(lb.conditions.map((c) => [c.condition, c.endpoints.map((e) => [e.endpoint.ip, e.share])]), [
      ['from 10.0.0.0/8', [['10.180.0.2', 1]]],
      ['from the node itself', [['10.180.0.2', 1]]],
    ]);
  });

  it('for the svc5 load balancer, other sources than 203.0.113.0/25 are dropped by KUBE-PROXY-FIREWALL', () => {
    const model = serviceModelOf(analyze(fixture('k8s-overall-modern.nft-save.txt')));
    const lb = model.services.find((s) => s.key === 'ns5/svc5:p80')!.entries.find((e) => e.kind === 'loadBalancerIP')!;
    assert.equal(lb.chain?.chain.name, 'KUBE-FW-NUKIZ6OKUXPJNT4C');
    assert.deepEqual(lb.conditions.map((c) => [c.condition, [...c.fates]]), [['from other sources than 203.0.113.0/25', [['DROP', 1]]]]);
  });

  it('reports svc6 as a service without endpoints, on its REJECT rule', () => {
    const text = fixture('k8s-overall-modern.rules');
    const model = serviceModelOf(analyze(text));
    assert.deepEqual(model.diagnostics.map((d) => [d.code, d.span.line]), [['no-endpoints', 8]]);
    assert.match(model.diagnostics[0]!.message, /^Service ns6\/svc6:p80 \(TCP\) has no endpoints: traffic to 172.30.0.46:80 is rejected here/);
  });
});

describe('the other kube-proxy test fixtures', () => {
  it('SCTP: a cluster IP with one endpoint, in both forms', () => {
    const expected = [{ namespace: 'ns1', name: 'svc1', port: 'p80', protocol: 'SCTP', entries: [clusterIP('172.30.0.41', 80, [['10.180.0.1', 80, 1]])] }];
    assert.deepEqual(table(fixture('k8s-clusterip-sctp.rules')), expected);
    assert.deepEqual(table(fixture('k8s-clusterip-sctp.nft-save.txt')), expected);
  });

  it('no endpoints: cluster IP and node port 3001 are rejected, in both forms', () => {
    const expected = [{
      namespace: 'ns1', name: 'svc1', port: 'p80', protocol: 'TCP',
      entries: [
        { kind: 'clusterIP' as const, address: '172.30.0.42', port: 80, endpoints: [], outcomes: { REJECT: 1 }, sessionAffinity: null },
        { kind: 'nodePort' as const, address: null, port: 3001, endpoints: [], outcomes: { REJECT: 1 }, sessionAffinity: null },
      ],
    }];
    assert.deepEqual(table(fixture('k8s-healthcheck-nodeport-noendpoints.rules')), expected);
    assert.deepEqual(table(fixture('k8s-healthcheck-nodeport-noendpoints.nft-save.txt')), expected);
  });

  it('external IP without endpoints is rejected like the cluster IP, in both forms', () => {
    const expected = [{
      namespace: 'ns1', name: 'svc1', port: 'p80', protocol: 'TCP',
      entries: [
        { kind: 'clusterIP' as const, address: '172.30.0.41', port: 80, endpoints: [], outcomes: { REJECT: 1 }, sessionAffinity: null },
        { kind: 'externalIP' as const, address: '192.168.99.11', port: 80, endpoints: [], outcomes: { REJECT: 1 }, sessionAffinity: null },
      ],
    }];
    assert.deepEqual(table(fixture('k8s-externalips-reject.rules')), expected);
    assert.deepEqual(table(fixture('k8s-externalips-reject.legacy-save.txt')), expected);
  });

  it('a repeated sync: two services, then a third added by a partial restore', () => {
    const svc1 = { namespace: 'ns1', name: 'svc1', port: 'p80', protocol: 'TCP', entries: [clusterIP('172.30.0.41', 80, [['10.0.1.1', 80, 1]])] };
    const svc2 = { namespace: 'ns2', name: 'svc2', port: 'p8080', protocol: 'TCP', entries: [clusterIP('172.30.0.42', 8080, [['10.0.2.1', 8080, 1]])] };
    const svc3 = { namespace: 'ns3', name: 'svc3', port: 'p80', protocol: 'TCP', entries: [clusterIP('172.30.0.43', 80, [['10.0.3.1', 80, 1]])] };
    assert.deepEqual(table(fixture('k8s-syncrepeated-1-initial.rules')), [svc1, svc2]);
    assert.deepEqual(table(fixture('k8s-syncrepeated-1-initial.nft-save.txt')), [svc1, svc2]);
    assert.deepEqual(table(fixture('k8s-syncrepeated-2-partial-add-svc3.nft-state-after.txt')), [svc1, svc2, svc3]);
    // The partial file alone jumps to svc1's and svc2's chains without containing them.
    const partial = table(fixture('k8s-syncrepeated-2-partial-add-svc3.rules'));
    assert.deepEqual(partial.map((s) => [s.name, s.entries[0]!.endpoints.length, s.entries[0]!.outcomes ?? null]), [
      ['svc1', 0, { unknown: 1 }], ['svc2', 0, { unknown: 1 }], ['svc3', 1, null],
    ]);
  });
});

describe('real dumps from nodes', () => {
  it('Weave (kubeadm 1.11): kubernetes and both kube-dns ports, half each over two pods', () => {
    assert.deepEqual(table(fixture('bossjones-kubeadm-weave-2018.iptables-save.txt')), [
      { namespace: 'default', name: 'kubernetes', port: 'https', protocol: 'TCP', entries: [clusterIP('10.96.0.1', 443, [['192.168.1.241', 6443, 1]])] },
      { namespace: 'kube-system', name: 'kube-dns', port: 'dns', protocol: 'UDP', entries: [clusterIP('10.96.0.10', 53, [['10.32.0.2', 53, 0.5], ['10.32.0.3', 53, 0.5]])] },
      { namespace: 'kube-system', name: 'kube-dns', port: 'dns-tcp', protocol: 'TCP', entries: [clusterIP('10.96.0.10', 53, [['10.32.0.2', 53, 0.5], ['10.32.0.3', 53, 0.5]])] },
    ]);
  });

  it('flannel (kube-proxy ~1.26): node ports through KUBE-EXT chains, unnamed ports', () => {
    const services = table(fixture('blog-kubeadm-flannel-2023.iptables-save.txt'));
    assert.deepEqual(services.map((s) => `${s.namespace}/${s.name}:${s.port}/${s.protocol}`), [
      'default/jtest:/TCP', 'default/kubernetes:https/TCP', 'kube-system/kube-dns:dns/UDP', 'kube-system/kube-dns:dns-tcp/TCP',
      'kube-system/kube-dns:metrics/TCP', 'kubernetes-dashboard/dashboard-metrics-scraper:/TCP', 'kubernetes-dashboard/kubernetes-dashboard:/TCP',
    ]);
    assert.deepEqual(services[0]!.entries, [
      clusterIP('10.97.121.82', 8080, [['10.244.1.19', 8080, 0.5], ['10.244.2.17', 8080, 0.5]]),
      { kind: 'nodePort', address: null, port: 31455, endpoints: [{ ip: '10.244.1.19', port: 8080, probability: 0.5 }, { ip: '10.244.2.17', port: 8080, probability: 0.5 }], sessionAffinity: null },
    ]);
  });

  it('IPVS mode keeps services in IPVS, not in iptables: no service is invented', () => {
    assert.deepEqual(table(fixture('blog-ipvs-calico-vxlan.iptables-save.txt')), []);
    assert.deepEqual(table(fixture('k8s-issue105208-ipvs-no-rules-2021.iptables-save.txt')), []);
  });
});

/** A nat table with one service of three endpoints, written with `probability` texts given. */
function threeEndpoints(p1: string, p2: string, comments = true): string {
  const c = (text: string) => (comments ? ` -m comment --comment "${text}"` : '');
  return [
    '# Generated by iptables-nft-save v1.8.9 (nf_tables)',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-ABCDEFGHIJKLMNOP - [0:0]',
    ':KUBE-SEP-AAAAAAAAAAAAAAAA - [0:0]',
    ':KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]',
    ':KUBE-SEP-CCCCCCCCCCCCCCCC - [0:0]',
    '-A PREROUTING -j KUBE-SERVICES',
    '-A KUBE-SERVICES -d 10.96.5.5/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ABCDEFGHIJKLMNOP',
    `-A KUBE-SVC-ABCDEFGHIJKLMNOP${c('shop/web:http -> 10.1.0.1:8080')} -m statistic --mode random --probability ${p1} -j KUBE-SEP-AAAAAAAAAAAAAAAA`,
    `-A KUBE-SVC-ABCDEFGHIJKLMNOP${c('shop/web:http -> 10.1.0.2:8080')} -m statistic --mode random --probability ${p2} -j KUBE-SEP-BBBBBBBBBBBBBBBB`,
    `-A KUBE-SVC-ABCDEFGHIJKLMNOP${c('shop/web:http -> 10.1.0.3:8080')} -j KUBE-SEP-CCCCCCCCCCCCCCCC`,
    `-A KUBE-SEP-AAAAAAAAAAAAAAAA -p tcp${c('shop/web:http')} -m tcp -j DNAT --to-destination 10.1.0.1:8080`,
    `-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp${c('shop/web:http')} -m tcp -j DNAT --to-destination 10.1.0.2:8080`,
    `-A KUBE-SEP-CCCCCCCCCCCCCCCC -p tcp${c('shop/web:http')} -m tcp -j DNAT --to-destination 10.1.0.3:8080`,
    'COMMIT',
  ].join('\n');
}

describe('effective probabilities', () => {
  // Endpoint 1: 715827883/2^31. Endpoints 2 and 3 split the rest: (2^31 - 715827883) / 2^32 each.
  const rest = (2 ** 31 - 715827883) / 2 ** 32;

  it('three endpoints with the kernel values 0.33333333349 and 0.5: 0.333333333489..., then 0.333333333255... twice', () => {
    const [service] = table(threeEndpoints('0.33333333349', '0.50000000000'));
    assert.deepEqual(service!.entries[0]!.endpoints, [
      { ip: '10.1.0.1', port: 8080, probability: THIRD },
      { ip: '10.1.0.2', port: 8080, probability: rest },
      { ip: '10.1.0.3', port: 8080, probability: rest },
    ]);
    assert.ok(Math.abs(THIRD + 2 * rest - 1) < 1e-15);
  });

  it("kube-proxy's own 0.3333333333 is stored as the same kernel value", () => {
    assert.deepEqual(table(threeEndpoints('0.3333333333', '0.5000000000')), table(threeEndpoints('0.33333333349', '0.50000000000')));
  });

  it('without comments on SVC->SEP and SEP rules (large clusters) the model comes from KUBE-SERVICES and the graph', () => {
    const withComments = table(threeEndpoints('0.33333333349', '0.50000000000'));
    assert.deepEqual(table(threeEndpoints('0.33333333349', '0.50000000000', false)), withComments);
    const model = serviceModelOf(analyze(threeEndpoints('0.33333333349', '0.50000000000', false)));
    assert.deepEqual(model.services[0]!.endpoints.map((e) => e.nameSource), ['graph', 'graph', 'graph']);
  });

  it('a skewed split is reported with the share each endpoint gets instead', () => {
    const model = serviceModelOf(analyze(threeEndpoints('0.60000000000', '0.50000000000')));
    assert.deepEqual(model.diagnostics.map((d) => [d.code, d.span.line]), [['skewed-probability', 10]]);
    assert.match(model.diagnostics[0]!.message, /kube-proxy gives rule 1 of 'KUBE-SVC-ABCDEFGHIJKLMNOP' the probability 0.3333333333, here it is 0.60000000009, so its endpoint gets 60 % instead of 33.3 %/);
  });

  it('a probability above 1 is an error and the rule is taken as never matching', () => {
    const analysis = analyze(threeEndpoints('1.5', '0.50000000000'));
    const model = serviceModelOf(analysis);
    assert.deepEqual(analysis.diagnostics.map((d) => [d.code, d.severity, d.span.line]), [['bad-probability', 'error', 10]]);
    assert.deepEqual(model.diagnostics, []);
    assert.deepEqual(model.services[0]!.entries[0]!.split.endpoints.map((e) => [e.endpoint.ip, e.share]), [['10.1.0.2', 0.5], ['10.1.0.3', 0.5]]);
  });

  it('--mode nth --every 3 gives every third packet', () => {
    const text = threeEndpoints('0.33333333349', '0.50000000000')
      .replace('--mode random --probability 0.33333333349', '--mode nth --every 3 --packet 0')
      .replace('--mode random --probability 0.50000000000', '--mode nth --every 2 --packet 0');
    const [service] = table(text);
    const shares = service!.entries[0]!.endpoints.map((e) => e.probability);
    assert.equal(shares.length, 3);
    for (const share of shares) assert.ok(Math.abs(share - 1 / 3) < 1e-15, String(share));
  });
});

describe('IPv6', () => {
  it('an ip6tables-save dump with a bracketed DNAT destination', () => {
    const text = [
      '# Generated by ip6tables-nft-save v1.8.9 (nf_tables)',
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]',
      ':KUBE-SEP-IPV6AAAAAAAAAAAA - [0:0]',
      '-A PREROUTING -j KUBE-SERVICES',
      '-A KUBE-SERVICES -d fd00:10:96::a/128 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU',
      '-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> [fd00:10:244::5]:53" -j KUBE-SEP-IPV6AAAAAAAAAAAA',
      '-A KUBE-SEP-IPV6AAAAAAAAAAAA -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination [fd00:10:244::5]:53',
      'COMMIT',
    ].join('\n');
    assert.deepEqual(table(text), [
      { namespace: 'kube-system', name: 'kube-dns', port: 'dns', protocol: 'UDP', entries: [clusterIP('fd00:10:96::a', 53, [['fd00:10:244::5', 53, 1]])] },
    ]);
  });
});

describe('endpoint problems', () => {
  it('a SEP chain without DNAT, and a SEP nothing jumps to', () => {
    const text = [
      '# Generated by iptables-save v1.8.9',
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-SVC-ABCDEFGHIJKLMNOP - [0:0]',
      ':KUBE-SEP-AAAAAAAAAAAAAAAA - [0:0]',
      ':KUBE-SEP-ORPHANAAAAAAAAAA - [0:0]',
      '-A PREROUTING -j KUBE-SERVICES',
      '-A KUBE-SERVICES -d 10.96.5.5/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ABCDEFGHIJKLMNOP',
      '-A KUBE-SVC-ABCDEFGHIJKLMNOP -j KUBE-SEP-AAAAAAAAAAAAAAAA',
      '-A KUBE-SEP-AAAAAAAAAAAAAAAA -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-ORPHANAAAAAAAAAA -m comment --comment "shop/web:http" -p tcp -m tcp -j DNAT --to-destination 10.1.0.9:8080',
      'COMMIT',
    ].join('\n');
    const model = serviceModelOf(analyze(text));
    assert.deepEqual(model.diagnostics.map((d) => [d.code, d.span.line]), [['sep-without-dnat', 5], ['orphan-endpoint', 6]]);
  });
});

describe('pod inventories', () => {
  it('read `kubectl get pods -A -o json`', () => {
    const inventory = parsePodInventory(JSON.stringify({
      kind: 'List',
      items: [
        { metadata: { name: 'coredns-5d78c9869d-4xk2p', namespace: 'kube-system' }, spec: { nodeName: 'node-1' }, status: { podIP: '10.32.0.3', podIPs: [{ ip: '10.32.0.3' }, { ip: 'fd00::3' }] } },
        { metadata: { name: 'pending', namespace: 'default' }, spec: {}, status: {} },
      ],
    }), 'pods.json');
    assert.equal(inventory.podCount, 2);
    assert.deepEqual(inventory.byIp.get('10.32.0.3'), [{ namespace: 'kube-system', name: 'coredns-5d78c9869d-4xk2p', node: 'node-1', ip: '10.32.0.3' }]);
    assert.equal(inventory.byIp.get('fd00::3')?.[0]?.name, 'coredns-5d78c9869d-4xk2p');
  });

  it('read `kubectl get pods -A -o wide`', () => {
    const text = [
      'NAMESPACE     NAME                       READY   STATUS    RESTARTS      AGE   IP          NODE     NOMINATED NODE   READINESS GATES',
      'kube-system   coredns-5d78c9869d-4xk2p   1/1     Running   2 (3d ago)    9d    10.32.0.3   node-1   <none>           <none>',
      'kube-system   kube-proxy-abcde           1/1     Running   0             9d    <none>      node-1   <none>           <none>',
    ].join('\n');
    const inventory = parsePodInventory(text, 'pods.txt');
    assert.deepEqual(inventory.byIp.get('10.32.0.3'), [{ namespace: 'kube-system', name: 'coredns-5d78c9869d-4xk2p', node: 'node-1', ip: '10.32.0.3' }]);
    assert.equal(inventory.byIp.size, 1);
  });

  it('refuse other files with a message that says what to export', () => {
    assert.throws(() => parsePodInventory('{"foo": 1}', 'x.json'), /has no 'items': expected the output of 'kubectl get pods -A -o json'/);
    assert.throws(() => parsePodInventory('hello', 'x.txt'), /neither JSON nor a table with NAME and IP columns/);
    assert.throws(() => parsePodInventory('{oops', 'x.json'), /is not valid JSON/);
  });
});

describe('local endpoints of a service with externalTrafficPolicy: Local', () => {
  // KUBE-NODEPORTS sends node-port traffic to KUBE-EXT, which sends it on to KUBE-SVL: only the
  // endpoint on this node (10.244.1.5). Nothing in KUBE-SERVICES names KUBE-SVL.
  it('the KUBE-SVL chain belongs to the service and marks its endpoint local', () => {
    const model = serviceModelOf(analyze(LOCAL_TRAFFIC_POLICY_DUMP));
    assert.deepEqual(model.services.map((s) => s.id), ['web/front:http/TCP']);
    const service = model.services[0]!;
    assert.deepEqual(service.chains.map((c) => c.chain.name), ['KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-EXT-AAAAAAAAAAAAAAAA', 'KUBE-SVL-AAAAAAAAAAAAAAAA']);
    assert.deepEqual(service.endpoints.map((e) => [e.ip, e.local]), [['10.244.1.5', true], ['10.244.2.9', false]]);
    const svl = [...model.serviceByChain.keys()].find((n) => n.chain.name === 'KUBE-SVL-AAAAAAAAAAAAAAAA');
    assert.equal(svl && model.serviceByChain.get(svl), service);
  });
});

describe('shares worked out one entry at a time', () => {
  const A = 'KUBE-SVC-AAAAAAAAAAAAAAAA';
  const B = 'KUBE-SVC-BBBBBBBBBBBBBBBB';
  const SA = 'KUBE-SEP-AAAAAAAAAAAAAAA2';
  const SB = 'KUBE-SEP-BBBBBBBBBBBBBBB2';
  // Two service chains that jump to each other after picking their own endpoint half the time.
  const LOOP = [
    '*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', `:${A} - [0:0]`, `:${B} - [0:0]`, `:${SA} - [0:0]`, `:${SB} - [0:0]`,
    '-A PREROUTING -j KUBE-SERVICES',
    `-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "ns/a:http cluster IP" -m tcp --dport 80 -j ${A}`,
    `-A KUBE-SERVICES -d 10.96.0.2/32 -p tcp -m comment --comment "ns/b:http cluster IP" -m tcp --dport 80 -j ${B}`,
    `-A ${A} -m comment --comment "ns/a:http" -m statistic --mode random --probability 0.5 -j ${SA}`,
    `-A ${A} -m comment --comment "ns/a:http" -j ${B}`,
    `-A ${B} -m comment --comment "ns/b:http" -m statistic --mode random --probability 0.5 -j ${SB}`,
    `-A ${B} -m comment --comment "ns/b:http" -j ${A}`,
    `-A ${SA} -p tcp -m comment --comment "ns/a:http" -m tcp -j DNAT --to-destination 10.0.0.1:80`,
    `-A ${SB} -p tcp -m comment --comment "ns/b:http" -m tcp -j DNAT --to-destination 10.0.0.2:80`,
    'COMMIT', '',
  ].join('\n');
  const split = (entry: { split: { endpoints: Array<{ endpoint: { ip: string }; share: number }>; fates: Map<string, number> } }) =>
    [entry.split.endpoints.map((e) => [e.endpoint.ip, e.share]), [...entry.split.fates]];

  it('with a jump loop, asking the second service first still cuts the loop where the first entry reaches it', () => {
    // In the order of the KUBE-SERVICES rules, a's walk enters b, whose jump back to a is the
    // loop: b keeps half of its traffic, the other half is the loop. a gets its own endpoint's
    // half and b's quarter. Asked in the other order, b would have walked first and got a's quarter.
    const [a, b] = serviceModelOf(analyze(LOOP)).services;
    assert.deepEqual([a?.id, b?.id], ['ns/a:http/TCP', 'ns/b:http/TCP']);
    assert.deepEqual(split(b!.entries[0]!), [[['10.0.0.2', 0.5]], [['loop', 0.5]]]);
    assert.deepEqual(split(a!.entries[0]!), [[['10.0.0.1', 0.5], ['10.0.0.2', 0.25]], [['loop', 0.25]]]);
  });

  it('without loops, an entry asked alone gets the shares it gets among all', () => {
    const text = fixture('k8s-overall-modern.rules');
    const all = serviceModelOf(analyze(text)).services.map((s) => s.entries.map(split));
    const alone = serviceModelOf(analyze(text)).services;
    // The last entries first, one at a time.
    for (let s = alone.length - 1; s >= 0; s--) {
      for (let e = alone[s]!.entries.length - 1; e >= 0; e--) assert.deepEqual(split(alone[s]!.entries[e]!), all[s]![e], `${alone[s]!.id} entry ${e}`);
    }
  });
});
