// The scenarios of test/e2e/scenarios.ts through VS Code's API, inside desktop VS Code: what
// the browser suite sees on the screen, checked here on the providers and commands behind it.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { NetfilterExplorerApi } from '../../../client/src/extension';

export interface Test {
  name: string;
  run(): Promise<void>;
}

const EXTENSION_ID = 'netfilter-explorer.netfilter-explorer';
const SEED = 'seed-kube-dns.nft-save.txt';

/** Polls `probe` until it returns something other than undefined. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (${last.message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function workspaceFile(name: string): vscode.Uri {
  const folder = process.env['NETFILTER_TEST_WORKSPACE'] ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(folder, 'no workspace: run through test/electron/runTest.ts');
  return vscode.Uri.file(path.join(folder, name));
}

async function openSeed(): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(workspaceFile(SEED));
  return vscode.window.showTextDocument(document, { preview: false });
}

function api(): NetfilterExplorerApi {
  const extension = vscode.extensions.getExtension<NetfilterExplorerApi>(EXTENSION_ID);
  assert.ok(extension?.isActive, `${EXTENSION_ID} is not active`);
  return extension.exports;
}

function lineOf(document: vscode.TextDocument, pred: (text: string) => boolean): number {
  for (let i = 0; i < document.lineCount; i++) if (pred(document.lineAt(i).text)) return i;
  throw new Error('no such line');
}

function hoverText(hovers: vscode.Hover[] | undefined): string {
  return (hovers ?? [])
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
}

/** A tree as `label — description` lines, indented by depth, expanding what `expand` says. */
async function treeLines(provider: vscode.TreeDataProvider<unknown>, expand: (label: string, depth: number) => boolean, maxDepth = 6): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (element: unknown, depth: number): Promise<void> => {
    for (const child of (await provider.getChildren(element as never)) ?? []) {
      const item = await provider.getTreeItem(child as never);
      const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
      const description = typeof item.description === 'string' ? item.description : '';
      lines.push(`${'  '.repeat(depth)}${label}${description ? ` — ${description}` : ''}`);
      if (depth < maxDepth && item.collapsibleState !== vscode.TreeItemCollapsibleState.None && expand(label, depth)) await walk(child, depth + 1);
    }
  };
  await walk(undefined, 0);
  return lines;
}

export const tests: Test[] = [
  {
    name: 'opening the seed dump activates the extension',
    async run() {
      const editor = await openSeed();
      assert.equal(editor.document.languageId, 'iptables-save');
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension, `${EXTENSION_ID} is not installed`);
      await waitFor('the extension to activate', () => (extension.isActive ? true : undefined));
      await waitFor('the views to follow the dump', () => (api().dump?.uri.toString() === editor.document.uri.toString() ? true : undefined));
    },
  },
  {
    name: 'hover on a KUBE-SEP chain shows its endpoint, share, service and pod',
    async run() {
      const editor = await openSeed();
      const line = lineOf(editor.document, (t) => t.startsWith(':KUBE-SEP-S4MK5EVI7CLHCCS6 '));
      assert.equal(line, 7);
      const expected = ['10.32.0.3:53', '50 %', 'kube-system/kube-dns:dns-tcp', 'coredns-5d78c9869d-4xk2p'];
      const text = await waitFor(`a hover with ${expected.join(', ')}`, async () => {
        const t = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, new vscode.Position(line, 5)));
        return expected.every((e) => t.includes(e)) ? t : undefined;
      });
      for (const e of expected) assert.ok(text.includes(e), e);
    },
  },
  {
    name: 'go to definition from a jump lands on the chain',
    async run() {
      const editor = await openSeed();
      const jump = lineOf(editor.document, (t) => t.startsWith('-A KUBE-SERVICES ') && t.endsWith('-j KUBE-SVC-ERIFXISQEP7F7OF4'));
      const declaration = lineOf(editor.document, (t) => t.startsWith(':KUBE-SVC-ERIFXISQEP7F7OF4 '));
      const at = new vscode.Position(jump, editor.document.lineAt(jump).text.lastIndexOf('KUBE-SVC') + 3);
      const targets = await waitFor('a definition', async () => {
        const found = await vscode.commands.executeCommand<Array<vscode.Location | vscode.LocationLink>>('vscode.executeDefinitionProvider', editor.document.uri, at);
        return found && found.length > 0 ? found : undefined;
      });
      const first = targets[0]!;
      const range = 'targetRange' in first ? (first.targetSelectionRange ?? first.targetRange) : first.range;
      assert.equal(range.start.line, declaration);
    },
  },
  {
    name: 'the Services view lists kube-system/kube-dns with both endpoints and their pods',
    async run() {
      await openSeed();
      const expected = [
        'kube-system — 1 service',
        '  kube-dns:dns-tcp — TCP · 2 endpoints',
        '    cluster IP 10.96.0.10:53/TCP — 2 endpoints',
        '      10.32.0.3:53 — 50 % · coredns-5d78c9869d-4xk2p',
        '      10.32.0.4:53 — 50 % · coredns-5d78c9869d-9qz7m',
      ];
      let lines: string[] = [];
      await waitFor('the services tree', async () => {
        lines = await treeLines(api().servicesView, () => true);
        return lines.join('\n') === expected.join('\n') ? true : undefined;
      }).catch((error: Error) => {
        throw new Error(`${error.message}; the tree is:\n${lines.join('\n')}`);
      });
    },
  },
  {
    name: 'the Chains view expands KUBE-SERVICES to KUBE-SVC-ERIFXISQEP7F7OF4 and on to the endpoints',
    async run() {
      await openSeed();
      const lines = await waitFor('the chains tree', async () => {
        const l = await treeLines(api().chainsView, (label) => ['nat', 'KUBE-SERVICES', 'KUBE-SVC-ERIFXISQEP7F7OF4', 'KUBE-SEP-S4MK5EVI7CLHCCS6'].includes(label), 4);
        return l.some((x) => x.startsWith('    KUBE-SEP-S4MK5EVI7CLHCCS6 — 50 % · → 10.32.0.3:53 coredns-5d78c9869d-4xk2p')) ? l : undefined;
      });
      const at = lines.findIndex((l) => l.startsWith('  KUBE-SERVICES'));
      assert.ok(at >= 0, lines.join('\n'));
      assert.match(lines[at + 1]!, /^ {4}KUBE-SVC-ERIFXISQEP7F7OF4 — kube-system\/kube-dns:dns-tcp · -d 10\.96\.0\.10\/32/);
      assert.ok(lines.some((l) => /^ {8}DNAT — .*--to-destination 10\.32\.0\.3:53/.test(l)), lines.join('\n'));
    },
  },
  {
    name: 'Go to Chain moves the cursor to the chain',
    async run() {
      await openSeed();
      await vscode.commands.executeCommand('netfilterExplorer.goToChain', { table: 'nat', chain: 'KUBE-SEP-ZT5TVM6PMFDFQAMO' });
      const editor = vscode.window.activeTextEditor;
      assert.equal(editor?.document.uri.path.endsWith(SEED), true);
      assert.equal(editor!.selection.active.line, 8);
    },
  },
  {
    name: 'inlay hints show ≈ 50 % on both service-chain rules',
    async run() {
      const editor = await openSeed();
      const hints = await waitFor('inlay hints', async () => {
        const h = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', editor.document.uri, new vscode.Range(0, 0, editor.document.lineCount, 0));
        return h && h.length >= 2 ? h : undefined;
      });
      const label = (h: vscode.InlayHint) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join(''));
      assert.deepEqual(hints.map((h) => [h.position.line, label(h)]), [[19, '≈ 50 %'], [20, '≈ 50 %']]);
    },
  },
  {
    name: 'Copy Endpoint Table copies the service at the cursor as Markdown',
    async run() {
      const editor = await openSeed();
      const line = lineOf(editor.document, (t) => t.startsWith('-A KUBE-SEP-S4MK5EVI7CLHCCS6 -p tcp'));
      editor.selection = new vscode.Selection(line, 5, line, 5);
      await vscode.env.clipboard.writeText('');
      await vscode.commands.executeCommand('netfilterExplorer.copyEndpointTable');
      const table = await vscode.env.clipboard.readText();
      assert.ok(table.includes('| entry | endpoint | share | pod |'), table);
      assert.ok(table.includes('| cluster IP 10.96.0.10:53/TCP | 10.32.0.3:53 | 50 % | kube-system/coredns-5d78c9869d-4xk2p on node-1 |'), table);
    },
  },
];
