// Extension activation in a real VS Code, as VS Code itself reports it. With the e2e harness
// (code-server + Debian's Chromium via playwright-core, offline): the shipped bundles
// (`scripts/build.mjs --production`, built into a scratch folder, dist/ is left alone) are
// installed in a code-server of their own; each run opens a fresh window (an extension host
// of its own, so the code is loaded anew), opens a dump so that the extension activates
// (onLanguage:iptables-save) and reads
//   - "Activation: N ms" in Developer: Show Running Extensions: VS Code's figure, loading the
//     extension's code plus the activate() call until it returned;
//   - the same activation in Developer: Startup Performance ("Extension Activation Stats"),
//     which also says how long the promise activate() returned took to resolve;
// and, with the page's clock, how long from the click on the dump until the status bar counts
// its services (the language server started, analysed the dump and answered). It also packages
// those bundles as a .vsix, as `npm run package` does, for the size of what ships.
// bench/run.ts calls it (see --activation there); on its own:
//   node out/bench/activation.js [--runs 5] [--pods 10000]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ActivationTimes, chromiumPath, CodeServer, codeServerEntry, copyShippedFiles, extensionId, launchBrowser, makeScratch, node24, pkg, repoRoot, waitFor, Workbench } from '../test/e2e/harness';
import { median } from './stats';

/** The targets of the issue "cluster scale". */
export const ACTIVATION_TARGET_MS = 300;
export const VSIX_TARGET_BYTES = 2e6;

const DUMP = 'seed-kube-dns.rules';

export interface ActivationFigures {
  /** code-server's version and the VS Code it bundles. */
  codeServer: string;
  vscode: string;
  /** Sizes of what ships: the production bundles and the .vsix packaged from them (null when
   *  vsce failed; `vsixError` says why). */
  shipped: { clientBytes: number; serverBytes: number; cliBytes: number; vsixBytes: number | null; vsixError?: string };
  /** What VS Code reported in each fresh window, in the order measured. */
  runs: ActivationRun[];
  /** Medians over the runs; `activation` is VS Code's "Activation" (load code + call activate),
   *  `resolved` is load code + call activate + until activate()'s promise resolved. */
  median: { activation: number; loadCode: number; callActivate: number; finishActivate: number; resolved: number; openToStatusBar: number };
}

export interface ActivationRun extends ActivationTimes {
  /** From the click on the dump in the Explorer until the status bar counts its services. */
  openToStatusBar: number;
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

/** Packages the production bundles in `dist` as `npm run package` does (its vsce command line),
 *  in a scratch copy of the files the .vsix carries (so dist/ and the repository stay as they are). */
function packageVsix(dist: string, scratch: string): ActivationFigures['shipped'] {
  const size = (f: string) => fs.statSync(path.join(dist, f)).size;
  const sizes = { clientBytes: size('client.js'), serverBytes: size('server.js'), cliBytes: size('cli.js') };
  const pkgDir = path.join(scratch, 'package');
  const vsix = path.join(scratch, 'netfilter-explorer.vsix');
  try {
    copyShippedFiles(pkgDir, dist);
    const scripts = { ...pkg.scripts };
    delete scripts['vscode:prepublish']; // the bundles are built already
    fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ ...pkg, scripts }, null, 2));
    const [tool, ...args] = (pkg.scripts['package'] ?? '').trim().split(/\s+/);
    if (tool !== 'vsce') throw new Error(`package.json scripts.package does not run vsce: ${pkg.scripts['package']}`);
    const out = args.findIndex((a) => a === '-o' || a === '--out');
    if (out === -1) args.push('-o', vsix);
    else args[out + 1] = vsix;
    const vsce = path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
    execFileSync(process.execPath, [vsce, ...args], { cwd: pkgDir, stdio: 'pipe' });
    return { ...sizes, vsixBytes: fs.statSync(vsix).size };
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer; message?: string };
    return { ...sizes, vsixBytes: null, vsixError: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || String(e.message) };
  }
}

function version(packageJson: string): string {
  try {
    return (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return '?';
  }
}

/** A `kubectl get pods -A -o json` of `count` pods of about 10 kB each (what a real one
 *  weighs, with its last-applied-configuration), for the pod inventory setting. */
function podInventory(count: number): string {
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

/** Measures `runs` fresh windows; `progress` gets a line per run. The caller has checked activationNotMeasurable(). */
async function measureActivation(runs: number, progress: (line: string) => void, options: ActivationOptions): Promise<ActivationFigures> {
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
    const shipped = packageVsix(dist, scratch);
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
    const measured: ActivationRun[] = [];
    for (let run = 1; run <= runs; run++) {
      const wb = await Workbench.open(server, browser, folder);
      try {
        const clicked = Date.now();
        await wb.openFile(DUMP);
        await waitFor('the status bar to count the services', async () => (/\d+ services? · \d+ endpoints?/.test((await wb.statusBarItem(`${extensionId}.netfilterExplorer.summary`))?.text ?? '') ? true : undefined), 60_000, 20);
        const openToStatusBar = Date.now() - clicked;
        await waitFor('the extension host to log the activation', () => (server!.activations().length > 0 ? true : undefined), 30_000);
        const times = await wb.extensionActivation(pkg.displayName, extensionId);
        if (times.activation !== times.loadCode + times.callActivate) {
          progress(`  note: Running Extensions says ${times.activation} ms, Startup Performance ${times.loadCode} + ${times.callActivate} ms`);
        }
        measured.push({ ...times, openToStatusBar });
        progress(`  window ${run}: Activation ${times.activation} ms (load code ${times.loadCode} ms, activate() ${times.callActivate} ms), resolved ${times.finishActivate} ms later; ${times.event}; open → status bar ${openToStatusBar} ms`);
      } finally {
        await wb.close();
      }
    }
    const pick = (f: (t: ActivationRun) => number) => median(measured.map(f));
    return {
      codeServer: version(path.join(codeServerDir, 'package.json')),
      vscode: version(path.join(codeServerDir, 'lib', 'vscode', 'package.json')),
      shipped,
      runs: measured,
      median: {
        activation: pick((t) => t.activation),
        loadCode: pick((t) => t.loadCode),
        callActivate: pick((t) => t.callActivate),
        finishActivate: pick((t) => t.finishActivate),
        resolved: pick((t) => t.loadCode + t.callActivate + t.finishActivate),
        openToStatusBar: pick((t) => t.openToStatusBar),
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
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
  const range = (f: (r: ActivationRun) => number) => `${Math.min(...a.runs.map(f))}–${Math.max(...a.runs.map(f))}`;
  return (
    `Shipped: client ${mb(a.shipped.clientBytes)}, server ${mb(a.shipped.serverBytes)}, cli ${mb(a.shipped.cliBytes)} (minified); ` +
    (a.shipped.vsixBytes === null ? `.vsix not packaged: ${a.shipped.vsixError}\n` : `.vsix ${mb(a.shipped.vsixBytes)}; target < ${mb(VSIX_TARGET_BYTES)}, ${a.shipped.vsixBytes < VSIX_TARGET_BYTES ? 'met' : 'NOT met'}\n`) +
    `Activation in VS Code ${a.vscode} (code-server ${a.codeServer}) with these bundles, median of ${a.runs.length} fresh windows:\n` +
    `  Activation (Running Extensions: load code + activate()) ${m.activation} ms (${range((r) => r.activation)}); target ≤ ${ACTIVATION_TARGET_MS} ms, ${m.activation <= ACTIVATION_TARGET_MS ? 'met' : 'NOT met'}\n` +
    `  of which (medians each) load code ${m.loadCode} ms, activate() ${m.callActivate} ms; its promise resolved ${m.finishActivate} ms after it returned (${m.resolved} ms in all)\n` +
    `  open the dump → status bar counts its services: ${m.openToStatusBar} ms (${range((r) => r.openToStatusBar)})`
  );
}

/** For bench/run.ts (and this file run on its own): measures and prints, or says why not; returns what results.json keeps. */
export async function benchActivation(runs: number, write: (text: string) => void, options: ActivationOptions = {}): Promise<ActivationFigures | { notMeasured: string }> {
  const why = activationNotMeasurable();
  if (why) {
    write(`Activation: not measured: ${why}\n`);
    return { notMeasured: why };
  }
  write(`Activation in real VS Code (${runs} fresh windows):\n`);
  const figures = await measureActivation(runs, (line) => write(`${line}\n`), options);
  write(`${describeActivation(figures)}\n`);
  return figures;
}

if (require.main === module) {
  const i = process.argv.indexOf('--runs');
  const runs = i === -1 ? 5 : Number(process.argv[i + 1]);
  const j = process.argv.indexOf('--pods');
  const pods = j === -1 ? undefined : Number(process.argv[j + 1]);
  benchActivation(runs, (text) => process.stdout.write(text), pods ? { pods } : {}).catch((error: unknown) => {
    process.stderr.write(`activation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
