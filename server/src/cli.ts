#!/usr/bin/env node
// netfilter-explorer: the service model of a dump on the command line.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { analyze } from './core/analysis';
import { serviceModelOf } from './kube';
import { ParseThread } from './parseThread';
import { InventoryError, parsePodInventory, type PodInventory } from './kube/inventory';
import { servicesJson, servicesTable } from './kube/report';

const USAGE = `Usage: netfilter-explorer services <dump> [--json] [--pods <kubectl-pods.json|wide.txt>]

Prints every Kubernetes service port found in an iptables-save dump, each way traffic
enters it (cluster IP, node port, external IP, load-balancer IP) and the share of new
connections each endpoint gets, as the kernel computes it.

Exit codes: 0 done, 1 a file could not be read, 2 bad usage or a dump with syntax errors.
`;

function fail(code: number, message: string): never {
  process.stderr.write(`netfilter-explorer: ${message}\n`);
  process.exit(code);
}

function read(path: string, what: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    return fail(1, `cannot read ${what} ${path}: ${reason}`);
  }
}

function main(argv: string[]): void {
  if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) {
    process.stdout.write(USAGE);
    process.exit(argv.length === 0 ? 2 : 0);
  }
  const [command, ...rest] = argv;
  if (command !== 'services') fail(2, `unknown command '${command}'; try 'netfilter-explorer services <dump> --json'.`);
  let json = false;
  let podsPath: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--pods') podsPath = rest[++i] ?? fail(2, '--pods needs a file: kubectl get pods -A -o json > pods.json');
    else if (arg.startsWith('-')) fail(2, `unknown option '${arg}'.\n${USAGE}`);
    else files.push(arg);
  }
  if (files.length !== 1) fail(2, `give exactly one dump file.\n${USAGE}`);
  const path = files[0]!;
  // A large dump's lines are read ahead on a helper thread, as the language server does.
  const analysis = analyze(read(path, 'dump'), { rows: new ParseThread(nodePath.join(__dirname, 'parseWorker.js')) });
  const problems = analysis.ruleset.diagnostics.filter((d) => d.severity === 'error' || d.code === 'not-iptables');
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).map((d) => `${path}:${d.span.line + 1}:${d.span.start + 1}: ${d.message}`);
    if (problems.length > 20) shown.push(`... and ${problems.length - 20} more`);
    fail(2, `${path} is not a valid iptables-save dump:\n${shown.join('\n')}`);
  }
  for (const d of analysis.graph.diagnostics) {
    if (d.severity === 'error') process.stderr.write(`${path}:${d.span.line + 1}:${d.span.start + 1}: warning: ${d.message}\n`);
  }
  let pods: PodInventory | undefined;
  if (podsPath !== undefined) {
    try {
      pods = parsePodInventory(read(podsPath, 'pod inventory'), podsPath);
    } catch (error) {
      if (error instanceof InventoryError) fail(2, error.message);
      throw error;
    }
  }
  const model = serviceModelOf(analysis);
  process.stdout.write(json ? `${JSON.stringify(servicesJson(model, pods), null, 2)}\n` : servicesTable(model, pods));
}

main(process.argv.slice(2));
