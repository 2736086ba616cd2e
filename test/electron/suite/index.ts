// The entry point VS Code's extension test host calls (extensionTestsPath): runs every test of
// ./scenarios in order and rejects when one failed. No mocha: node:assert and this loop.

import { tests } from './scenarios';

/** What VS Code calls; the output goes to the console of the test run. */
export async function run(): Promise<void> {
  await runWith((line) => console.log(line));
}

/** Runs the tests, reporting each line to `report` (test/e2e/test-host keeps them). */
export async function runWith(report: (line: string) => void): Promise<void> {
  const failures: string[] = [];
  const started = Date.now();
  for (const t of tests) {
    const t0 = Date.now();
    try {
      await t.run();
      report(`✔ ${t.name} (${Date.now() - t0} ms)`);
    } catch (error) {
      failures.push(t.name);
      report(`✘ ${t.name} (${Date.now() - t0} ms)`);
      report(String(error instanceof Error ? (error.stack ?? error.message) : error).replace(/^/gm, '    '));
    }
  }
  report(`${tests.length - failures.length} passed, ${failures.length} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (failures.length > 0) throw new Error(`${failures.length} extension test(s) failed: ${failures.join(', ')}`);
}
