import * as vscode from 'vscode';
import { chainSearchText, hasWords, queryWords } from '../../server/src/core/words';
import type { ChainGroupItem, ChainItem, ChainsResult, FindChainsResult, RuleItem, TableItem } from '../../server/src/protocol';
import type { DumpTracker } from './dumps';
import { endpointAddress, formatCounters, formatShare, listPages, plural } from './model';
import { DumpTreeView, icon, type MessageNode as TreeMessage, messageItem, messageNode, revealCommand, type TreeNode } from './treeViews';

export const CHAINS_VIEW_ID = 'netfilterExplorer.chains';

/** Jumps followed at most this deep below a chain (a guard on top of the loop check). */
export const MAX_JUMP_DEPTH = 32;

type NodeBase = TreeNode<ChainsNode>;
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
export type MessageNode = TreeMessage<ChainsNode>;
export type ChainsNode = TableNode | GroupNode | ChainNode | RuleNode | RulePageNode | MessageNode;

/** `10.32.0.3:53 coredns-5d78c9869d-4xk2p` for a KUBE-SEP chain. */
function endpointText(endpoint: ChainItem['endpoint']): string | undefined {
  return endpoint ? `${endpointAddress(endpoint)}${endpoint.pod ? ` ${endpoint.pod}` : ''}` : undefined;
}

/** The icon of a chain: built-in, of a service, or another user chain. */
function chainIcon(chain: Pick<ChainItem, 'builtin' | 'service'>): vscode.ThemeIcon {
  return icon(chain.builtin ? 'symbol-event' : chain.service ? 'symbol-class' : 'symbol-function');
}

/** A chain of Go to Chain…'s answer, and its row in the quick pick. */
type FoundChain = FindChainsResult['chains'][number];
export type ChainPickItem = vscode.QuickPickItem & { chain: FoundChain };

/**
 * A chain as Go to Chain… lists it. The server has matched it against what is typed (words ANDed
 * over name, table and service): `alwaysShow`, or VS Code would hide it again when its own fuzzy
 * match of the whole text against the label or the description fails (`KUBE-SEP nat`).
 */
export function chainPickItem(chain: FoundChain): ChainPickItem {
  return {
    label: chain.name,
    description: [chain.table, plural(chain.ruleCount, 'rule'), ...(chain.policy ? [`policy ${chain.policy}`] : []), ...(chain.service ? [chain.service] : [])].join(' · '),
    iconPath: chainIcon(chain),
    alwaysShow: true,
    chain,
  };
}

/** Whether a chain matches what is typed as the server matches it: every word over its name, table and service. */
export function chainMatcher(query: string): (chain: Pick<FoundChain, 'name' | 'table' | 'service'>) => boolean {
  const wanted = queryWords(query);
  return (chain) => hasWords(chainSearchText(chain.name, chain.table, chain.service), wanted);
}

/** The chain a rule's row expands into: the chain it jumps to, unless that is a loop or deeper than MAX_JUMP_DEPTH. */
function jumpTarget(node: RuleNode): string | undefined {
  const { target, targetIsChain } = node.rule;
  return targetIsChain && target && !node.path.includes(target) && node.path.length <= MAX_JUMP_DEPTH ? target : undefined;
}

function ruleRows(parent: ChainsNode, table: TableNode, chain: string, rules: RuleItem[], path: string[]): RuleNode[] {
  return rules.map((rule) => ({ kind: 'rule', id: `${parent.id}/${rule.line}`, parent, table, chain, rule, path }));
}

/**
 * The Chains view: table → chain → rules, each rule that jumps expandable into the chain it jumps
 * to. New pods change the endpoints' names: the chains are asked again.
 */
export class ChainsView extends DumpTreeView<ChainsNode> {
  private result: ChainsResult | undefined;
  /** The dump the answer is about, for the rows' clicks. */
  private uri: vscode.Uri | undefined;
  private roots: TableNode[] | undefined;

  constructor(tracker: DumpTracker) {
    super(CHAINS_VIEW_ID, tracker);
  }

  protected async rootNodes(): Promise<ChainsNode[]> {
    this.showReading();
    const result = this.tracker.dump ? await this.tracker.chainsResult() : undefined;
    // The same answer keeps the same nodes: their expanded children stay, and VS Code keeps its handles.
    if (result !== this.result || !this.roots) {
      this.result = result;
      this.uri = result ? vscode.Uri.parse(result.uri) : undefined;
      this.roots = (result?.tables ?? []).map((table) => ({ kind: 'table', id: `t:${table.name}`, parent: undefined, table }));
    }
    this.showAnswer(result !== undefined, 'The language server did not list the chains of this dump (see the "Netfilter Explorer" output); Refresh Views asks again.');
    return this.roots;
  }

  protected async childrenOf(node: ChainsNode): Promise<ChainsNode[]> {
    switch (node.kind) {
      case 'table':
        return node.table.entries.map((entry, i): ChainsNode =>
          'chain' in entry
            ? this.chainNode(node, node, entry.chain)
            : { kind: 'group', id: `${node.id}/g${i}:${entry.group.label}`, parent: node, table: node, group: entry.group },
        );
      case 'group': {
        const chains = await this.tracker.chainGroup(node.table.table.name, node.group.key);
        if (!chains) return [messageNode(node, `The chains of ${node.group.label} are not available (the dump changed?); refresh.`)];
        return chains.map((chain) => this.chainNode(node, node.table, chain));
      }
      case 'chain':
        return this.ruleNodes(node, node.table, node.chain.name, [node.chain.name]);
      case 'rulePage':
        return ruleRows(node, node.table, node.chain, node.rules, node.path);
      case 'rule': {
        const target = jumpTarget(node);
        return target ? this.ruleNodes(node, node.table, target, [...node.path, target]) : [];
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
    if (!rules) return [messageNode(parent, `The rules of ${chain} are not available (the dump changed?); refresh.`)];
    // A chain with thousands of rules (KUBE-SERVICES of a big cluster) shows them in pages.
    const pages = listPages(rules.length);
    if (pages) return pages.map(({ offset, count }): RulePageNode => ({ kind: 'rulePage', id: `${parent.id}/p${offset}`, parent, table, chain, first: offset, rules: rules.slice(offset, offset + count), path }));
    return ruleRows(parent, table, chain, rules, path);
  }

  protected treeItem(node: ChainsNode): vscode.TreeItem {
    const uri = this.uri;
    const C = vscode.TreeItemCollapsibleState;
    let item: vscode.TreeItem;
    switch (node.kind) {
      case 'table': {
        item = new vscode.TreeItem(node.table.name, C.Expanded);
        item.description = plural(node.table.chainCount, 'chain');
        item.iconPath = icon('symbol-namespace');
        item.tooltip = `Table ${node.table.name}: ${plural(node.table.chainCount, 'chain')}`;
        item.command = revealCommand(uri, node.table.range);
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
        item.iconPath = chainIcon(chain);
        const m = new vscode.MarkdownString();
        m.appendMarkdown(`**${chain.name}** — ${chain.builtin ? 'built-in' : 'user'} chain in table ${node.table.table.name}\n\n`);
        if (chain.policy) m.appendMarkdown(`Policy ${chain.policy}\n\n`);
        if (chain.service) m.appendMarkdown(`Service \`${chain.service}\`\n\n`);
        m.appendMarkdown(`${plural(chain.ruleCount, 'rule')} · ${chain.incoming === 0 ? 'no jumps to it' : `${plural(chain.incoming, 'jump')} to it`} · line ${chain.range.start.line + 1}`);
        if (chain.counters) m.appendMarkdown(`\n\nCounters: ${formatCounters(chain.counters)}`);
        item.tooltip = m;
        item.command = revealCommand(uri, chain.range);
        break;
      }
      case 'rule': {
        const { rule } = node;
        const target = rule.target;
        const loop = rule.targetIsChain && target !== null && node.path.includes(target);
        const targetChain = rule.targetChain;
        const expandable = jumpTarget(node) !== undefined && (targetChain?.ruleCount ?? 1) > 0;
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
        item.command = revealCommand(uri, rule.range);
        break;
      }
      case 'rulePage': {
        const last = node.first + node.rules.length;
        item = new vscode.TreeItem(`rules ${(node.first + 1).toLocaleString('en-US')}–${last.toLocaleString('en-US')}`, C.Collapsed);
        item.description = `${node.chain} · lines ${node.rules[0]!.line + 1}–${node.rules[node.rules.length - 1]!.line + 1}`;
        item.iconPath = icon('list-flat');
        item.command = revealCommand(uri, node.rules[0]!.range);
        break;
      }
      case 'message':
        item = messageItem(node);
        break;
    }
    return item;
  }
}
