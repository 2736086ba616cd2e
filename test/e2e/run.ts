// Runs the end-to-end scenarios one after the other against one code-server, each in a fresh
// VS Code window, and closes with the line "N passed, N failed".
//
//   node out/test/e2e/run.js [scenario-name ...]
//
// Environment: E2E_KEEP=1 keeps the scratch folder; E2E_SCRATCH=<dir> puts it there;
// E2E_SCENARIO_TIMEOUT_MS (default 180000); E2E_SETTINGS=<JSON> adds user settings.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { CodeServer, Workbench, launchBrowser, makeScratch, repoRoot, resultsDir } from './harness';
import { scenarios } from './scenarios';

const scenarioTimeoutMs = Number(process.env['E2E_SCENARIO_TIMEOUT_MS'] ?? 180_000);

/** E2E_SETTINGS='{"editor.codeLens": false}': more user settings, to compare runs. */
function extraSettings(): Record<string, unknown> {
  const text = process.env['E2E_SETTINGS'];
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const selected = only.length ? scenarios.filter((s) => only.includes(s.name)) : scenarios;
  if (only.length && selected.length !== only.length) {
    console.error(`unknown scenario; known: ${scenarios.map((s) => s.name).join(', ')}`);
    return 2;
  }

  const scratch = makeScratch();
  // Chromium and playwright write temp files under os.tmpdir(): keep them in the scratch folder.
  const tmp = path.join(scratch, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  process.env['TMPDIR'] = tmp;

  const workspace = path.join(scratch, 'workspace', 'kube-proxy');
  fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'kube-proxy'), workspace, { recursive: true });
  // Extra files: a pod inventory for the seed dump (pods.json), named by the setting below.
  fs.cpSync(path.join(repoRoot, 'test', 'e2e', 'workspace'), workspace, { recursive: true, filter: (src) => !src.endsWith('README.md') });
  // A scenario that leaves state a next window would restore (an untitled editor) gets a copy
  // of its own: VS Code keeps a window's editors per folder.
  const folderFor = (sc: { name: string; ownFolder?: boolean }): string => {
    if (!sc.ownFolder) return workspace;
    const own = path.join(scratch, 'workspace', sc.name);
    if (!fs.existsSync(own)) fs.cpSync(workspace, own, { recursive: true });
    return own;
  };
  fs.mkdirSync(resultsDir, { recursive: true });

  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  const cleanup = (): void => {
    server?.stop();
    server = undefined;
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      cleanup();
      process.exit(130);
    });
  }

  let passed = 0;
  let failed = 0;
  try {
    const t0 = Date.now();
    server = await CodeServer.start({ folder: workspace, scratch, settings: { 'netfilterExplorer.podInventory': 'pods.json', ...extraSettings() }, testHost: true });
    const t1 = Date.now();
    console.log(`code-server ready at ${server.url} (pid ${server.pid}) in ${seconds(t1 - t0)}; scratch ${scratch}`);
    browser = await launchBrowser(server.isolatedEnv);
    console.log(`chromium ${browser.version()} launched in ${seconds(Date.now() - t1)}`);

    for (const sc of selected) {
      console.log(`▶ ${sc.name}`);
      const start = Date.now();
      let wb: Workbench | undefined;
      try {
        await withTimeout(`scenario ${sc.name}`, scenarioTimeoutMs, (async () => {
          wb = await Workbench.open(server!, browser!, folderFor(sc));
          console.log(`  window loaded in ${seconds(Date.now() - start)}`);
          await sc.run(wb);
        })());
        passed++;
        console.log(`✔ ${sc.name} (${seconds(Date.now() - start)})`);
      } catch (e) {
        failed++;
        console.log(`✘ ${sc.name} (${seconds(Date.now() - start)})`);
        console.log(String(e instanceof Error ? (e.stack ?? e.message) : e).replace(/^/gm, '    '));
        if (wb) {
          try {
            const shot = await wb.screenshot(`${sc.name}-failure`);
            console.log(`  failure screenshot: ${shot}`);
            console.log('  what the page showed:');
            console.log((await wb.describe()).replace(/^/gm, '    '));
          } catch (e2) {
            console.log(`  (could not describe the page: ${String(e2)})`);
          }
        }
        const logs = server?.extensionLogs();
        if (logs) console.log(`  extension host logs:\n${logs.replace(/^/gm, '    ')}`);
      } finally {
        await wb?.close();
      }
    }
  } catch (e) {
    failed++;
    console.log(`✘ set-up: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    if (server) console.log(server.logTail());
  } finally {
    await browser?.close().catch(() => undefined);
    cleanup();
    if (process.env['E2E_KEEP']) console.log(`kept scratch folder ${scratch}`);
    else fs.rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
