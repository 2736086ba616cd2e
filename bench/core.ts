// One child process of the benchmark: times parse, chain graph and service model on one dump
// and reports its peak memory, so each size starts from a clean heap. The parse has its helper
// thread, started before the timings as the language server starts it when the editor connects;
// with --one-thread it goes without.
//   node --expose-gc out/bench/core.js <dump> <runs> [--one-thread]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze } from '../server/src/core/analysis';
import { buildChainGraph } from '../server/src/core/graph';
import { parseRuleset } from '../server/src/core/parser';
import { ParseThread } from '../server/src/parseThread';
import { buildServiceModel } from '../server/src/kube/model';

const [file, runsText, mode] = process.argv.slice(2);
const runs = Number(runsText ?? 3);
const text = fs.readFileSync(file!, 'utf8');
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const rows = mode === '--one-thread' ? undefined : new ParseThread(path.join(__dirname, '..', 'server', 'src', 'parseWorker.js'));
rows?.start();

function time<T>(run: () => T): [T, number] {
  const started = performance.now();
  const value = run();
  return [value, performance.now() - started];
}

/** Parse and graph timed apart; what they made is dropped before the full analysis is timed, as the server holds one analysis at a time. */
function timeParseAndGraph(): [number, number] {
  const [ruleset, parseMs] = time(() => parseRuleset(text, { rows }));
  const [, graphMs] = time(() => buildChainGraph(ruleset));
  return [parseMs, graphMs];
}

const result = { parse: [] as number[], graph: [] as number[], model: [] as number[], total: [] as number[], heapMb: 0, services: 0, lines: 0 };
for (let i = 0; i < runs; i++) {
  gc();
  const [parseMs, graphMs] = timeParseAndGraph();
  gc();
  // The model runs on a full analysis (parse and graph; the indexes by line are made later, on first use), as the server builds it.
  const [analysis, analyzeMs] = time(() => analyze(text, { rows }));
  const [model, modelMs] = time(() => buildServiceModel(analysis));
  result.parse.push(parseMs);
  result.graph.push(graphMs);
  result.model.push(modelMs);
  result.total.push(analyzeMs + modelMs);
  result.services = model.services.length;
  result.lines = analysis.ruleset.lineCount;
  gc();
  result.heapMb = Math.max(result.heapMb, process.memoryUsage().heapUsed / 1024 / 1024);
}
process.stdout.write(JSON.stringify({ ...result, maxRssMb: process.resourceUsage().maxRSS / 1024, threadProblem: rows?.lastProblem ?? null }));
