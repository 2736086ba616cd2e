// The end-to-end scenarios: what a person does with the extension in a real VS Code.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { log, waitFor, type Workbench } from './harness';

export interface Scenario {
  name: string;
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

export const scenarios: Scenario[] = [goToDefinitionAndHover, diagnosticsAndOutline];
