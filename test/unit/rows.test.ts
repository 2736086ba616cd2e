import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRuleset } from '../../server/src/core/parser';
import type { Ruleset } from '../../server/src/core/ruleset';
import { ROW_BYTES, ROW_CHAIN, ROW_CHAIN_END, ROW_CHAIN_START, ROW_KIND, ROW_PACKETS, ROW_POLICY, ROW_SLOTS, ROW_TARGET_CHAIN, type RowBatch, RowKind, RowScanner, type RowSource } from '../../server/src/core/rowScan';
import { allFixtureNames, fixture } from '../support/fixtures';
import { rowsInThisThread } from '../support/rows';

/** Rules and declarations of a parse. */
function rulesAndDeclarations(text: string): number {
  let count = 0;
  for (const table of parseRuleset(text).tables) {
    count += table.rules.length;
    for (const chain of table.chains.values()) if (chain.declaration) count++;
  }
  return count;
}

/** All rows of a text, scanned at once. */
function scanAll(text: string): RowBatch[] {
  const batches: RowBatch[] = [];
  new RowScanner((batch) => batches.push(batch)).scan(text, 0, true);
  return batches;
}

/** A source handing over the given batches, or failing once they run out. */
function sourceOf(batches: RowBatch[], taken: number[]): RowSource {
  return { read: () => ({ next: () => batches.shift(), close: (n) => taken.push(n) }) };
}

/**
 * The parse of `text` from its rows (one batch) as `tamper` changes them, held to the parse
 * without rows; `taken`: the lines made from rows before the parser read the rest itself.
 */
function parsedFromTamperedRows(text: string, tamper: (rows: Int32Array) => void): { ruleset: Ruleset; taken: number[] } {
  const batches = scanAll(text);
  tamper(batches[0]!.rows);
  const taken: number[] = [];
  const ruleset = parseRuleset(text, { rows: sourceOf(batches, taken) });
  assert.deepStrictEqual(ruleset, parseRuleset(text));
  return { ruleset, taken };
}

// A restore file that makes chains in every way the parser does: built in, declared (the fast
// way and, with a quote in the name, the general way), by -N, and by first use in -A (fast), -I
// (general) and an -A the general reader reads (an escaped quote). Each is jumped to by a rule
// the fast path takes, after it is made, so each jump must be linked to its chain.
const EVERY_WAY = [
  '*nat',
  ':KUBE-SERVICES - [0:0]',
  ':"QUOTED" - [0:0]',
  '-N KUBE-NEW',
  '-A KUBE-USED -j RETURN',
  '-I KUBE-INSERTED 1 -j RETURN',
  '-A KUBE-GENERAL -m comment --comment "a \\"b\\"" -j RETURN',
  '-A PREROUTING -j KUBE-SERVICES',
  '-A KUBE-SERVICES -j KUBE-NEW',
  '-A KUBE-SERVICES -j KUBE-USED',
  '-A KUBE-SERVICES -j KUBE-INSERTED',
  '-A KUBE-SERVICES -j KUBE-GENERAL',
  '-A KUBE-SERVICES -j "QUOTED"',
  '-A KUBE-SERVICES -j KUBE-LATER',
  ':KUBE-LATER - [0:0]',
  'COMMIT',
  '',
].join('\n');

describe('rules made from the rows of the parse helper thread', () => {
  it('every fixture parses to the same ruleset with rows, handed over in pieces of any length', () => {
    let checked = 0;
    for (const name of allFixtureNames()) {
      const text = fixture(name);
      for (const piece of [1, 97, 100_000]) {
        assert.deepStrictEqual(parseRuleset(text, { rows: rowsInThisThread(piece) }), parseRuleset(text), `${name}, pieces of ${piece}`);
        checked++;
      }
    }
    assert.ok(checked >= 60, `${checked} parses compared`);
  });

  it('takes the 9 declarations and 10 rules of the kube-dns dump from rows, the rows of each piece of text handed over with it', () => {
    const whole = rowsInThisThread(100_000);
    parseRuleset(fixture('seed-kube-dns.legacy-save.txt'), { rows: whole });
    assert.equal(whole.taken, 19);
    assert.deepEqual(whole.batchLines, [24]);
    // Pieces of 1,000 characters: the first newline at or after character 1,000 ends line 18 (characters 886-1018), so the first piece is lines 1-18 and the second the 6 after them (the last one empty).
    const pieces = rowsInThisThread(1000);
    parseRuleset(fixture('seed-kube-dns.legacy-save.txt'), { rows: pieces });
    assert.equal(pieces.taken, 19);
    assert.deepEqual(pieces.batchLines, [18, 6]);
  });

  it('follows every way a chain is made, so each jump after it is linked from its row', () => {
    const rows = rowsInThisThread(20);
    const threaded = parseRuleset(EVERY_WAY, { rows });
    assert.deepStrictEqual(threaded, parseRuleset(EVERY_WAY));
    const nat = threaded.tables[0]!;
    const jumps = nat.chains.get('KUBE-SERVICES')!.rules.map((r) => [r.targetName, r.targetChain?.name]);
    assert.deepEqual(jumps, [
      ['KUBE-NEW', 'KUBE-NEW'],
      ['KUBE-USED', 'KUBE-USED'],
      ['KUBE-INSERTED', 'KUBE-INSERTED'],
      ['KUBE-GENERAL', 'KUBE-GENERAL'],
      // A declaration keeps its quotes; a rule's target loses them: no chain of that name.
      ['QUOTED', undefined],
      // Declared after the jump: the chain graph links it, not the parser.
      ['KUBE-LATER', undefined],
    ]);
    // Rows: 2 fast declarations, the -A of KUBE-USED and the 7 jumps (the -N, -I and escaped-quote lines are read as lines).
    assert.equal(rows.taken, 10);
  });

  it('reads the lines itself from the first row whose chain is not the one the parser has', () => {
    const { taken } = parsedFromTamperedRows(fixture('seed-kube-dns.legacy-save.txt'), (rows) => {
      // Line 14 (-A KUBE-MARK-MASQ) is said to belong to chain 7, KUBE-SERVICES.
      assert.equal(rows[13 * ROW_SLOTS + ROW_KIND], RowKind.Rule);
      assert.equal(rows[13 * ROW_SLOTS + ROW_CHAIN], 4);
      rows[13 * ROW_SLOTS + ROW_CHAIN] = 7;
    });
    // The 9 declarations and the two rules before it.
    assert.deepEqual(taken, [11]);
  });

  it('reads the lines itself from the first row whose target is another chain, even one of a name as long', () => {
    const { taken } = parsedFromTamperedRows(fixture('seed-kube-dns.legacy-save.txt'), (rows) => {
      // Line 20 jumps to KUBE-SEP-S4MK5EVI7CLHCCS6 (chain 5); its row is made to say KUBE-SEP-ZT5TVM6PMFDFQAMO (chain 6), 25 letters too.
      assert.equal(rows[19 * ROW_SLOTS + ROW_TARGET_CHAIN], 5);
      rows[19 * ROW_SLOTS + ROW_TARGET_CHAIN] = 6;
    });
    // The 9 declarations and the 8 rules before it.
    assert.deepEqual(taken, [17]);
  });

  it('reads the lines itself from the first row that numbers as new a chain the table has', () => {
    const { ruleset, taken } = parsedFromTamperedRows(fixture('seed-kube-dns.legacy-save.txt'), (rows) => {
      // The nat table has 9 chains by line 14: its row says -A KUBE-MARK-MASQ makes a 10th.
      rows[13 * ROW_SLOTS + ROW_CHAIN] = 9;
    });
    assert.equal(ruleset.tables[0]!.chains.size, 9);
    assert.deepEqual(taken, [11]);
  });

  it('reads the lines itself from a declaration row that numbers as new a chain declared already', () => {
    // Line 8 declares KUBE-MARK-MASQ again; the thread leaves it to the parser, here it is said to make chain 5.
    const text = fixture('seed-kube-dns.legacy-save.txt').replace(':KUBE-MARK-MASQ - [0:0]\n', ':KUBE-MARK-MASQ - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n');
    const { ruleset, taken } = parsedFromTamperedRows(text, (rows) => {
      const at = 7 * ROW_SLOTS;
      assert.equal(rows[at + ROW_KIND], RowKind.Line);
      rows[at + ROW_KIND] = RowKind.Declaration;
      rows[at + ROW_CHAIN_START] = 1;
      rows[at + ROW_CHAIN_END] = 1 + 'KUBE-MARK-MASQ'.length;
      rows[at + ROW_CHAIN] = 5;
      rows[at + ROW_POLICY] = 0;
      rows[at + ROW_PACKETS] = 0;
      rows[at + ROW_BYTES] = 0;
    });
    assert.deepEqual(ruleset.diagnostics.map((d) => [d.code, d.span.line]), [['duplicate-chain', 7]]);
    assert.deepEqual(taken, [5]);
  });

  it('reads the rest of the dump itself when the helper stops handing over rows', () => {
    const text = fixture('k8s-overall-modern.nft-save.txt');
    const taken: number[] = [];
    const scanned = scanAll(text);
    assert.equal(scanned.length, 1);
    // Only the first 40 lines' rows arrive; then the helper fails.
    const first = { ...scanned[0]!, count: 40, last: false };
    assert.deepStrictEqual(parseRuleset(text, { rows: sourceOf([first], taken) }), parseRuleset(text));
    assert.ok(taken[0]! > 30 && taken[0]! < rulesAndDeclarations(text), `${taken[0]} taken`);
  });

  it('is not asked for rows of a text with a NUL byte, nor of a piece of a document', () => {
    const asked: string[] = [];
    const source: RowSource = { read: (text) => (asked.push(text), undefined) };
    parseRuleset('*nat\n-A X -j RETURN\u0000\nCOMMIT\n', { rows: source });
    parseRuleset('*nat\nCOMMIT\n', { rows: source, firstLine: 10 });
    assert.deepEqual(asked, []);
  });
});
