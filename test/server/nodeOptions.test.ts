import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { SERVER_NODE_OPTIONS } from '../../server/src/nodeOptions';

/** A process that fills its heap with 4 million small objects it keeps (about 650 MB, as the analysis and model of the 30k dump do) and prints how many full collections that took. */
const FILL = `
const { PerformanceObserver, constants } = require('node:perf_hooks');
let full = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++; }).observe({ entryTypes: ['gc'] });
const kept = [];
for (let i = 0; i < 4000000; i++) kept.push({ id: i, name: 'x' + i, next: null, list: [i] });
setTimeout(() => process.stdout.write(kept.length === 4000000 ? String(full) : 'lost'), 50);
`;

function fullCollections(options: readonly string[]): number {
  return Number(execFileSync(process.execPath, [...options, '-e', FILL], { encoding: 'utf8' }));
}

describe("the language server's Node options", () => {
  it('are accepted by Node', () => {
    assert.equal(execFileSync(process.execPath, [...SERVER_NODE_OPTIONS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' }), 'ok');
  });

  it('let a heap grow to 650 MB without a full collection, which V8 makes without them', () => {
    assert.ok(fullCollections([]) >= 1, 'without the options V8 collects in full as the heap grows');
    assert.equal(fullCollections(SERVER_NODE_OPTIONS), 0);
  });
});
