// Runs test/electron/suite in a desktop VS Code that @vscode/test-electron downloads (into
// .vscode-test/) — so it needs the internet, unlike test/e2e. `npm run test:electron`.
//
// Environment: VSCODE_TEST_VERSION (default 'stable'; e.g. '1.139.1' or 'insiders').
// On a headless Linux machine run it under a display server: `xvfb-run -a npm run test:electron`.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** The workspace the suite opens: the kube-proxy fixtures, pods.json, and the setting naming it. */
function makeWorkspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netfilter-electron-'));
  const workspace = path.join(dir, 'kube-proxy');
  fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'kube-proxy'), workspace, { recursive: true });
  fs.cpSync(path.join(repoRoot, 'test', 'e2e', 'workspace'), workspace, { recursive: true, filter: (src) => !src.endsWith('README.md') });
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(
    path.join(workspace, '.vscode', 'settings.json'),
    JSON.stringify({ 'netfilterExplorer.podInventory': 'pods.json', 'editor.inlayHints.enabled': 'on', 'workbench.startupEditor': 'none' }, null, 2),
  );
  return workspace;
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'client.js'))) throw new Error('dist/client.js is missing: run "npm run build" first');
  const workspace = makeWorkspace();
  try {
    await runTests({
      version: process.env['VSCODE_TEST_VERSION'] ?? 'stable',
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: path.join(__dirname, 'suite', 'index'),
      extensionTestsEnv: { NETFILTER_TEST_WORKSPACE: workspace },
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', '--disable-gpu'],
    });
  } finally {
    fs.rmSync(path.dirname(workspace), { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
