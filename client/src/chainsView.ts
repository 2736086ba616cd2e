import * as vscode from 'vscode';
import type { ChainGroupItem, ChainItem, ChainsResult, RuleItem, TableItem } from '../../server/src/protocol';
import type { DumpTracker } from './dumps';
import { endpointAddress, formatCounters, formatShare, plural } from './model';

export const CHAINS_VIEW_ID = 'netfilterExplorer.chains';

/** Jumps followed at most this deep below a chain (a guard on top of the loop check). */
export const MAX_JUMP_DEPTH = 32;
/** A chain with more rules than this (KUBE-SERVICES of a big cluster) shows them in pages. */
export const RULE_PAGE_THRESHOLD = 1000;
export const RULE_PAGE_SIZE = 500;

type Range = RuleItem['range'];

interface NodeBase {
  id: string;
  parent: ChainsNode | undefined;
  children?: Promise<ChainsNode[]>;
}
export interface TableNode extends NodeBase {
  kind: 'table';
  table: TableItem;
}
/** Chains of a long table with one name prefix (or a page of them), asked when it is expanded. */
export interface GroupNode extends NodeBase {
  kind: 'group';
  table: TableNode;
  group: ChainGroupItem;
}
export interface ChainNode extends NodeBase {
  kind: 'chain';
  table: TableNode;
  chain: ChainItem;
}
export interface RuleNode extends NodeBase {
  kind: 'rule';
  table: TableNode;
  /** The chain whose rule this is. */
  chain: string;
  rule: RuleItem;
  /** Chains from the expanded chain down to this rule's chain: a target among them is a loop. */
  path: string[];
}
export interface RulePageNode extends NodeBase {
  kind: 'rulePage';
  table: TableNode;
  chain: string;
  /** 0-based index of the first rule of the page in its chain. */
  first: number;
  rules: RuleItem[];
  path: string[];
}
export interface MessageNode extends NodeBase {
  kind: 'message';
  text: string;
}
export type ChainsNode = TableNode | GroupNode | ChainNode | RuleNode | RulePageNode | MessageNode;

/** `10.32.0.3:53 coredns-5d78c9869d-4xk2p` for a KUBE-SEP chain. */
function endpointText(endpoint: ChainItem['endpoint']): string | undefined {
  return endpoint ? `${endpointAddress(endpoint)}${endpoint.pod ? ` ${endpoint.pod}` : ''}` : undefined;
}

function icon(id: string, color?: string): vscode.ThemeIcon {
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

/** The Chains view: table → chain → rules, each rule that jumps expandable into the chain it jumps to. */
export class ChainsView implements vscode.TreeDataProvider<ChainsNode>, vscode.Disposable {
  readonly treeView: vscode.TreeView<ChainsNode>;
  private readonly changed = new vscode.EventEmitter<ChainsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private result: ChainsResult | undefined;
  private roots: TableNode[] | undefined;
  private stale = false;

  constructor(private readonly tracker: DumpTracker) {
    this.treeView = vscode.window.createTreeView(CHAINS_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.treeView,
      // New pods change the endpoints' names: the chains are asked again.
      tracker.onDidChange(() => this.invalidate()),
      this.treeView.onDidChangeVisibility((e) => {
        if (e.visible && this.stale) this.invalidate();
      }),
    );
  }

  private invalidate(): void {
    if (!this.treeView.visible) {
      // Chains are fetched only for a visible view: nothing is asked of the server meanwhile.
      this.stale = true;
      return;
    }
    this.stale = false;
    this.changed.fire(undefined);
  }

  private uri(): vscode.Uri | undefined {
    return this.result ? vscode.Uri.parse(this.result.uri) : undefined;
  }

  async getChildren(node?: ChainsNode): Promise<ChainsNode[]> {
    if (!node) {
      const dump = this.tracker.dump;
      const reading = this.tracker.readingMessage();
      if (dump && reading) this.treeView.message = reading;
      const result = dump ? await this.tracker.chainsResult() : undefined;
      // The same answer keeps the same nodes: their expanded children stay, and VS Code keeps its handles.
      if (result !== this.result || !this.roots) {
        this.result = result;
        this.roots = (result?.tables ?? []).map((table) => ({ kind: 'table', id: `t:${table.name}`, parent: undefined, table }));
      }
      this.treeView.description = dump ? vscode.workspace.asRelativePath(dump.uri, false) : undefined;
      this.treeView.message = dump && !result ? (this.tracker.readingMessage() ?? 'The language server did not list the chains of this dump (see the "Netfilter Explorer" output); Refresh Views asks again.') : undefined;
      return this.roots;
    }
    node.children ??= this.childrenOf(node);
    return node.children;
  }

  private async childrenOf(node: ChainsNode): Promise<ChainsNode[]> {
    switch (node.kind) {
      case 'table':
        return node.table.entries.map((entry, i): ChainsNode =>
          'chain' in entry
            ? this.chainNode(node, node, entry.chain)
            : { kind: 'group', id: `${node.id}/g${i}:${entry.group.label}`, parent: node, table: node, group: entry.group },
        );
      case 'group': {
        const chains = await this.tracker.chainGroup(node.table.table.name, node.group.key);
        if (!chains) return [{ kind: 'message', id: `${node.id}/?`, parent: node, text: `The chains of ${node.group.label} are not available (the dump changed?); refresh.` }];
        return chains.map((chain) => this.chainNode(node, node.table, chain));
      }
      case 'chain':
        return this.ruleNodes(node, node.table, node.chain.name, [node.chain.name]);
      case 'rulePage':
        return node.rules.map((rule): RuleNode => ({ kind: 'rule', id: `${node.id}/${rule.line}`, parent: node, table: node.table, chain: node.chain, rule, path: node.path }));
      case 'rule': {
        const target = node.rule.target;
        if (!node.rule.targetIsChain || !target || node.path.includes(target) || node.path.length > MAX_JUMP_DEPTH) return [];
        return this.ruleNodes(node, node.table, target, [...node.path, target]);
      }
      default:
        return [];
    }
  }

  private chainNode(parent: ChainsNode, table: TableNode, chain: ChainItem): ChainNode {
    return { kind: 'chain', id: `${parent.id}/${chain.name}`, parent, table, chain };
  }

  private async ruleNodes(parent: ChainsNode, table: TableNode, chain: string, path: string[]): Promise<ChainsNode[]> {
    const rules = await this.tracker.chainRules(table.table.name, chain);
    if (!rules) return [{ kind: 'message', id: `${parent.id}/?`, parent, text: `The rules of ${chain} are not available (the dump changed?); refresh.` }];
    if (rules.length > RULE_PAGE_THRESHOLD) {
      const pages: RulePageNode[] = [];
      for (let first = 0; first < rules.length; first += RULE_PAGE_SIZE) {
        pages.push({ kind: 'rulePage', id: `${parent.id}/p${first}`, parent, table, chain, first, rules: rules.slice(first, first + RULE_PAGE_SIZE), path });
      }
      return pages;
    }
    return rules.map((rule): RuleNode => ({ kind: 'rule', id: `${parent.id}/${rule.line}`, parent, table, chain, rule, path }));
  }

  getParent(node: ChainsNode): ChainsNode | undefined {
    return node.parent;
  }

  getTreeItem(node: ChainsNode): vscode.TreeItem {
    const uri = this.uri();
    const reveal = (range: Range): vscode.Command | undefined => (uri ? { title: 'Reveal in Editor', command: 'netfilterExplorer.revealRange', arguments: [uri, range] } : undefined);
    const C = vscode.TreeItemCollapsibleState;
    let item: vscode.TreeItem;
    switch (node.kind) {
      case 'table': {
        item = new vscode.TreeItem(node.table.name, C.Expanded);
        item.description = plural(node.table.chainCount, 'chain');
        item.iconPath = icon('symbol-namespace');
        item.tooltip = `Table ${node.table.name}: ${plural(node.table.chainCount, 'chain')}`;
        item.command = reveal(node.table.range);
        break;
      }
      case 'group': {
        item = new vscode.TreeItem(node.group.label, C.Collapsed);
        item.description = [...(node.group.detail ? [node.group.detail] : []), plural(node.group.count, 'chain')].join(' · ');
        item.iconPath = icon('folder');
        break;
      }
      case 'chain': {
        const { chain } = node;
        item = new vscode.TreeItem(chain.name, chain.ruleCount > 0 ? C.Collapsed : C.None);
        const parts: string[] = [];
        if (chain.policy) parts.push(`policy ${chain.policy}`);
        if (chain.service) parts.push(chain.service);
        const endpoint = endpointText(chain.endpoint);
        if (endpoint) parts.push(endpoint);
        parts.push(plural(chain.ruleCount, 'rule'));
        // Declarations always carry counters ([0:0] for user chains): show them when they say something.
        if (chain.counters && (chain.counters.packets > 0 || chain.counters.bytes > 0)) parts.push(formatCounters(chain.counters));
        item.description = parts.join(' · ');
        item.iconPath = chain.builtin ? icon('symbol-event') : chain.service ? icon('symbol-class') : icon('symbol-function');
        const m = new vscode.MarkdownString();
        m.appendMarkdown(`**${chain.name}** — ${chain.builtin ? 'built-in' : 'user'} chain in table ${node.table.table.name}\n\n`);
        if (chain.policy) m.appendMarkdown(`Policy ${chain.policy}\n\n`);
        if (chain.service) m.appendMarkdown(`Service \`${chain.service}\`\n\n`);
        m.appendMarkdown(`${plural(chain.ruleCount, 'rule')} · ${chain.incoming === 0 ? 'no jumps to it' : `${plural(chain.incoming, 'jump')} to it`} · line ${chain.range.start.line + 1}`);
        if (chain.counters) m.appendMarkdown(`\n\nCounters: ${formatCounters(chain.counters)}`);
        item.tooltip = m;
        item.command = reveal(chain.range);
        break;
      }
      case 'rule': {
        const { rule } = node;
        const target = rule.target;
        const loop = rule.targetIsChain && target !== null && node.path.includes(target);
        const targetChain = rule.targetChain;
        const expandable = rule.targetIsChain && target !== null && !loop && node.path.length <= MAX_JUMP_DEPTH && (targetChain?.ruleCount ?? 1) > 0;
        item = new vscode.TreeItem(target ?? '(no target)', expandable ? C.Collapsed : C.None);
        const parts: string[] = [];
        if (loop) parts.push('loop');
        if (rule.share !== null) parts.push(formatShare(rule.share));
        const endpoint = endpointText(targetChain?.endpoint);
        if (endpoint) parts.push(`→ ${endpoint}`);
        else if (targetChain?.service) parts.push(targetChain.service);
        if (rule.counters) parts.push(formatCounters(rule.counters));
        parts.push(rule.text);
        item.description = parts.join(' · ');
        item.iconPath = loop ? icon('sync', 'problemsWarningIcon.foreground') : rule.targetIsChain ? icon('arrow-right') : target ? icon('symbol-key') : icon('dash');
        const m = new vscode.MarkdownString();
        m.appendMarkdown(`Line ${rule.line + 1}, rule of **${node.chain}** (table ${node.table.table.name})\n\n`);
        m.appendCodeblock(`-A ${node.chain} ${rule.text}`, 'iptables-save');
        if (rule.comment) m.appendMarkdown(`\nComment: ${rule.comment}\n`);
        if (rule.share !== null) m.appendMarkdown(`\nShare of the new connections entering the service chain: ${formatShare(rule.share)}\n`);
        if (targetChain?.service) m.appendMarkdown(`\nJumps to a chain of service \`${targetChain.service}\`${endpoint ? `: endpoint ${endpoint}` : ''}\n`);
        if (rule.counters) m.appendMarkdown(`\nCounters: ${formatCounters(rule.counters)}\n`);
        if (loop) m.appendMarkdown(`\n**Loop**: ${target} is already on the path ${node.path.join(' → ')}\n`);
        item.tooltip = m;
        item.command = reveal(rule.range);
        break;
      }
      case 'rulePage': {
        const last = node.first + node.rules.length;
        item = new vscode.TreeItem(`rules ${(node.first + 1).toLocaleString('en-US')}–${last.toLocaleString('en-US')}`, C.Collapsed);
        item.description = `${node.chain} · lines ${node.rules[0]!.line + 1}–${node.rules[node.rules.length - 1]!.line + 1}`;
        item.iconPath = icon('list-flat');
        item.command = reveal(node.rules[0]!.range);
        break;
      }
      case 'message': {
        item = new vscode.TreeItem(node.text, C.None);
        item.iconPath = icon('info');
        break;
      }
    }
    item.id = node.id;
    item.contextValue = node.kind;
    return item;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
