import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze, type Analysis } from '../../server/src/core/analysis';
import { MAX_LINE_DIAGNOSTICS } from '../../server/src/core/parser';
import { targetOf } from '../../server/src/core/ruleset';
import { diagnostics } from '../../server/src/features/diagnostics';
import { serviceModelOf } from '../../server/src/kube';
import { fixture } from '../support/fixtures';

const SEVERITY = ['', 'error', 'warning', 'information', 'hint'];

/** The diagnostics the editor shows: [code, severity, line, start, end]. */
function problems(analysis: Analysis): Array<[string, string, number, number, number]> {
  return diagnostics(analysis, { unusedChains: true }).map((d) => [String(d.code), SEVERITY[d.severity!]!, d.range.start.line, d.range.start.character, d.range.end.character]);
}

function timed<T>(run: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = run();
  return { value, ms: performance.now() - started };
}

const seed = fixture('seed-kube-dns.nft-save.txt');

describe('bad input: each gets the diagnostics a user needs, and nothing crashes', () => {
  it('an empty file: no tables, nothing to report', () => {
    const analysis = analyze('');
    assert.deepEqual(problems(analysis), []);
    assert.equal(analysis.ruleset.tables.length, 0);
    assert.equal(analysis.ruleset.lineCount, 1);
  });

  it('a binary file: one message saying so, not an error per line', () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256));
    const analysis = analyze(bytes.toString('latin1'));
    assert.deepEqual(problems(analysis).map((p) => p.slice(0, 3)), [['not-iptables', 'information', 0]]);
    assert.match(analysis.diagnostics[0]!.message, /^This looks like a binary file, not an iptables-save dump/);
  });

  it('one 10 MB rule line is read in one go, with its one real problem', () => {
    const line = `-A KUBE-SERVICES${' -m comment --comment "x y"'.repeat(400_000)} -j KUBE-GHOST`;
    assert.ok(line.length > 10_000_000);
    const { value: analysis, ms } = timed(() => analyze(`*nat\n:KUBE-SERVICES - [0:0]\n${line}\nCOMMIT\n`));
    // A restore file (no built-in chain declared): the undeclared jump is information.
    assert.deepEqual(problems(analysis), [['undeclared-target', 'information', 2, line.length - 10, line.length]]);
    assert.equal(analysis.ruleset.tables[0]!.rules[0]!.comment, 'x y');
    assert.ok(ms < 20_000, `took ${ms} ms`);
  });

  it('one 10 MB line of garbage is one syntax error', () => {
    const analysis = analyze(`*filter\n${'x'.repeat(10_000_000)}\nCOMMIT\n`);
    assert.deepEqual(problems(analysis), [['syntax', 'error', 1, 0, 10_000_000]]);
  });

  it('CRLF and mixed line endings read as the same dump', () => {
    const lines = seed.split('\n');
    const crlf = lines.join('\r\n');
    const mixed = lines.map((l, i) => (i % 2 === 0 ? `${l}\r` : l)).join('\n');
    for (const text of [crlf, mixed]) {
      const analysis = analyze(text);
      assert.deepEqual(problems(analysis), []);
      const model = serviceModelOf(analysis);
      assert.deepEqual(model.services[0]!.entries[0]!.split.endpoints.map((e) => [e.endpoint.ip, e.endpoint.port, e.share]), [['10.32.0.3', 53, 0.5], ['10.32.0.4', 53, 0.5]]);
    }
  });

  it('a dump cut off in the middle of a rule: the table has no COMMIT, the cut option no value', () => {
    const cut = seed.slice(0, seed.indexOf('--probability') + '--probability'.length);
    const analysis = analyze(cut);
    // Without the last rules nothing jumps to the two endpoint chains any more.
    assert.deepEqual(problems(analysis), [
      ['missing-commit', 'error', 1, 0, 4],
      ['missing-value', 'error', 19, 108, 121],
      ['orphan-endpoint', 'warning', 7, 1, 26],
      ['orphan-endpoint', 'warning', 8, 1, 26],
    ]);
  });

  it('a missing COMMIT between two tables ends the first table at the next header', () => {
    const analysis = analyze('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n');
    assert.deepEqual(problems(analysis), [['missing-commit', 'error', 0, 0, 7]]);
    assert.equal(analysis.ruleset.tables[0]!.endLine, 2);
  });

  it('an unknown table', () => {
    assert.deepEqual(problems(analyze('*nta\n:X - [0:0]\nCOMMIT\n')), [['unknown-table', 'error', 0, 1, 4]]);
  });

  it('an option missing its value, at the end and before another option', () => {
    assert.deepEqual(problems(analyze('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s -j ACCEPT\n-A INPUT -p tcp --dport\nCOMMIT\n')), [
      ['missing-value', 'error', 2, 9, 11],
      ['missing-value', 'error', 3, 16, 23],
    ]);
  });

  it('unbalanced quotes', () => {
    const analysis = analyze('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment "half open -j ACCEPT\nCOMMIT\n');
    assert.deepEqual(problems(analysis), [['unterminated-quote', 'error', 2, 30, 50]]);
  });

  it('probabilities above 1, negative and nan', () => {
    const rule = (p: string) => `-A KUBE-SVC-X -m statistic --mode random --probability ${p} -j RETURN`;
    const analysis = analyze(['*nat', ':KUBE-SVC-X - [0:0]', rule('1.5'), rule('-0.25'), rule('nan'), rule('0.5'), 'COMMIT'].join('\n'));
    assert.deepEqual(problems(analysis), [
      ['bad-probability', 'error', 2, 55, 58],
      ['bad-probability', 'error', 3, 55, 60],
      ['bad-probability', 'error', 4, 55, 58],
    ]);
    assert.match(analysis.diagnostics[0]!.message, /^Probability '1.5' is not a number between 0 and 1/);
  });

  it('a DNAT with a malformed address', () => {
    const analysis = analyze('*nat\n:KUBE-SEP-X - [0:0]\n-A KUBE-SEP-X -p tcp -m tcp -j DNAT --to-destination 10.32.0.300:53\nCOMMIT\n');
    assert.deepEqual(problems(analysis), [['bad-address', 'error', 2, 53, 67]]);
  });

  it('Unicode and control characters in comments are kept, with ranges in UTF-16 columns', () => {
    const comment = 'café ☕ 🚀 tab\there bell\u0007';
    const text = `*filter\n:INPUT ACCEPT [0:0]\n:KUBE-X - [0:0]\n-A INPUT -m comment --comment "${comment}" -j KUBE-X\nCOMMIT\n`;
    const analysis = analyze(text);
    assert.deepEqual(problems(analysis), []);
    const rule = analysis.ruleset.tables[0]!.rules[0]!;
    assert.equal(rule.comment, comment);
    const line = text.split('\n')[3]!;
    assert.equal(line.slice(targetOf(rule)!.start, targetOf(rule)!.end), 'KUBE-X');
  });

  it('a jump cycle A -> B -> A', () => {
    const analysis = analyze('*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\nCOMMIT\n');
    assert.deepEqual(problems(analysis), [['jump-cycle', 'error', 5, 8, 9], ['jump-cycle', 'error', 6, 8, 9]]);
  });

  it('a service chain 100,000 jumps deep: no stack overflow, the walk stops and says why', () => {
    const depth = 100_000;
    const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]'];
    for (let i = 0; i < depth; i++) lines.push(`:D${i} - [0:0]`);
    lines.push('-A PREROUTING -j KUBE-SERVICES', '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "ns/deep:p cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA');
    lines.push('-A KUBE-SVC-AAAAAAAAAAAAAAAA -j D0');
    for (let i = 0; i < depth - 1; i++) lines.push(`-A D${i} -j D${i + 1}`);
    lines.push(`-A D${depth - 1} -j DROP`, 'COMMIT');
    const { value: analysis, ms } = timed(() => analyze(lines.join('\n')));
    assert.deepEqual(problems(analysis), []);
    const entry = serviceModelOf(analysis).services[0]!.entries[0]!;
    assert.deepEqual([...entry.split.fates], [['loop', 1]]);
    assert.ok(ms < 20_000, `took ${ms} ms`);
  });

  it('1,000 tables: each unknown one reported, the list capped with a count of the rest', () => {
    const text = Array.from({ length: 1000 }, (_, i) => `*t${i}\nCOMMIT`).join('\n');
    const analysis = analyze(text);
    const found = problems(analysis);
    assert.equal(analysis.ruleset.tables.length, 1000);
    assert.equal(found.length, 1000);
    assert.ok(found.every(([code], i) => code === 'unknown-table' && found[i]![2] === i * 2));
    const many = analyze(Array.from({ length: MAX_LINE_DIAGNOSTICS + 5 }, (_, i) => `*t${i}\nCOMMIT`).join('\n'));
    assert.equal(many.diagnostics.length, MAX_LINE_DIAGNOSTICS + 1);
    assert.match(many.diagnostics[many.diagnostics.length - 1]!.message, /^5 more problems are not listed/);
  });
});
