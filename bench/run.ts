// npm run bench: figures for dumps of 1k, 10k and 30k services x 10 endpoints.
// Core (parse, graph, service model) in a fresh process per size; `iptables-restore --test` on
// the same file in a fresh network namespace when the machine has it; the real language server
// over JSON-RPC (open to diagnostics, request latencies, an edit to fresh diagnostics).
// Prints a table and writes .bench/results.json. Then the extension's activation in real VS Code
// (bench/activation.ts), when the e2e set-up installed code-server; --activation measures only
// that, --no-activation skips it.
//   node --expose-gc out/bench/run.js [--sizes 1000,10000,30000] [--endpoints 10] [--runs 5]
//     [--activation | --no-activation] [--activation-runs 5]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  createProtocolConnection,
  DefinitionRequest,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentHighlightRequest,
  DocumentSymbolRequest,
  HoverRequest,
  InitializeRequest,
  InitializedNotification,
  InlayHintRequest,
  PublishDiagnosticsNotification,
  type Range,
  ReferencesRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import { analyze } from '../server/src/core/analysis';
import { ChainGroupRequest, ChainsRequest, FindChainsRequest, ServiceListRequest, ServiceRequest, ServicesRequest, type ServiceSummary } from '../server/src/protocol';
import { SERVER_NODE_OPTIONS } from '../server/src/nodeOptions';
import { benchActivation } from './activation';
import { generateDump } from '../server/src/kube/generate';
import { median, percentile } from './stats';

const root = path.resolve(__dirname, '../..');
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1]!;
};
const sizes = option('--sizes', '1000,10000,30000').split(',').map(Number);
const endpoints = Number(option('--endpoints', '10'));
const runs = Number(option('--runs', '5'));
const activationOnly = args.includes('--activation');
const activationRuns = Number(option('--activation-runs', '5'));

function dumpFile(services: number): string {
  const dir = path.join(root, '.bench');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `dump-${services}x${endpoints}.iptables-save`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, generateDump(services, endpoints).text);
  return file;
}

interface CoreFigures {
  parse: number[];
  graph: number[];
  model: number[];
  total: number[];
  heapMb: number;
  maxRssMb: number;
  services: number;
  lines: number;
  /** Why the parse went without its helper thread, if it did. */
  threadProblem: string | null;
}

/** The core figures in a fresh process: with the parse's helper thread, as the server runs it, or on one thread. */
function core(file: string, count: number, oneThread = false): CoreFigures {
  const args = [...SERVER_NODE_OPTIONS, '--expose-gc', path.join(__dirname, 'core.js'), file, String(count), ...(oneThread ? ['--one-thread'] : [])];
  const figures = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 })) as CoreFigures;
  if (figures.threadProblem) process.stdout.write(`  (the parse went without its helper thread: ${figures.threadProblem})\n`);
  return figures;
}

/** `iptables-restore --test` on the same file, in a network namespace of its own; undefined when not available. */
function iptablesRestore(file: string, count: number): { ms: number; tool: string; runsMs: number[] } | undefined {
  const probe = spawnSync('unshare', ['-n', 'iptables-restore', '--version'], { encoding: 'utf8' });
  if (probe.status !== 0) return undefined;
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const run = spawnSync('unshare', ['-n', 'iptables-restore', '--test', file], { encoding: 'utf8' });
    if (run.status !== 0) return undefined;
    times.push(performance.now() - started);
  }
  return { ms: median(times), tool: probe.stdout.trim(), runsMs: times };
}

interface ServerFigures {
  openToDiagnosticsMs: number;
  /** Latencies per request; `max` is the slowest, usually the first ask of a version (answers are kept per version). */
  requests: Record<string, { p50: number; p95: number; max: number; n: number }>;
  /** Milliseconds from an edit to the diagnostics of its version, by kind of edit. */
  edits: Record<string, number[]>;
  serverPeakRssMb: number;
  initializeMs: number;
}

async function server(file: string): Promise<ServerFigures> {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const analysis = analyze(text);
  // Places to ask about: jump targets of KUBE-SERVICES and service chains, spread over the file.
  const jumps: Array<{ line: number; character: number }> = [];
  for (const table of analysis.ruleset.tables) {
    for (const rule of table.rules) if (rule.targetName?.startsWith('KUBE-')) jumps.push({ line: rule.line, character: rule.targetStart + 2 });
  }
  const pick = (i: number) => jumps[(i * 7919) % jumps.length]!;
  const child = spawn(process.execPath, [...SERVER_NODE_OPTIONS, path.join(root, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const waiting = new Map<number, () => void>();
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    if (p.version !== undefined) waiting.get(p.version)?.();
  });
  connection.listen();
  const diagnosticsFor = (version: number) => new Promise<void>((resolve) => waiting.set(version, resolve));
  let started = performance.now();
  await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: { textDocument: { publishDiagnostics: { versionSupport: true } } }, workspaceFolders: null });
  const initializeMs = performance.now() - started;
  await connection.sendNotification(InitializedNotification.type, {});
  const uri = `file://${file}`;
  const first = diagnosticsFor(1);
  started = performance.now();
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'iptables-save', version: 1, text } });
  await first;
  const openToDiagnosticsMs = performance.now() - started;

  const requests: ServerFigures['requests'] = {};
  /** Times `n` requests; returns the last answer. */
  const measure = async <T>(name: string, n: number, send: (i: number) => Promise<T>): Promise<T | undefined> => {
    const times: number[] = [];
    let answer: T | undefined;
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      answer = await send(i);
      times.push(performance.now() - t);
    }
    requests[name] = { p50: median(times), p95: percentile(times, 95), max: Math.max(...times), n };
    return answer;
  };
  const doc = { uri };
  // Nearly half of the picks are jumps to KUBE-MARK-MASQ: at 10k services a chain named in 100,000 places.
  await measure('hover', 200, (i) => connection.sendRequest(HoverRequest.type, { textDocument: doc, position: pick(i) }));
  await measure('definition', 200, (i) => connection.sendRequest(DefinitionRequest.type, { textDocument: doc, position: pick(i) }));
  await measure('references', 100, (i) => connection.sendRequest(ReferencesRequest.type, { textDocument: doc, position: pick(i), context: { includeDeclaration: true } }));
  await measure('documentSymbol', 20, () => connection.sendRequest(DocumentSymbolRequest.type, { textDocument: doc }));
  await measure('inlayHint (60 lines)', 100, (i) => {
    const line = pick(i).line;
    return connection.sendRequest(InlayHintRequest.type, { textDocument: doc, range: { start: { line, character: 0 }, end: { line: line + 60, character: 0 } } });
  });
  await measure('documentHighlight', 100, (i) => connection.sendRequest(DocumentHighlightRequest.type, { textDocument: doc, position: pick(i) }));
  // The Services view as it is used: the namespaces (the status bar's counts too), a namespace
  // expanded (in pages of 500 above 1,000 services, as the view asks), a service expanded (or
  // hovered, for its tooltip), and the filter with a new word each time.
  const tree = await measure('services tree', 20, () => connection.sendRequest(ServicesRequest, { textDocument: doc }));
  const namespaces = tree?.namespaces ?? [];
  const services: ServiceSummary[] = [];
  if (namespaces.length > 0) {
    await measure('services of a namespace', 50, async (i) => {
      const namespace = namespaces[(i * 31) % namespaces.length]!;
      const page = namespace.services > 1000 ? { offset: 500 * (i % Math.ceil(namespace.services / 500)), limit: 500 } : {};
      const list = await connection.sendRequest(ServiceListRequest, { textDocument: doc, namespace: namespace.namespace, ...page });
      services.push(...(list?.services.slice(0, 3) ?? []));
    });
  }
  if (services.length > 0) {
    await measure('a service expanded', 100, (i) => connection.sendRequest(ServiceRequest, { textDocument: doc, id: services[(i * 7) % services.length]!.id }));
    await measure('services filter', 20, (i) => {
      const title = services[(i * 11) % services.length]!.entryTitles[0] ?? services[i % services.length]!.name;
      return connection.sendRequest(ServicesRequest, { textDocument: doc, filter: title.replace(/^\D+/, '') });
    });
  }

  // The Chains view: its tables with groups of chains, a group expanded; Go to Chain… as the user types.
  const chainTables = (await measure('chains view', 20, () => connection.sendRequest(ChainsRequest, { textDocument: doc })))?.tables ?? [];
  const groups = chainTables.flatMap((t) => t.entries.flatMap((e) => ('group' in e ? [{ table: t.name, key: e.group.key }] : [])));
  if (groups.length > 0) await measure('chains of a group', 50, (i) => connection.sendRequest(ChainGroupRequest, { textDocument: doc, ...groups[(i * 13) % groups.length]! }));
  await measure('go to chain (typing)', 20, (i) => connection.sendRequest(FindChainsRequest, { textDocument: doc, query: ['k', 'kube-s', 'kube-sep', 'sep 2c', 'svc-', 'nat'][i % 6]! }));

  // Edits, each waited on until the diagnostics of its version arrive. The server patches its
  // analysis; a changed meaning also rebuilds the service model from the old one; a line break
  // moves every line after it.
  const edits: ServerFigures['edits'] = {};
  let version = 1;
  const middle = Math.floor(lines.length / 2);
  const lineWith = (needle: string, from: number) => {
    for (let i = from; i < lines.length; i++) if (lines[i]!.includes(needle)) return i;
    return -1;
  };
  /** Sends one change of the text, `update` makes it in `lines` too; times it until the diagnostics of its version arrive. */
  const edit = async (name: string, change: { range: Range; text: string }, update: () => void) => {
    version++;
    const published = diagnosticsFor(version);
    const t = performance.now();
    await connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [change] });
    update();
    await published;
    (edits[name] ??= []).push(performance.now() - t);
  };
  /** Replaces line `line` (none when -1) by what `change` makes of it. */
  const editLine = async (name: string, line: number, change: (text: string) => string) => {
    if (line === -1) return;
    const edited = change(lines[line]!);
    await edit(name, { range: { start: { line, character: 0 }, end: { line, character: lines[line]!.length } }, text: edited }, () => (lines[line] = edited));
  };
  for (let i = 0; i < 5; i++) await editLine('a space typed in a rule', middle, (text) => `${text} `);
  for (let i = 0; i < 5; i++) {
    await editLine('a probability changed', lineWith('--probability', middle + 1000 * i), (text) => text.replace(/--probability \S+/, `--probability 0.${i + 2}`));
  }
  for (let i = 0; i < 5; i++) {
    await editLine("an endpoint's rule emptied", lineWith('-j KUBE-MARK-MASQ', middle + 2000 * i), () => '');
  }
  // Answers are kept per version: after an edit the first asks make them afresh.
  const masq = jumps.find((j) => lines[j.line]!.endsWith('-j KUBE-MARK-MASQ'));
  await measure('after an edit: documentSymbol', 1, () => connection.sendRequest(DocumentSymbolRequest.type, { textDocument: doc }));
  await measure('after an edit: services tree', 1, () => connection.sendRequest(ServicesRequest, { textDocument: doc }));
  if (masq) await measure('after an edit: references', 1, () => connection.sendRequest(ReferencesRequest.type, { textDocument: doc, position: masq, context: { includeDeclaration: true } }));
  await measure('after an edit: hover', 1, () => connection.sendRequest(HoverRequest.type, { textDocument: doc, position: masq ?? pick(0) }));
  // A line break at the start of a line: every line after it moves down. Five of them, as for the other edits: one alone cannot tell the usual time from a pause of the collector.
  for (let i = 0; i < 5; i++) {
    const at = middle + 1000 * i;
    await edit('a line break typed', { range: { start: { line: at, character: 0 }, end: { line: at, character: 0 } }, text: '\n' }, () => lines.splice(at, 0, ''));
  }
  // The Services view asks for its top level again once an edit settles: the tree after each of five probability edits.
  // Then with a filter typed in the view: it asks with the filter after each edit.
  const afterEach: number[] = [];
  const filteredAfterEach: number[] = [];
  const filter = services[0]?.namespace ?? 'team';
  await connection.sendRequest(ServicesRequest, { textDocument: doc, filter });
  for (let i = 0; i < 10; i++) {
    await editLine('a probability changed, Services view open', lineWith('--probability', middle + 1500 * i + 500), (text) => text.replace(/--probability \S+/, `--probability 0.${(i % 7) + 3}`));
    const t = performance.now();
    await connection.sendRequest(ServicesRequest, { textDocument: doc, ...(i < 5 ? {} : { filter }) });
    (i < 5 ? afterEach : filteredAfterEach).push(performance.now() - t);
  }
  requests['services tree, after each edit'] = { p50: median(afterEach), p95: percentile(afterEach, 95), max: Math.max(...afterEach), n: afterEach.length };
  requests['services filter, after each edit'] = { p50: median(filteredAfterEach), p95: percentile(filteredAfterEach, 95), max: Math.max(...filteredAfterEach), n: filteredAfterEach.length };
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const serverPeakRssMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
  connection.dispose();
  child.kill();
  return { openToDiagnosticsMs, requests, edits, serverPeakRssMb, initializeMs };
}

function fileSizes() {
  const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  return { clientJs: size(path.join(root, 'dist', 'client.js')), serverJs: size(path.join(root, 'dist', 'server.js')), vsix: size(path.join(root, 'dist', 'netfilter-explorer.vsix')) };
}

async function main(): Promise<void> {
  const results: Array<Record<string, unknown>> = [];
  process.stdout.write(`Netfilter Explorer benchmark on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n\n`);
  for (const services of activationOnly ? [] : sizes) {
    const file = dumpFile(services);
    const mb = fs.statSync(file).size / 1e6;
    // As many runs at every size: a median of fewer runs would count the first ones, made before V8 has compiled the code, and bend the growth figure.
    const c = core(file, runs);
    const alone = core(file, runs, true);
    // Its time varies more than ours from one bench run to the next (the 10k dump: 2.5-4.0 s): five runs, their median.
    const restore = iptablesRestore(file, 5);
    const s = await server(file);
    const total = median(c.total);
    results.push({ services, endpoints, lines: c.lines, megabytes: mb, core: c, medianMs: { parse: median(c.parse), graph: median(c.graph), model: median(c.model), total }, oneThread: { core: alone, medianMs: { parse: median(alone.parse), total: median(alone.total) } }, iptablesRestore: restore ?? null, server: s });
    process.stdout.write(`${services} services × ${endpoints} endpoints: ${c.lines.toLocaleString('en-US')} lines, ${mb.toFixed(1)} MB, ${c.services} services found\n`);
    process.stdout.write(`  core median: parse ${median(c.parse).toFixed(0)} ms, graph ${median(c.graph).toFixed(0)} ms, model ${median(c.model).toFixed(0)} ms; parse+graph+model ${total.toFixed(0)} ms; heap ${c.heapMb.toFixed(0)} MB, peak RSS ${c.maxRssMb.toFixed(0)} MB\n`);
    process.stdout.write(`  without the parse's helper thread: parse ${median(alone.parse).toFixed(0)} ms; parse+graph+model ${median(alone.total).toFixed(0)} ms\n`);
    if (restore) {
      const spread = `${Math.min(...restore.runsMs).toFixed(0)}–${Math.max(...restore.runsMs).toFixed(0)}`;
      process.stdout.write(`  iptables-restore --test (${restore.tool}): ${restore.ms.toFixed(0)} ms (${spread} over ${restore.runsMs.length} runs); ours / theirs = ${(total / restore.ms).toFixed(2)}\n`);
    }
    else process.stdout.write('  iptables-restore --test: not available here (needs iptables and unshare)\n');
    process.stdout.write(`  server: open to diagnostics ${s.openToDiagnosticsMs.toFixed(0)} ms; peak RSS ${s.serverPeakRssMb.toFixed(0)} MB\n`);
    for (const [name, times] of Object.entries(s.edits)) {
      process.stdout.write(`    edit to diagnostics, ${name.padEnd(31)} ${times.length > 1 ? `median ${median(times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (n=${times.length})` : `${times[0]!.toFixed(0)} ms`}\n`);
    }
    for (const [name, r] of Object.entries(s.requests)) process.stdout.write(`    ${name.padEnd(24)} p50 ${r.p50.toFixed(1).padStart(7)} ms   p95 ${r.p95.toFixed(1).padStart(7)} ms   max ${r.max.toFixed(0).padStart(5)} ms   (n=${r.n})\n`);
  }
  const ten = results.find((r) => r.services === 10_000) as { medianMs: { total: number } } | undefined;
  const thirty = results.find((r) => r.services === 30_000) as { medianMs: { total: number } } | undefined;
  if (ten && thirty) process.stdout.write(`\nGrowth: 30k / 10k parse+graph+model = ${(thirty.medianMs.total / ten.medianMs.total).toFixed(2)} (linear would be 3.0)\n`);
  const sizesOut = fileSizes();
  process.stdout.write(`Bundles: client ${(sizesOut.clientJs / 1e6).toFixed(2)} MB, server ${(sizesOut.serverJs / 1e6).toFixed(2)} MB${sizesOut.vsix ? `, vsix ${(sizesOut.vsix / 1e6).toFixed(2)} MB` : ''}\n`);
  const activation = args.includes('--no-activation') ? null : await benchActivation(activationRuns, (text) => process.stdout.write(text));
  const out = path.join(root, '.bench', 'results.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: os.totalmem() / 2 ** 30, node: process.version }, results, bundles: sizesOut, activation }, null, 2));
  process.stdout.write(`Written: ${path.relative(root, out)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
