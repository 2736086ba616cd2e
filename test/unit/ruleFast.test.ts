import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { generateDump } from '../../server/src/kube/generate';
import { Interner, readRuleFast } from '../../server/src/core/ruleFast';
import { type RuleFacts, toDestinationArgOf } from '../../server/src/core/ruleset';
import { commentOf, factsOf, parseRuleSpec } from '../../server/src/core/ruleSpec';
import { splitArgs } from '../../server/src/core/scanner';
import { allFixtureNames, fixture } from '../support/fixtures';
import { dumpLikeArb, mutatedFixtureArb } from '../support/mutations';

const FACT_KEYS = ['source', 'destination', 'destinationNegated', 'protocol', 'dport', 'dstType', 'statistic', 'recent', 'toDestination', 'toDestinationArg', 'setCounters', 'conditional'] as const;

/** The facts that are present, as a plain record to compare. */
function factsRecord(facts: RuleFacts): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const key of FACT_KEYS) if (facts[key] !== undefined) record[key] = facts[key];
  return record;
}

/** Both readers on the specification of one rule line (after `-A CHAIN`); the fast one may decline. */
function compare(line: string): 'fast' | 'general' {
  const head = splitArgs(line, 0, line.length, 2);
  if (head.args.length < 2 || !/^-[AIDR]$/.test(head.args[0]!.text) || head.unterminatedQuoteAt !== undefined) return 'general';
  const from = head.args[1]!.end;
  const fast = readRuleFast(line, from, line.length, new Interner());
  if (!fast) return 'general';
  const problems: string[] = [];
  const split = splitArgs(line, from, line.length);
  const spec = parseRuleSpec(split.args, 0, (_s, _e, _severity, code) => problems.push(code));
  assert.equal(split.unterminatedQuoteAt, undefined, line);
  assert.deepEqual(problems, [], `the fast reader accepted a line the general reader finds fault with: ${line}`);
  const comment = commentOf(spec);
  assert.deepEqual(
    { target: fast.targetName, start: fast.targetStart, end: fast.targetEnd, kind: fast.targetName === undefined ? undefined : fast.targetKind, comment: fast.comment, commentStart: fast.commentStart, facts: factsRecord({ ...fast, toDestinationArg: toDestinationArgOf(fast) }) },
    { target: spec.target?.name, start: spec.target?.start ?? 0, end: spec.target?.end ?? 0, kind: spec.target?.kind, comment: comment?.text, commentStart: comment?.arg.start ?? 0, facts: factsRecord(factsOf(spec)) },
    line,
  );
  return 'fast';
}

describe('the fast rule reader agrees with the general one', () => {
  it('on every rule line of every fixture, and reads nearly all of them itself', () => {
    let fast = 0;
    let total = 0;
    for (const name of allFixtureNames()) {
      for (const line of fixture(name).split('\n')) {
        const rule = line.replace(/^\[\d+:\d+\] /, '');
        if (!rule.startsWith('-')) continue;
        total++;
        if (compare(rule) === 'fast') fast++;
      }
    }
    assert.ok(fast / total > 0.95, `${fast} of ${total}`);
  });

  it('on every line of a generated 300-service dump, reading all of them itself', () => {
    const lines = generateDump(300, 4).text.split('\n').filter((l) => l.startsWith('-A'));
    assert.deepEqual(lines.map(compare).filter((r) => r === 'general'), []);
  });

  it('on lines with escaped quotes, old-style negation, stray words and missing values (declining those it must)', () => {
    assert.equal(compare('-A X -m comment --comment "a \\"b\\"" -j Y'), 'general');
    assert.equal(compare('-A X -s ! 10.0.0.0/8 -j Y'), 'fast');
    assert.equal(compare('-A X -p tcp --dport -j Y'), 'general');
    assert.equal(compare('-A X stray -j Y'), 'general');
    assert.equal(compare('-A X -j'), 'general');
    assert.equal(compare('-A X -j A -j B'), 'general');
    assert.equal(compare('-A X -m comment --comment "open'), 'general');
    assert.equal(compare('-A X -s 1.2.3.4 !'), 'general');
  });

  it('on the three shapes most of a large dump is made of, and on every near miss of them (seeded)', () => {
    const shapes = [
      '-A KUBE-SEP-ABCDEFGHIJKLMNOP -s 10.244.1.5/32 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-ABCDEFGHIJKLMNOP -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080',
      '-A KUBE-SVC-ABCDEFGHIJKLMNOP -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-ABCDEFGHIJKLMNOP',
    ];
    for (const line of shapes) assert.equal(compare(line), 'fast', line);
    // Each shape with a character put in, taken out or changed anywhere after the chain's name.
    fc.assert(fc.property(fc.constantFrom(...shapes), fc.nat(), fc.constantFrom(' ', '\t', '-', '!', '"', "'", '\\', 'j', 's', 'x', '1', '/'), fc.integer({ min: 0, max: 2 }), (line, at, c, op) => {
      const place = 29 + (at % (line.length - 28));
      const mutated = op === 0 ? line.slice(0, place) + c + line.slice(place) : line.slice(0, place) + (op === 1 ? '' : c) + line.slice(place + 1);
      compare(mutated);
    }), { numRuns: 3000, seed: 77 });
  });

  it('on random damage to fixture lines and on dump-like text (seeded)', () => {
    fc.assert(fc.property(fc.oneof(mutatedFixtureArb.map((f) => f.text), dumpLikeArb), (text) => {
      for (const line of text.split('\n')) if (line.startsWith('-')) compare(line);
    }), { numRuns: 300, seed: 4242 });
  });
});
