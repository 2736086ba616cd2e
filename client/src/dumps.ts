import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  type ChainsResult,
  ChainRulesRequest,
  ChainsRequest,
  type RuleItem,
  ServicesRequest,
} from '../../server/src/protocol';
import { ServiceIndex } from './model';

export const LANGUAGE_ID = 'iptables-save';
export const DEFAULT_REFRESH_DELAY_MS = 300;
/** Answers slower than this are logged with their time (output channel "Netfilter Explorer"). */
const SLOW_REQUEST_MS = 500;

/** Why the views should look again: another document, an edit (debounced), new pods, or Refresh. */
export type DumpChange = 'document' | 'edit' | 'pods' | 'refresh';

export function isDump(document: vscode.TextDocument | undefined): document is vscode.TextDocument {
  return document?.languageId === LANGUAGE_ID;
}

/** A protocol range as VS Code's. */
export function toRange(range: { start: { line: number; character: number }; end: { line: number; character: number } }): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

/** One answer of the server for one state of the document (version and pod inventory). */
class Cached<T> {
  private key: string | undefined;
  private promise: Promise<T | undefined> | undefined;
  private settled: T | undefined;
  private settledKey: string | undefined;

  get(key: string, fetch: () => Promise<T | undefined>): Promise<T | undefined> {
    if (this.key !== key || !this.promise) {
      this.key = key;
      const promise = fetch().then((value) => {
        if (this.key === key && value !== undefined) {
          this.settled = value;
          this.settledKey = key;
        } else if (this.key === key) {
          // No answer (an error, or the server did not know the document yet): ask again next time.
          this.key = undefined;
          this.promise = undefined;
        }
        return value;
      });
      this.promise = promise;
    }
    return this.promise;
  }

  /** The last answer that arrived, and whether it is for `key`. */
  last(key: string): { value: T; current: boolean } | undefined {
    return this.settled === undefined ? undefined : { value: this.settled, current: this.settledKey === key };
  }

  clear(): void {
    this.key = undefined;
    this.promise = undefined;
    this.settled = undefined;
    this.settledKey = undefined;
  }
}

/**
 * The dump the views show: the active editor's document when it is a dump; the last such
 * document while it stays open otherwise. Fetches the server's answers for it once per version
 * (lazily: chains only when asked), and announces changes after edits settle (debounced).
 */
export class DumpTracker implements vscode.Disposable {
  private current: vscode.TextDocument | undefined;
  /** Bumped when the server's answers change without an edit: pods (services only) or Refresh (all). */
  private servicesGeneration = 0;
  private chainsGeneration = 0;
  private readonly services = new Cached<ServiceIndex>();
  private readonly chains = new Cached<ChainsResult>();
  private rules = new Map<string, Promise<RuleItem[] | undefined>>();
  private rulesKey = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly emitter = new vscode.EventEmitter<DumpChange>();
  private readonly disposables: vscode.Disposable[] = [this.emitter];

  /** The document changed, was edited (after the delay), or some of its answers changed. */
  readonly onDidChange = this.emitter.event;

  constructor(private readonly client: LanguageClient, private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.follow()),
      vscode.workspace.onDidOpenTextDocument(() => this.follow()),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (d === this.current) this.follow(true);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === this.current && e.contentChanges.length > 0) this.scheduleRefresh();
      }),
    );
    this.follow();
  }

  get document(): vscode.TextDocument | undefined {
    return this.current;
  }

  private follow(currentClosed = false): void {
    const active = vscode.window.activeTextEditor?.document;
    let next: vscode.TextDocument | undefined;
    if (isDump(active)) next = active;
    else if (this.current && !currentClosed && !this.current.isClosed && isDump(this.current)) next = this.current;
    else next = vscode.window.visibleTextEditors.map((e) => e.document).find(isDump);
    if (next === this.current) return;
    this.current = next;
    this.resetCaches();
    void vscode.commands.executeCommand('setContext', 'netfilterExplorer.dumpOpen', next !== undefined);
    clearTimeout(this.timer);
    this.emitter.fire('document');
  }

  private resetCaches(): void {
    this.services.clear();
    this.chains.clear();
    this.rules.clear();
  }

  private scheduleRefresh(): void {
    clearTimeout(this.timer);
    const delay = vscode.workspace.getConfiguration('netfilterExplorer').get<number>('views.refreshDelay', DEFAULT_REFRESH_DELAY_MS);
    this.timer = setTimeout(() => this.emitter.fire('edit'), Math.max(0, Math.min(delay, 10_000)));
  }

  /** Forgets the answers and announces a change: all of them (Refresh), or those about endpoints (the pod inventory changed). */
  refresh(what: 'all' | 'pods' = 'all'): void {
    this.servicesGeneration++;
    if (what === 'all') this.chainsGeneration++;
    if (what === 'all') clearTimeout(this.timer);
    this.emitter.fire(what === 'all' ? 'refresh' : 'pods');
  }

  private key(document: vscode.TextDocument, generation = this.servicesGeneration): string {
    return `${document.uri.toString()}@${document.version}#${generation}`;
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

  /** The services of the document (the tracked dump by default), grouped for the view. */
  servicesIndex(document: vscode.TextDocument | undefined = this.current): Promise<ServiceIndex | undefined> {
    if (!document) return Promise.resolve(undefined);
    const fetch = () =>
      this.request('services', async () => {
        const result = await this.client.sendRequest(ServicesRequest, { textDocument: { uri: this.client.code2ProtocolConverter.asUri(document.uri) } });
        return result ? new ServiceIndex(result) : null;
      });
    if (document !== this.current) return fetch();
    return this.services.get(this.key(document), fetch);
  }

  /** The last services that arrived for the tracked dump, without waiting; `current` is false while a newer version is on its way. */
  lastServices(): { value: ServiceIndex; current: boolean } | undefined {
    return this.current ? this.services.last(this.key(this.current)) : undefined;
  }

  chainsResult(document: vscode.TextDocument | undefined = this.current): Promise<ChainsResult | undefined> {
    if (!document) return Promise.resolve(undefined);
    const fetch = () => this.request('chains', () => this.client.sendRequest(ChainsRequest, { textDocument: { uri: this.client.code2ProtocolConverter.asUri(document.uri) } }));
    if (document !== this.current) return fetch();
    return this.chains.get(this.key(document, this.chainsGeneration), fetch);
  }

  /** The rules of one chain, fetched when it is expanded; shared by every place the chain is expanded. */
  chainRules(table: string, chain: string): Promise<RuleItem[] | undefined> {
    const document = this.current;
    if (!document) return Promise.resolve(undefined);
    const key = this.key(document, this.chainsGeneration);
    if (key !== this.rulesKey) {
      this.rules = new Map();
      this.rulesKey = key;
    }
    const id = `${table}\u0000${chain}`;
    let promise = this.rules.get(id);
    if (!promise) {
      promise = this.request(`rules of ${table}/${chain}`, () => this.client.sendRequest(ChainRulesRequest, { textDocument: { uri: this.client.code2ProtocolConverter.asUri(document.uri) }, table, chain }));
      this.rules.set(id, promise);
    }
    return promise;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/** Shows `range` of the document in an editor and selects it. */
export async function revealRange(uri: vscode.Uri, range: vscode.Range, options: { preserveFocus?: boolean; selectWhole?: boolean } = {}): Promise<vscode.TextEditor> {
  const editor = await vscode.window.showTextDocument(uri, { preserveFocus: options.preserveFocus ?? false, preview: false });
  editor.selection = options.selectWhole === false ? new vscode.Selection(range.start, range.start) : new vscode.Selection(range.start, range.end);
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}
