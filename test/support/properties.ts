// Properties every input must keep, shared by the seeded test run and `npm run fuzz`.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { analyze, type Analysis } from '../../server/src/core/analysis';
import { parseRuleset } from '../../server/src/core/parser';
import { printRuleset } from '../../server/src/core/printer';
import { chainNameOf, chainSpanOf, type Ruleset, type Span, targetOf } from '../../server/src/core/ruleset';
import { codeLenses, inlayHints } from '../../server/src/features/services';
import { serviceAt, serviceDetails, serviceList, servicesTree } from '../../server/src/features/servicesTree';
import { chainGroup, chainRules, chainsResult, findChains } from '../../server/src/features/chains';
import { completion } from '../../server/src/features/completion';
import { diagnostics } from '../../server/src/features/diagnostics';
import { foldingRanges } from '../../server/src/features/folding';
import { hover } from '../../server/src/features/hover';
import { definition, documentHighlights, references } from '../../server/src/features/navigation';
import { documentSymbols } from '../../server/src/features/symbols';
import { serviceModelOf } from '../../server/src/kube';
import { dumpLikeArb, fixtureArb, mutatedFixtureArb } from './mutations';
import { rowsInThisThread } from './rows';

function lineLengths(text: string): number[] {
  return text.split('\n').map((l) => l.length);
}

function assertInside(span: Span, lengths: number[], what: string): void {
  assert.ok(Number.isInteger(span.line) && span.line >= 0 && span.line < lengths.length, `${what}: line ${span.line} outside 0..${lengths.length - 1}`);
  assert.ok(span.start >= 0 && span.start <= span.end && span.end <= lengths[span.line]!, `${what}: ${span.start}-${span.end} outside line ${span.line} of length ${lengths[span.line]}`);
}

/** The parser and every feature answer without throwing, and every range lies inside the document. */
export function checkDocument(text: string, positions: Array<{ line: number; character: number }>): void {
  const analysis = analyze(text);
  const lengths = lineLengths(text);
  assert.equal(analysis.ruleset.lineCount, lengths.length);
  for (const d of analysis.diagnostics) assertInside(d.span, lengths, `diagnostic ${d.code}`);
  for (const table of analysis.ruleset.tables) {
    assertInside(table.nameSpan, lengths, 'table name');
    for (const chain of table.chains.values()) if (chain.declaration) assertInside(chain.declaration, lengths, 'declaration');
    for (const rule of table.rules) {
      assertInside(chainSpanOf(rule), lengths, 'rule chain');
      const target = targetOf(rule);
      if (target) assertInside(target, lengths, 'target');
    }
  }
  const model = serviceModelOf(analysis);
  for (const d of model.diagnostics) assertInside(d.span, lengths, `service diagnostic ${d.code}`);
  for (const service of model.services) {
    for (const entry of service.entries) {
      const total = entry.split.endpoints.reduce((sum, e) => sum + e.share, 0) + [...entry.split.fates.values()].reduce((a, b) => a + b, 0);
      if (entry.chain) assert.ok(Math.abs(total - 1) < 1e-9, `shares of ${service.id} ${entry.kind} sum to ${total}`);
    }
  }
  exerciseFeatures(analysis, text, positions);
}

function exerciseFeatures(analysis: Analysis, text: string, positions: Array<{ line: number; character: number }>): void {
  const uri = 'file:///fuzz.rules';
  const lines = text.split('\n');
  diagnostics(analysis, { unusedChains: true });
  documentSymbols(analysis);
  foldingRanges(analysis);
  codeLenses(analysis, uri, undefined);
  servicesTree(analysis, uri, 1, undefined, 'tcp');
  for (const service of serviceList(analysis, uri, 1, undefined, {}).services.slice(0, 5)) serviceDetails(analysis, undefined, service.id);
  const chains = chainsResult(analysis, uri, 1, undefined);
  for (const table of chains.tables.slice(0, 3)) {
    for (const entry of table.entries.slice(0, 5)) {
      if ('chain' in entry) chainRules(analysis, table.name, entry.chain.name);
      else chainGroup(analysis, undefined, table.name, entry.group.key);
    }
  }
  findChains(analysis, undefined, 'kube');
  inlayHints(analysis, { start: { line: 0, character: 0 }, end: { line: lines.length + 5, character: 0 } });
  for (const position of positions) {
    hover(analysis, position, undefined);
    definition(analysis, uri, position);
    references(analysis, uri, position, true);
    documentHighlights(analysis, position);
    serviceAt(analysis, undefined, position.line, undefined);
    completion(analysis, position, lines[position.line] ?? '');
  }
}

/** The parts of a ruleset that printing must keep. */
export function shapeOf(ruleset: Ruleset): unknown {
  return ruleset.tables.map((table) => ({
    name: table.name,
    committed: table.committed,
    chains: [...table.chains.values()].map((c) => [c.name, c.builtin, c.policy ?? '-', c.counters ?? null, c.declaration !== undefined, c.rules.length]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    rules: table.rules.map((r) => {
      // Positions move when a rule is printed again; -c counters become a [p:b] prefix.
      const { statistic, recent } = r;
      const facts = [r.source, r.destination, r.destinationNegated, r.protocol, r.dport, r.dstType, r.toDestination, r.conditional];
      return [r.command, chainNameOf(r), r.ruleNumber ?? null, r.counters ?? null, targetOf(r)?.name ?? null, targetOf(r)?.kind ?? null, r.comment ?? null, facts,
        statistic ? [statistic.probability, statistic.every, statistic.negated] : null,
        recent ? [recent.check, recent.set, recent.seconds, recent.name?.text] : null];
    }),
    commands: table.chainCommands.map((c) => [c.command, c.chainName ?? null, c.policy ?? null]),
  }));
}

/** A dump without parse errors, printed as iptables-save prints it and read again, is the same dump. */
export function checkRoundTrip(text: string): void {
  const first = parseRuleset(text);
  if (first.diagnostics.some((d) => d.severity === 'error' || d.code === 'not-iptables')) return;
  const printed = printRuleset(first);
  const second = parseRuleset(printed);
  assert.deepEqual(second.diagnostics.filter((d) => d.severity === 'error'), [], `printed dump has errors:\n${printed}`);
  assert.deepEqual(shapeOf(second), shapeOf(first));
}

/** The parse made with the rows of the helper thread's scanner is the parse made without. */
export function checkRows(text: string, pieceLength: number): void {
  assert.deepStrictEqual(parseRuleset(text, { rows: rowsInThisThread(pieceLength) }), parseRuleset(text));
}

const positionsArb = fc.array(fc.record({ line: fc.integer({ min: -2, max: 120 }), character: fc.integer({ min: -2, max: 400 }) }), { maxLength: 6 });

export interface PropertyReport {
  name: string;
  runs: number;
  failed: boolean;
  /** fast-check's account of the smallest failing input, when one failed. */
  failure: string | undefined;
  slowestMs: number;
  slowestInput: string;
}

/** Runs every property with the given fast-check parameters and reports runs, failures and the slowest input. */
export function runProperties(parameters: { numRuns: number; seed: number }): PropertyReport[] {
  const reports: PropertyReport[] = [];
  const timed = <T>(report: PropertyReport, input: string, check: () => T): T => {
    const started = performance.now();
    try {
      return check();
    } finally {
      const ms = performance.now() - started;
      if (ms > report.slowestMs) {
        report.slowestMs = ms;
        report.slowestInput = input.length > 200 ? `${JSON.stringify(input.slice(0, 200))}… (${input.length} characters)` : JSON.stringify(input);
      }
    }
  };
  const run = <Ts extends unknown[]>(name: string, property: (report: PropertyReport) => fc.IProperty<Ts>) => {
    const report: PropertyReport = { name, runs: 0, failed: false, failure: undefined, slowestMs: 0, slowestInput: '' };
    const details = fc.check(property(report), { numRuns: parameters.numRuns, seed: parameters.seed });
    report.runs = details.numRuns;
    report.failed = details.failed;
    if (details.failed) report.failure = fc.defaultReportMessage(details);
    reports.push(report);
  };
  run('arbitrary text', (r) => fc.property(fc.string({ unit: 'binary', maxLength: 400 }), positionsArb, (text, positions) => timed(r, text, () => checkDocument(text, positions))));
  run('dump-like text', (r) => fc.property(dumpLikeArb, positionsArb, (text, positions) => timed(r, text, () => checkDocument(text, positions))));
  run('mutated fixtures', (r) => fc.property(mutatedFixtureArb, positionsArb, (f, positions) => timed(r, f.text, () => checkDocument(f.text, positions))));
  run('rows read ahead', (r) =>
    fc.property(fc.oneof(dumpLikeArb, mutatedFixtureArb.map((f) => f.text)), fc.integer({ min: 1, max: 400 }), (text, piece) => timed(r, text, () => checkRows(text, piece))),
  );
  run('print and parse again', (r) => fc.property(fc.oneof(fixtureArb, mutatedFixtureArb), (f) => timed(r, f.text, () => checkRoundTrip(f.text))));
  return reports;
}
