import * as vscode from 'vscode';
import type { LanguageClient, Range } from 'vscode-languageclient/node';
import {
  ChainGroupRequest,
  type ChainItem,
  type ChainsResult,
  ChainRulesRequest,
  ChainsRequest,
  type FindChainsParams,
  type FindChainsResult,
  FindChainsRequest,
  type RuleItem,
  type ServiceAtResult,
  ServiceAtRequest,
  type ServiceItem,
  type ServiceListParams,
  type ServiceListResult,
  ServiceListRequest,
  ServiceRequest,
  type ServicesResult,
  ServicesRequest,
} from '../../server/src/protocol';
import { activeTabUri, hasTab, LargeDump, type LargeDumps } from './largeDumps';

export const LANGUAGE_ID = 'iptables-save';
export const DEFAULT_REFRESH_DELAY_MS = 300;
/** Answers slower than this are logged with their time (output channel "Netfilter Explorer"). */
const SLOW_REQUEST_MS = 500;

/** Why the views should look again: another dump, an edit (debounced) or a new read from disk, new pods, or Refresh. */
export type DumpChange = 'document' | 'edit' | 'pods' | 'refresh';

export function isDump(document: vscode.TextDocument | undefined): document is vscode.TextDocument {
  return document?.languageId === LANGUAGE_ID;
}

/** A dump open in the editor, as VS Code hands it to extensions. */
export class DocumentDump {
  constructor(readonly document: vscode.TextDocument) {}

  get uri(): vscode.Uri {
    return this.document.uri;
  }

  get version(): number {
    return this.document.version;
  }
}

/**
 * A dump the views can show: a URI and a version, with the TextDocument when VS Code hands one
 * over; a dump over 50 MB (LargeDump) has none, the language server reads it from disk.
 */
export type Dump = DocumentDump | LargeDump;

/** A protocol range as VS Code's. */
export function toRange(range: Range): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

/**
 * The dump the views show: the active tab's when it is a dump (a document, or a file over 50 MB
 * the server reads from disk); the last such dump while it stays open otherwise. Fetches the
 * server's answers for it once per version (lazily: chains only when asked), and announces
 * changes after edits settle (debounced).
 */
export class DumpTracker implements vscode.Disposable {
  private current: Dump | undefined;
  private readonly documentDumps = new WeakMap<vscode.TextDocument, DocumentDump>();
  /** Bumped when the server's answers change without an edit: pods (endpoint names in both views) or Refresh. */
  private generation = 0;
  /**
   * The server's answers about the tracked dump (its services tree and chains, a namespace's
   * services, a service, a chain's rules), each asked once for `answersKey`: a version and generation.
   */
  private readonly answers = new Map<string, Promise<unknown>>();
  private answersKey = '';
  /** A services tree (without a filter) arrived for the tracked dump, maybe for an older version. */
  private seenServices = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly emitter = new vscode.EventEmitter<DumpChange>();
  private readonly disposables: vscode.Disposable[] = [this.emitter];

  /** The dump changed, was edited (after the delay) or read again, or some of its answers changed. */
  readonly onDidChange = this.emitter.event;

  constructor(
    private readonly client: LanguageClient,
    private readonly log: vscode.LogOutputChannel,
    readonly large: LargeDumps,
  ) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.follow()),
      vscode.window.tabGroups.onDidChangeTabs(() => this.follow()),
      vscode.window.tabGroups.onDidChangeTabGroups(() => this.follow()),
      vscode.workspace.onDidOpenTextDocument(() => this.follow()),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (d === this.current?.document) this.follow(true);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === this.current?.document && e.contentChanges.length > 0) this.scheduleRefresh();
      }),
      large.onDidChange(({ dump, what }) => {
        if (what === 'closed') {
          if (dump === this.current) this.follow(true);
        } else if (what === 'reread' && dump === this.current) {
          clearTimeout(this.timer);
          this.emitter.fire('edit');
        } else {
          this.follow();
        }
      }),
    );
    this.follow();
  }

  /** The dump the views and the status bar show. */
  get dump(): Dump | undefined {
    return this.current;
  }

  /** The dump of an open document (the same object for the same document). */
  dumpOf(document: vscode.TextDocument): DocumentDump {
    let dump = this.documentDumps.get(document);
    if (!dump) this.documentDumps.set(document, (dump = new DocumentDump(document)));
    return dump;
  }

  /** The dump shown in the active tab or editor, if any. */
  activeDump(): Dump | undefined {
    const tab = activeTabUri();
    const large = tab && this.large.get(tab);
    if (large) return large;
    const active = vscode.window.activeTextEditor?.document;
    return isDump(active) ? this.dumpOf(active) : undefined;
  }

  private isOpen(dump: Dump): boolean {
    return dump instanceof LargeDump ? this.large.get(dump.uri) === dump : !dump.document.isClosed && isDump(dump.document);
  }

  private follow(currentClosed = false): void {
    let next = this.activeDump();
    if (!next && this.current && !currentClosed && this.isOpen(this.current)) next = this.current;
    if (!next) {
      const visible = vscode.window.visibleTextEditors.map((e) => e.document).find(isDump);
      next = visible ? this.dumpOf(visible) : this.large.all().find((d) => hasTab(d.uri));
    }
    if (next === this.current) return;
    this.current = next;
    this.answers.clear();
    this.seenServices = false;
    void vscode.commands.executeCommand('setContext', 'netfilterExplorer.dumpOpen', next !== undefined);
    clearTimeout(this.timer);
    this.emitter.fire('document');
  }

  private scheduleRefresh(): void {
    clearTimeout(this.timer);
    const delay = vscode.workspace.getConfiguration('netfilterExplorer').get<number>('views.refreshDelay', DEFAULT_REFRESH_DELAY_MS);
    this.timer = setTimeout(() => this.emitter.fire('edit'), Math.max(0, Math.min(delay, 10_000)));
  }

  /** Forgets the answers and announces a change: all of them (Refresh), or those about endpoints (the pod inventory changed: pod names are in both views). */
  refresh(what: 'all' | 'pods' = 'all'): void {
    this.generation++;
    if (what === 'all') clearTimeout(this.timer);
    this.emitter.fire(what === 'all' ? 'refresh' : 'pods');
  }

  private async request<R>(what: string, run: () => Promise<R | null>): Promise<R | undefined> {
    const started = Date.now();
    try {
      const result = (await run()) ?? undefined;
      const elapsed = Date.now() - started;
      if (elapsed > SLOW_REQUEST_MS) this.log.info(`${what}: ${elapsed} ms`);
      return result;
    } catch (error) {
      this.log.warn(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  /** Asks the server about `dump`: a dump read from disk once the server has read it. */
  private ask<R>(dump: Dump, what: string, send: (uri: string) => Promise<R | null>): Promise<R | undefined> {
    return this.request(what, async () => {
      // Not read (yet), or closed while it was read: nothing to ask.
      if (dump instanceof LargeDump && ((await dump.ready) === undefined || this.large.get(dump.uri) !== dump)) return null;
      return send(this.client.code2ProtocolConverter.asUri(dump.uri));
    });
  }

  /**
   * The namespaces of the dump's services with their counts (the tracked dump by default): the
   * Services view's top level, and the status bar's figures. Without a filter, asked once per
   * version; with one, every time (the server keeps its last filter).
   */
  servicesTree(filter = '', dump: Dump | undefined = this.current): Promise<ServicesResult | undefined> {
    const send = (uri: string) => this.client.sendRequest(ServicesRequest, { textDocument: { uri }, ...(filter ? { filter } : {}) });
    if (filter) return dump ? this.ask(dump, `services matching "${filter}"`, send) : Promise.resolve(undefined);
    const tree = this.answer(dump, 'services', 'services', send);
    void tree.then((value) => {
      // An answer for the tracked dump's current version.
      if (value !== undefined && this.answers.get('services') === tree) this.seenServices = true;
    });
    return tree;
  }

  /** Whether a services tree (without a filter) has arrived for the tracked dump, maybe for an older version; without waiting (while a newer version is on its way too). */
  servicesSeen(): boolean {
    return this.seenServices;
  }

  /**
   * An answer about the dump, asked once per version (and Refresh or pod inventory) when it is
   * the tracked dump, every time otherwise: `id` names the question.
   */
  private answer<R>(dump: Dump | undefined, id: string, what: string, send: (uri: string) => Promise<R | null>): Promise<R | undefined> {
    if (!dump) return Promise.resolve(undefined);
    if (dump !== this.current) return this.ask(dump, what, send);
    const key = `${dump.uri.toString()}@${dump.version}#${this.generation}`;
    if (key !== this.answersKey) {
      this.answers.clear();
      this.answersKey = key;
    }
    let promise = this.answers.get(id) as Promise<R | undefined> | undefined;
    if (!promise) {
      const asked = this.ask(dump, what, send);
      this.answers.set(id, asked);
      void asked.then((value) => {
        // No answer (an error, or the server did not know the document yet): ask again next time.
        if (value === undefined && this.answers.get(id) === asked) this.answers.delete(id);
      });
      promise = asked;
    }
    return promise;
  }

  /** Services of one namespace (or all) that match a filter, a page of them when `limit` is given. */
  serviceList(params: Omit<ServiceListParams, 'textDocument'>, dump: Dump | undefined = this.current): Promise<ServiceListResult | undefined> {
    const id = `list\u0000${params.namespace ?? '\u0001'}\u0000${params.filter ?? ''}\u0000${params.offset ?? 0}\u0000${params.limit ?? ''}`;
    const what = params.namespace === undefined ? 'service list' : `services of ${params.namespace}`;
    return this.answer(dump, id, what, (uri) => this.client.sendRequest(ServiceListRequest, { textDocument: { uri }, ...params }));
  }

  /** One service with its entries, endpoints and pods, asked when it is expanded, hovered or copied. */
  service(id: string, dump: Dump | undefined = this.current): Promise<ServiceItem | undefined> {
    return this.answer(dump, `service\u0000${id}`, `service ${id}`, (uri) => this.client.sendRequest(ServiceRequest, { textDocument: { uri }, id }));
  }

  /** The service (entry, endpoint) a line of a dump belongs to; `index` places it in the view filtered by `filter`. */
  serviceAt(dump: Dump, line: number, filter: string): Promise<ServiceAtResult | undefined> {
    return this.ask(dump, `service at line ${line + 1}`, (uri) => this.client.sendRequest(ServiceAtRequest, { textDocument: { uri }, line, ...(filter ? { filter } : {}) }));
  }

  chainsResult(dump: Dump | undefined = this.current): Promise<ChainsResult | undefined> {
    return this.answer(dump, 'chains', 'chains', (uri) => this.client.sendRequest(ChainsRequest, { textDocument: { uri } }));
  }

  /** The chains of a group of a long table, asked when it is expanded. */
  chainGroup(table: string, key: string): Promise<ChainItem[] | undefined> {
    return this.answer(this.current, `group\u0000${table}\u0000${key}`, `chains of ${table}/${key}`, (uri) => this.client.sendRequest(ChainGroupRequest, { textDocument: { uri }, table, key }));
  }

  /** Chains matching what is typed in Go to Chain…, or the one chain named. */
  findChains(dump: Dump, params: Omit<FindChainsParams, 'textDocument'>): Promise<FindChainsResult | undefined> {
    return this.ask(dump, `chains matching "${params.query}"`, (uri) => this.client.sendRequest(FindChainsRequest, { textDocument: { uri }, ...params }));
  }

  /** The rules of one chain, fetched when it is expanded; shared by every place the chain is expanded. */
  chainRules(table: string, chain: string): Promise<RuleItem[] | undefined> {
    return this.answer(this.current, `rules\u0000${table}\u0000${chain}`, `rules of ${table}/${chain}`, (uri) => this.client.sendRequest(ChainRulesRequest, { textDocument: { uri }, table, chain }));
  }

  /** What the views say instead of the dump's contents while it is read from disk, or when that failed. */
  readingMessage(): string | undefined {
    const dump = this.current;
    if (!(dump instanceof LargeDump)) return undefined;
    if (dump.reading) return `Reading ${dump.name} (${dump.megabytes}) from disk: VS Code does not hand files over 50 MB to extensions, so the language server reads it…`;
    if (dump.error) return `The language server could not read ${dump.name}: ${dump.error}`;
    return undefined;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * Shows `range` of a dump in an editor and selects it (or puts the cursor at its start). A dump
 * over 50 MB has no TextDocument to show: it is opened by its URI, with the selection.
 */
export async function revealRange(target: vscode.Uri | Dump, range: vscode.Range, options: { preserveFocus?: boolean; selectWhole?: boolean } = {}): Promise<void> {
  const uri = target instanceof vscode.Uri ? target : target.uri;
  const selection = options.selectWhole === false ? new vscode.Range(range.start, range.start) : range;
  if (target instanceof LargeDump) {
    await vscode.commands.executeCommand('vscode.open', uri, { selection, preview: false, preserveFocus: options.preserveFocus ?? false } satisfies vscode.TextDocumentShowOptions);
    return;
  }
  const show = { preserveFocus: options.preserveFocus ?? false, preview: false };
  const editor = target instanceof DocumentDump ? await vscode.window.showTextDocument(target.document, show) : await vscode.window.showTextDocument(uri, show);
  editor.selection = new vscode.Selection(selection.start, selection.end);
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}
