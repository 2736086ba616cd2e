import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CloseAction,
  type CloseHandlerResult,
  ErrorAction,
  type ErrorHandler,
  type ErrorHandlerResult,
  LanguageClient,
  type LanguageClientOptions,
  type Location as LspLocation,
  type Message,
  type ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import { SERVER_NODE_OPTIONS } from '../../server/src/nodeOptions';
import { ChainsView } from './chainsView';
import { Commands } from './commands';
import { type Dump, DumpTracker, LANGUAGE_ID, toRange } from './dumps';
import { LargeDumps } from './largeDumps';
import { PodInventorySource } from './pods';
import type { LanguageContribution } from './recognize';
import { ServicesView } from './servicesView';
import { DumpStatus } from './statusBar';

/** What activate() returns: the views' data, for the extension tests (test/electron). */
export interface NetfilterExplorerApi {
  servicesView: vscode.TreeDataProvider<unknown>;
  chainsView: vscode.TreeDataProvider<unknown>;
  /** The dump the views and the status bar show: its URI, version and (under 50 MB) its document. */
  readonly dump: Dump | undefined;
}

let client: LanguageClient | undefined;

/**
 * Restarts a language server that stopped, says so to the user once per session (the details
 * go to the output channel every time), and gives up after five stops within three minutes.
 */
class RestartingErrorHandler implements ErrorHandler {
  private readonly stops: number[] = [];
  private told = false;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  error(error: Error, message: Message | undefined, count: number | undefined): ErrorHandlerResult {
    this.log.error(`Language server connection error (${count ?? 1}): ${error.message}${message ? ` while handling ${JSON.stringify(message).slice(0, 200)}` : ''}`);
    return { action: (count ?? 1) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown };
  }

  closed(): CloseHandlerResult {
    const now = Date.now();
    this.stops.push(now);
    while (this.stops.length > 0 && now - this.stops[0]! > 3 * 60_000) this.stops.shift();
    if (this.stops.length > 5) {
      this.log.error('The language server stopped 5 times in 3 minutes; not restarting it.');
      return { action: CloseAction.DoNotRestart, message: 'The Netfilter Explorer language server keeps stopping and was not restarted. The output channel "Netfilter Explorer" shows why; reload the window to try again.' };
    }
    this.log.warn(`The language server stopped (${this.stops.length} time(s) in 3 minutes); restarting it.`);
    if (!this.told) {
      this.told = true;
      void vscode.window.showWarningMessage('The Netfilter Explorer language server stopped unexpectedly and was restarted.', 'Show Output').then((choice) => {
        if (choice) this.log.show(true);
      });
    }
    return { action: CloseAction.Restart, handled: true };
  }
}

/**
 * Wires everything and returns at once, without waiting for the language server: VS Code holds
 * the extension as activating (commands, views and their welcome content wait) until activate()
 * is done, and nothing here needs the server running first. The server starts meanwhile
 * (requests sent before wait for it); the pod inventory, which may be a 100 MB file at cluster
 * scale, is read and sent once it runs.
 */
export function activate(context: vscode.ExtensionContext): NetfilterExplorerApi {
  const serverModule = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: [...SERVER_NODE_OPTIONS] } },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: [...SERVER_NODE_OPTIONS, '--nolazy', '--inspect=6019'] } },
  };
  const outputChannel = vscode.window.createOutputChannel('Netfilter Explorer', { log: true });
  context.subscriptions.push(outputChannel);
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'iptables-save' }],
    synchronize: { configurationSection: 'netfilterExplorer' },
    outputChannel,
    errorHandler: new RestartingErrorHandler(outputChannel),
  };
  const languageClient = new LanguageClient('netfilterExplorer', 'Netfilter Explorer', serverOptions, clientOptions);
  client = languageClient;

  // Code lenses of the server carry plain LSP locations; the references peek wants VS Code's types.
  context.subscriptions.push(
    vscode.commands.registerCommand('netfilterExplorer.showReferences', (uri: string, position: { line: number; character: number }, locations: LspLocation[]) =>
      vscode.commands.executeCommand(
        'editor.action.showReferences',
        vscode.Uri.parse(uri),
        new vscode.Position(position.line, position.character),
        locations.map((l) => new vscode.Location(vscode.Uri.parse(l.uri), toRange(l.range))),
      ),
    ),
  );

  // The client shows and logs a failed start itself.
  const started = languageClient.start().then(
    () => true,
    (error: unknown) => {
      outputChannel.error(`The language server did not start: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    },
  );
  const language = ((context.extension.packageJSON as { contributes?: { languages?: Array<LanguageContribution & { id: string }> } }).contributes?.languages ?? []).find((l) => l.id === LANGUAGE_ID) ?? {};
  const large = new LargeDumps(languageClient, outputChannel, language);
  const tracker = new DumpTracker(languageClient, outputChannel, large);
  const servicesView = new ServicesView(tracker);
  const chainsView = new ChainsView(tracker);
  const commands = new Commands(tracker, servicesView, outputChannel);
  context.subscriptions.push(large, tracker, servicesView, chainsView, new DumpStatus(tracker), ...commands.register());

  const pods = new PodInventorySource(languageClient, outputChannel);
  context.subscriptions.push(pods, pods.onDidSend(() => tracker.refresh('pods')));

  void started.then((running) => {
    if (!running) return;
    // A restarted server knows only the documents the client opens again: give it the pods and
    // the dumps over 50 MB again, and have the views ask anew.
    context.subscriptions.push(
      languageClient.onDidChangeState(({ oldState, newState }) => {
        if (newState !== State.Running || oldState === State.Running) return;
        outputChannel.info('The language server is running again: sending it the pod inventory and the dumps read from disk.');
        void pods.resend();
        large.reopenAll();
        tracker.refresh();
      }),
    );
    return pods.loadFromSetting().catch((error: unknown) => outputChannel.warn(`Sending the pod inventory failed: ${String(error)}`));
  });
  return {
    servicesView,
    chainsView,
    get dump() {
      return tracker.dump;
    },
  };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
