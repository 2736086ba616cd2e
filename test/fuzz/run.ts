// npm run fuzz: the properties of test/support/properties.ts over many random and mutated
// dumps (at least 100,000 cases in all). Prints the cases run, the failures and the slowest input.
//   node out/test/fuzz/run.js [cases-per-property] [seed]
import { runProperties } from '../support/properties';

const perProperty = Number(process.argv[2] ?? 25_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const started = performance.now();
const reports = runProperties({ numRuns: perProperty, seed });
const seconds = (performance.now() - started) / 1000;
let failed = 0;
let total = 0;
for (const r of reports) {
  total += r.runs;
  if (r.failed) failed++;
  process.stdout.write(`${r.name.padEnd(24)} ${String(r.runs).padStart(7)} cases  ${r.failed ? 'FAILED' : 'ok'}  slowest ${r.slowestMs.toFixed(1)} ms: ${r.slowestInput.slice(0, 120)}\n`);
  if (r.failure) process.stdout.write(`${r.failure}\n`);
}
process.stdout.write(`\nseed ${seed}: ${total} cases in ${seconds.toFixed(1)} s\n${reports.length - failed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
