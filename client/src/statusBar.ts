import * as vscode from 'vscode';
import type { DumpTracker } from './dumps';
import { activeTabUri, LargeDump } from './largeDumps';
import { plural } from './model';
import { SERVICES_VIEW_ID } from './servicesView';

/** Counts of what the Problems panel shows for a document (hints are not problems). */
export function problemCounts(uri: vscode.Uri): { errors: number; warnings: number; infos: number; total: number } {
  let errors = 0;
  let warnings = 0;
  let infos = 0;
  for (const d of vscode.languages.getDiagnostics(uri)) {
    if (d.severity === vscode.DiagnosticSeverity.Error) errors++;
    else if (d.severity === vscode.DiagnosticSeverity.Warning) warnings++;
    else if (d.severity === vscode.DiagnosticSeverity.Information) infos++;
  }
  return { errors, warnings, infos, total: errors + warnings + infos };
}

/** `1 service · 2 endpoints · 0 problems` for the dump in the active editor (a dump over 50 MB too); a click opens the Services view. */
export class DumpStatus implements vscode.Disposable {
  static readonly ID = 'netfilterExplorer.summary';
  private readonly item = vscode.window.createStatusBarItem(DumpStatus.ID, vscode.StatusBarAlignment.Left, 10);
  private readonly disposables: vscode.Disposable[] = [this.item];
  private updating = 0;

  constructor(private readonly tracker: DumpTracker) {
    this.item.name = 'Netfilter Explorer: services of the dump';
    this.item.command = { title: 'Show the Services view', command: `${SERVICES_VIEW_ID}.focus` };
    this.disposables.push(
      tracker.onDidChange(() => void this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => void this.update()),
      vscode.window.tabGroups.onDidChangeTabs(() => void this.update()),
      vscode.window.tabGroups.onDidChangeTabGroups(() => void this.update()),
      vscode.languages.onDidChangeDiagnostics((e) => {
        const dump = this.tracker.dump;
        if (dump && e.uris.some((u) => u.toString() === dump.uri.toString())) void this.update();
      }),
    );
    void this.update();
  }

  async update(): Promise<void> {
    const run = ++this.updating;
    const dump = this.tracker.dump;
    // Shown while the dump is what the active tab or editor shows (or no text is active at all).
    const active = activeTabUri() ?? vscode.window.activeTextEditor?.document.uri;
    if (!dump || (active && active.toString() !== dump.uri.toString())) {
      this.item.hide();
      return;
    }
    const large = dump instanceof LargeDump ? dump : undefined;
    if (!this.tracker.servicesSeen()) {
      this.item.text = '$(loading~spin) Netfilter Explorer';
      this.item.tooltip = large ? `Reading ${large.name} (${large.megabytes}) from disk…` : 'Reading the services of the dump…';
      this.item.show();
    }
    const index = await this.tracker.servicesTree();
    if (run !== this.updating) return; // a newer update is on its way
    const problems = problemCounts(dump.uri);
    if (!index) {
      this.item.text = `$(server-process) ${plural(problems.total, 'problem')}`;
      this.item.tooltip = large?.error ? `Netfilter Explorer: the language server could not read ${large.name}: ${large.error}` : 'Netfilter Explorer: the language server did not list the services of this dump.';
      this.item.show();
      return;
    }
    this.item.text = `$(server-process) ${plural(index.total, 'service')} · ${plural(index.endpointTotal, 'endpoint')} · ${plural(problems.total, 'problem')}`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown(`**${vscode.workspace.asRelativePath(dump.uri, false)}**\n\n`);
    if (large?.result) {
      tooltip.appendMarkdown(`${large.megabytes}, ${large.result.lines.toLocaleString('en-US')} lines, read from disk by the language server: VS Code does not hand files over 50 MB to extensions, so the editor has no hovers or other language features for it; the views, Go to Chain and Go to Service work.\n\n`);
    }
    tooltip.appendMarkdown(`${plural(index.total, 'service port')} in ${plural(index.namespaceTotal, 'namespace')} · ${plural(index.endpointTotal, 'endpoint')}\n\n`);
    tooltip.appendMarkdown(`Problems: ${problems.errors} errors, ${problems.warnings} warnings, ${problems.infos} infos\n\n`);
    tooltip.appendMarkdown(index.podSource ? `Pod names from ${index.podSource}\n\n` : 'No pod inventory (setting `netfilterExplorer.podInventory`)\n\n');
    tooltip.appendMarkdown('Click to show the Services view.');
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: `Netfilter Explorer: ${this.item.text.replace(/^\$\([^)]*\) /, '')}` };
    this.item.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
