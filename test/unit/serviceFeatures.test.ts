import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateDump } from '../../bench/generate';
import { analyze } from '../../server/src/core/analysis';
import { codeLenses, MAX_CODE_LENS_CHAINS, servicesResult } from '../../server/src/features/services';
import { fixture } from '../support/fixtures';

describe('service features on edited and large dumps', () => {
  it('counts only the endpoints some entry reaches: without the fall-through jump, kube-dns has one', () => {
    const lines = fixture('seed-kube-dns.nft-save.txt').split('\n');
    lines.splice(20, 1); // -A KUBE-SVC-ERIFXISQEP7F7OF4 ... -j KUBE-SEP-ZT5TVM6PMFDFQAMO
    const result = servicesResult(analyze(lines.join('\n')), 'file:///x', 1, undefined);
    const service = result.services[0]!;
    assert.equal(service.endpointCount, 1);
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
});
