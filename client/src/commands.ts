import * as vscode from 'vscode';
import type { Range } from 'vscode-languageclient/node';
import type { ChainItem, ServiceItem, ServiceSummary } from '../../server/src/protocol';
import overallSample from '../../samples/k8s-overall-modern.iptables-save';
import seedSample from '../../samples/seed-kube-dns.iptables-save';
import { type Dump, type DumpTracker, isDump, LANGUAGE_ID, revealRange, toRange } from './dumps';
import { LargeDump } from './largeDumps';
import { LARGE_FILE_BYTES } from './recognize';
import { endpointTableMarkdown, plural } from './model';
import { chainMatcher, type ChainPickItem, chainPickItem } from './chainsView';
import type { ServicesNode, ServicesView } from './servicesView';

/** Dumps the "Open Sample" command offers, bundled into the extension (see samples/README.md). */
export const SAMPLES = [
  { id: 'kube-dns', label: 'kube-dns', detail: 'One service, kube-system/kube-dns:dns-tcp, with two endpoints: the smallest complete dump.', text: seedSample },
  { id: 'overall', label: "kube-proxy's overall test", detail: 'Six services with node ports, external and load-balancer IPs, session affinity, source ranges and a service without endpoints.', text: overallSample },
] as const;

export class Commands {
  constructor(
    private readonly tracker: DumpTracker,
    private readonly services: ServicesView,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  register(): vscode.Disposable[] {
    const r = vscode.commands.registerCommand;
    return [
      r('netfilterExplorer.openDump', () => this.openDump()),
      r('netfilterExplorer.openLargeDump', () => this.openLargeDump()),
      r('netfilterExplorer.openSample', (id?: string) => this.openSample(id)),
      r('netfilterExplorer.goToChain', (arg?: string | { table?: string; chain: string }) => this.goToChain(arg)),
      r('netfilterExplorer.goToService', (title?: string) => this.goToService(title)),
      r('netfilterExplorer.revealInServices', () => this.revealInServices()),
      r('netfilterExplorer.copyEndpointTable', (node?: ServicesNode) => this.copyEndpointTable(node)),
      r('netfilterExplorer.services.filter', (query?: string) => this.filterServices(query)),
      r('netfilterExplorer.services.clearFilter', () => this.services.setFilter('')),
      r('netfilterExplorer.refresh', () => this.tracker.refresh()),
      r('netfilterExplorer.revealRange', (uri: vscode.Uri, range: Range) => revealRange(this.tracker.large.get(uri) ?? uri, toRange(range), { preserveFocus: true })),
    ];
  }

  /** The dump to work on: the active tab's or editor's, else the one the views show. */
  private dump(): Dump | undefined {
    const dump = this.tracker.activeDump() ?? this.tracker.dump;
    if (!dump) void vscode.window.showInformationMessage('Netfilter Explorer: open an iptables-save dump first.', 'Open a Dump…').then((c) => c && this.openDump());
    return dump;
  }

  private pickFile(title: string, openLabel: string): Thenable<vscode.Uri[] | undefined> {
    return vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel,
      title,
      filters: { 'iptables-save dumps': ['rules', 'iptables', 'iptables-save', 'txt', 'save'], 'All files': ['*'] },
      ...(vscode.workspace.workspaceFolders?.[0] ? { defaultUri: vscode.workspace.workspaceFolders[0].uri } : {}),
    });
  }

  async openDump(): Promise<void> {
    const uri = (await this.pickFile('Open an iptables-save dump', 'Open Dump'))?.[0];
    if (uri) await this.openAsDump(uri);
  }

  /** Open Large Dump…: the same dialog; a file over 50 MB is read from disk by the language server whatever its name or contents. */
  async openLargeDump(): Promise<void> {
    const uri = (await this.pickFile('Open an iptables-save dump over 50 MB', 'Open Large Dump'))?.[0];
    if (uri) await this.openAsDump(uri);
  }

  /** Opens a file chosen as a dump: as a document of the dump language, or over 50 MB, read by the server from disk. */
  private async openAsDump(uri: vscode.Uri): Promise<void> {
    try {
      if (uri.scheme === 'file' && (await vscode.workspace.fs.stat(uri)).size > LARGE_FILE_BYTES) {
        await this.tracker.large.openFile(uri);
        return;
      }
      let document = await vscode.workspace.openTextDocument(uri);
      // Chosen as a dump: read it as one even when its name does not say so.
      if (document.languageId !== LANGUAGE_ID) document = await vscode.languages.setTextDocumentLanguage(document, LANGUAGE_ID);
      await vscode.window.showTextDocument(document, { preview: false });
    } catch (error) {
      void vscode.window.showErrorMessage(`Netfilter Explorer: cannot open ${uri.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async openSample(id?: string): Promise<vscode.TextEditor | undefined> {
    let sample = SAMPLES.find((s) => s.id === id);
    if (!sample) {
      const picked = await vscode.window.showQuickPick(
        SAMPLES.map((s) => ({ label: s.label, detail: s.detail, sample: s })),
        { title: 'Open a sample iptables-save dump', placeHolder: 'Opens as an untitled document' },
      );
      sample = picked?.sample;
    }
    if (!sample) return undefined;
    const document = await vscode.workspace.openTextDocument({ language: LANGUAGE_ID, content: sample.text });
    return vscode.window.showTextDocument(document, { preview: false });
  }

  async goToChain(arg?: string | { table?: string; chain: string }): Promise<void> {
    const dump = this.dump();
    if (!dump) return;
    if (arg !== undefined) {
      const want = typeof arg === 'string' ? { chain: arg } : arg;
      const found = await this.tracker.findChains(dump, { query: '', exact: want });
      if (!found) {
        void vscode.window.showWarningMessage('Netfilter Explorer: the language server did not list the chains of this dump.');
        return;
      }
      const pick = found.chains[0];
      if (!pick) {
        void vscode.window.showWarningMessage(`Netfilter Explorer: no chain ${want.chain}${want.table ? ` in table ${want.table}` : ''}.`);
        return;
      }
      await revealRange(dump, toRange(pick.range), { selectWhole: false });
      return;
    }
    const chosen = await this.pickChain(dump);
    if (chosen) await revealRange(dump, toRange(chosen.range), { selectWhole: false });
  }

  /**
   * A quick pick of the chains matching what is typed, asked of the server as the user types (a
   * dump of 10,000 services has 120,000 chains; the first 1,000 matches are listed). Its items are
   * always shown (chainPickItem), so as one types the last answer is narrowed here by the same
   * words until the next one comes; VS Code may still list those whose name matches what is typed
   * first (turning that off, sortByLabel, is a proposed API).
   */
  private pickChain(dump: Dump): Promise<ChainItem | undefined> {
    const where = vscode.workspace.asRelativePath(dump.uri, false);
    const quickPick = vscode.window.createQuickPick<ChainPickItem>();
    quickPick.title = `Go to Chain (${where})`;
    quickPick.placeholder = 'Chain name, table or service';
    quickPick.matchOnDescription = true; // highlights what is typed in the table and service too
    let asked = 0;
    let timer: NodeJS.Timeout | undefined;
    const ask = async (query: string): Promise<void> => {
      const run = ++asked;
      quickPick.busy = true;
      const found = await this.tracker.findChains(dump, { query });
      if (run !== asked) return;
      quickPick.busy = false;
      if (!found) {
        quickPick.title = `Go to Chain: the language server did not list the chains of ${where}`;
        quickPick.items = [];
        return;
      }
      quickPick.items = found.chains.map(chainPickItem);
      quickPick.title =
        found.total > found.chains.length
          ? `Go to Chain (${plural(found.total, 'chain')} match in ${where}: the first ${found.chains.length.toLocaleString('en-US')} are listed, type more)`
          : `Go to Chain (${plural(found.total, 'chain')} in ${where})`;
    };
    return new Promise((resolve) => {
      let chosen: ChainItem | undefined;
      quickPick.onDidChangeValue((value) => {
        const matches = chainMatcher(value);
        quickPick.items = quickPick.items.filter((item) => matches(item.chain));
        clearTimeout(timer);
        timer = setTimeout(() => void ask(value), 80);
      });
      quickPick.onDidAccept(() => {
        chosen = (quickPick.selectedItems[0] ?? quickPick.activeItems[0])?.chain;
        quickPick.hide();
      });
      quickPick.onDidHide(() => {
        clearTimeout(timer);
        quickPick.dispose();
        resolve(chosen);
      });
      quickPick.show();
      void ask('');
    });
  }

  /** Every service of the dump, for a quick pick; says why there is none to pick. */
  private async allServices(dump: Dump): Promise<ServiceSummary[] | undefined> {
    const list = await this.tracker.serviceList({}, dump);
    if (!list) {
      void vscode.window.showWarningMessage('Netfilter Explorer: the language server did not list the services of this dump.');
      return undefined;
    }
    if (list.total === 0) {
      void vscode.window.showInformationMessage('Netfilter Explorer: this dump has no Kubernetes services.');
      return undefined;
    }
    return list.services;
  }

  private async pickService(dump: Dump, services: readonly ServiceSummary[], title: string): Promise<ServiceSummary | undefined> {
    type Item = vscode.QuickPickItem & { service: ServiceSummary };
    const items: Item[] = services.map((service) => ({
      label: service.title,
      description: [service.protocol, ...service.entryTitles.map((t) => t.replace(/\/[A-Z]+$/, ''))].join(' · '),
      detail: service.endpointCount === 0 ? 'no endpoints' : plural(service.endpointCount, 'endpoint'),
      service,
    }));
    const chosen = await vscode.window.showQuickPick(items, {
      title: `${title} (${plural(items.length, 'service')} in ${vscode.workspace.asRelativePath(dump.uri, false)})`,
      placeHolder: 'Namespace, name, port or address',
      matchOnDescription: true,
      matchOnDetail: false,
    });
    return chosen?.service;
  }

  async goToService(title?: string): Promise<void> {
    const dump = this.dump();
    const services = dump && (await this.allServices(dump));
    if (!dump || !services) return;
    const service = title !== undefined ? services.find((s) => s.title === title || s.id === title) : await this.pickService(dump, services, 'Go to Service');
    if (title !== undefined && !service) {
      void vscode.window.showWarningMessage(`Netfilter Explorer: no service ${title}.`);
      return;
    }
    if (service?.range) await revealRange(dump, toRange(service.range), { selectWhole: false });
  }

  /** The cursor line of the active editor, when it shows a dump. */
  private cursorLine(): { dump: Dump; line: number } | undefined {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !isDump(editor.document)) return undefined;
    return { dump: this.tracker.dumpOf(editor.document), line: editor.selection.active.line };
  }

  async revealInServices(): Promise<void> {
    if (this.tracker.activeDump() instanceof LargeDump) {
      void vscode.window.showInformationMessage('Netfilter Explorer: Reveal in Services View needs the cursor, which VS Code does not tell extensions in files over 50 MB. Use Go to Service… or the Services view.');
      return;
    }
    const cursor = this.cursorLine();
    if (!cursor) {
      void vscode.window.showInformationMessage('Netfilter Explorer: put the cursor in an iptables-save dump to reveal its service.');
      return;
    }
    const { dump, line } = cursor;
    if (this.tracker.dump !== dump) this.log.warn('Reveal in Services: the views do not show the active editor');
    if (!(await this.services.reveal(dump, line))) void vscode.window.showInformationMessage(`Netfilter Explorer: line ${line + 1} belongs to no Kubernetes service.`);
  }

  /** The service of a row of the Services view, else of the cursor line, else one picked from a list. */
  private async serviceFor(node: ServicesNode | undefined): Promise<ServiceItem | undefined> {
    const ofNode = node?.kind === 'service' ? await this.tracker.service(node.summary.id) : node && 'service' in node ? node.service : undefined;
    if (ofNode) return ofNode;
    const cursor = this.cursorLine();
    const atCursor = cursor && (await this.tracker.serviceAt(cursor.dump, cursor.line, ''));
    if (atCursor) return atCursor.service;
    const dump = this.dump();
    const services = dump && (await this.allServices(dump));
    if (!dump || !services) return undefined;
    const picked = await this.pickService(dump, services, 'Copy the endpoint table of');
    return picked && this.tracker.service(picked.id, dump);
  }

  async copyEndpointTable(node?: ServicesNode): Promise<void> {
    const service = await this.serviceFor(node);
    if (!service) return;
    const markdown = endpointTableMarkdown(service);
    await vscode.env.clipboard.writeText(markdown);
    void vscode.window.setStatusBarMessage(`$(check) Copied the endpoint table of ${service.title}`, 5000);
  }

  async filterServices(query?: string): Promise<void> {
    if (query !== undefined) {
      this.services.setFilter(query);
      return;
    }
    const before = this.services.filter;
    const input = vscode.window.createInputBox();
    input.title = 'Filter Services';
    input.placeholder = 'Namespace, name, port, IP address, pod or chain (words are ANDed)';
    input.prompt = 'The Services view shows the services that match; Escape restores the previous filter.';
    input.value = before;
    let accepted = false;
    let timer: NodeJS.Timeout | undefined;
    input.onDidChangeValue((value) => {
      clearTimeout(timer);
      timer = setTimeout(() => this.services.setFilter(value), 120);
    });
    input.onDidAccept(() => {
      accepted = true;
      clearTimeout(timer);
      this.services.setFilter(input.value);
      input.hide();
    });
    input.onDidHide(() => {
      clearTimeout(timer);
      if (!accepted) this.services.setFilter(before);
      input.dispose();
    });
    input.show();
  }

}
