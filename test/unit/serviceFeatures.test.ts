import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateDump } from '../../server/src/kube/generate';
import { analyze } from '../../server/src/core/analysis';
import { codeLenses, MAX_CODE_LENS_CHAINS } from '../../server/src/features/services';
import { serviceAt, serviceDetails, serviceList, servicesTree } from '../../server/src/features/servicesTree';
import { parsePodInventory } from '../../server/src/kube/inventory';
import { fixture, LOCAL_TRAFFIC_POLICY_DUMP } from '../support/fixtures';

describe('service features on edited and large dumps', () => {
  it('counts only the endpoints some entry reaches: without the fall-through jump, kube-dns has one', () => {
    const lines = fixture('seed-kube-dns.nft-save.txt').split('\n');
    lines.splice(20, 1); // -A KUBE-SVC-ERIFXISQEP7F7OF4 ... -j KUBE-SEP-ZT5TVM6PMFDFQAMO
    const service = serviceDetails(analyze(lines.join('\n')), undefined, 'kube-system/kube-dns:dns-tcp/TCP')!;
    assert.equal(service.endpointCount, 1);
    assert.equal(service.state, 'skewed');
    assert.deepEqual(service.entries[0]!.endpoints.map((e) => [e.ip, e.share]), [['10.32.0.3', 0.5]]);
    assert.deepEqual(service.entries[0]!.outcomes, { fallthrough: 0.5 });
    assert.equal(service.skewed, true);
  });

  it('offers code lenses on the seed dump, and none on a dump with more service chains than the editor copes with', () => {
    assert.equal(codeLenses(analyze(fixture('seed-kube-dns.nft-save.txt')), 'file:///x', undefined).length, 6);
    // 1,500 services x 3 endpoints: 1,425 SVC + 4,275 SEP chains + EXT/FW/SVL, over the cap.
    const large = analyze(generateDump(1_500, 3).text);
    assert.ok(large.graph.tables[1]!.list.filter((n) => /^KUBE-(SVC|SEP|EXT|FW|SVL)-/.test(n.chain.name)).length > MAX_CODE_LENS_CHAINS);
    assert.deepEqual(codeLenses(large, 'file:///x', undefined), []);
  });

  it('gives the states the icons show: no endpoints, skewed, local only', () => {
    const analysis = analyze(fixture('k8s-overall-modern.rules'));
    const states = Object.fromEntries(serviceList(analysis, 'file:///x', 1, undefined, {}).services.map((s) => [s.title, s.state]));
    assert.equal(states['ns6/svc6:p80'], 'noEndpoints');
    assert.ok(Object.values(states).includes('ok'));
    // externalTrafficPolicy Local: the node port reaches only 10.244.1.5, on this node (through
    // KUBE-SVL); the cluster IP reaches 10.244.2.9 too, but only external entries count.
    const [local] = serviceList(analyze(LOCAL_TRAFFIC_POLICY_DUMP), 'file:///x', 1, undefined, {}).services;
    assert.deepEqual([local?.title, local?.endpointCount, local?.skewed, local?.state], ['web/front:http', 2, false, 'localOnly']);
  });
});

describe('the Services view over a big cluster: level by level, filtered in the server', () => {
  // 2,000 services x 2 endpoints in 97 namespaces (bench/generate.ts); every 20th has no endpoints.
  const dump = generateDump(2_000, 2);
  const analysis = analyze(dump.text);
  const uri = 'file:///big.iptables-save';

  it('lists namespaces with counts, then one namespace\'s services in display order, in pages', () => {
    const tree = servicesTree(analysis, uri, 1, undefined, undefined);
    assert.equal(tree.total, 2_000);
    assert.equal(tree.namespaceTotal, 97);
    assert.equal(tree.namespaces.reduce((n, ns) => n + ns.services, 0), 2_000);
    assert.equal(tree.endpointTotal, 1_900 * 2);
    const names = tree.namespaces.map((n) => n.namespace);
    assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)));
    const team1 = serviceList(analysis, uri, 1, undefined, { namespace: 'team-1' });
    assert.equal(team1.total, tree.namespaces.find((n) => n.namespace === 'team-1')!.services);
    const titles = team1.services.map((s) => s.title);
    assert.deepEqual(titles, [...titles].sort((a, b) => a.localeCompare(b)));
    const page = serviceList(analysis, uri, 1, undefined, { namespace: 'team-1', offset: 5, limit: 3 });
    assert.deepEqual([page.total, page.offset, page.services.map((s) => s.title)], [team1.total, 5, titles.slice(5, 8)]);
    assert.equal(serviceList(analysis, uri, 1, undefined, {}).services.length, 2_000);
    assert.equal(serviceList(analysis, uri, 1, undefined, { namespace: 'no-such-namespace' }).total, 0);
    // Generated service 0 has no endpoints.
    const state = (ns: string, title: string) => serviceList(analysis, uri, 1, undefined, { namespace: ns }).services.find((s) => s.title === title)?.state;
    assert.equal(state('team-0', 'team-0/app-0:http'), 'noEndpoints');
    assert.equal(state('team-7', 'team-7/app-7:http'), 'ok');
  });

  it('filters by every word: a cluster IP, an endpoint, a chain, a pod and its node', () => {
    const app7 = serviceDetails(analysis, undefined, 'team-7/app-7:http/TCP')!;
    // With its port: 10.96.0.17 alone is also the start of 10.96.0.170.
    const clusterIp = `${app7.entries[0]!.address!}:80`;
    const byIp = servicesTree(analysis, uri, 1, undefined, clusterIp);
    assert.deepEqual([byIp.matched, byIp.namespaces], [1, [{ namespace: 'team-7', services: 1 }]]);
    assert.deepEqual(serviceList(analysis, uri, 1, undefined, { filter: clusterIp }).services.map((s) => s.title), ['team-7/app-7:http']);
    const endpoint = app7.entries[0]!.endpoints[1]!;
    assert.equal(servicesTree(analysis, uri, 1, undefined, `${endpoint.ip}:${endpoint.port} TEAM-7`).matched, 1);
    assert.equal(servicesTree(analysis, uri, 1, undefined, endpoint.chain.name.toLowerCase()).matched, 1);
    assert.equal(servicesTree(analysis, uri, 1, undefined, `${clusterIp} team-8`).matched, 0);
    const pods = parsePodInventory(JSON.stringify({ kind: 'List', items: [{ metadata: { name: 'app-7-abc', namespace: 'team-7' }, spec: { nodeName: 'worker-3' }, status: { podIP: endpoint.ip } }] }), 'pods.json');
    assert.equal(servicesTree(analysis, uri, 1, pods, 'worker-3').matched, 1);
    assert.equal(servicesTree(analysis, uri, 1, undefined, 'worker-3').matched, 0, 'without the inventory no pod is known');
    // The service at its KUBE-SERVICES rule, placed among the services the filter keeps.
    const rule = app7.entries[0]!.ruleRange.start.line;
    assert.equal(serviceAt(analysis, undefined, rule, undefined)?.service.id, 'team-7/app-7:http/TCP');
    assert.deepEqual(serviceAt(analysis, undefined, rule, clusterIp) && { ...serviceAt(analysis, undefined, rule, clusterIp)!, service: undefined }, { service: undefined, entry: 0, endpoint: null, via: 'entry rule', index: 0 });
    assert.equal(serviceAt(analysis, undefined, rule, 'team-8')!.index, null);
    const unfiltered = serviceAt(analysis, undefined, rule, undefined)!;
    assert.equal(serviceList(analysis, uri, 1, undefined, { namespace: 'team-7' }).services[unfiltered.index!]!.id, 'team-7/app-7:http/TCP');
  });
});
