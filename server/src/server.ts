import {
  type CallHierarchyIncomingCallsParams,
  type CallHierarchyItem,
  type CallHierarchyOutgoingCallsParams,
  type CancellationToken,
  CodeLensRefreshRequest,
  type Connection,
  DidChangeConfigurationNotification,
  ErrorCodes,
  type InitializeResult,
  LSPErrorCodes,
  MessageType,
  ResponseError,
  ShowMessageNotification,
  TextDocumentSyncKind,
  TextDocuments,
} from 'vscode-languageserver';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { AnalysisCache } from './analysisCache';
import { type Analysis, indexLines } from './core/analysis';
import type { DumpForm } from './core/ruleset';
import { callersCutMessage, incomingCalls, outgoingCalls, prepareCallHierarchy } from './features/callHierarchy';
import { chainGroup, chainRules, chainsResult, findChains } from './features/chains';
import { completion } from './features/completion';
import { diagnostics, type DiagnosticSettings } from './features/diagnostics';
import { foldingRanges } from './features/folding';
import { hover } from './features/hover';
import { definition, documentHighlights, references, referencesCutMessage } from './features/navigation';
import { prepareRename, rename } from './features/rename';
import { codeLenses, inlayHints } from './features/services';
import { serviceAt, serviceDetails, serviceList, servicesTree } from './features/servicesTree';
import { documentSymbols, workspaceSymbols } from './features/symbols';
import { InventoryError, parsePodInventory, type PodInventory } from './kube/inventory';
import { serviceModelOf } from './kube';
import { ParseThread } from './parseThread';
import {
  ChainGroupRequest,
  ChainRulesRequest,
  ChainsRequest,
  CloseLargeFileNotification,
  FindChainsRequest,
  type LargeFileResult,
  OpenLargeFileRequest,
  PodInventoryNotification,
  ServiceAtRequest,
  ServiceListRequest,
  ServiceRequest,
  ServicesRequest,
} from './protocol';

/** Settings under `netfilterExplorer.*` that the server reads. */
interface ServerSettings {
  diagnostics?: { unusedChains?: boolean; partialRestoreFiles?: 'auto' | DumpForm };
  hints?: { endpointShares?: boolean };
}

/** Diagnostics wait this long after the last edit, so a burst of keystrokes (a held key, an autocompleted word) is analysed once. */
const DIAGNOSTICS_DELAY_MS = 25;
/** Dumps read from disk may be this large; a 1,000,000-line dump is about 110 MB. */
const MAX_DISK_DUMP_BYTES = 512 * 1024 * 1024;
/** Requests slower than this are logged with their timing. */
const SLOW_REQUEST_MS = 200;
/** How long an opened dump waits for the settings to be read before it is analysed with the defaults. */
const SETTINGS_WAIT_MS = 2000;

export function startServer(connection: Connection): void {
  const cache = new AnalysisCache();
  // The parse's helper thread, bundled beside the server; started once the client is ready.
  const parseThread = new ParseThread(path.join(__dirname, 'parseWorker.js'));
  cache.rows = parseThread;
  let threadProblemLogged: string | undefined;
  const documents = new TextDocuments(cache.documentsConfiguration());
  /** Dumps read from disk because the editor does not hand them over (over 50 MB). */
  const diskDocuments = new Map<string, TextDocument>();
  const documentFor = (uri: string): TextDocument | undefined => documents.get(uri) ?? diskDocuments.get(uri);
  let diagnosticSettings: DiagnosticSettings = { unusedChains: true };
  let shareHints = true;
  let pods: PodInventory | undefined;
  let canPullConfiguration = false;
  let canRegisterConfiguration = false;
  let canRefreshInlayHints = false;
  let canRefreshCodeLenses = false;
  const pendingDiagnostics = new Map<string, NodeJS.Timeout>();

  /**
   * The one wrapper every request goes through: finds the document and its analysis, honours
   * cancellation, turns an exception into a ResponseError the client shows, and logs slow requests.
   */
  function handle<P extends { textDocument: { uri: string } }, R>(
    name: string,
    run: (analysis: Analysis, params: P, document: TextDocument) => R,
  ): (params: P, token: CancellationToken) => Promise<R | null | ResponseError<void>> {
    const cancelled = () => new ResponseError(LSPErrorCodes.RequestCancelled, `${name} cancelled`);
    return async (params, token) => {
      const document = documentFor(params.textDocument.uri);
      if (!document) return null;
      if (token.isCancellationRequested) return cancelled();
      const started = performance.now();
      try {
        const fresh = cache.peek(document.uri, document.version) === undefined;
        const analysis = cache.get(document);
        // Analysing took a while: let a cancellation or a newer version that arrived meanwhile be seen.
        if (fresh) await nextTurn();
        if (token.isCancellationRequested) return cancelled();
        if (documentFor(document.uri)?.version !== document.version) {
          return new ResponseError(LSPErrorCodes.ContentModified, `${name}: the document changed while it was analysed; ask again.`);
        }
        return run(analysis, params, document);
      } catch (error) {
        if (error instanceof ResponseError) return error;
        connection.console.error(`${name} failed on ${document.uri} (version ${document.version}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return new ResponseError(ErrorCodes.InternalError, `Netfilter Explorer could not answer ${name}: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        const elapsed = performance.now() - started;
        if (elapsed > SLOW_REQUEST_MS) connection.console.log(`${name} took ${elapsed.toFixed(0)} ms on ${document.uri}`);
      }
    };
  }

  function publishDiagnostics(document: TextDocument): void {
    try {
      const analysis = cache.get(document);
      // A newer version may have arrived while this one was analysed; it publishes its own.
      if (documents.get(document.uri)?.version !== document.version) return;
      connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics: diagnostics(analysis, diagnosticSettings) }).catch(logFailure('publishing diagnostics'));
      afterPublishing(analysis);
    } catch (error) {
      connection.console.error(`Analysis of ${document.uri} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  /**
   * Once an analysis's diagnostics are out, of an open document or a dump read from disk:
   * says once why the parse went without its helper thread, if it did, and makes the indexes.
   */
  function afterPublishing(analysis: Analysis): void {
    if (parseThread.lastProblem !== threadProblemLogged) {
      threadProblemLogged = parseThread.lastProblem;
      connection.console.warn(`Large dumps are parsed on one thread: ${threadProblemLogged}.`);
    }
    // The indexes by line, made before the user hovers or types.
    setImmediate(() => {
      try {
        indexLines(analysis);
      } catch (error) {
        logFailure('indexing lines')(error);
      }
    });
  }

  function scheduleDiagnostics(document: TextDocument, delay: number): void {
    clearTimeout(pendingDiagnostics.get(document.uri));
    pendingDiagnostics.set(document.uri, setTimeout(() => {
      pendingDiagnostics.delete(document.uri);
      const current = documents.get(document.uri);
      if (current) publishDiagnostics(current);
    }, delay));
  }

  async function loadSettings(): Promise<void> {
    if (!canPullConfiguration) return;
    const settings = ((await connection.workspace.getConfiguration('netfilterExplorer')) ?? {}) as ServerSettings;
    diagnosticSettings = { unusedChains: settings.diagnostics?.unusedChains ?? true };
    const hints = settings.hints?.endpointShares ?? true;
    if (hints !== shareHints) {
      shareHints = hints;
      refreshDerivedViews();
    }
    const form = settings.diagnostics?.partialRestoreFiles;
    const next = form === 'save' || form === 'restore' ? form : undefined;
    if (next !== cache.form) {
      cache.form = next;
      cache.clear();
    }
  }

  /** An information message for the user, as a notification (nothing to answer). */
  function tell(message: string): void {
    connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Info, message }).catch(logFailure('showing a message'));
  }

  function logFailure(what: string): (error: unknown) => void {
    return (error) => connection.console.error(`${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }

  /** Asks the client to fetch inlay hints and code lenses again after pods or settings changed. */
  function refreshDerivedViews(): void {
    if (canRefreshInlayHints) connection.languages.inlayHint.refresh().catch(logFailure('refreshing inlay hints'));
    if (canRefreshCodeLenses) connection.sendRequest(CodeLensRefreshRequest.type).catch(logFailure('refreshing code lenses'));
  }

  /**
   * Whether the settings have been read once. Until then an opened dump waits for them (at most
   * SETTINGS_WAIT_MS): its first analysis and diagnostics follow the user's settings, instead of
   * being made with the defaults and again (for a large dump, a second full analysis) when the
   * settings arrive.
   */
  let settingsRead = false;

  function reloadSettings(): void {
    loadSettings()
      .catch(logFailure('reading the netfilterExplorer settings'))
      .finally(() => {
        settingsRead = true;
        documents.all().forEach((d) => scheduleDiagnostics(d, 0));
      });
  }

  connection.onInitialize((params): InitializeResult => {
    canPullConfiguration = params.capabilities.workspace?.configuration === true;
    canRegisterConfiguration = params.capabilities.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    canRefreshInlayHints = params.capabilities.workspace?.inlayHint?.refreshSupport === true;
    canRefreshCodeLenses = params.capabilities.workspace?.codeLens?.refreshSupport === true;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        definitionProvider: true,
        referencesProvider: true,
        documentHighlightProvider: true,
        documentSymbolProvider: { label: 'Netfilter' },
        workspaceSymbolProvider: true,
        hoverProvider: true,
        callHierarchyProvider: true,
        completionProvider: { triggerCharacters: [' '] },
        renameProvider: { prepareProvider: true },
        foldingRangeProvider: true,
        inlayHintProvider: true,
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: 'netfilter-language-server', version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    parseThread.start();
    if (canRegisterConfiguration) {
      connection.client.register(DidChangeConfigurationNotification.type, { section: 'netfilterExplorer' }).catch(logFailure('registering for settings changes'));
    }
    reloadSettings();
  });

  connection.onDidChangeConfiguration(reloadSettings);
  connection.onShutdown(() => parseThread.stop());

  // TextDocuments reports an opened document as changed as well, right after: the open is analysed at once, not after the typing delay.
  let opened: { uri: string; version: number } | undefined;
  documents.onDidOpen((e) => {
    opened = { uri: e.document.uri, version: e.document.version };
    scheduleDiagnostics(e.document, settingsRead ? 0 : SETTINGS_WAIT_MS);
  });
  documents.onDidChangeContent((e) => {
    const isOpen = e.document.uri === opened?.uri && e.document.version === opened.version;
    opened = undefined;
    if (!isOpen) scheduleDiagnostics(e.document, DIAGNOSTICS_DELAY_MS);
  });
  documents.onDidClose((e) => {
    clearTimeout(pendingDiagnostics.get(e.document.uri));
    pendingDiagnostics.delete(e.document.uri);
    cache.forget(e.document.uri);
    connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] }).catch(logFailure('publishing diagnostics'));
  });

  connection.onDefinition(handle('definition', (a, p, d) => definition(a, d.uri, p.position)));
  connection.onReferences(handle('references', (a, p, d) => {
    const answer = references(a, d.uri, p.position, p.context.includeDeclaration);
    // A chain named in 100,000 places gets the places nearest the cursor, and the user is told so.
    const cut = answer && referencesCutMessage(answer);
    if (cut) tell(cut);
    return answer?.locations ?? null;
  }));
  connection.onDocumentHighlight(handle('documentHighlight', (a, p) => documentHighlights(a, p.position)));
  connection.onDocumentSymbol(handle('documentSymbol', (a) => documentSymbols(a)));
  connection.onHover(handle('hover', (a, p) => hover(a, p.position, pods)));
  connection.languages.inlayHint.on(handle('inlayHint', (a, p) => (shareHints ? inlayHints(a, p.range) : [])));
  connection.onCodeLens(handle('codeLens', (a, _p, d) => codeLenses(a, d.uri, pods)));
  connection.onRequest(ServicesRequest, handle('services', (a, p, d) => servicesTree(a, d.uri, d.version, pods, p.filter)));
  connection.onRequest(ServiceListRequest, handle('serviceList', (a, p, d) => serviceList(a, d.uri, d.version, pods, p)));
  connection.onRequest(ServiceRequest, handle('service', (a, p) => serviceDetails(a, pods, p.id)));
  connection.onRequest(ServiceAtRequest, handle('serviceAt', (a, p) => serviceAt(a, pods, p.line, p.filter)));
  connection.onRequest(ChainsRequest, handle('chains', (a, _p, d) => chainsResult(a, d.uri, d.version, pods)));
  connection.onRequest(ChainGroupRequest, handle('chainGroup', (a, p) => chainGroup(a, pods, p.table, p.key)));
  connection.onRequest(FindChainsRequest, handle('findChains', (a, p) => findChains(a, pods, p.query, p.limit, p.exact)));
  connection.onRequest(ChainRulesRequest, handle('chainRules', (a, p) => chainRules(a, p.table, p.chain, pods)));
  connection.onNotification(PodInventoryNotification, (params) => {
    if (params.source === null || params.text === undefined) {
      pods = undefined;
    } else {
      try {
        pods = parsePodInventory(params.text, params.source);
        connection.console.info(`Pod inventory: ${pods.podCount} pods with ${pods.byIp.size} IPs from ${params.source}.`);
      } catch (error) {
        pods = undefined;
        const message = error instanceof InventoryError ? error.message : `Could not read the pod inventory ${params.source}: ${String(error)}`;
        connection.window.showWarningMessage(message);
      }
    }
    refreshDerivedViews();
  });
  connection.onCompletion(handle('completion', (a, p, d) => {
    const line = d.getText({ start: { line: p.position.line, character: 0 }, end: { line: p.position.line + 1, character: 0 } }).replace(/\r?\n$/, '');
    return completion(a, p.position, line);
  }));
  connection.onPrepareRename(handle('prepareRename', (a, p) => prepareRename(a, p.position)));
  connection.onRenameRequest(handle('rename', (a, p, d) => rename(a, d.uri, p.position, p.newName)));
  connection.onFoldingRanges(handle('foldingRange', (a) => foldingRanges(a)));
  connection.languages.callHierarchy.onPrepare(handle('prepareCallHierarchy', (a, p, d) => prepareCallHierarchy(a, d.uri, p.position)));
  // Call hierarchy follow-ups name the document through the item they expand.
  const byItem = <P extends { item: CallHierarchyItem }>(params: P) => ({ ...params, textDocument: { uri: params.item.uri } });
  const incoming = handle('incomingCalls', (a, p: CallHierarchyIncomingCallsParams & { textDocument: { uri: string } }, d) => {
    const answer = incomingCalls(a, d.uri, p.item);
    const cut = answer && callersCutMessage(answer);
    if (cut) tell(cut);
    return answer?.calls ?? null;
  });
  const outgoing = handle('outgoingCalls', (a, p: CallHierarchyOutgoingCallsParams & { textDocument: { uri: string } }, d) => outgoingCalls(a, d.uri, p.item));
  connection.languages.callHierarchy.onIncomingCalls((p, token) => incoming(byItem(p), token));
  connection.languages.callHierarchy.onOutgoingCalls((p, token) => outgoing(byItem(p), token));
  connection.onRequest(OpenLargeFileRequest, async (params) => openLargeFile(params.uri));
  connection.onNotification(CloseLargeFileNotification, (params) => {
    diskDocuments.delete(params.uri);
    cache.forget(params.uri);
    connection.sendDiagnostics({ uri: params.uri, diagnostics: [] }).catch(logFailure('clearing diagnostics'));
  });

  async function openLargeFile(uri: string): Promise<LargeFileResult> {
    if (!uri.startsWith('file:')) throw new ResponseError(ErrorCodes.InvalidParams, `Only files on disk can be read: ${uri}`);
    const path = fileURLToPath(uri);
    const size = (await fs.promises.stat(path)).size;
    if (size > MAX_DISK_DUMP_BYTES) {
      throw new ResponseError(ErrorCodes.InvalidParams, `${path} is ${(size / 1e6).toFixed(0)} MB; Netfilter Explorer reads dumps of at most ${MAX_DISK_DUMP_BYTES / 1e6} MB.`);
    }
    const progress = await connection.window.createWorkDoneProgress();
    const step = async (percentage: number, message: string) => {
      progress.report(percentage, message);
      // Let the progress message go out before the next synchronous step.
      await nextTurn();
    };
    progress.begin(`Netfilter Explorer: ${path.split('/').pop()}`, 0, `reading ${(size / 1e6).toFixed(0)} MB`, false);
    try {
      const text = await fs.promises.readFile(path, 'utf8');
      await step(25, 'reading rules and chains');
      const document = TextDocument.create(uri, 'iptables-save', (diskDocuments.get(uri)?.version ?? 0) + 1, text);
      diskDocuments.set(uri, document);
      const analysis = cache.get(document);
      await step(70, 'following services to their endpoints');
      const model = serviceModelOf(analysis);
      await step(95, 'publishing problems');
      const published = diagnostics(analysis, diagnosticSettings);
      connection.sendDiagnostics({ uri, version: document.version, diagnostics: published }).catch(logFailure('publishing diagnostics'));
      afterPublishing(analysis);
      return { uri, lines: analysis.ruleset.lineCount, megabytes: size / 1e6, services: model.services.length, problems: published.length };
    } finally {
      progress.done();
    }
  }

  connection.onWorkspaceSymbol((params) => {
    const open = [...documents.all(), ...diskDocuments.values()].map((d): [string, Analysis] => [d.uri, cache.get(d)]);
    return workspaceSymbols(open, params.query);
  });

  documents.listen(connection);
  connection.listen();
}
