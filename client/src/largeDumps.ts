import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type LanguageClient, State } from 'vscode-languageclient/node';
import { CloseLargeFileNotification, type LargeFileResult, OpenLargeFileRequest } from '../../server/src/protocol';
import { HEAD_BYTES, LARGE_FILE_BYTES, type LanguageContribution, looksLikeDump } from './recognize';

/** A changed file on disk is read again after it has been quiet this long. */
const REREAD_DELAY_MS = 1000;

/** The URI of the active editor tab when it shows a text file (also a file too large for extensions). */
export function activeTabUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputText ? input.uri : undefined;
}

/** Whether any tab of any editor group shows `uri` as text. */
export function hasTab(uri: vscode.Uri): boolean {
  const key = uri.toString();
  return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === key));
}

/**
 * A dump over 50 MB: VS Code shows it in an editor but hands no TextDocument to extensions, so
 * the language server reads it from disk (OpenLargeFileRequest). `version` counts the reads.
 */
export class LargeDump {
  readonly document = undefined;
  version = 0;
  /** The server's summary of the last read, once it answered. */
  result: LargeFileResult | undefined;
  /** Why the last read failed. */
  error: string | undefined;
  reading = false;
  /** Settles when the server has read the current version: its summary, or undefined on failure. */
  ready: Promise<LargeFileResult | undefined> = Promise.resolve(undefined);

  constructor(
    readonly uri: vscode.Uri,
    public bytes: number,
  ) {}

  get name(): string {
    return path.basename(this.uri.fsPath);
  }

  get megabytes(): string {
    return `${(this.bytes / 1e6).toFixed(0)} MB`;
  }
}

export type LargeDumpChange = { dump: LargeDump; what: 'opened' | 'reread' | 'closed' };

/**
 * The dumps over 50 MB shown in editor tabs: a text tab of such a file that looks like a dump
 * (by name or first bytes) has the server read it when it becomes active; when the file's last
 * tab closes the server forgets it. After the server restarts they are read again.
 */
export class LargeDumps implements vscode.Disposable {
  private readonly dumps = new Map<string, LargeDump>();
  private readonly watchers = new Map<string, vscode.Disposable>();
  /** Large files found not to be dumps, with the mtime and size they had then. */
  private readonly notDumps = new Map<string, string>();
  private readonly checking = new Set<string>();
  private readonly changed = new vscode.EventEmitter<LargeDumpChange>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  /** A dump was read for the first time, read again, or forgotten. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly client: LanguageClient,
    private readonly log: vscode.LogOutputChannel,
    private readonly language: LanguageContribution,
  ) {
    const tabsChanged = (e: { closed: readonly unknown[] }) => {
      if (e.closed.length > 0) this.closeUnused();
      void this.checkActiveTab();
    };
    this.disposables.push(
      vscode.window.tabGroups.onDidChangeTabs(tabsChanged),
      vscode.window.tabGroups.onDidChangeTabGroups(tabsChanged),
      // VS Code handed the file over after all (a file near the limit): the document is the dump.
      vscode.workspace.onDidOpenTextDocument((d) => {
        const dump = this.dumps.get(d.uri.toString());
        if (dump) this.close(dump);
      }),
    );
    void this.checkActiveTab();
  }

  get(uri: vscode.Uri | string): LargeDump | undefined {
    return this.dumps.get(uri.toString());
  }

  all(): LargeDump[] {
    return [...this.dumps.values()];
  }

  /** Has the server read the active tab's file when it is a dump over 50 MB (and not read yet). */
  async checkActiveTab(): Promise<void> {
    const uri = activeTabUri();
    if (!uri || uri.scheme !== 'file') return;
    const key = uri.toString();
    if (this.dumps.has(key) || this.checking.has(key)) return;
    // VS Code handed the document over: the language client has it.
    if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === key)) return;
    this.checking.add(key);
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      if (stat.size <= LARGE_FILE_BYTES || (stat.type & vscode.FileType.File) === 0) return;
      const stamp = `${stat.mtime}:${stat.size}`;
      if (this.notDumps.get(key) === stamp) return;
      const head = await readHead(uri.fsPath);
      if (!looksLikeDump(uri.fsPath, head, this.language)) {
        this.notDumps.set(key, stamp);
        this.log.info(`${uri.fsPath} (${(stat.size / 1e6).toFixed(0)} MB) does not look like an iptables-save dump; "Open Large Dump…" reads it anyway.`);
        return;
      }
      // Closed, or read by the command, while it was looked at.
      if (this.dumps.has(key) || !hasTab(uri)) return;
      this.start(uri, stat.size);
    } catch (error) {
      this.log.warn(`Looking at ${uri.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.checking.delete(key);
    }
  }

  /**
   * Reads `uri` as a dump over 50 MB whatever its name and first bytes (Open Large Dump…), and
   * shows it in an editor. Returns undefined when the file is small enough to open as a document.
   */
  async openFile(uri: vscode.Uri): Promise<LargeDump | undefined> {
    const stat = await vscode.workspace.fs.stat(uri);
    if (stat.size <= LARGE_FILE_BYTES) return undefined;
    await vscode.commands.executeCommand('vscode.open', uri, { preview: false });
    return this.dumps.get(uri.toString()) ?? this.start(uri, stat.size);
  }

  private start(uri: vscode.Uri, bytes: number): LargeDump {
    const dump = new LargeDump(uri, bytes);
    this.dumps.set(uri.toString(), dump);
    this.read(dump);
    this.watch(dump);
    this.changed.fire({ dump, what: 'opened' });
    return dump;
  }

  private read(dump: LargeDump): void {
    const version = ++dump.version;
    const started = Date.now();
    dump.reading = true;
    dump.error = undefined;
    this.log.info(`Reading ${dump.uri.fsPath} (${dump.megabytes}) in the language server: VS Code does not hand files over 50 MB to extensions.`);
    dump.ready = (async () => {
      try {
        // Waits for a server that is starting; fails while it is stopped (reopenAll reads again once it runs).
        const result = await this.client.sendRequest(OpenLargeFileRequest, { uri: this.client.code2ProtocolConverter.asUri(dump.uri) });
        if (dump.version === version) {
          dump.result = result;
          dump.bytes = Math.round(result.megabytes * 1e6);
        }
        this.log.info(`Read ${dump.uri.fsPath}: ${result.lines.toLocaleString('en-US')} lines, ${result.services.toLocaleString('en-US')} services, ${result.problems.toLocaleString('en-US')} problems in ${Date.now() - started} ms.`);
        return result;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (dump.version === version) dump.error = message;
        this.log.error(`Reading ${dump.uri.fsPath} failed: ${message}`);
        // A server that stopped reads it again when it is back (reopenAll): nothing to tell.
        if (this.dumps.get(dump.uri.toString()) === dump && this.client.state === State.Running) void vscode.window.showWarningMessage(`Netfilter Explorer could not read ${dump.name}: ${message}`);
        return undefined;
      } finally {
        if (dump.version === version) dump.reading = false;
      }
    })();
  }

  /** Reads a changed file again once it is quiet. */
  private watch(dump: LargeDump): void {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(dump.uri.fsPath)), path.basename(dump.uri.fsPath)), true, false, true);
    let timer: NodeJS.Timeout | undefined;
    watcher.onDidChange(() => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (this.dumps.get(dump.uri.toString()) !== dump) return;
        this.read(dump);
        this.changed.fire({ dump, what: 'reread' });
      }, REREAD_DELAY_MS);
    });
    this.watchers.set(dump.uri.toString(), { dispose: () => (clearTimeout(timer), watcher.dispose()) });
  }

  /** The server restarted and forgot what it read from disk: read every dump again. */
  reopenAll(): void {
    for (const dump of this.dumps.values()) {
      this.read(dump);
      this.changed.fire({ dump, what: 'reread' });
    }
  }

  /** Forgets the dumps no tab shows any more. */
  private closeUnused(): void {
    for (const dump of [...this.dumps.values()]) if (!hasTab(dump.uri)) this.close(dump);
  }

  private close(dump: LargeDump): void {
    const key = dump.uri.toString();
    if (this.dumps.get(key) !== dump) return;
    this.dumps.delete(key);
    this.watchers.get(key)?.dispose();
    this.watchers.delete(key);
    this.changed.fire({ dump, what: 'closed' });
    // After a read in progress, so that the server does not keep what it finishes reading.
    void dump.ready.then(() => {
      if (this.dumps.has(key) || this.client.state !== State.Running) return;
      this.log.info(`Closed ${dump.uri.fsPath}: the language server forgets it.`);
      this.client.sendNotification(CloseLargeFileNotification, { uri: this.client.code2ProtocolConverter.asUri(dump.uri) }).catch((error: unknown) => this.log.warn(`closeLargeFile: ${String(error)}`));
    });
  }

  dispose(): void {
    for (const w of this.watchers.values()) w.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** The first bytes of a file, as text. */
async function readHead(file: string): Promise<string> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
