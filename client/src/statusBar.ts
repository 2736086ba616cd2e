import * as vscode from 'vscode';
import { type DumpTracker, isDump } from './dumps';
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

/** `1 service · 2 endpoints · 0 problems` for the dump in the active editor; a click opens the Services view. */
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
      vscode.languages.onDidChangeDiagnostics((e) => {
        const doc = this.tracker.document;
        if (doc && e.uris.some((u) => u.toString() === doc.uri.toString())) void this.update();
      }),
    );
    void this.update();
  }

  async update(): Promise<void> {
    const run = ++this.updating;
    const document = this.tracker.document;
    const active = vscode.window.activeTextEditor?.document;
    if (!document || (active && isDump(active) && active !== document) || (active && !isDump(active))) {
      this.item.hide();
      return;
    }
    const last = this.tracker.lastServices();
    if (!last) {
      this.item.text = '$(loading~spin) Netfilter Explorer';
      this.item.tooltip = 'Reading the services of the dump…';
      this.item.show();
    }
    const index = await this.tracker.servicesIndex();
    if (run !== this.updating) return; // a newer update is on its way
    const problems = problemCounts(document.uri);
    if (!index) {
      this.item.text = `$(server-process) ${plural(problems.total, 'problem')}`;
      this.item.tooltip = 'Netfilter Explorer: the language server did not list the services of this dump.';
      this.item.show();
      return;
    }
    this.item.text = `$(server-process) ${plural(index.total, 'service')} · ${plural(index.endpointTotal, 'endpoint')} · ${plural(problems.total, 'problem')}`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown(`**${vscode.workspace.asRelativePath(document.uri, false)}**\n\n`);
    tooltip.appendMarkdown(`${plural(index.total, 'service port')} in ${plural(index.namespaces.length, 'namespace')} · ${plural(index.endpointTotal, 'endpoint')}\n\n`);
    tooltip.appendMarkdown(`Problems: ${problems.errors} errors, ${problems.warnings} warnings, ${problems.infos} infos\n\n`);
    tooltip.appendMarkdown(index.result.podSource ? `Pod names from ${index.result.podSource}\n\n` : 'No pod inventory (setting `netfilterExplorer.podInventory`)\n\n');
    tooltip.appendMarkdown('Click to show the Services view.');
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: `Netfilter Explorer: ${this.item.text.replace(/^\$\([^)]*\) /, '')}` };
    this.item.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
