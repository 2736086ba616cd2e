import * as vscode from 'vscode';
import type { EndpointItem, EntryItem, ServiceItem, SplitItem } from '../../server/src/protocol';
import type { DumpTracker } from './dumps';
import {
  endpointAddress,
  endpointDescription,
  entryDescription,
  entryState,
  formatShare,
  type NamespaceGroup,
  outcomesOf,
  plural,
  podTitle,
  type ServiceHit,
  type ServiceIndex,
  serviceDescription,
  serviceLabel,
  serviceState,
} from './model';

export const SERVICES_VIEW_ID = 'netfilterExplorer.services';

/** Namespaces open by default while the list shows at most this many services. */
const EXPAND_NAMESPACES_UP_TO = 50;
/** Services open by default when a filter leaves at most this many. */
const EXPAND_FILTERED_SERVICES_UP_TO = 5;

type Range = EntryItem['ruleRange'];

interface NodeBase {
  id: string;
  parent: ServicesNode | undefined;
  children?: ServicesNode[];
}
export interface NamespaceNode extends NodeBase {
  kind: 'namespace';
  group: NamespaceGroup;
  expanded: boolean;
}
export interface ServiceNode extends NodeBase {
  kind: 'service';
  service: ServiceItem;
  expanded: boolean;
}
export interface EntryNode extends NodeBase {
  kind: 'entry';
  service: ServiceItem;
  entry: EntryItem;
}
export interface ConditionNode extends NodeBase {
  kind: 'condition';
  service: ServiceItem;
  entry: EntryItem;
  condition: EntryItem['conditions'][number];
}
export interface EndpointNode extends NodeBase {
  kind: 'endpoint';
  service: ServiceItem;
  entry: EntryItem;
  endpoint: EndpointItem;
  /** The condition the endpoint is reached under, when not the entry itself. */
  condition?: string;
}
export interface OutcomeNode extends NodeBase {
  kind: 'outcome';
  service: ServiceItem;
  outcome: string;
  share: number;
  ruleRange: Range;
}
export type ServicesNode = NamespaceNode | ServiceNode | EntryNode | ConditionNode | EndpointNode | OutcomeNode;

const ENTRY_ICONS: Record<EntryItem['kind'], string> = { clusterIP: 'target', nodePort: 'plug', externalIP: 'globe', loadBalancerIP: 'cloud' };
const PROTOCOL_ICONS: Record<string, string> = { TCP: 'arrow-swap', UDP: 'radio-tower', SCTP: 'git-compare' };
const OUTCOME_ICONS: Record<string, string> = { REJECT: 'error', DROP: 'circle-slash', fallthrough: 'arrow-down' };
/** How an outcome the server names reads in the view. */
const OUTCOME_LABELS: Record<string, string> = { fallthrough: 'falls through', unknown: 'unknown' };
const OUTCOME_TOOLTIPS: Record<string, string> = {
  REJECT: 'rejected (the service has no endpoint for it)',
  DROP: 'dropped',
  fallthrough: 'falls through: the service chain ends without a jump, and the packet goes back to the chain that called it',
  unknown: 'goes where the rules do not say',
};

function icon(id: string, color?: string): vscode.ThemeIcon {
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

function lineOf(range: Range): string {
  return `line ${range.start.line + 1}`;
}

function splitChildren(parent: ServicesNode, service: ServiceItem, entry: EntryItem, split: SplitItem, ruleRange: Range, condition?: string): ServicesNode[] {
  const children: ServicesNode[] = split.endpoints.map((endpoint, i): EndpointNode => ({
    kind: 'endpoint',
    id: `${parent.id}/ep${i}:${endpointAddress(endpoint)}`,
    parent,
    service,
    entry,
    endpoint,
    ...(condition !== undefined ? { condition } : {}),
  }));
  for (const { outcome, share } of outcomesOf(split)) children.push({ kind: 'outcome', id: `${parent.id}/${outcome}`, parent, service, outcome, share, ruleRange });
  return children;
}

/** The Services view: namespace → service:port → entry → endpoints, filtered client-side. */
export class ServicesView implements vscode.TreeDataProvider<ServicesNode>, vscode.Disposable {
  readonly treeView: vscode.TreeView<ServicesNode>;
  private readonly changed = new vscode.EventEmitter<ServicesNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private index: ServiceIndex | undefined;
  private roots: NamespaceNode[] | undefined;
  private shownCount = 0;
  private query = '';
  /** A change arrived while the view was hidden; refresh when it shows. */
  private stale = false;

  constructor(private readonly tracker: DumpTracker) {
    this.treeView = vscode.window.createTreeView(SERVICES_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.treeView,
      tracker.onDidChange(() => this.invalidate()),
      this.treeView.onDidChangeVisibility((e) => {
        if (e.visible && this.stale) this.invalidate();
      }),
    );
  }

  get filter(): string {
    return this.query;
  }

  setFilter(query: string): void {
    const next = query.trim();
    if (next === this.query) return;
    this.query = next;
    this.roots = undefined;
    void vscode.commands.executeCommand('setContext', 'netfilterExplorer.servicesFiltered', next !== '');
    this.changed.fire(undefined);
  }

  private invalidate(): void {
    if (!this.treeView.visible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    this.changed.fire(undefined);
  }

  private updateHeader(): void {
    const dump = this.tracker.dump;
    this.treeView.description = dump ? vscode.workspace.asRelativePath(dump.uri, false) : undefined;
    if (dump && !this.index) {
      this.treeView.message = this.tracker.readingMessage() ?? 'The language server did not list the services of this dump (see the "Netfilter Explorer" output); Refresh Views asks again.';
      return;
    }
    if (!this.index || this.query === '') {
      this.treeView.message = undefined;
      return;
    }
    this.treeView.message =
      this.shownCount === 0
        ? `No service matches "${this.query}" (of ${plural(this.index.total, 'service')}).`
        : `Filter "${this.query}": ${this.shownCount.toLocaleString('en-US')} of ${plural(this.index.total, 'service')}.`;
  }

  /** The namespace nodes for the current services and filter, built once per change. */
  private async rootNodes(): Promise<NamespaceNode[]> {
    const dump = this.tracker.dump;
    // A dump over 50 MB takes a while to read: say so meanwhile.
    const reading = this.tracker.readingMessage();
    if (dump && reading && !this.tracker.lastServices()) {
      this.treeView.description = vscode.workspace.asRelativePath(dump.uri, false);
      this.treeView.message = reading;
    }
    const index = dump ? await this.tracker.servicesIndex() : undefined;
    if (index !== this.index) {
      this.index = index;
      this.roots = undefined;
      void vscode.commands.executeCommand('setContext', 'netfilterExplorer.noServices', index !== undefined && index.total === 0);
    }
    if (!this.roots) {
      if (!index) {
        this.roots = [];
        this.shownCount = 0;
      } else {
        const { namespaces, count } = index.filter(this.query);
        this.shownCount = count;
        // Filtered nodes get ids of their own, so that each filter opens its results afresh.
        const suffix = this.query ? `?${this.query}` : '';
        this.roots = namespaces.map((group) => ({ kind: 'namespace', id: `ns:${group.namespace}${suffix}`, parent: undefined, group, expanded: count <= EXPAND_NAMESPACES_UP_TO }));
      }
    }
    this.updateHeader();
    return this.roots;
  }

  async getChildren(node?: ServicesNode): Promise<ServicesNode[]> {
    if (!node) return this.rootNodes();
    if (node.children) return node.children;
    switch (node.kind) {
      case 'namespace': {
        const expanded = this.query !== '' && this.shownCount <= EXPAND_FILTERED_SERVICES_UP_TO;
        node.children = node.group.services.map((service) => ({ kind: 'service', id: `${node.id}/${service.id}`, parent: node, service, expanded }));
        break;
      }
      case 'service':
        node.children = node.service.entries.map((entry, i): EntryNode => ({ kind: 'entry', id: `${node.id}/e${i}:${entry.title}`, parent: node, service: node.service, entry }));
        break;
      case 'entry': {
        const { service, entry } = node;
        node.children = [
          ...splitChildren(node, service, entry, entry, entry.ruleRange),
          ...entry.conditions.map((condition, i): ConditionNode => ({ kind: 'condition', id: `${node.id}/c${i}`, parent: node, service, entry, condition })),
        ];
        break;
      }
      case 'condition':
        node.children = splitChildren(node, node.service, node.entry, node.condition, node.condition.ruleRange, node.condition.condition);
        break;
      default:
        node.children = [];
    }
    return node.children;
  }

  getParent(node: ServicesNode): ServicesNode | undefined {
    return node.parent;
  }

  getTreeItem(node: ServicesNode): vscode.TreeItem {
    const uri = this.index ? vscode.Uri.parse(this.index.result.uri) : undefined;
    const reveal = (range: Range | undefined): vscode.Command | undefined =>
      uri && range ? { title: 'Reveal in Editor', command: 'netfilterExplorer.revealRange', arguments: [uri, range] } : undefined;
    const C = vscode.TreeItemCollapsibleState;
    let item: vscode.TreeItem;
    switch (node.kind) {
      case 'namespace': {
        item = new vscode.TreeItem(node.group.namespace, node.expanded ? C.Expanded : C.Collapsed);
        item.description = plural(node.group.services.length, 'service');
        item.iconPath = icon('symbol-namespace');
        item.tooltip = `Namespace ${node.group.namespace}: ${plural(node.group.services.length, 'service port')}`;
        break;
      }
      case 'service': {
        const { service } = node;
        item = new vscode.TreeItem(serviceLabel(service), service.entries.length > 0 ? (node.expanded ? C.Expanded : C.Collapsed) : C.None);
        item.description = serviceDescription(service);
        const state = serviceState(service);
        item.iconPath =
          state === 'noEndpoints' ? icon('error', 'problemsErrorIcon.foreground')
          : state === 'skewed' ? icon('warning', 'problemsWarningIcon.foreground')
          : state === 'localOnly' ? icon('home')
          : icon(PROTOCOL_ICONS[service.protocol] ?? 'symbol-interface');
        item.tooltip = serviceTooltip(service);
        item.command = reveal(service.chains[0]?.range ?? service.entries[0]?.ruleRange);
        break;
      }
      case 'entry': {
        const { entry } = node;
        const hasChildren = entry.endpoints.length > 0 || entry.conditions.length > 0 || outcomesOf(entry).length > 0;
        item = new vscode.TreeItem(entry.title, hasChildren ? C.Expanded : C.None);
        item.description = entryDescription(entry);
        const state = entryState(entry);
        item.iconPath = icon(ENTRY_ICONS[entry.kind] ?? 'symbol-constant', state === 'noEndpoints' ? 'problemsErrorIcon.foreground' : undefined);
        item.tooltip = entryTooltip(node.service, entry);
        item.command = reveal(entry.ruleRange);
        break;
      }
      case 'condition': {
        item = new vscode.TreeItem(`if ${node.condition.condition}`, C.Expanded);
        item.iconPath = icon('filter');
        item.description = [plural(node.condition.endpoints.length, 'endpoint'), ...outcomesOf(node.condition).map((o) => `${o.outcome} ${formatShare(o.share)}`)].join(' · ');
        item.tooltip = `${node.entry.title}: traffic ${node.condition.condition} (${lineOf(node.condition.ruleRange)})`;
        item.command = reveal(node.condition.ruleRange);
        break;
      }
      case 'endpoint': {
        const { endpoint } = node;
        item = new vscode.TreeItem(endpointAddress(endpoint), C.None);
        item.description = endpointDescription(endpoint);
        item.iconPath = icon(endpoint.local ? 'home' : 'vm');
        item.tooltip = endpointTooltip(node);
        item.command = reveal(endpoint.chain.range);
        break;
      }
      case 'outcome': {
        item = new vscode.TreeItem(OUTCOME_LABELS[node.outcome] ?? node.outcome, C.None);
        item.description = formatShare(node.share);
        item.iconPath = icon(OUTCOME_ICONS[node.outcome] ?? 'question', node.outcome === 'REJECT' || node.outcome === 'DROP' ? 'problemsErrorIcon.foreground' : undefined);
        item.tooltip = `${formatShare(node.share)} of the new connections: ${OUTCOME_TOOLTIPS[node.outcome] ?? node.outcome} (${lineOf(node.ruleRange)})`;
        item.command = reveal(node.ruleRange);
        break;
      }
    }
    item.id = node.id;
    item.contextValue = node.kind;
    return item;
  }

  /** Shows a service (and its entry and endpoint) in the view, clearing a filter that hides it. */
  async reveal(hit: Pick<ServiceHit, 'service' | 'entry' | 'endpoint'>, options: { focus?: boolean } = {}): Promise<ServicesNode | undefined> {
    let roots = await this.rootNodes();
    const has = (nodes: NamespaceNode[]) => nodes.find((n) => n.group.namespace === hit.service.namespace && n.group.services.includes(hit.service));
    let ns = has(roots);
    if (!ns && this.query !== '') {
      void vscode.window.setStatusBarMessage(`Netfilter Explorer: filter "${this.query}" cleared to show ${hit.service.title}`, 5000);
      this.setFilter('');
      roots = await this.rootNodes();
      ns = has(roots);
    }
    if (!ns) return undefined;
    let node: ServicesNode = ns;
    const service = (await this.getChildren(ns)).find((n) => n.kind === 'service' && n.service === hit.service);
    if (service) {
      node = service;
      const entry = hit.entry && (await this.getChildren(service)).find((n) => n.kind === 'entry' && n.entry === hit.entry);
      if (entry) {
        node = entry;
        if (hit.endpoint) {
          let found: ServicesNode | undefined = (await this.getChildren(entry)).find((n) => n.kind === 'endpoint' && n.endpoint === hit.endpoint);
          for (const c of entry.children ?? []) {
            if (found || c.kind !== 'condition') continue;
            found = (await this.getChildren(c)).find((n) => n.kind === 'endpoint' && n.endpoint === hit.endpoint);
          }
          if (found) node = found;
        }
      }
    }
    await this.treeView.reveal(node, { select: true, focus: options.focus ?? true, expand: node.kind === 'service' ? 1 : false });
    return node;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function md(): vscode.MarkdownString {
  const m = new vscode.MarkdownString(undefined, true);
  m.supportHtml = false;
  return m;
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function serviceTooltip(service: ServiceItem): vscode.MarkdownString {
  const m = md();
  m.appendMarkdown(`**${code(service.title)}** (${service.protocol})\n\n`);
  m.appendMarkdown(`${service.endpointCount === 0 ? 'No endpoints: its traffic is rejected or dropped.' : plural(service.endpointCount, 'endpoint')}`);
  if (service.skewed) m.appendMarkdown(' · **skewed**: the probabilities do not share traffic evenly');
  m.appendMarkdown('\n\n');
  for (const entry of service.entries) m.appendMarkdown(`- ${entry.title} — ${entryDescription(entry)}\n`);
  if (service.chains.length > 0) m.appendMarkdown(`\nChains: ${service.chains.map((c) => code(c.name)).join(', ')}\n`);
  m.appendMarkdown(
    service.nameSource === 'inferred'
      ? '\n*Name inferred from the chain graph: no rule comment names it.*'
      : service.hashConfirmed
        ? '\n*Named by the rule comments; the chain hashes match the name.*'
        : '\n*Named by the rule comments.*',
  );
  return m;
}

function entryTooltip(service: ServiceItem, entry: EntryItem): vscode.MarkdownString {
  const m = md();
  m.appendMarkdown(`**${entry.title}** of ${code(service.title)}\n\n`);
  m.appendMarkdown(`Rule on ${lineOf(entry.ruleRange)}${entry.chain ? `, to ${code(entry.chain.name)}` : ''}\n\n`);
  if (entry.sourceRanges.length > 0) m.appendMarkdown(`Source ranges: ${entry.sourceRanges.map(code).join(', ')}\n\n`);
  if (entry.sessionAffinitySeconds !== null) m.appendMarkdown(`Session affinity: ${entry.sessionAffinitySeconds} s (shares are for new clients)\n\n`);
  const rows = [
    ...entry.endpoints.map((e) => `| ${endpointAddress(e)}${e.local ? ' (local)' : ''} | ${formatShare(e.share)} | ${e.pod ? podTitle(e.pod) : ''} |`),
    ...outcomesOf(entry).map((o) => `| ${o.outcome} | ${formatShare(o.share)} | |`),
  ];
  if (rows.length > 0) m.appendMarkdown(['| endpoint | share | pod |', '|---|---|---|', ...rows].join('\n') + '\n\n');
  for (const c of entry.conditions) m.appendMarkdown(`If ${c.condition}: ${[...c.endpoints.map((e) => `${endpointAddress(e)} ${formatShare(e.share)}`), ...outcomesOf(c).map((o) => `${o.outcome} ${formatShare(o.share)}`)].join(', ')}\n\n`);
  return m;
}

function endpointTooltip(node: EndpointNode): vscode.MarkdownString {
  const { endpoint, entry, service } = node;
  const m = md();
  m.appendMarkdown(`Endpoint **${endpointAddress(endpoint)}** of ${code(service.title)}${endpoint.local ? ' (on this node)' : ''}\n\n`);
  m.appendMarkdown(`Share: ${formatShare(endpoint.share)} of ${entry.title}${node.condition ? ` ${node.condition}` : ''}\n\n`);
  m.appendMarkdown(endpoint.pod ? `Pod: **${endpoint.pod.namespace}/${endpoint.pod.name}**${endpoint.pod.node ? ` on node ${endpoint.pod.node}` : ''}\n\n` : 'Pod: unknown (set `netfilterExplorer.podInventory` to name pods)\n\n');
  m.appendMarkdown(`Chain ${code(endpoint.chain.name)}, declared on ${lineOf(endpoint.chain.range)}`);
  return m;
}
