// Extension activation in a real VS Code, as VS Code itself reports it. With the e2e harness
// (code-server + Debian's Chromium via playwright-core, offline): the shipped bundles
// (`scripts/build.mjs --production`, built into a scratch folder, dist/ is left alone) are
// installed in a code-server of their own; each run opens a fresh window (an extension host
// of its own, so the code is loaded anew), opens a dump so that the extension activates
// (onLanguage:iptables-save) and reads
//   - "Activation: N ms" in Developer: Show Running Extensions: VS Code's figure, loading the
//     extension's code plus the activate() call until it returned;
//   - the same activation in Developer: Startup Performance ("Extension Activation Stats"),
//     which also says how long the promise activate() returned took to resolve.
// bench/run.ts calls it (see --activation there); on its own:
//   node out/bench/activation.js [--runs 5] [--pods 10000]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ActivationTimes, chromiumPath, CodeServer, codeServerEntry, launchBrowser, makeScratch, node24, repoRoot, waitFor, Workbench } from '../test/e2e/harness';

/** The target of the issue "cluster scale". */
export const ACTIVATION_TARGET_MS = 300;

const EXTENSION_NAME = 'Netfilter Explorer';
const DUMP = 'seed-kube-dns.rules';

export interface ActivationFigures {
  /** code-server's version and the VS Code it bundles. */
  codeServer: string;
  vscode: string;
  /** Size of the installed (production) dist/client.js. */
  clientBytes: number;
  /** What VS Code reported in each fresh window, in the order measured. */
  runs: ActivationTimes[];
  /** Medians over the runs; `activation` is VS Code's "Activation" (load code + call activate),
   *  `resolved` is load code + call activate + until activate()'s promise resolved. */
  median: { activation: number; loadCode: number; callActivate: number; finishActivate: number; resolved: number };
}

/** Why activation cannot be measured here, or undefined when it can. */
export function activationNotMeasurable(): string | undefined {
  for (const [file, what] of [
    [codeServerEntry, 'code-server'],
    [node24, 'Node 24 (for code-server)'],
  ] as const) {
    if (!fs.existsSync(file)) return `${what} is not installed (${path.relative(repoRoot, file)}); scripts/e2e-setup.sh installs it`;
  }
  if (!fs.existsSync(chromiumPath)) return `${chromiumPath} is missing; scripts/e2e-setup.sh installs Debian's chromium`;
  return undefined;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

function version(packageJson: string): string {
  try {
    return (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return '?';
  }
}

/** A `kubectl get pods -A -o json` of `count` pods of about 10 kB each (what a real one
 *  weighs, with its last-applied-configuration), for the pod inventory setting. */
export function podInventory(count: number): string {
  const filler = JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', spec: { template: { spec: { containers: [{ env: Array.from({ length: 120 }, (_, i) => ({ name: `VARIABLE_${i}`, value: 'x'.repeat(40) })) }] } } } });
  const items = Array.from({ length: count }, (_, i) => ({
    metadata: { name: `pod-${i}-5d78c9869d-4xk2p`, namespace: `ns-${i % 50}`, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': filler } },
    spec: { nodeName: `node-${i % 100}` },
    status: { podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, podIPs: [{ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }] },
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

export interface ActivationOptions {
  /** A pod inventory of this many pods in the workspace, named by netfilterExplorer.podInventory. */
  pods?: number;
}

/** Measures `runs` fresh windows; `progress` gets a line per run. */
export async function measureActivation(runs: number, progress: (line: string) => void = () => undefined, options: ActivationOptions = {}): Promise<ActivationFigures> {
  const why = activationNotMeasurable();
  if (why) throw new Error(`activation cannot be measured: ${why}`);
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { publisher: string; name: string };
  const id = `${pkg.publisher}.${pkg.name}`;
  const codeServerDir = path.resolve(path.dirname(codeServerEntry), '..', '..');
  const scratch = makeScratch('netfilter-activation-');
  // Chromium and playwright write temp files under os.tmpdir(): keep them in the scratch folder.
  const tmpBefore = process.env['TMPDIR'];
  process.env['TMPDIR'] = path.join(scratch, 'tmp');
  fs.mkdirSync(process.env['TMPDIR'], { recursive: true });
  let server: CodeServer | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  try {
    const dist = path.join(scratch, 'dist');
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs'), '--production', '--outdir', dist], { cwd: repoRoot, stdio: 'inherit' });
    const folder = path.join(scratch, 'workspace');
    fs.mkdirSync(folder, { recursive: true });
    fs.copyFileSync(path.join(repoRoot, 'test', 'fixtures', 'kube-proxy', DUMP), path.join(folder, DUMP));
    const settings: Record<string, unknown> = {};
    if (options.pods) {
      fs.writeFileSync(path.join(folder, 'pods.json'), podInventory(options.pods));
      settings['netfilterExplorer.podInventory'] = 'pods.json';
      progress(`  pod inventory: ${options.pods} pods, ${(fs.statSync(path.join(folder, 'pods.json')).size / 1e6).toFixed(0)} MB`);
    }
    server = await CodeServer.start({ folder, scratch, dist, settings });
    browser = await launchBrowser(server.isolatedEnv);
    const measured: ActivationTimes[] = [];
    for (let run = 1; run <= runs; run++) {
      const wb = await Workbench.open(server, browser, folder);
      try {
        await wb.openFile(DUMP);
        await waitFor('the extension host to log the activation', () => (server!.activations().length > 0 ? true : undefined), 30_000);
        const times = await wb.extensionActivation(EXTENSION_NAME, id);
        if (times.activation !== times.loadCode + times.callActivate) {
          progress(`  note: Running Extensions says ${times.activation} ms, Startup Performance ${times.loadCode} + ${times.callActivate} ms`);
        }
        measured.push(times);
        progress(`  window ${run}: Activation ${times.activation} ms (load code ${times.loadCode} ms, activate() ${times.callActivate} ms), resolved ${times.finishActivate} ms later; ${times.event}`);
      } finally {
        await wb.close();
      }
    }
    const pick = (f: (t: ActivationTimes) => number) => median(measured.map(f));
    return {
      codeServer: version(path.join(codeServerDir, 'package.json')),
      vscode: version(path.join(codeServerDir, 'lib', 'vscode', 'package.json')),
      clientBytes: fs.statSync(path.join(dist, 'client.js')).size,
      runs: measured,
      median: {
        activation: pick((t) => t.activation),
        loadCode: pick((t) => t.loadCode),
        callActivate: pick((t) => t.callActivate),
        finishActivate: pick((t) => t.finishActivate),
        resolved: pick((t) => t.loadCode + t.callActivate + t.finishActivate),
      },
    };
  } finally {
    await browser?.close().catch(() => undefined);
    server?.stop();
    if (tmpBefore === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = tmpBefore;
    fs.rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** One line for the benchmark's output. */
export function describeActivation(a: ActivationFigures): string {
  const m = a.median;
  return (
    `Activation in VS Code ${a.vscode} (code-server ${a.codeServer}), production bundle (client ${(a.clientBytes / 1e6).toFixed(2)} MB), median of ${a.runs.length} fresh windows: ` +
    `${m.activation} ms (Running Extensions "Activation": load code ${m.loadCode} ms + activate() ${m.callActivate} ms; target ≤ ${ACTIVATION_TARGET_MS} ms${m.activation <= ACTIVATION_TARGET_MS ? ', met' : ', NOT met'}); ` +
    `activate()'s promise resolved ${m.finishActivate} ms later, ${m.resolved} ms in all`
  );
}

/** For bench/run.ts: measures and prints, or says why not; returns what results.json keeps. */
export async function benchActivation(runs: number, write: (text: string) => void): Promise<ActivationFigures | { notMeasured: string }> {
  const why = activationNotMeasurable();
  if (why) {
    write(`Activation: not measured: ${why}\n`);
    return { notMeasured: why };
  }
  write(`Activation in real VS Code (${runs} fresh windows):\n`);
  const figures = await measureActivation(runs, (line) => write(`${line}\n`));
  write(`${describeActivation(figures)}\n`);
  return figures;
}

if (require.main === module) {
  const i = process.argv.indexOf('--runs');
  const runs = i === -1 ? 5 : Number(process.argv[i + 1]);
  const j = process.argv.indexOf('--pods');
  const pods = j === -1 ? undefined : Number(process.argv[j + 1]);
  const why = activationNotMeasurable();
  if (why) {
    process.stdout.write(`Activation: not measured: ${why}\n`);
  } else {
    measureActivation(runs, (line) => process.stdout.write(`${line}\n`), pods ? { pods } : {}).then(
      (a) => process.stdout.write(`${describeActivation(a)}\n`),
      (error: unknown) => {
        process.stderr.write(`activation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exit(1);
      },
    );
  }
}
