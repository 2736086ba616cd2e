import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keepShapes } from '../../server/src/shapes';

describe('the small analysis the server keeps', () => {
  it('is made once, of the generated dump of 40 services', () => {
    const kept = keepShapes();
    assert.equal(keepShapes(), kept);
    // generateDump(40, 3): services 0 and 20 have no endpoints, the 38 others 3 each.
    assert.equal(kept.model.services.length, 40);
    assert.equal(kept.model.services.reduce((sum, service) => sum + service.endpoints.length, 0), 38 * 3);
    assert.deepEqual(kept.analysis.diagnostics, []);
  });
});
