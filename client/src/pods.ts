import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { type PodInventoryParams, PodInventoryNotification } from '../../server/src/protocol';

/** Inventories larger than this are not read: 10,000 pods as JSON is about 100 MB. */
const MAX_INVENTORY_BYTES = 256 * 1024 * 1024;
const KUBECTL_TIMEOUT_MS = 30_000;

/**
 * Feeds the language server the pods that name endpoints: the file the setting
 * `netfilterExplorer.podInventory` names (watched for changes), or on request the output of
 * `kubectl get pods -A -o json`, which runs only in a trusted workspace and when enabled.
 */
export class PodInventorySource implements vscode.Disposable {
  private watcher: vscode.FileSystemWatcher | undefined;
  private readonly sent = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.sent];
  /** The server got a new inventory (or none): its answers about endpoints changed. */
  readonly onDidSend = this.sent.event;
  /** What the server got last, to give a restarted server. */
  private last: PodInventoryParams | undefined;

  constructor(private readonly client: LanguageClient, private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('netfilterExplorer.podInventory')) void this.loadFromSetting();
      }),
      vscode.commands.registerCommand('netfilterExplorer.loadPodsWithKubectl', () => this.loadWithKubectl()),
    );
  }

  private inventoryUri(): vscode.Uri | undefined {
    const setting = vscode.workspace.getConfiguration('netfilterExplorer').get<string>('podInventory', '').trim();
    if (setting === '') return undefined;
    if (setting.startsWith('/') || /^[A-Za-z]:[\\/]/.test(setting)) return vscode.Uri.file(setting);
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? vscode.Uri.joinPath(folder.uri, setting) : undefined;
  }

  async loadFromSetting(): Promise<void> {
    this.watcher?.dispose();
    this.watcher = undefined;
    const uri = this.inventoryUri();
    if (!uri) {
      await this.send({ source: null });
      return;
    }
    const pattern = new vscode.RelativePattern(vscode.Uri.joinPath(uri, '..'), uri.path.split('/').pop()!);
    this.watcher = vscode.workspace.createFileSystemWatcher(pattern);
    this.watcher.onDidChange(() => void this.sendFile(uri));
    this.watcher.onDidCreate(() => void this.sendFile(uri));
    await this.sendFile(uri);
  }

  private async sendFile(uri: vscode.Uri): Promise<void> {
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      if (stat.size > MAX_INVENTORY_BYTES) {
        void vscode.window.showWarningMessage(`Netfilter Explorer: the pod inventory ${uri.fsPath} is larger than 256 MB and is not read.`);
        return;
      }
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      await this.send({ source: vscode.workspace.asRelativePath(uri), text });
      this.log.info(`Pod inventory sent from ${uri.fsPath}`);
    } catch (error) {
      this.log.warn(`Pod inventory ${uri.fsPath}: ${String(error)}`);
      void vscode.window.showWarningMessage(`Netfilter Explorer: cannot read the pod inventory ${uri.fsPath} (netfilterExplorer.podInventory): ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async loadWithKubectl(): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Netfilter Explorer runs kubectl only in a trusted workspace.');
      return;
    }
    if (!vscode.workspace.getConfiguration('netfilterExplorer').get<boolean>('kubectl.enabled', false)) {
      const choice = await vscode.window.showInformationMessage('Loading pods runs `kubectl get pods -A -o json` with your current kubeconfig. Enable it with the setting netfilterExplorer.kubectl.enabled.', 'Open Setting');
      if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', 'netfilterExplorer.kubectl.enabled');
      return;
    }
    const kubectl = vscode.workspace.getConfiguration('netfilterExplorer').get<string>('kubectl.path', 'kubectl') || 'kubectl';
    const text = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Netfilter Explorer: kubectl get pods -A -o json', cancellable: false }, () =>
      new Promise<string | undefined>((resolve) => {
        // An argument array and no shell: nothing from the workspace is interpreted.
        execFile(kubectl, ['get', 'pods', '--all-namespaces', '--output', 'json'], { timeout: KUBECTL_TIMEOUT_MS, maxBuffer: MAX_INVENTORY_BYTES, windowsHide: true }, (error, stdout, stderr) => {
          if (error) {
            this.log.error(`kubectl failed: ${error.message}\n${stderr}`);
            void vscode.window.showErrorMessage(`Netfilter Explorer: kubectl failed: ${stderr.trim() || error.message}`);
            resolve(undefined);
          } else {
            resolve(stdout);
          }
        });
      }),
    );
    if (text !== undefined) await this.send({ source: 'kubectl', text });
  }

  private async send(params: PodInventoryParams): Promise<void> {
    await this.client.sendNotification(PodInventoryNotification, params);
    this.last = params;
    this.sent.fire();
  }

  /** Gives a restarted server the inventory the last one had. */
  async resend(): Promise<void> {
    if (!this.last || this.last.source === null) return;
    try {
      await this.send(this.last);
    } catch (error) {
      this.log.warn(`Sending the pod inventory again failed: ${String(error)}`);
    }
  }

  dispose(): void {
    this.watcher?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
