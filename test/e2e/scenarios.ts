// The end-to-end scenarios: what a person does with the extension in a real VS Code.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ACTIVATION_TARGET_MS } from '../../bench/activation';
import { generateDump } from '../../server/src/kube/generate';
import { SERVER_NODE_OPTIONS } from '../../server/src/nodeOptions';
import { bigDump } from './bigDump';
import { extensionId, log, normalizeText, pkg, waitFor, type Workbench } from './harness';

export interface Scenario {
  name: string;
  /** Open the window on a copy of the workspace of its own (it leaves an untitled editor, say). */
  ownFolder?: boolean;
  run(wb: Workbench): Promise<void>;
}

/** The language's display name (first alias in package.json), shown in the status bar. */
const LANGUAGE_ALIAS = 'iptables-save dump';

/** 1-based number of the first line of `file` (in the workspace) for which `pred` holds. */
function lineOf(wb: Workbench, file: string, pred: (line: string) => boolean): number {
  const lines = fs.readFileSync(path.join(wb.folder, file), 'utf8').split(/\r?\n/);
  const i = lines.findIndex(pred);
  assert.ok(i >= 0, `no matching line in ${file}`);
  return i + 1;
}

async function openAndWaitForLanguage(wb: Workbench, file: string, via: 'explorer' | 'quick-open' = 'explorer'): Promise<void> {
  await wb.openFile(file, via);
  const mode = await waitFor(`the status bar language mode to show "${LANGUAGE_ALIAS}"`, async () => {
    const m = await wb.languageMode();
    return m === LANGUAGE_ALIAS ? m : undefined;
  }, 30_000).catch(async (e: Error) => {
    throw new Error(`${e.message}; it shows ${JSON.stringify(await wb.languageMode())}`);
  });
  log(`language mode: ${mode}`);
}

/** Acceptance test: Go to Definition of a jump target, then hover it. */
export const goToDefinitionAndHover: Scenario = {
  name: 'go-to-definition-and-hover',
  async run(wb) {
    const file = 'seed-kube-dns.nft-save.txt';
    const chain = 'KUBE-SVC-ERIFXISQEP7F7OF4';
    const declLine = lineOf(wb, file, (l) => l.startsWith(`:${chain} `));
    const jumpLine = lineOf(wb, file, (l) => l.startsWith('-A KUBE-SERVICES ') && l.endsWith(`-j ${chain}`));
    log(`${file}: declaration of ${chain} on line ${declLine}, jump to it on line ${jumpLine}`);

    await openAndWaitForLanguage(wb, file);

    // Go to Definition (F12) from the jump target. The language server may still be starting,
    // so retry until the cursor lands on the declaration (each try waits on the status bar).
    const occurrence = 1; // the chain name appears once on the jump line, after -j
    let tries = 0;
    const landed = await waitFor(`Go to Definition on line ${jumpLine} to move the cursor to line ${declLine}`, async () => {
      tries++;
      await wb.clickWord(file, jumpLine, chain, occurrence);
      await wb.page.keyboard.press('F12');
      return wb.waitForCursorLine(declLine, 3_000).catch(() => undefined);
    }, 45_000, 200).catch(async (e: Error) => {
      const c = await wb.cursor();
      throw new Error(`${e.message}; the status bar shows ${c ? `Ln ${c.line}, Col ${c.column}` : 'no cursor position'}`);
    });
    log(`Go to Definition: Ln ${landed.line}, Col ${landed.column} (after ${tries} ${tries === 1 ? 'try' : 'tries'})`);
    assert.equal(landed.line, declLine, 'Go to Definition must land on the chain declaration');
    const declText = fs.readFileSync(path.join(wb.folder, file), 'utf8').split(/\r?\n/)[declLine - 1]!;
    assert.ok(landed.column >= 1 && landed.column <= declText.length + 1);

    // Hover the chain on its declaration line.
    const expected = [chain, 'user chain in table nat', '2 rules', 'KUBE-SERVICES'];
    const hover = await wb.hoverWord(file, declLine, chain, expected);
    log(`hover: ${JSON.stringify(hover.length > 400 ? `${hover.slice(0, 400)}…` : hover)}`);
    for (const e of expected) assert.ok(hover.includes(e), `hover must contain ${JSON.stringify(e)}: ${JSON.stringify(hover)}`);
    log(`screenshot: ${await wb.screenshot(this.name)}`);
  },
};

/** A valid file has no error markers, and its outline lists the table and its chains. */
export const diagnosticsAndOutline: Scenario = {
  name: 'diagnostics-and-outline',
  async run(wb) {
    const file = 'k8s-overall-modern.rules';
    await openAndWaitForLanguage(wb, file, 'quick-open'); // scenario 1 clicks in the Explorer

    // Go to Symbol in Editor (Ctrl+Shift+O) answers once the language server is up; filter the
    // list for each expected symbol (the list is virtualised: only visible rows are rendered).
    const symbols = ['nat', 'KUBE-SERVICES'];
    for (const name of symbols) {
      const found = await waitFor(`Go to Symbol in Editor to list "${name}"`, async () => {
        await wb.page.keyboard.press('Escape');
        await wb.focusEditor();
        await wb.page.keyboard.press('Control+Shift+O');
        const input = wb.page.locator('.quick-input-widget input');
        await input.waitFor({ state: 'visible', timeout: 5_000 });
        await input.fill(`@${name}`);
        return waitFor('the symbol row', async () => {
          const labels = await wb.page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts();
          const clean = labels.map((l) => l.replace(/\u00a0/g, ' ').trim());
          return clean.includes(name) ? clean : undefined;
        }, 5_000).catch(() => undefined);
      }, 45_000, 300);
      log(`Go to Symbol "@${name}": ${found.slice(0, 6).join(', ')}${found.length > 6 ? ', …' : ''}`);
    }
    // The whole list, for the screenshot and a sanity check of the structure.
    const input = wb.page.locator('.quick-input-widget input');
    await input.fill('@');
    const all = await waitFor('the unfiltered symbol list', async () => {
      const labels = (await wb.page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts()).map((l) => l.trim());
      return labels.length > 2 ? labels : undefined;
    });
    log(`symbols (first rows): ${all.slice(0, 8).join(', ')}`);

    // Problems: the status bar problems item counts errors and warnings of the workspace.
    const problems = await waitFor('the status bar problems item', () => wb.statusBarItem('status.problems'));
    log(`status bar problems: text ${JSON.stringify(problems.text)}, aria-label ${JSON.stringify(problems.ariaLabel)}`);
    const errors = parseErrorCount(problems);
    assert.equal(errors, 0, `a valid file must have no error markers; the status bar says ${JSON.stringify(problems.ariaLabel || problems.text)}`);
    log(`screenshot: ${await wb.screenshot(this.name)}`);
    await wb.page.keyboard.press('Escape');

    // And the Problems panel lists no error for the file.
    await wb.page.keyboard.press('Control+Shift+M');
    await wb.page.locator('.markers-panel').first().waitFor({ state: 'visible' });
    const errorRows = wb.page.locator('.markers-panel .monaco-list-row .codicon-error');
    assert.equal(await errorRows.count(), 0, 'the Problems panel must list no errors');
    const rows = (await wb.page.locator('.markers-panel .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    log(`Problems panel: ${rows.length ? JSON.stringify(rows) : 'empty'}`);

    // Positive control, so that the 0 above means something: declare a chain twice (unsaved
    // edit) and an error must appear; undo it and the count must go back to 0.
    const natLine = lineOf(wb, file, (l) => l.trim() === '*nat');
    await wb.goToLine(natLine, 5);
    await wb.page.keyboard.press('End');
    await wb.page.keyboard.press('Enter');
    await wb.page.keyboard.insertText(':KUBE-SERVICES - [0:0]'); // one edit, no half-typed states
    const errorRow = wb.page.locator('.markers-panel .monaco-list-row').filter({ has: wb.page.locator('.codicon-error') }).filter({ hasText: 'KUBE-SERVICES' });
    const withError = await waitFor('an error naming KUBE-SERVICES (declared twice) in the status bar and the Problems panel', async () => {
      const item = await wb.statusBarItem('status.problems');
      return item && parseErrorCount(item) >= 1 && (await errorRow.count()) >= 1 ? item : undefined;
    }, 20_000).catch(async (e: Error) => {
      const rows = await wb.page.locator('.markers-panel .monaco-list-row').allInnerTexts();
      throw new Error(`${e.message}; Problems panel rows: ${JSON.stringify(rows.map((t) => t.replace(/\s+/g, ' ').trim()))}`);
    });
    const rowText = (await errorRow.first().innerText()).replace(/\s+/g, ' ').trim();
    log(`after a duplicate declaration: status bar ${JSON.stringify(withError.ariaLabel || withError.text)}; Problems: ${JSON.stringify(rowText)}`);
    log(`screenshot: ${await wb.screenshot(`${this.name}-duplicate-chain`)}`);
    const dirtyTab = wb.page.locator('.tabs-container .tab.dirty');
    await waitFor('undo to restore the file (no dirty tab, 0 errors)', async () => {
      await wb.focusEditor();
      await wb.page.keyboard.press('Control+Z');
      const item = await wb.statusBarItem('status.problems');
      return (await dirtyTab.count()) === 0 && item && parseErrorCount(item) === 0 ? true : undefined;
    }, 20_000, 300);
  },
};

/** Errors from the status bar problems item. Its aria-label lists the non-zero counts
 *  ("No Problems", "Infos: 1", "Errors: 1, Warnings: 2"); without one, the text "E W [I]". */
function parseErrorCount(item: { text: string; ariaLabel: string }): number {
  if (item.ariaLabel) {
    const m = /errors?:?\s*(\d+)/i.exec(item.ariaLabel);
    return m ? Number(m[1]) : 0;
  }
  const n = /(\d+)/.exec(item.text);
  assert.ok(n, `cannot read an error count from the problems item: ${JSON.stringify(item)}`);
  return Number(n[1]);
}

// ---------------------------------------------------------------------------------------------
// The Netfilter Explorer views, commands and status bar.

const SEED = 'seed-kube-dns.nft-save.txt';
const CONTAINER = 'Netfilter Explorer';
/** The status bar item of the extension: VS Code prefixes the item's id with the extension's. */
const SUMMARY_ITEM = `${extensionId}.netfilterExplorer.summary`;
function rowsText(rows: { label: string; description: string; level: number }[]): string {
  return rows.map((r) => `${'  '.repeat(Math.max(0, r.level - 1))}${r.label}${r.description ? ` — ${r.description}` : ''}`).join('\n');
}

/** The status bar summary of the extension, once it says `expected`. */
/** Opens a dump and waits until the extension is active on it: its status bar item counts the services. */
async function openDump(wb: Workbench, file: string, via: 'explorer' | 'quick-open' = 'explorer'): Promise<string> {
  await openAndWaitForLanguage(wb, file, via);
  return waitForSummary(wb, /\d+ services? · \d+ endpoints? · \d+ problems?$/);
}

/** Shows the Netfilter Explorer views, wide enough to read their descriptions. */
async function showViews(wb: Workbench): Promise<void> {
  await wb.showViewContainer(CONTAINER);
  await wb.resizeSideBar(560);
}

async function waitForSummary(wb: Workbench, expected: RegExp, timeoutMs = 30_000): Promise<string> {
  let last: string | undefined;
  return waitFor(`the Netfilter Explorer status bar item to match ${expected}`, async () => {
    last = (await wb.statusBarItem(SUMMARY_ITEM))?.text;
    return last !== undefined && expected.test(last) ? last : undefined;
  }, timeoutMs).catch((e: Error) => {
    throw new Error(`${e.message}; it shows ${JSON.stringify(last)}`);
  });
}

/** Opening the seed dump activates the extension, which counts its services in the status bar;
 *  with no dump open the views offer to open one, and "Open a Dump…" does. */
export const activationAndStatusBar: Scenario = {
  name: 'activation-welcome-status-bar',
  async run(wb) {
    // Open the dump from the Explorer: that alone activates the extension.
    await openAndWaitForLanguage(wb, SEED);
    const summary = await waitForSummary(wb, /^\S* ?1 service · 2 endpoints · \d+ problems?$/);
    log(`status bar: ${JSON.stringify(summary)}`);
    const activations = await waitFor('the activation in the extension host log', () => {
      const a = wb.server.activations();
      return a.length > 0 ? a : undefined;
    }, 10_000);
    log(`activated by: ${activations.join(', ')}`);
    assert.deepEqual(activations, ['onLanguage:iptables-save'], 'opening the dump must be what activates the extension');
    // The problem count is what VS Code's own problems item counts for this one open file.
    const problems = await waitFor('the status bar problems item', () => wb.statusBarItem('status.problems'));
    const counts = [...(problems.ariaLabel || '').matchAll(/(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(Number(/(\d+) problem/.exec(summary)![1]), counts, `problems in the summary vs the status bar's ${JSON.stringify(problems.ariaLabel)}`);

    // A click on the item shows the Services view, with the dump's service.
    await wb.page.locator(`.statusbar [id="${SUMMARY_ITEM}"]`).click();
    await wb.waitForTreeRow('Services', 'kube-system', (r) => r.label === 'kube-system' && r.level === 1);
    await wb.waitForTreeRow('Services', 'kube-dns:dns-tcp under kube-system', (r) => r.label === 'kube-dns:dns-tcp' && r.level === 2);
    await wb.resizeSideBar(560);
    log(`screenshot: ${await wb.screenshot(this.name)}`);

    // With the dump closed the views offer to open one.
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+W');
    const services = wb.viewPane('Services');
    const welcome = services.locator('.welcome-view-content');
    await welcome.waitFor({ state: 'visible' });
    const welcomeText = normalizeText(await welcome.innerText());
    log(`welcome: ${JSON.stringify(welcomeText.replace(/\s+/g, ' ').trim())}`);
    assert.match(welcomeText, /No iptables-save dump is open/);
    for (const button of ['Open a Dump…', 'Open Sample']) {
      assert.ok(await services.getByRole('button', { name: button }).isVisible(), `the welcome view must offer "${button}"`);
    }
    assert.equal(await wb.statusBarItem(SUMMARY_ITEM), undefined, 'no summary without a dump');
    log(`screenshot: ${await wb.screenshot(`${this.name}-welcome`)}`);

    // "Open a Dump…": code-server's file dialog is a quick input.
    await services.getByRole('button', { name: 'Open a Dump…' }).click();
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    // The dialog lists the folder while it loads and may reset a value typed meanwhile: type
    // the file's path and press its OK button ("Open Dump", the command's openLabel) until the
    // file opens.
    const ok = wb.page.locator('.quick-input-widget').getByRole('button', { name: 'Open Dump' });
    await waitFor(`${SEED} to open from the file dialog`, async () => {
      if (await wb.editor(SEED).isVisible().catch(() => false)) return true;
      if (await input.isVisible().catch(() => false)) {
        await input.fill(path.join(wb.folder, SEED));
        await ok.click({ timeout: 2_000 }).catch(() => undefined);
      }
      return (await wb.editor(SEED).waitFor({ state: 'visible', timeout: 3_000 }).then(() => true).catch(() => false)) ? true : undefined;
    }, 30_000, 200);
    await wb.waitForTreeRow('Services', 'kube-system again', (r) => r.label === 'kube-system' && r.level === 1);
    await waitForSummary(wb, /^\S* ?1 service · 2 endpoints/);
    assert.equal(await welcome.isVisible().catch(() => false), false, 'the welcome content must give way to the services');
  },
};

/** VS Code's own activation figure ("Activation: N ms" in Developer: Show Running Extensions),
 *  reported against the target of the issue "cluster scale" (ACTIVATION_TARGET_MS). This
 *  machine may be busy and the e2e build is not minified, so the check is a bound three times
 *  the target that only a real regression passes (the bench gives the median of fresh windows with the shipped build:
 *  `node out/bench/run.js --activation`). The pod inventory of this workspace is read too. */
export const activationTime: Scenario = {
  name: 'activation-time',
  async run(wb) {
    await openDump(wb, SEED);
    await waitFor('the activation in the extension host log', () => (wb.server.activations().length > 0 ? true : undefined), 10_000);
    const t = await wb.extensionActivation(pkg.displayName, extensionId, this.name);
    log(`VS Code: Activation ${t.activation} ms (target ${ACTIVATION_TARGET_MS} ms: ${t.activation <= ACTIVATION_TARGET_MS ? 'met' : 'not met'}); Startup Performance: load code ${t.loadCode} ms, activate() ${t.callActivate} ms, its promise resolved ${t.finishActivate} ms later; ${t.event}`);
    assert.equal(t.event, 'onLanguage:iptables-save');
    assert.equal(t.activation, t.loadCode + t.callActivate, 'Running Extensions shows load code + activate()');
    assert.ok(t.activation <= 3 * ACTIVATION_TARGET_MS, `activation took ${t.activation} ms: more than 3 × the ${ACTIVATION_TARGET_MS} ms target`);
    // activate() does not wait for the language server or the pod inventory.
    assert.ok(t.finishActivate <= 3 * ACTIVATION_TARGET_MS, `activate()'s promise resolved ${t.finishActivate} ms after it returned`);
  },
};

/** Hover on an endpoint chain names its address, share, service and (with pods.json) its pod. */
export const endpointHoverWithPod: Scenario = {
  name: 'endpoint-hover-with-pod',
  async run(wb) {
    await openAndWaitForLanguage(wb, SEED);
    const line = lineOf(wb, SEED, (l) => l.startsWith(':KUBE-SEP-S4MK5EVI7CLHCCS6 '));
    assert.equal(line, 8);
    const expected = ['10.32.0.3:53', '50 %', 'kube-system/kube-dns:dns-tcp', 'coredns-5d78c9869d-4xk2p', 'node-1'];
    const hover = await wb.hoverWord(SEED, line, 'KUBE-SEP-S4MK5EVI7CLHCCS6', expected);
    log(`hover: ${JSON.stringify(hover.length > 300 ? `${hover.slice(0, 300)}…` : hover)}`);
    for (const e of expected) assert.ok(hover.includes(e), `hover must contain ${JSON.stringify(e)}`);
    log(`screenshot: ${await wb.screenshot(this.name)}`);
  },
};

/** The Services view lists kube-dns with both endpoints; its rows reveal the rules; the cursor reveals its row; the endpoint table is copied. */
export const servicesView: Scenario = {
  name: 'services-view',
  async run(wb) {
    await openDump(wb, SEED);
    await showViews(wb);
    await wb.waitForTreeRow('Services', 'kube-system', (r) => r.label === 'kube-system' && r.level === 1);
    await wb.expandTreeRow('Services', 'kube-dns:dns-tcp', 2);
    const entry = await wb.waitForTreeRow('Services', 'the cluster IP entry', (r) => r.label === 'cluster IP 10.96.0.10:53/TCP' && r.level === 3);
    assert.equal(entry.description, '2 endpoints');
    // Both endpoints with their share and pod (the pod inventory is pre-seeded).
    const first = await wb.waitForTreeRow('Services', '10.32.0.3:53 with its pod', (r) => r.label === '10.32.0.3:53' && r.description.includes('coredns-5d78c9869d-4xk2p'));
    const second = await wb.waitForTreeRow('Services', '10.32.0.4:53 with its pod', (r) => r.label === '10.32.0.4:53' && r.description.includes('coredns-5d78c9869d-9qz7m'));
    assert.equal(first.description, '50 % · coredns-5d78c9869d-4xk2p');
    assert.equal(second.description, '50 % · coredns-5d78c9869d-9qz7m');
    const rows = await wb.treeRows('Services');
    log(`Services view:\n${rowsText(rows).replace(/^/gm, '    ')}`);
    assert.deepEqual(rows.map((r) => r.label), ['kube-system', 'kube-dns:dns-tcp', 'cluster IP 10.96.0.10:53/TCP', '10.32.0.3:53', '10.32.0.4:53']);
    log(`screenshot: ${await wb.screenshot(this.name)}`);

    // A click on an endpoint shows its chain in the editor.
    const sepLine = lineOf(wb, SEED, (l) => l.startsWith(':KUBE-SEP-ZT5TVM6PMFDFQAMO '));
    await wb.treeRow('Services', '10.32.0.4:53').click();
    await wb.waitForCursorLine(sepLine);
    log(`click on 10.32.0.4:53: cursor on line ${sepLine}`);
    // ... and the cluster IP entry its KUBE-SERVICES rule.
    const entryLine = lineOf(wb, SEED, (l) => l.startsWith('-A KUBE-SERVICES -d 10.96.0.10/32'));
    await wb.treeRow('Services', 'cluster IP 10.96.0.10:53/TCP').click();
    await wb.waitForCursorLine(entryLine);

    // Reveal in Services View from a rule of the other endpoint's chain: its row is selected.
    const ruleLine = lineOf(wb, SEED, (l) => l.startsWith('-A KUBE-SEP-S4MK5EVI7CLHCCS6 -p tcp'));
    // A click on the service shows its chain (once the server has answered): the cursor moves away first.
    await wb.treeRow('Services', 'kube-dns:dns-tcp').click();
    await wb.waitForCursorLine(lineOf(wb, SEED, (l) => l.startsWith(':KUBE-SVC-ERIFXISQEP7F7OF4 ')));
    await wb.focusEditor();
    await wb.goToLine(ruleLine, 5);
    await wb.runCommand('Netfilter Explorer: Reveal in Services View');
    const selected = await wb.waitForTreeRow('Services', 'the endpoint 10.32.0.3:53 selected', (r) => r.selected && r.label === '10.32.0.3:53');
    assert.deepEqual((await wb.treeRows('Services')).filter((r) => r.selected).map((r) => r.label), ['10.32.0.3:53'], 'only the endpoint is selected');
    log(`Reveal in Services View from line ${ruleLine}: selected ${selected.label}`);

    // Copy Endpoint Table for the service at the cursor.
    await wb.focusEditor();
    await wb.runCommand('Netfilter Explorer: Copy Endpoint Table');
    const table = await waitFor('the endpoint table on the clipboard', async () => {
      const text = await wb.clipboardText();
      return text.includes('| entry | endpoint | share | pod |') ? text : undefined;
    }, 10_000);
    log(`clipboard:\n${table.trimEnd().replace(/^/gm, '    ')}`);
    assert.ok(table.includes('| cluster IP 10.96.0.10:53/TCP | 10.32.0.3:53 | 50 % | kube-system/coredns-5d78c9869d-4xk2p on node-1 |'), 'row of 10.32.0.3');
    assert.ok(table.includes('| cluster IP 10.96.0.10:53/TCP | 10.32.0.4:53 | 50 % | kube-system/coredns-5d78c9869d-9qz7m on node-2 |'), 'row of 10.32.0.4');

    // The views follow edits: without the fall-through jump to 10.32.0.4, half the traffic
    // returns from the service chain; undo brings the endpoint back.
    const fallThrough = lineOf(wb, SEED, (l) => l.startsWith('-A KUBE-SVC-ERIFXISQEP7F7OF4 ') && l.endsWith('-j KUBE-SEP-ZT5TVM6PMFDFQAMO'));
    await wb.focusEditor();
    await wb.goToLine(fallThrough);
    await wb.page.keyboard.press('Control+Shift+K'); // delete the line
    const summaryAfter = await waitForSummary(wb, /1 service · \d+ endpoints? · [1-9]\d* problems?$/);
    const after = await wb.waitForTreeRow('Services', 'the cluster IP entry with one endpoint', (r) => r.label === 'cluster IP 10.96.0.10:53/TCP' && r.description !== '2 endpoints');
    log(`after deleting line ${fallThrough}: status bar ${JSON.stringify(summaryAfter)}; entry ${JSON.stringify(after.description)}; rows ${JSON.stringify((await wb.treeRows('Services')).map((r) => `${r.label} — ${r.description}`))}`);
    assert.equal((await wb.treeRows('Services')).some((r) => r.label === '10.32.0.4:53'), false, '10.32.0.4 is no endpoint any more');
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+Z');
    await waitForSummary(wb, /1 service · 2 endpoints · 0 problems$/);
    await wb.waitForTreeRow('Services', '10.32.0.4:53 back', (r) => r.label === '10.32.0.4:53');

    // A probability typed over (the model before is revised, not built again): the first
    // endpoint now gets 90 %, the second the rest, and the split is reported as skewed.
    const value = '0.50000000000';
    const pickLine = lineOf(wb, SEED, (l) => l.includes(`--probability ${value}`));
    const pickText = fs.readFileSync(path.join(wb.folder, SEED), 'utf8').split(/\r?\n/)[pickLine - 1]!;
    await wb.focusEditor();
    await wb.goToLine(pickLine, pickText.indexOf(value) + 1);
    for (let i = 0; i < value.length; i++) await wb.page.keyboard.press('Shift+ArrowRight');
    await wb.page.keyboard.insertText('0.90000000000');
    const skewed = await waitForSummary(wb, /1 service · 2 endpoints · [1-9]\d* problems?$/);
    const ninety = await wb.waitForTreeRow('Services', '10.32.0.3:53 at 90 %', (r) => r.label === '10.32.0.3:53' && r.description.startsWith('90 %'));
    const ten = await wb.waitForTreeRow('Services', '10.32.0.4:53 at 10 %', (r) => r.label === '10.32.0.4:53' && r.description.startsWith('10 %'));
    // The code lens over the endpoint's chain follows once VS Code asks for lenses again.
    await waitFor('the code lens of 10.32.0.3:53 to show 90 %', async () => ((await wb.page.locator('.codelens-decoration', { hasText: '10.32.0.3:53' }).filter({ hasText: '90 %' }).count()) > 0 ? true : undefined), 15_000);
    log(`probability on line ${pickLine} typed over with 0.9: status bar ${JSON.stringify(skewed)}; ${ninety.label} — ${ninety.description}; ${ten.label} — ${ten.description}; code lens 90 %`);
    await wb.screenshot('services-view-probability-edited');
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+Z');
    await waitForSummary(wb, /1 service · 2 endpoints · 0 problems$/);
    await wb.waitForTreeRow('Services', '10.32.0.3:53 back at 50 %', (r) => r.label === '10.32.0.3:53' && r.description.startsWith('50 %'));
    await waitFor('no unsaved changes', async () => ((await wb.page.locator('.tabs-container .tab.dirty').count()) === 0 ? true : undefined), 10_000);
  },
};

/** The welcome view's "Open Sample" opens a bigger dump; the filter finds a service by its IP; state icons show. */
export const servicesFilter: Scenario = {
  name: 'services-filter-and-sample',
  ownFolder: true,
  async run(wb) {
    await showViews(wb);
    await wb.viewPane('Services').getByRole('button', { name: 'Open Sample' }).click();
    await wb.pickQuickInput('overall', "kube-proxy's overall test");
    await wb.waitForTreeRow('Services', 'ns6', (r) => r.label === 'ns6' && r.level === 1);
    const all = await wb.treeRows('Services');
    log(`Services view (sample):\n${rowsText(all).replace(/^/gm, '    ')}`);
    assert.deepEqual(all.filter((r) => r.level === 1).map((r) => r.label), ['ns1', 'ns2', 'ns3', 'ns4', 'ns5', 'ns6']);
    await waitForSummary(wb, /^\S* ?6 services · 6 endpoints · \d+ problems?$/);

    // Filter by the cluster IP of the service without endpoints.
    await wb.runCommand('Netfilter Explorer: Filter Services…');
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('172.30.0.46');
    await wb.page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden' });
    const svc6 = await wb.waitForTreeRow('Services', 'only svc6 left', (r) => r.label === 'svc6:p80');
    const filtered = await wb.treeRows('Services');
    log(`filtered by 172.30.0.46:\n${rowsText(filtered).replace(/^/gm, '    ')}`);
    assert.deepEqual(filtered.filter((r) => r.level <= 2).map((r) => r.label), ['ns6', 'svc6:p80']);
    assert.match(svc6.description, /no endpoints/);
    assert.match(svc6.icon, /codicon-error/, `svc6 has no endpoints: its icon must be the error icon, is ${svc6.icon}`);
    await wb.waitForTreeRow('Services', 'the REJECT outcome', (r) => r.label === 'REJECT' && r.description === '100 %');
    const message = await waitFor('the view to say how many services the filter keeps', async () => {
      const m = normalizeText(await wb.viewPane('Services').locator('.message').first().innerText().catch(() => ''));
      return /1 of 6 services/.test(m) ? m : undefined;
    }, 10_000);
    log(`view message: ${JSON.stringify(message)}`);
    log(`screenshot: ${await wb.screenshot(this.name)}`);

    // A filter nothing matches says so; clearing it brings every namespace back.
    await wb.runCommand('Netfilter Explorer: Filter Services…');
    await input.fill('no-such-service');
    await wb.page.keyboard.press('Enter');
    await waitFor('the view to say nothing matches', async () => {
      const m = normalizeText(await wb.viewPane('Services').locator('.message').first().innerText().catch(() => ''));
      return /No service matches "no-such-service"/.test(m) && (await wb.treeRows('Services')).length === 0 ? true : undefined;
    }, 10_000);
    await wb.runCommand('Netfilter Explorer: Clear Services Filter');
    await wb.waitForTreeRow('Services', 'ns1 back', (r) => r.label === 'ns1');

    // The views follow the active editor: another dump, then back to the sample.
    await wb.quickOpen(SEED);
    await wb.waitForTreeRow('Services', 'the services of the seed dump', (r) => r.label === 'kube-system' && r.level === 1);
    assert.deepEqual((await wb.treeRows('Services')).filter((r) => r.level === 1).map((r) => r.label), ['kube-system']);
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+W');
    await wb.waitForTreeRow('Services', 'the sample again', (r) => r.label === 'ns1' && r.level === 1);
  },
};

/** The Chains view follows a service from KUBE-SERVICES through its service chain to the DNAT of an endpoint, with counters. */
export const chainsView: Scenario = {
  name: 'chains-view',
  async run(wb) {
    const file = 'seed-kube-dns.nft-save-counters.txt';
    await openDump(wb, file, 'quick-open');
    await showViews(wb);
    const pane = await wb.expandViewPane('Chains');
    // Make room: the Chains view below the Services view.
    await wb.viewPane('Services').locator('.pane-header').first().click();
    await pane.waitFor({ state: 'visible' });
    const services = await wb.waitForTreeRow('Chains', 'KUBE-SERVICES under nat', (r) => r.label === 'KUBE-SERVICES' && r.level === 2);
    assert.match(services.description, /1 rule/);
    await wb.expandTreeRow('Chains', 'KUBE-SERVICES', 2);
    const jump = await wb.waitForTreeRow('Chains', 'the jump to KUBE-SVC-ERIFXISQEP7F7OF4', (r) => r.label === 'KUBE-SVC-ERIFXISQEP7F7OF4' && r.level === 3);
    // The service it leads to, and the rule's counters from iptables-save -c.
    assert.match(jump.description, /^kube-system\/kube-dns:dns-tcp · 0 pkts · 0 B · -d 10\.96\.0\.10\/32/);
    await wb.expandTreeRow('Chains', 'KUBE-SVC-ERIFXISQEP7F7OF4', 3);
    const sep = await wb.waitForTreeRow('Chains', 'the jump to KUBE-SEP-S4MK5EVI7CLHCCS6', (r) => r.label === 'KUBE-SEP-S4MK5EVI7CLHCCS6' && r.level === 4);
    // The jump to an endpoint chain names the endpoint and its pod.
    assert.match(sep.description, /^50 % · → 10\.32\.0\.3:53 coredns-5d78c9869d-4xk2p · 0 pkts · 0 B · /);
    await wb.expandTreeRow('Chains', 'KUBE-SEP-S4MK5EVI7CLHCCS6', 4);
    const dnat = await wb.waitForTreeRow('Chains', 'the DNAT to 10.32.0.3:53', (r) => r.label === 'DNAT' && r.level === 5);
    assert.match(dnat.description, /--to-destination 10\.32\.0\.3:53/);
    const rows = await wb.treeRows('Chains');
    log(`Chains view:\n${rowsText(rows).replace(/^/gm, '    ')}`);
    log(`screenshot: ${await wb.screenshot(this.name)}`);
    // A click on the rule shows it in the editor.
    const dnatLine = lineOf(wb, file, (l) => l.includes('-A KUBE-SEP-S4MK5EVI7CLHCCS6') && l.includes('DNAT'));
    await wb.treeRow('Chains', 'DNAT', 5).click();
    await wb.waitForCursorLine(dnatLine);
    log(`click on DNAT: cursor on line ${dnatLine}`);
  },
};

/** Go to Chain… and Go to Service… quick picks across the dump. */
export const goToChainAndService: Scenario = {
  name: 'go-to-chain-and-service',
  async run(wb) {
    await openDump(wb, SEED);
    const target = 'KUBE-SEP-ZT5TVM6PMFDFQAMO';
    const declLine = lineOf(wb, SEED, (l) => l.startsWith(`:${target} `));
    await wb.focusEditor();
    await wb.runCommand('Netfilter Explorer: Go to Chain…');
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('ZT5TVM');
    const row = await waitFor('the chain in the quick pick', async () => (await wb.quickInputRows()).find((r) => r.label === target));
    log(`Go to Chain row: ${JSON.stringify(row)}`);
    assert.match(row.description, /^nat · 2 rules · kube-system\/kube-dns:dns-tcp$/);
    log(`screenshot: ${await wb.screenshot(this.name)}`);
    await wb.page.keyboard.press('Enter');
    await wb.waitForCursorLine(declLine);
    log(`Go to Chain ${target}: cursor on line ${declLine}`);

    const svcLine = lineOf(wb, SEED, (l) => l.startsWith(':KUBE-SVC-ERIFXISQEP7F7OF4 '));
    await wb.runCommand('Netfilter Explorer: Go to Service…');
    await wb.pickQuickInput('kube-dns', 'kube-system/kube-dns:dns-tcp');
    await wb.waitForCursorLine(svcLine);
    log(`Go to Service kube-system/kube-dns:dns-tcp: cursor on line ${svcLine}`);
  },
};

/** The endpoint shares render as inlay hints after the probability and after the fall-through jump. */
export const inlayHints: Scenario = {
  name: 'inlay-hints',
  async run(wb) {
    await openAndWaitForLanguage(wb, SEED);
    // Room for the long lines: hide the side bar.
    await wb.page.keyboard.press('Control+B');
    for (const line of [20, 21]) {
      const text = await waitFor(`"≈ 50 %" on line ${line}`, async () => {
        const t = await wb.renderedLine(SEED, line).catch(() => '');
        return t.includes('≈ 50 %') ? t : undefined;
      }, 30_000).catch(async (e: Error) => {
        throw new Error(`${e.message}; the line shows ${JSON.stringify(await wb.renderedLine(SEED, line).catch(() => '(not rendered)'))}`);
      });
      log(`line ${line}: …${text.slice(text.indexOf('≈') - 40)}`);
    }
    const source = fs.readFileSync(path.join(wb.folder, SEED), 'utf8').split('\n');
    assert.ok(!source[19]!.includes('≈') && !source[20]!.includes('≈'), 'the hints are not in the file');
    log(`screenshot: ${await wb.screenshot(this.name)}`);
  },
};

/** Runs `run` and prints how long it took, collecting the line into `timings`. */
function timer(timings: string[]): <T>(what: string, run: () => Promise<T> | T) => Promise<T> {
  return async (what, run) => {
    const t0 = Date.now();
    const value = await run();
    timings.push(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    log(timings.at(-1)!);
    return value;
  };
}

/** A cluster of 10,000 services (30,000 chains, 100,000 lines, 10 MB): the views stay responsive. */
export const largeDump: Scenario = {
  name: 'large-dump',
  ownFolder: true,
  async run(wb) {
    const file = 'big-10000-services.iptables-save';
    const dump = bigDump(10_000, 2);
    fs.writeFileSync(path.join(wb.folder, file), dump.text);
    log(`${file}: ${dump.services} services, ${dump.chains} chains, ${dump.lines} lines, ${(dump.text.length / 1e6).toFixed(1)} MB`);
    const timings: string[] = [];
    const timed = timer(timings);
    await showViews(wb);
    await timed('open → status bar counts 10,000 services', async () => {
      await openAndWaitForLanguage(wb, file, 'quick-open');
      await waitForSummary(wb, /^\S* ?10,000 services · 20,000 endpoints · \d+ problems?$/);
    });
    await timed('Services view lists the namespaces', () => wb.waitForTreeRow('Services', 'team-000', (r) => r.label === 'team-000' && r.level === 1 && r.description === '100 services', 60_000));

    // The filter, client-side over 10,000 services: by the cluster IP of the last one.
    await timed('Filter Services… opens', () => wb.runCommand('Netfilter Explorer: Filter Services…'));
    await timed(`filter by ${dump.probe.clusterIP} shows ${dump.probe.title}`, async () => {
      const input = wb.page.locator('.quick-input-widget input');
      await input.fill(dump.probe.clusterIP);
      await wb.page.keyboard.press('Enter');
      await wb.waitForTreeRow('Services', dump.probe.label, (r) => r.label === dump.probe.label && r.level === 2);
    });
    await wb.waitForTreeRow('Services', `its endpoint ${dump.probe.endpoint}`, (r) => r.label === dump.probe.endpoint && r.description.startsWith('50 %'));
    const filtered = await wb.treeRows('Services');
    assert.deepEqual(filtered.filter((r) => r.level <= 2).map((r) => r.label), [dump.probe.namespace, dump.probe.label]);
    log(`screenshot: ${await wb.screenshot(this.name)}`);

    // Chains: the 30,000 chains come grouped by prefix, in pages; KUBE-SERVICES' 10,000 rules too.
    await wb.viewPane('Services').locator('.pane-header').first().click();
    await wb.expandViewPane('Chains');
    const page = await timed('Chains view shows nat in groups', () => wb.waitForTreeRow('Chains', 'a page of KUBE-SVC-* chains', (r) => r.label.startsWith('KUBE-SVC-* ') && r.level === 2, 60_000));
    assert.match(page.label, /^KUBE-SVC-\* \(1 of 20\)$/);
    assert.match(page.description, / – .* · 500 chains$/);
    await timed('KUBE-SERVICES expands into pages of rules', async () => {
      await wb.expandTreeRow('Chains', 'KUBE-SERVICES', 2);
      await wb.waitForTreeRow('Chains', 'the first page of rules', (r) => r.label === 'rules 1–500' && r.level === 3);
    });
    const rows = await wb.treeRows('Chains');
    log(`Chains view (first rows):\n${rowsText(rows.slice(0, 14)).replace(/^/gm, '    ')}`);
    log(`screenshot: ${await wb.screenshot(`${this.name}-chains`)}`);

    // Go to Chain over 30,000 chains.
    await timed(`Go to Chain ${dump.probe.svcChain}`, async () => {
      await wb.focusEditor();
      await wb.runCommand('Netfilter Explorer: Go to Chain…');
      await wb.pickQuickInput(dump.probe.svcChain.slice(-8), dump.probe.svcChain);
      const declLine = dump.text.split('\n').findIndex((l) => l.startsWith(`:${dump.probe.svcChain} `)) + 1;
      await wb.waitForCursorLine(declLine, 20_000);
    });
    log(`timings: ${timings.join('; ')}`);
  },
};

/** The status bar once it counts the 16,000 services of the dump over 50 MB, with its problems. */
const SIXTEEN_THOUSAND_SERVICES = /^\S* ?16,000 services · [\d,]+ endpoints · [1-9][\d,]* problems?$/;

/** A dump over 50 MB, which VS Code does not hand to extensions: the language server reads it
 *  from disk, and the views, the status bar and Go to Chain work on it all the same. */
export const dumpOver50MB: Scenario = {
  name: 'dump-over-50-mb',
  ownFolder: true,
  async run(wb) {
    const timings: string[] = [];
    const timed = timer(timings);
    const file = 'node-16000-services.iptables-save';
    const full = path.join(wb.folder, file);
    const dump = await timed('generate 16,000 services × 10 endpoints (bench/generate.ts)', () => {
      const d = generateDump(16_000, 10);
      fs.writeFileSync(full, d.text);
      return d;
    });
    const bytes = fs.statSync(full).size;
    log(`${file}: ${(bytes / 1e6).toFixed(1)} MB, ${dump.lines.toLocaleString('en-US')} lines`);
    assert.ok(bytes > 50 * 1024 * 1024, 'the dump must be over the 50 MB VS Code hands to extensions');
    // The chain to go to: the service chain of the last service, declared deep in the file.
    const lines = dump.text.split('\n');
    const portal = lines.find((l) => l.startsWith('-A KUBE-SERVICES ') && l.includes('/app-15999:http cluster IP'))!;
    const svcChain = /-j (KUBE-SVC-\w+)$/.exec(portal)![1]!;
    const svcLine = lines.findIndex((l) => l.startsWith(`:${svcChain} `)) + 1;

    await showViews(wb);
    await timed('open in the editor (Quick Open, "Open Anyway")', () => wb.openLargeFile(file));
    const summary = await timed('status bar counts 16,000 services', () => waitForSummary(wb, SIXTEEN_THOUSAND_SERVICES, 120_000));
    log(`status bar: ${JSON.stringify(summary)}`);
    await timed('Services view lists team-1', () => wb.waitForTreeRow('Services', 'team-1', (r) => r.label === 'team-1' && r.level === 1, 30_000));
    await wb.expandTreeRow('Services', 'team-1', 1);
    const app1 = await wb.waitForTreeRow('Services', 'app-1:http under team-1', (r) => r.label === 'app-1:http' && r.level === 2);
    log(`Services view: team-1 / app-1:http — ${app1.description}`);
    // A click on the service shows its chain (KUBE-SVC or KUBE-EXT of the same hash) in the editor.
    const hash = /-j KUBE-SVC-(\w+)$/.exec(lines.find((l) => l.startsWith('-A KUBE-SERVICES ') && l.includes('"team-1/app-1:http cluster IP"'))!)![1]!;
    const app1Lines = lines.flatMap((l, i) => (l.startsWith(`:KUBE-SVC-${hash} `) || l.startsWith(`:KUBE-EXT-${hash} `) ? [i + 1] : []));
    const landed = await timed('click on app-1:http: the editor shows its chain', async () => {
      await wb.treeRow('Services', 'app-1:http', 2).click();
      return waitFor(`the cursor on line ${app1Lines.join(' or ')}`, async () => {
        const c = await wb.cursor();
        return c && app1Lines.includes(c.line) ? c : undefined;
      }, 20_000);
    });
    log(`click on app-1:http: cursor on line ${landed.line} (${lines[landed.line - 1]})`);

    await timed(`Go to Chain ${svcChain} (line ${svcLine})`, async () => {
      await wb.runCommand('Netfilter Explorer: Go to Chain…');
      await wb.pickQuickInput(svcChain.slice(-8), svcChain);
      await wb.waitForCursorLine(svcLine, 30_000);
    });
    log(`screenshot: ${await wb.screenshot(this.name)}`);

    // Closing its tab has the server forget it: its 800 problems leave the Problems count, and
    // the views offer to open a dump again.
    // The server dies: the restarted one is given the dump again (read from disk once more).
    const server = await waitFor('the language server process of this window', () => wb.server.languageServers().at(-1));
    // The client starts the server with its Node options (a heap that grows without collecting in full at each step).
    for (const option of SERVER_NODE_OPTIONS) assert.ok(server.args.includes(option), `the language server runs with ${option}: ${server.args}`);
    await timed('SIGKILL the language server: the dump is read again', async () => {
      process.kill(server.pid, 'SIGKILL');
      await waitFor('a second read of the dump', () => (wb.server.extensionOutput().match(/\] Read \S*node-16000-services\.iptables-save: /g)?.length === 2 ? true : undefined), 60_000);
      await waitForSummary(wb, SIXTEEN_THOUSAND_SERVICES, 30_000);
    });
    const problems = await wb.statusBarItem('status.problems');
    log(`status bar problems item: ${JSON.stringify(problems?.ariaLabel || problems?.text)}`);
    assert.match(`${problems?.ariaLabel} ${problems?.text}`, /\d{3}/, 'the problems of the dump (diagnostics of a file no extension has) are counted');
    await timed('close the tab: the server forgets the dump', async () => {
      await wb.focusEditor();
      await wb.page.keyboard.press('Control+W');
      await wb.viewPane('Services').locator('.welcome-view-content').waitFor({ state: 'visible' });
      await waitFor('the Problems count to drop the problems of the dump', async () => {
        const item = await wb.statusBarItem('status.problems');
        return item && !/\d{3}/.test(`${item.ariaLabel} ${item.text}`) ? item : undefined;
      }, 20_000);
    });
    assert.equal(await wb.statusBarItem(SUMMARY_ITEM), undefined, 'no summary once the dump is closed');
    assert.match(wb.server.extensionOutput(), /Closed \S*node-16000-services\.iptables-save: the language server forgets it/);

    // Open Large Dump… reads any file over 50 MB as a dump, even one whose name and first line
    // do not say so (opened from Quick Open, it would not be read).
    const other = 'node-7-capture.log';
    fs.writeFileSync(path.join(wb.folder, other), `iptables-save output captured on node-7\n${dump.text}`);
    await timed(`Open Large Dump… ${other}: the status bar counts its services`, async () => {
      await wb.runCommand('Netfilter Explorer: Open Large Dump…');
      const input = wb.page.locator('.quick-input-widget input');
      const ok = wb.page.locator('.quick-input-widget').getByRole('button', { name: 'Open Large Dump' });
      // As in activation-welcome-status-bar: the dialog may reset a value typed while it loads.
      await waitFor(`${other} to be accepted by the file dialog`, async () => {
        if (!(await input.isVisible().catch(() => false))) return true;
        await input.fill(path.join(wb.folder, other));
        await ok.click({ timeout: 2_000 }).catch(() => undefined);
        return undefined;
      }, 30_000, 300);
      await wb.openLargeFile(other, 30_000, false);
      await waitForSummary(wb, SIXTEEN_THOUSAND_SERVICES, 60_000);
    });
    await wb.waitForTreeRow('Services', 'team-1 again', (r) => r.label === 'team-1' && r.level === 1);
    log(`timings: ${timings.join('; ')}`);
  },
};

/** The language server dies (SIGKILL): the client restarts it and says so once per session;
 *  hovers work again, with the pods the restarted server was given again. */
export const serverRestart: Scenario = {
  name: 'server-restart',
  async run(wb) {
    const timings: string[] = [];
    const timed = timer(timings);
    const message = 'The Netfilter Explorer language server stopped unexpectedly and was restarted.';
    const chain = 'KUBE-SVC-ERIFXISQEP7F7OF4';
    const declLine = lineOf(wb, SEED, (l) => l.startsWith(`:${chain} `));
    // The pod comes from pods.json: a restarted server that was not given the pods again would not name it.
    const expected = [chain, 'user chain in table nat', '2 rules', 'coredns-5d78c9869d-4xk2p'];
    const toasts = wb.page.locator('.notifications-toasts .notification-toast').filter({ hasText: message });

    await openDump(wb, SEED);
    await wb.hoverWord(SEED, declLine, chain, expected);
    // This window's server is the newest: earlier windows' extension hosts may still run theirs.
    const first = await waitFor('the language server process of this window', () => wb.server.languageServers().at(-1));
    log(`language server: pid ${first.pid} (extension host pid ${first.ppid}): ${first.args.replace(/^.*?(\S*dist\/server\.js)/, '…$1')}`);
    const serverOf = (host: number) => wb.server.languageServers().filter((p) => p.ppid === host);

    /** Kills the window's language server and waits for the one that replaces it, and for a hover from it. */
    const killAndRecover = async (victim: number, round: string): Promise<number> => {
      // No hover from before the kill (hoverWord moves away too; not Escape, which hides the toasts).
      await wb.page.mouse.move(4, 520);
      await waitFor('the hover to close', async () => ((await wb.hoverText()) === '' ? true : undefined), 5_000);
      process.kill(victim, 'SIGKILL');
      const next = await timed(`${round}: SIGKILL → a new language server runs`, () =>
        waitFor(`a language server other than pid ${victim} under extension host ${first.ppid}`, () => serverOf(first.ppid).find((p) => p.pid !== victim), 30_000),
      );
      const hover = await timed(`${round}: hover on ${chain} answers again`, () => wb.hoverWord(SEED, declLine, chain, expected, 45_000));
      log(`${round}: new server pid ${next.pid}; hover ${JSON.stringify(hover.length > 200 ? `${hover.slice(0, 200)}…` : hover)}`);
      return next.pid;
    };

    const second = await killAndRecover(first.pid, 'first kill');
    await timed('first kill: one warning', () => toasts.first().waitFor({ state: 'visible', timeout: 20_000 }));
    assert.equal(await toasts.count(), 1, 'one warning after the first stop');
    assert.ok(await toasts.first().getByRole('button', { name: 'Show Output' }).isVisible(), 'the warning offers "Show Output"');
    log(`notification: ${JSON.stringify(normalizeText(await toasts.first().innerText()).replace(/\s+/g, ' ').trim())}`);

    await killAndRecover(second, 'second kill');
    // The client decides to tell (or not) before it restarts the server, so by the time the new
    // server answered a second warning would be there.
    assert.equal(await toasts.count(), 1, 'no second warning in the same session');
    log(`screenshot: ${await wb.screenshot(this.name)}`);
    await wb.runCommand('Notifications: Show Notifications');
    const center = wb.page.locator('.notifications-center .notification-list-item').filter({ hasText: message });
    await center.first().waitFor({ state: 'visible' });
    assert.equal(await center.count(), 1, 'the notification center holds the one warning');
    const output = wb.server.extensionOutput();
    assert.equal(output.match(/The language server stopped \(\d+ time\(s\) in 3 minutes\); restarting it\./g)?.length, 2, 'both stops are in the output channel');
    await waitForSummary(wb, /^\S* ?1 service · 2 endpoints · \d+ problems?$/);
    log(`timings: ${timings.join('; ')}`);
  },
};

/** The @vscode/test-electron suite (test/electron/suite), run inside this VS Code by the test
 *  host extension: proof offline that the suite for machines with internet passes. */
export const electronSuiteHere: Scenario = {
  name: 'electron-suite-in-code-server',
  async run(wb) {
    const results = wb.server.electronResults;
    fs.rmSync(results, { force: true });
    await openDump(wb, SEED);
    await wb.runCommand('Netfilter Explorer Tests: Run the Electron Suite Here');
    const outcome = await waitFor('the electron suite to finish', () => {
      if (!fs.existsSync(results)) return undefined;
      return JSON.parse(fs.readFileSync(results, 'utf8')) as { ok: boolean; error: string; lines: string[] };
    }, 90_000);
    log(`electron suite:\n${outcome.lines.join('\n').replace(/^/gm, '    ')}`);
    log(`screenshot: ${await wb.screenshot(this.name)}`);
    assert.ok(outcome.ok, `the electron suite failed: ${outcome.error}`);
    assert.match(outcome.lines.at(-1) ?? '', /^8 passed, 0 failed/);
  },
};

export const scenarios: Scenario[] = [
  activationAndStatusBar,
  activationTime,
  goToDefinitionAndHover,
  endpointHoverWithPod,
  servicesView,
  servicesFilter,
  chainsView,
  goToChainAndService,
  inlayHints,
  diagnosticsAndOutline,
  electronSuiteHere,
  largeDump,
  dumpOver50MB,
  serverRestart,
];
