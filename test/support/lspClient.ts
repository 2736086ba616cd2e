import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import {
  createProtocolConnection,
  type Diagnostic,
  InitializeRequest,
  InitializedNotification,
  type ProtocolConnection,
  PublishDiagnosticsNotification,
  type PublishDiagnosticsParams,
  StreamMessageReader,
  StreamMessageWriter,
  DidOpenTextDocumentNotification,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  ShutdownRequest,
  ExitNotification,
  ConfigurationRequest,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageserver-protocol/node';
import { repoRoot } from './fixtures';
import { SERVER_NODE_OPTIONS } from '../../server/src/nodeOptions';

/** The bundled language server (the `netfilter-language-server` bin) in a child process, spoken to over JSON-RPC on stdio. */
export class LspSession {
  readonly connection: ProtocolConnection;
  private readonly process: ChildProcess;
  private readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  /** Every publication of diagnostics, in order. */
  readonly published: PublishDiagnosticsParams[] = [];
  private readonly waiters: Array<() => void> = [];
  readonly stderr: string[] = [];
  /** Work-done progress the server reported, in order. */
  readonly progress: Array<{ kind: string; message?: string; percentage?: number; title?: string }> = [];
  settings: Record<string, unknown> = {};
  /** How long the client takes to answer the server's request for settings. */
  settingsDelayMs = 0;

  private constructor() {
    // Started as the client starts it.
    this.process = spawn(process.execPath, [...SERVER_NODE_OPTIONS, path.join(repoRoot, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.connection = createProtocolConnection(new StreamMessageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!));
    this.connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
      this.diagnostics.set(params.uri, params);
      this.published.push(params);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.connection.onRequest(ConfigurationRequest.type, async (params) => {
      if (this.settingsDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.settingsDelayMs));
      return params.items.map(() => this.settings);
    });
    this.connection.onRequest(WorkDoneProgressCreateRequest.type, () => undefined);
    this.connection.onNotification('$/progress', (params: { value: { kind: string; message?: string; percentage?: number; title?: string } }) => {
      this.progress.push(params.value);
    });
    this.connection.listen();
  }

  static async start(settings: Record<string, unknown> = {}, settingsDelayMs = 0): Promise<LspSession> {
    const session = new LspSession();
    session.settings = settings;
    session.settingsDelayMs = settingsDelayMs;
    await session.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      capabilities: { workspace: { configuration: true }, textDocument: { publishDiagnostics: { versionSupport: true } }, window: { workDoneProgress: true } },
      workspaceFolders: null,
    });
    await session.connection.sendNotification(InitializedNotification.type, {});
    return session;
  }

  async open(uri: string, text: string, version = 1): Promise<void> {
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'iptables-save', version, text } });
  }

  async change(uri: string, version: number, text: string): Promise<void> {
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  /** An edit as VS Code sends one while typing: text put in place of a range of one version. */
  async edit(uri: string, version: number, line: number, start: number, end: number, text: string): Promise<void> {
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version },
      contentChanges: [{ range: { start: { line, character: start }, end: { line, character: end } }, text }],
    });
  }

  async close(uri: string): Promise<void> {
    await this.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  /** Waits for the diagnostics the server publishes for this version of the document. */
  async diagnosticsFor(uri: string, version: number, timeoutMs = 10_000): Promise<Diagnostic[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const published = this.diagnostics.get(uri);
      if (published && (published.version === undefined || published.version >= version)) return published.diagnostics;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no diagnostics for ${uri} version ${version} within ${timeoutMs} ms; server stderr: ${this.stderr.join('')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  async stop(): Promise<void> {
    try {
      await this.connection.sendRequest(ShutdownRequest.type);
      await this.connection.sendNotification(ExitNotification.type);
    } finally {
      this.connection.dispose();
      this.process.kill();
    }
  }
}
