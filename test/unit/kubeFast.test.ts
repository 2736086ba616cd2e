// The service model reads chain names and DNAT addresses without regular expressions and keeps
// flows and endpoints in compact form; these tests hold the fast readers to the regular
// expressions they replace, and the compact forms to the Map views and fields callers read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze } from '../../server/src/core/analysis';
import { buildServiceModel } from '../../server/src/kube/model';
import { parseEndpointAddress, type Flow } from '../../server/src/kube/flow';
import { endpointHash, kubeChain, kubeChainKind, servicePortHash } from '../../server/src/kube/hashes';
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

describe('regex-free readers', () => {
  it('kubeChain reads chain names as the regular expression does', () => {
    const names = mutations(
      ['KUBE-SVC-ERIFXISQEP7F7OF4', 'KUBE-SVL-ERIFXISQEP7F7OF4', 'KUBE-EXT-ERIFXISQEP7F7OF4', 'KUBE-FW-ERIFXISQEP7F7OF4', 'KUBE-XLB-ERIFXISQEP7F7OF4', 'KUBE-SEP-S4MK5EVI7CLHCCS6', 'KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-SVC-ERIFXISQEP7F7OF', 'KUBE-SVC-ERIFXISQEP7F7OF41', 'KUBE-FWX-ERIFXISQEP7F7OF4'],
      'KUBESVCLXTFWPA2718-a \n',
      20_000,
    );
    let kube = 0;
    for (const name of names) {
      const expected = kubeChainByRegex(name);
      assert.deepEqual(kubeChain(name), expected, JSON.stringify(name));
      assert.equal(kubeChainKind(name), expected?.kind, JSON.stringify(name));
      if (expected) kube++;
    }
    assert.ok(kube > 1000, `only ${kube} kube chain names among the mutations`);
  });

  it('parseEndpointAddress reads DNAT addresses as the regular expressions do', () => {
    const texts = mutations(
      ['10.244.1.2:8080', '10.32.0.3:53', '10.0.0.1', '255.255.255.255:65535', '300.1.1.1:80', '1.2.3.4:', '1.2.3.4:123456', '01.2.3.4:0080', '1234.1.1.1', '1.2.3.4.5', '1.2.3', 'fd00::1', '[fd00::1]:53', '[10.0.0.1]:80', 'abc:1', '1:2', ' 1.2.3.4', '1.2.3.4\n', '', '9'],
      '0123456789.:[]af \n',
      20_000,
    );
    let addresses = 0;
    for (const text of texts) {
      const expected = endpointByRegex(text);
      assert.deepEqual(parseEndpointAddress(text), expected, JSON.stringify(text));
      if (expected) addresses++;
    }
    assert.ok(addresses > 1000, `only ${addresses} addresses among the mutations`);
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
          assert.ok(model.endpointsByIp.get(endpoint.ip)?.some((e) => e.endpoint === endpoint && e.service === service) ?? endpoint.ip === '');
          const text = endpoint.dnat?.facts.toDestination;
          const confirmed = endpoint.ip !== '' && text !== undefined && kubeChain(endpoint.chain.chain.name)?.hash === endpointHash(service.key, service.protocol, text);
          assert.equal(endpoint.hashConfirmed, confirmed, endpoint.chain.chain.name);
        }
        for (const entry of service.entries) {
          if (entry.address !== null) assert.ok(model.entriesByAddress.get(entry.address)?.some((e) => e.entry === entry && e.service === service));
        }
      }
      assert.equal(model.serviceByChain.size, new Set([...model.services.flatMap((s) => s.chains), ...model.endpointByChain.keys()]).size);
    });
  }
});
