import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runProperties } from '../support/properties';

// A fast, seeded subset of `npm run fuzz`: the same properties, fewer cases.
describe('properties of every input (seeded, 150 cases each)', () => {
  const reports = runProperties({ numRuns: 150, seed: 20261124 });
  for (const report of reports) {
    it(`${report.name}: never throws, ranges stay in the document${report.name === 'print and parse again' ? ', the model survives printing' : ''}`, () => {
      assert.equal(report.failure, undefined);
      assert.equal(report.runs, 150);
    });
  }
});
