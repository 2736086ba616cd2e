import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { generateDump } from '../../server/src/kube/generate';
import { parseRuleset } from '../../server/src/core/parser';
import type { RowSource } from '../../server/src/core/rowScan';
import { MIN_THREADED_LENGTH, ParseThread } from '../../server/src/parseThread';
import { repoRoot } from '../support/fixtures';

/** The thread's code as the tests compile it, and as the bundle ships it. */
const COMPILED_WORKER = path.join(repoRoot, 'out', 'server', 'src', 'parseWorker.js');
const BUNDLED_WORKER = path.join(repoRoot, 'dist', 'parseWorker.js');

/** Counts the lines the parser made from the thread's rows. */
function counted(source: RowSource): RowSource & { taken: number } {
  const counting = {
    taken: 0,
    read(text: string) {
      const stream = source.read(text);
      return stream && { next: () => stream.next(), close: (taken: number) => ((counting.taken += taken), stream.close(taken)) };
    },
  };
  return counting;
}

// 300 services × 10 endpoints: 13,111 lines, 1.0 MB, above the size the thread is used for.
const dump = generateDump(300, 10);
const threads: ParseThread[] = [];
after(() => threads.forEach((t) => t.stop()));

function threadOf(script: string, minLength?: number, pieceLength?: number): ParseThread {
  const thread = new ParseThread(script, minLength, undefined, pieceLength);
  threads.push(thread);
  return thread;
}

describe('the parse helper thread', () => {
  it('is used for a dump of 1 MB or more', () => {
    assert.ok(dump.text.length >= MIN_THREADED_LENGTH, `${dump.text.length} characters`);
  });

  for (const [name, script] of [['compiled', COMPILED_WORKER], ['bundled', BUNDLED_WORKER]] as const) {
    it(`(${name}) gives the parse every rule and declaration of a generated dump, the same as a parse without it`, () => {
      const rows = counted(threadOf(script));
      const threaded = parseRuleset(dump.text, { rows });
      const alone = parseRuleset(dump.text);
      assert.deepStrictEqual(threaded, alone);
      let fast = 0;
      for (const table of alone.tables) {
        fast += table.rules.length;
        for (const chain of table.chains.values()) if (chain.declaration) fast++;
      }
      assert.equal(rows.taken, fast);
      assert.equal(alone.lineCount, dump.lines + 1);
    });
  }

  it('is sent the text a few pieces ahead of the rows it hands back, and never waits for more', () => {
    // Pieces of 20,000 characters: the 1 MB dump is 50 of them, sent 4 ahead of the rows received.
    const thread = threadOf(COMPILED_WORKER, 1000, 20_000);
    const rows = counted(thread);
    const started = performance.now();
    const threaded = parseRuleset(dump.text, { rows });
    // Well under the 3 s the parser waits for a batch before it reads the rest itself.
    const parseMs = performance.now() - started;
    assert.ok(parseMs < 2000, `${parseMs} ms`);
    assert.deepStrictEqual(threaded, parseRuleset(dump.text));
    // Every line but the header comments, the table lines and COMMITs came from rows: none was left to the parser after a wait.
    let fast = 0;
    for (const table of threaded.tables) {
      fast += table.rules.length;
      for (const chain of table.chains.values()) if (chain.declaration) fast++;
    }
    assert.equal(rows.taken, fast);
    assert.equal(thread.lastProblem, undefined);
  });

  it('reads dump after dump, the same way each time', () => {
    const thread = threadOf(COMPILED_WORKER, 1000);
    const texts = [dump.text, generateDump(40, 3).text, dump.text.replace('KUBE-MARK-MASQ -j MARK', 'KUBE-MARK-MASQ -j MARK2')];
    for (const text of texts) assert.deepStrictEqual(parseRuleset(text, { rows: thread }), parseRuleset(text));
    assert.equal(thread.lastProblem, undefined);
  });

  it('ships in the package beside the server, which loads it from its own folder', () => {
    const files = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { files: string[] }).files;
    assert.ok(files.includes('dist/server.js') && files.includes('dist/parseWorker.js'), `package.json "files": ${files.join(', ')}`);
    assert.match(fs.readFileSync(path.join(repoRoot, 'server', 'src', 'server.ts'), 'utf8'), /new ParseThread\(path\.join\(__dirname, 'parseWorker\.js'\)\)/);
  });

  it('is not used for a small dump', () => {
    assert.equal(threadOf(COMPILED_WORKER).read(generateDump(5, 2).text), undefined);
  });

  it('when its code cannot be loaded, the parse reads every line itself and says why', async () => {
    const thread = threadOf(path.join(repoRoot, 'out', 'no-such-worker.js'));
    const rows = counted(thread);
    thread.start();
    // The thread fails as it loads; the parse does not wait for it longer than its limit.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepStrictEqual(parseRuleset(dump.text, { rows }), parseRuleset(dump.text));
    assert.equal(rows.taken, 0);
    assert.match(thread.lastProblem ?? '', /parse thread (failed|exited)/);
  });
});
