import * as vscode from 'vscode';
import type { Range } from 'vscode-languageclient/node';
import type { EndpointItem, EntryItem, NamespaceItem, ServiceAtResult, ServiceItem, ServicesResult, ServiceSummary, SplitItem } from '../../server/src/protocol';
import type { Dump, DumpTracker } from './dumps';
import {
  endpointAddress,
  endpointDescription,
  entryDescription,
  entryState,
  formatShare,
  listPages,
  outcomesOf,
  plural,
  podTitle,
  serviceDescription,
  serviceLabel,
} from './model';
import { DumpTreeView, icon, type MessageNode as TreeMessage, messageItem, messageNode, revealCommand, type TreeNode } from './treeViews';

export const SERVICES_VIEW_ID = 'netfilterExplorer.services';

/** Namespaces open by default while the list shows at most this many services. */
const EXPAND_NAMESPACES_UP_TO = 50;
/** Services open by default when a filter leaves at most this many. */
const EXPAND_FILTERED_SERVICES_UP_TO = 5;

type NodeBase = TreeNode<ServicesNode>;
export interface NamespaceNode extends NodeBase {
  kind: 'namespace';
  namespace: NamespaceItem;
  /** The filter its services are asked with. */
  filter: string;
  expanded: boolean;
  /** Services open by default (a filter left few). */
  expandServices: boolean;
}
/** A page of the services of a namespace with thousands of them. */
export interface ServicePageNode extends NodeBase {
  kind: 'servicePage';
  namespace: NamespaceNode;
  offset: number;
  count: number;
}
export interface ServiceNode extends NodeBase {
  kind: 'service';
  /** What the list says of the service; its entries and endpoints are asked when it is expanded. */
  summary: ServiceSummary;
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
export type MessageNode = TreeMessage<ServicesNode>;
export type ServicesNode = NamespaceNode | ServicePageNode | ServiceNode | EntryNode | ConditionNode | EndpointNode | OutcomeNode | MessageNode;

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

/**
 * The Services view: namespace → service:port → entry → endpoints. Each level is asked of the
 * server when it is shown (a dump of 10,000 services has 100,000 endpoints), and the filter runs
 * in the server.
 */
export class ServicesView extends DumpTreeView<ServicesNode> {
  /** The dump the nodes' answer is about, for the rows' clicks. */
  private uri: vscode.Uri | undefined;
  private roots: NamespaceNode[] | undefined;
  private query = '';

  constructor(tracker: DumpTracker) {
    super(SERVICES_VIEW_ID, tracker);
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

  protected override invalidate(): void {
    this.roots = undefined;
    super.invalidate();
  }

  /** What the filter leaves of the answer's services, when there is a filter. */
  private filterMessage(tree: ServicesResult): string | undefined {
    if (this.query === '') return undefined;
    return tree.matched === 0
      ? `No service matches "${this.query}" (of ${plural(tree.total, 'service')}).`
      : `Filter "${this.query}": ${tree.matched.toLocaleString('en-US')} of ${plural(tree.total, 'service')}.`;
  }

  /** The namespace nodes for the current dump and filter, asked once per change. */
  protected async rootNodes(): Promise<NamespaceNode[]> {
    if (this.roots) return this.roots;
    // A dump over 50 MB takes a while to read: say so meanwhile (unless its services are shown already).
    if (!this.tracker.servicesSeen()) this.showReading();
    const query = this.query;
    const tree = this.tracker.dump ? await this.tracker.servicesTree(query) : undefined;
    if (query !== this.query) return this.rootNodes(); // the filter changed meanwhile
    this.uri = tree ? vscode.Uri.parse(tree.uri) : undefined;
    void vscode.commands.executeCommand('setContext', 'netfilterExplorer.noServices', tree !== undefined && tree.total === 0);
    // Filtered nodes get ids of their own, so that each filter opens its results afresh.
    const suffix = query ? `?${query}` : '';
    const expanded = (tree?.matched ?? 0) <= EXPAND_NAMESPACES_UP_TO;
    const expandServices = query !== '' && (tree?.matched ?? 0) <= EXPAND_FILTERED_SERVICES_UP_TO;
    this.roots = (tree?.namespaces ?? []).map((namespace) => ({ kind: 'namespace', id: `ns:${namespace.namespace}${suffix}`, parent: undefined, namespace, filter: query, expanded, expandServices }));
    this.showAnswer(tree !== undefined, 'The language server did not list the services of this dump (see the "Netfilter Explorer" output); Refresh Views asks again.', tree && this.filterMessage(tree));
    return this.roots;
  }

  private async serviceNodes(parent: NamespaceNode | ServicePageNode, namespace: NamespaceNode, offset?: number, limit?: number): Promise<ServicesNode[]> {
    const list = await this.tracker.serviceList({ namespace: namespace.namespace.namespace, ...(namespace.filter ? { filter: namespace.filter } : {}), ...(offset !== undefined ? { offset, limit } : {}) });
    if (!list) return [messageNode(parent, 'The language server did not list these services (the dump changed?); Refresh Views asks again.')];
    return list.services.map((summary): ServiceNode => ({ kind: 'service', id: `${namespace.id}/${summary.id}`, parent, summary, expanded: namespace.expandServices }));
  }

  protected async childrenOf(node: ServicesNode): Promise<ServicesNode[]> {
    switch (node.kind) {
      case 'namespace': {
        const pages = listPages(node.namespace.services);
        if (!pages) return this.serviceNodes(node, node);
        return pages.map((page): ServicePageNode => ({ kind: 'servicePage', id: `${node.id}/p${page.offset}`, parent: node, namespace: node, offset: page.offset, count: page.count }));
      }
      case 'servicePage':
        return this.serviceNodes(node, node.namespace, node.offset, node.count);
      case 'service': {
        const service = await this.tracker.service(node.summary.id);
        if (!service) return [messageNode(node, `The language server did not answer for ${node.summary.title} (the dump changed?); Refresh Views asks again.`)];
        return service.entries.map((entry, i): EntryNode => ({ kind: 'entry', id: `${node.id}/e${i}:${entry.title}`, parent: node, service, entry }));
      }
      case 'entry': {
        const { service, entry } = node;
        return [
          ...splitChildren(node, service, entry, entry, entry.ruleRange),
          ...entry.conditions.map((condition, i): ConditionNode => ({ kind: 'condition', id: `${node.id}/c${i}`, parent: node, service, entry, condition })),
        ];
      }
      case 'condition':
        return splitChildren(node, node.service, node.entry, node.condition, node.condition.ruleRange, node.condition.condition);
      default:
        return [];
    }
  }

  protected treeItem(node: ServicesNode): vscode.TreeItem {
    const uri = this.uri;
    const C = vscode.TreeItemCollapsibleState;
    let item: vscode.TreeItem;
    switch (node.kind) {
      case 'namespace': {
        const { namespace } = node.namespace;
        item = new vscode.TreeItem(namespace, node.expanded ? C.Expanded : C.Collapsed);
        item.description = plural(node.namespace.services, 'service');
        item.iconPath = icon('symbol-namespace');
        item.tooltip = `Namespace ${namespace}: ${plural(node.namespace.services, 'service port')}${node.filter ? ` matching "${node.filter}"` : ''}`;
        break;
      }
      case 'servicePage': {
        item = new vscode.TreeItem(`services ${(node.offset + 1).toLocaleString('en-US')}–${(node.offset + node.count).toLocaleString('en-US')}`, C.Collapsed);
        item.description = `of ${plural(node.namespace.namespace.services, 'service')}`;
        item.iconPath = icon('list-flat');
        break;
      }
      case 'service': {
        const { summary } = node;
        item = new vscode.TreeItem(serviceLabel(summary), summary.entryTitles.length > 0 ? (node.expanded ? C.Expanded : C.Collapsed) : C.None);
        item.description = serviceDescription(summary);
        item.iconPath =
          summary.state === 'noEndpoints' ? icon('error', 'problemsErrorIcon.foreground')
          : summary.state === 'skewed' ? icon('warning', 'problemsWarningIcon.foreground')
          : summary.state === 'localOnly' ? icon('home')
          : icon(PROTOCOL_ICONS[summary.protocol] ?? 'symbol-interface');
        // The tooltip needs the entries' endpoints: resolveTreeItem asks for them on hover.
        item.command = revealCommand(uri, summary.range);
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
        item.command = revealCommand(uri, entry.ruleRange);
        break;
      }
      case 'condition': {
        item = new vscode.TreeItem(`if ${node.condition.condition}`, C.Expanded);
        item.iconPath = icon('filter');
        item.description = [plural(node.condition.endpoints.length, 'endpoint'), ...outcomesOf(node.condition).map((o) => `${o.outcome} ${formatShare(o.share)}`)].join(' · ');
        item.tooltip = `${node.entry.title}: traffic ${node.condition.condition} (${lineOf(node.condition.ruleRange)})`;
        item.command = revealCommand(uri, node.condition.ruleRange);
        break;
      }
      case 'endpoint': {
        const { endpoint } = node;
        item = new vscode.TreeItem(endpointAddress(endpoint), C.None);
        item.description = endpointDescription(endpoint);
        item.iconPath = icon(endpoint.local ? 'home' : 'vm');
        item.tooltip = endpointTooltip(node);
        item.command = revealCommand(uri, endpoint.chain.range);
        break;
      }
      case 'outcome': {
        item = new vscode.TreeItem(OUTCOME_LABELS[node.outcome] ?? node.outcome, C.None);
        item.description = formatShare(node.share);
        item.iconPath = icon(OUTCOME_ICONS[node.outcome] ?? 'question', node.outcome === 'REJECT' || node.outcome === 'DROP' ? 'problemsErrorIcon.foreground' : undefined);
        item.tooltip = `${formatShare(node.share)} of the new connections: ${OUTCOME_TOOLTIPS[node.outcome] ?? node.outcome} (${lineOf(node.ruleRange)})`;
        item.command = revealCommand(uri, node.ruleRange);
        break;
      }
      case 'message':
        item = messageItem(node);
        break;
    }
    return item;
  }

  /** The tooltip of a service, with its entries' endpoints: asked of the server when the row is hovered. */
  async resolveTreeItem(item: vscode.TreeItem, node: ServicesNode): Promise<vscode.TreeItem> {
    if (node.kind === 'service' && item.tooltip === undefined) {
      const service = await this.tracker.service(node.summary.id);
      item.tooltip = service ? serviceTooltip(service) : `${node.summary.title} (${node.summary.protocol})`;
    }
    return item;
  }

  /**
   * Shows the service (and its entry and endpoint) line `line` of `dump` belongs to in the view,
   * clearing a filter that hides it. Undefined when the line belongs to no service; else the
   * service as the server found it, and the node shown (undefined when it is not in the view).
   */
  async reveal(dump: Dump, line: number, options: { focus?: boolean } = {}): Promise<{ found: ServiceAtResult; node: ServicesNode | undefined } | undefined> {
    const found = await this.tracker.serviceAt(dump, line, this.query);
    if (!found) return undefined;
    return { found, node: await this.revealFound(dump, line, found, options) };
  }

  /** Reveals what serviceAt found; `found.index` places the service among its namespace's services under the view's filter. */
  private async revealFound(dump: Dump, line: number, found: ServiceAtResult, options: { focus?: boolean }): Promise<ServicesNode | undefined> {
    let answer: ServiceAtResult | undefined = found;
    if (found.index === null && this.query !== '') {
      void vscode.window.setStatusBarMessage(`Netfilter Explorer: filter "${this.query}" cleared to show ${found.service.title}`, 5000);
      this.setFilter('');
      answer = await this.tracker.serviceAt(dump, line, '');
    }
    const hit = answer;
    if (!hit || hit.index === null) return undefined;
    const place = hit.index;
    const roots = await this.rootNodes();
    const ns = roots.find((n) => n.namespace.namespace === hit.service.namespace);
    if (!ns) return undefined;
    let node: ServicesNode = ns;
    let list = await this.getChildren(ns);
    const page = list.find((n): n is ServicePageNode => n.kind === 'servicePage' && n.offset <= place && place < n.offset + n.count);
    if (page) list = await this.getChildren(page);
    const service = list.find((n): n is ServiceNode => n.kind === 'service' && n.summary.id === hit.service.id);
    if (service) {
      node = service;
      const entries = (await this.getChildren(service)).filter((n): n is EntryNode => n.kind === 'entry');
      const entry = hit.entry !== null ? entries[hit.entry] : undefined;
      if (entry) {
        node = entry;
        const endpoint = hit.endpoint;
        if (endpoint) {
          let under: ServicesNode[] = await this.getChildren(entry);
          let condition: string | undefined;
          if (endpoint.condition !== null) {
            const c = under.filter((n): n is ConditionNode => n.kind === 'condition')[endpoint.condition];
            under = c ? await this.getChildren(c) : [];
            condition = c?.condition.condition;
          }
          const target = under.filter((n): n is EndpointNode => n.kind === 'endpoint' && n.condition === condition)[endpoint.index];
          if (target) node = target;
        }
      }
    }
    await this.treeView.reveal(node, { select: true, focus: options.focus ?? true, expand: node.kind === 'service' ? 1 : false });
    return node;
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
