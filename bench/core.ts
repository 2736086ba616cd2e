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
import { LARGE_TEXT } from '../server/src/analysisCache';
import { keepShapes } from '../server/src/shapes';

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

/** The full analysis and its model, timed, and the heap they hold; made in this call, they are gone when it returns. */
function timeAnalysis(): { analyzeMs: number; modelMs: number; heapMb: number; services: number; lines: number } {
  // The model runs on a full analysis (parse and graph; the indexes by line are made later, on first use), as the server builds it.
  const [analysis, analyzeMs] = time(() => analyze(text, { rows }));
  const [model, modelMs] = time(() => buildServiceModel(analysis));
  gc();
  return { analyzeMs, modelMs, heapMb: process.memoryUsage().heapUsed / 1024 / 1024, services: model.services.length, lines: analysis.ruleset.lineCount };
}

/**
 * The first run is a fresh process's first analysis, as when the server opens a dump. Each run
 * after it analyses the dump again once the run before is gone and collected, as the server
 * analyses a large dump again: it lets the old analysis go and collects it first
 * (analysisCache.ts). The run before must not be held by a variable of this loop, which V8 keeps
 * alive until it is overwritten: held, the runs after the first were 100-200 ms quicker on the
 * 10k dump (V8 kept the code it had optimized for the objects of the run before, and the heap
 * already had room), a case the server does not have.
 */
const result = { parse: [] as number[], graph: [] as number[], model: [] as number[], total: [] as number[], heapMb: 0, services: 0, lines: 0, heapAtStartMb: [] as number[] };
for (let i = 0; i < runs; i++) {
  gc();
  // What the runs before left: the text, the thread's buffers, compiled code.
  result.heapAtStartMb.push(process.memoryUsage().heapUsed / 1024 / 1024);
  const [parseMs, graphMs] = timeParseAndGraph();
  gc();
  const { analyzeMs, modelMs, heapMb, services, lines } = timeAnalysis();
  result.parse.push(parseMs);
  result.graph.push(graphMs);
  result.model.push(modelMs);
  result.total.push(analyzeMs + modelMs);
  result.services = services;
  result.lines = lines;
  result.heapMb = Math.max(result.heapMb, heapMb);
  // As the server does before it lets a large dump's analysis go (the run's is gone at the next gc()).
  if (text.length > LARGE_TEXT) keepShapes();
}
process.stdout.write(JSON.stringify({ ...result, maxRssMb: process.resourceUsage().maxRSS / 1024, threadProblem: rows?.lastProblem ?? null }));
