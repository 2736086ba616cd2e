// The service model reads chain names and DNAT addresses without regular expressions and keeps
// flows and endpoints in compact form; these tests hold the fast readers to the regular
// expressions they replace, and the compact forms to the Map views and fields callers read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateDump } from '../../server/src/kube/generate';
import { analyze } from '../../server/src/core/analysis';
import { patchAnalysis } from '../../server/src/core/incremental';
import { buildServiceModel, type ServicePort } from '../../server/src/kube/model';
import { parseEndpointAddress, type Flow } from '../../server/src/kube/flow';
import { endpointHash, kubeChain, kubeChainKind, servicePortHash } from '../../server/src/kube/hashes';
import { parseKubeComment, parseServicePortName, readKubeComment, servicePortKey } from '../../server/src/kube/names';
import { fixture, iptablesFixtureNames } from '../support/fixtures';

const KUBE_CHAIN_RE = /^KUBE-(SVC|SVL|EXT|FW|XLB|SEP)-([A-Z2-7]{16})$/;

function kubeChainByRegex(name: string): { kind: string; hash: string } | undefined {
  const m = KUBE_CHAIN_RE.exec(name);
  return m ? { kind: m[1]!, hash: m[2]! } : undefined;
}

function endpointByRegex(text: string): { ip: string; port: number | undefined } | undefined {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) return { ip: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text);
  if (v4 && v4[1]!.split('.').every((o) => Number(o) <= 255)) return { ip: v4[1]!, port: v4[2] === undefined ? undefined : Number(v4[2]) };
  if (/^[0-9a-fA-F:]+$/.test(text) && text.includes(':')) return { ip: text, port: undefined };
  return undefined;
}

const NAME_RE = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::([-a-zA-Z0-9]*))?$/;

function nameByRegex(text: string): { namespace: string; name: string; port: string } | undefined {
  const m = NAME_RE.exec(text);
  return m ? { namespace: m[1]!, name: m[3]!, port: m[5] ?? '' } : undefined;
}

/** A small deterministic generator, so that a failure names an input that comes back. */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
}

/** The texts, each changed at up to three places by a character from the alphabet. */
function mutations(texts: string[], alphabet: string, count: number): string[] {
  const next = random(7);
  const out = [...texts];
  for (let i = 0; i < count; i++) {
    const chars = [...texts[next(texts.length)]!];
    for (let k = next(4); k > 0; k--) {
      const at = next(chars.length + 1);
      const c = alphabet[next(alphabet.length)]!;
      const op = next(3);
      if (op === 0) chars[at] = c;
      else if (op === 1) chars.splice(at, 1);
      else chars.splice(at, 0, c);
    }
    out.push(chars.join(''));
  }
  return out;
}

/**
 * Runs `check` on 20,000 mutations of the texts (and the texts themselves) with what the oracle
 * makes of each; more than 1000 of them must be ones the oracle accepts.
 */
function checkMutations<T>(texts: string[], alphabet: string, what: string, oracle: (text: string) => T | undefined, check: (text: string, expected: T | undefined) => void): void {
  let accepted = 0;
  for (const text of mutations(texts, alphabet, 20_000)) {
    const expected = oracle(text);
    check(text, expected);
    if (expected) accepted++;
  }
  assert.ok(accepted > 1000, `only ${accepted} ${what} among the mutations`);
}

describe('regex-free readers', () => {
  it('kubeChain reads chain names as the regular expression does', () => {
    checkMutations(
      ['KUBE-SVC-ERIFXISQEP7F7OF4', 'KUBE-SVL-ERIFXISQEP7F7OF4', 'KUBE-EXT-ERIFXISQEP7F7OF4', 'KUBE-FW-ERIFXISQEP7F7OF4', 'KUBE-XLB-ERIFXISQEP7F7OF4', 'KUBE-SEP-S4MK5EVI7CLHCCS6', 'KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-SVC-ERIFXISQEP7F7OF', 'KUBE-SVC-ERIFXISQEP7F7OF41', 'KUBE-FWX-ERIFXISQEP7F7OF4'],
      'KUBESVCLXTFWPA2718-a \n',
      'kube chain names',
      kubeChainByRegex,
      (name, expected) => {
        assert.deepEqual(kubeChain(name), expected, JSON.stringify(name));
        assert.equal(kubeChainKind(name), expected?.kind, JSON.stringify(name));
      },
    );
  });

  it('parseEndpointAddress reads DNAT addresses as the regular expressions do', () => {
    checkMutations(
      ['10.244.1.2:8080', '10.32.0.3:53', '10.0.0.1', '255.255.255.255:65535', '300.1.1.1:80', '1.2.3.4:', '1.2.3.4:123456', '01.2.3.4:0080', '1234.1.1.1', '1.2.3.4.5', '1.2.3', 'fd00::1', '[fd00::1]:53', '[10.0.0.1]:80', 'abc:1', '1:2', ' 1.2.3.4', '1.2.3.4\n', '', '9'],
      '0123456789.:[]af \n',
      'addresses',
      endpointByRegex,
      (text, expected) => assert.deepEqual(parseEndpointAddress(text), expected, JSON.stringify(text)),
    );
  });

  it('parseServicePortName reads service port names as the regular expression does, readKubeComment their keys', () => {
    checkMutations(
      ['kube-system/kube-dns:dns-tcp', 'default/kubernetes:https', 'ns1/svc1', 'a/b:', 'a.b-c/d.e-f:P-80', 'team-0/app-0:http', '-a/b', 'a-/b', 'a/b-', 'a/.b', 'a//b', 'a/b:c:d', 'A/b', 'a/B', 'a/b:c_d', '/b', 'a/', ''],
      'az09-.:/AZ_ ',
      'names',
      nameByRegex,
      (text, expected) => {
        assert.deepEqual(parseServicePortName(text), expected, JSON.stringify(text));
        for (const comment of [text, `${text} cluster IP`, `${text} -> 10.0.0.1:80`, `pod traffic for ${text} external destinations`]) {
          const read = readKubeComment(comment);
          assert.deepEqual(read?.comment, parseKubeComment(comment), JSON.stringify(comment));
          if (read) assert.equal(read.key, servicePortKey(read.comment.service), JSON.stringify(comment));
        }
      },
    );
  });
});

/** The order of a model's services: a stable sort with the collator, field by field. */
function collatorOrder(a: ServicePort, b: ServicePort): number {
  const collator = new Intl.Collator();
  return collator.compare(a.namespace, b.namespace) || collator.compare(a.name, b.name) || collator.compare(a.port, b.port) || collator.compare(a.protocol, b.protocol);
}

function assertCollatorOrder(services: ServicePort[]): void {
  const sorted = [...services].sort(collatorOrder);
  assert.deepEqual(services.map((s) => s.id), sorted.map((s) => s.id));
}

describe('service order', () => {
  it('is the collator order on a generated dump, sorted by code units and checked', () => {
    const model = buildServiceModel(analyze(generateDump(400, 3).text));
    assert.ok(model.services.length >= 400);
    assertCollatorOrder(model.services);
  });

  it('is the collator order where code units order otherwise: upper-case port names, names inferred from chains', () => {
    const text = [
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]',
      ':KUBE-SVC-BBBBBBBBBBBBBBBB - [0:0]',
      ':KUBE-SVC-CCCCCCCCCCCCCCCC - [0:0]',
      ':KUBE-SVC-DDDDDDDDDDDDDDDD - [0:0]',
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "ns/a:HTTP cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA',
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "ns/a:grpc cluster IP" -m tcp --dport 81 -j KUBE-SVC-BBBBBBBBBBBBBBBB',
      '-A KUBE-SERVICES -d 10.96.0.2/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-CCCCCCCCCCCCCCCC',
      '-A KUBE-SERVICES -d 10.96.0.3/32 -p udp -m comment --comment "ns/a:Http cluster IP" -m udp --dport 80 -j KUBE-SVC-DDDDDDDDDDDDDDDD',
      'COMMIT',
      '',
    ].join('\n');
    const services = buildServiceModel(analyze(text)).services;
    assert.deepEqual(services.map((s) => s.id), ['/KUBE-SVC-CCCCCCCCCCCCCCCC/TCP', 'ns/a:grpc/TCP', 'ns/a:Http/UDP', 'ns/a:HTTP/TCP']);
    assertCollatorOrder(services);
  });

  it('after an edit is that of a fresh model, whether the edit renames a service or not', () => {
    const text = generateDump(300, 2).text;
    const lines = text.split('\n');
    let analysis = analyze(text);
    let model = buildServiceModel(analysis);
    const commented = lines.flatMap((l, i) => (l.startsWith('-A KUBE-SERVICES ') && l.includes(' cluster IP"') ? [i] : []));
    const probability = lines.findIndex((l) => l.includes('--probability'));
    const edits: Array<[number, (old: string) => string]> = [
      [probability, (l) => l.replace(/--probability \S+/, '--probability 0.25')],
      [commented[7]!, (l) => l.replace(/"\S+\//, '"aaa/')],
      [commented[100]!, (l) => l.replace(/"\S+\//, '"zzz/')],
      [probability, (l) => l.replace(/--probability \S+/, '--probability 0.5')],
    ];
    for (const [line, change] of edits) {
      const oldText = lines[line]!;
      lines[line] = change(oldText);
      const patch = patchAnalysis(analysis, [{ line, oldText, newText: lines[line]! }]);
      assert.ok(patch && !patch.sameMeaning, lines[line]);
      model = buildServiceModel(patch.analysis, { model, changed: patch.rules, chains: patch.chains, lines: patch.lines, jumps: patch.jumps });
      analysis = patch.analysis;
      const fresh = buildServiceModel(analyze(lines.join('\n')));
      assert.deepEqual(model.services.map((s) => s.id), fresh.services.map((s) => s.id), lines[line]);
      assertCollatorOrder(model.services);
    }
  });
});

function checkFlowViews(flow: Flow, where: string): void {
  const destinations = [...flow.destinations];
  assert.equal(destinations.length, flow.destinationCount, where);
  destinations.forEach(([chain, { destination, share }], i) => {
    assert.equal(destination, flow.destinationAt(i), where);
    assert.equal(chain, destination.chain, where);
    assert.equal(share, flow.shareAt(i), where);
  });
  const outcomes = [...flow.outcomes];
  assert.equal(outcomes.length, flow.outcomeCount, where);
  outcomes.forEach(([kind, share], i) => assert.deepEqual([kind, share], [flow.outcomeAt(i), flow.outcomeShareAt(i)], where));
  for (const branch of flow.branches) checkFlowViews(branch.flow, `${where} if ${branch.condition}`);
}

describe('compact service model', () => {
  for (const name of iptablesFixtureNames()) {
    it(`agrees with its map views and lazy fields: ${name}`, () => {
      const analysis = analyze(fixture(name));
      const model = buildServiceModel(analysis);
      const nat = analysis.graph.tables.find((t) => t.table.name === 'nat');
      for (const node of nat?.list ?? []) {
        const flow = model.flowOf(node);
        if (flow) checkFlowViews(flow, node.chain.name);
      }
      for (const service of model.services) {
        for (const chain of service.chains) assert.equal(model.serviceByChain.get(chain), service);
        assert.equal(service.hashConfirmed, service.hash !== undefined && servicePortHash(service.key, service.protocol) === service.hash);
        for (const endpoint of service.endpoints) {
          assert.equal(model.endpointByChain.get(endpoint.chain), endpoint);
          assert.equal(model.serviceByChain.get(endpoint.chain), service);
          if (endpoint.ip !== '') {
            const at = model.endpointsAt(endpoint.ip);
            assert.ok(at.some((e) => e.endpoint === endpoint && e.service === service), endpoint.ip);
            assert.deepEqual(at.filter((e) => e.endpoint.ip !== endpoint.ip), []);
          }
          const text = endpoint.dnat?.toDestination;
          const confirmed = endpoint.ip !== '' && text !== undefined && kubeChain(endpoint.chain.chain.name)?.hash === endpointHash(service.key, service.protocol, text);
          assert.equal(endpoint.hashConfirmed, confirmed, endpoint.chain.chain.name);
        }
        for (const entry of service.entries) {
          if (entry.address !== null) assert.ok(model.entriesAt(entry.address).some((e) => e.entry === entry && e.service === service));
        }
      }
      assert.equal(model.serviceByChain.size, new Set([...model.services.flatMap((s) => s.chains), ...model.endpointByChain.keys()]).size);
      // Every service's endpoints at each address, in the order of the services and their endpoints.
      for (const ip of new Set(model.services.flatMap((s) => s.endpoints.map((e) => e.ip)).filter((ip) => ip !== ''))) {
        const expected = model.services.flatMap((s) => s.endpoints.filter((e) => e.ip === ip).map((e) => [s.id, e.chain.chain.name]));
        assert.deepEqual(model.endpointsAt(ip).map((e) => [e.service.id, e.endpoint.chain.chain.name]), expected, ip);
      }
      assert.deepEqual(model.endpointsAt('192.0.2.255'), []);
      // Chains of the other tables share node ids with nat chains, and belong to no service.
      for (const graph of analysis.graph.tables) {
        if (graph === nat) continue;
        for (const node of graph.list) assert.equal(model.serviceByChain.get(node) ?? model.endpointByChain.get(node), undefined, `${graph.table.name} ${node.chain.name}`);
      }
      assert.deepEqual([...model.serviceByChain.values()].length, model.serviceByChain.size);
    });
  }
});

describe('compiled rules', () => {
  it('keep the address of every DNAT rule when there are more than endpoint chains, and probabilities that are no integer over 2^31', () => {
    // 300 DNAT rules in chains that are no KUBE-SEP: more than the room made at first (endpoint chains + 64).
    const n = 300;
    const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':FRONT - [0:0]', ':NTH - [0:0]'];
    for (let i = 0; i < n; i++) lines.push(`:TO-${i} - [0:0]`);
    lines.push('-A PREROUTING -j FRONT');
    for (let i = 0; i < n; i++) {
      const statistic = i < n - 1 ? ` -m statistic --mode random --probability ${(1 / (n - i)).toFixed(10)}` : '';
      lines.push(`-A FRONT${statistic} -j TO-${i}`);
    }
    for (let i = 0; i < n; i++) lines.push(`-A TO-${i} -p tcp -j DNAT --to-destination 10.1.${i >> 8}.${i & 255}:${8000 + i}`);
    // One packet in three, then the rest: 1/3 is no integer over 2^31, 1/2 is.
    lines.push('-A NTH -m statistic --mode nth --every 3 --packet 0 -j TO-7', '-A NTH -m statistic --mode nth --every 2 --packet 0 -j TO-8', '-A NTH -j TO-9', 'COMMIT', '');
    const analysis = analyze(lines.join('\n'));
    const model = buildServiceModel(analysis);
    const nat = analysis.graph.tables.find((t) => t.table.name === 'nat')!;
    for (const i of [0, 63, 64, 299]) {
      const flow = model.flowOf(nat.nodes.get(`TO-${i}`)!)!;
      assert.equal(flow.destinationCount, 1);
      assert.deepEqual([flow.destinationAt(0).ip, flow.destinationAt(0).port, flow.shareAt(0)], [`10.1.${i >> 8}.${i & 255}`, 8000 + i, 1]);
    }
    const front = model.flowOf(nat.nodes.get('FRONT')!)!;
    assert.equal(front.destinationCount, n);
    assert.deepEqual(front.destinationAt(299).ip, '10.1.1.43');
    // Each gets 1/300 within the rounding of the kernel's probabilities (kube-proxy's form).
    for (let i = 0; i < n; i++) assert.ok(Math.abs(front.shareAt(i) - 1 / n) < 1e-8, `TO-${i}: ${front.shareAt(i)}`);
    const nth = model.flowOf(nat.nodes.get('NTH')!)!;
    // A third, then half of the two thirds left, then the rest (as the walk multiplies them).
    const rest = (1 - 1 / 3) * (1 / 2);
    assert.deepEqual([0, 1, 2].map((i) => [nth.destinationAt(i).ip, nth.shareAt(i)]), [['10.1.0.7', 1 / 3], ['10.1.0.8', rest], ['10.1.0.9', rest]]);
  });
});
