// The Chains view's requests and Go to Chain…. A dump of 10,000 services has 120,000 chains:
// all of them in one answer was 30 MB of JSON (half a second to send, more to show). So the view
// gets each table's chains grouped by name prefix, in pages of 500, and asks for a group's
// chains when it is expanded; Go to Chain… asks for the chains matching what is typed.
import type { Analysis } from '../core/analysis';
import type { ChainNode, TableGraph } from '../core/graph';
import { serviceModelOf } from '../kube';
import { lineTextAt } from '../core/ruleset';
import { chainSearchText, hasWords, queryWords } from '../core/words';
import type { PodInventory } from '../kube/inventory';
import { serviceTitle } from '../kube/report';
import type { ChainEntry, ChainGroupItem, ChainItem, ChainsResult, FindChainsResult, RuleItem } from '../protocol';
import { memo, memoWith } from './memo';
import { chainPlace } from './navigation';
import { lineRange, toRange } from './ranges';
import { endpointOfChain } from './servicesTree';
import { isWritten, prefixOf, writtenChains } from './symbols';

/** A table with more chains than this shows them grouped by name prefix. */
const CHAIN_GROUP_THRESHOLD = 500;
/** A group holds at most this many chains; longer ones are cut into pages, in name order. */
export const CHAIN_PAGE_SIZE = 500;
/** Go to Chain… gets at most this many chains per query (the count of all that match comes with them). */
export const MAX_FOUND_CHAINS = 1_000;

type Entry = { node: ChainNode } | { group: ChainGroupItem; nodes: ChainNode[] };

/** A table's written chains and how the view shows them: chains, or groups and pages of them. */
interface TableIndex {
  graph: TableGraph;
  /** The written chains, as the table lists them. */
  nodes: ChainNode[];
  entries: Entry[];
  groups: Map<string, ChainNode[]>;
}

/**
 * The children of a table: its chains when there are few; else chains grouped by name prefix
 * (`KUBE-SEP-*`) in order of first appearance, a prefix of one chain left as that chain, and
 * groups longer than a page cut into pages in name order (`KUBE-SEP-* (2 of 20)`, `A2… – F7…`).
 */
function grouped(nodes: ChainNode[]): Entry[] {
  if (nodes.length <= CHAIN_GROUP_THRESHOLD) return nodes.map((node) => ({ node }));
  const byPrefix = new Map<string, ChainNode[]>();
  const order: Array<ChainNode | string> = [];
  for (const node of nodes) {
    const prefix = prefixOf(node.chain.name);
    if (prefix === undefined) {
      order.push(node);
      continue;
    }
    let list = byPrefix.get(prefix);
    if (!list) {
      byPrefix.set(prefix, (list = []));
      order.push(prefix);
    }
    list.push(node);
  }
  const entries: Entry[] = [];
  for (const item of order) {
    if (typeof item !== 'string') {
      entries.push({ node: item });
      continue;
    }
    const list = byPrefix.get(item)!;
    if (list.length === 1) {
      entries.push({ node: list[0]! });
    } else if (list.length <= CHAIN_PAGE_SIZE) {
      entries.push({ group: { label: `${item}*`, count: list.length, key: item }, nodes: list });
    } else {
      const sorted = [...list].sort((a, b) => (a.chain.name < b.chain.name ? -1 : a.chain.name > b.chain.name ? 1 : 0));
      const pages = Math.ceil(sorted.length / CHAIN_PAGE_SIZE);
      const short = (node: ChainNode) => node.chain.name.slice(item.length);
      for (let i = 0; i < sorted.length; i += CHAIN_PAGE_SIZE) {
        const page = sorted.slice(i, i + CHAIN_PAGE_SIZE);
        const n = i / CHAIN_PAGE_SIZE + 1;
        entries.push({ group: { label: `${item}* (${n} of ${pages})`, detail: `${short(page[0]!)} – ${short(page[page.length - 1]!)}`, count: page.length, key: `${item}#${n}` }, nodes: page });
      }
    }
  }
  return entries;
}

function tableIndexes(analysis: Analysis): TableIndex[] {
  return memo(analysis, 'chainTables', () =>
    analysis.graph.tables.map((graph) => {
      const nodes = (writtenChains(analysis).find((w) => w.table === graph.table)?.chains ?? []).map((chain) => graph.list[chain.id]!);
      const entries = grouped(nodes);
      const groups = new Map<string, ChainNode[]>();
      for (const entry of entries) if ('group' in entry) groups.set(entry.group.key, entry.nodes);
      return { graph, nodes, entries, groups };
    }),
  );
}

function chainItem(analysis: Analysis, pods: PodInventory | undefined, node: ChainNode): ChainItem {
  const place = chainPlace(analysis, node);
  const service = serviceModelOf(analysis).serviceByChain.get(node);
  const endpoint = service ? endpointOfChain(analysis, pods, node) : undefined;
  return {
    name: node.chain.name,
    builtin: node.chain.builtin,
    policy: node.chain.builtin && node.chain.policy && node.chain.policy !== '-' ? node.chain.policy : null,
    counters: node.chain.counters ?? null,
    range: place ? toRange(place.span) : toRange(node.table.nameSpan),
    ruleCount: node.chain.rules.length,
    incoming: analysis.graph.byTable.get(node.table)!.incomingCounts[node.id]!,
    service: service ? serviceTitle(service) : null,
    ...(endpoint ? { endpoint } : {}),
  };
}

/** The Chains view's tables with their chains or groups of chains (made once per version and pod inventory). */
export function chainsResult(analysis: Analysis, uri: string, version: number, pods: PodInventory | undefined): ChainsResult {
  return memoWith(analysis, `chains ${uri} ${version}`, pods, () => ({
    uri,
    version,
    tables: tableIndexes(analysis).map(({ graph, nodes, entries }) => ({
      name: graph.table.name,
      range: toRange(graph.table.nameSpan),
      chainCount: nodes.length,
      entries: entries.map((entry): ChainEntry => ('group' in entry ? { group: entry.group } : { chain: chainItem(analysis, pods, entry.node) })),
    })),
  }));
}

/** The chains of one group of a table, when it is expanded. */
export function chainGroup(analysis: Analysis, pods: PodInventory | undefined, table: string, key: string): ChainItem[] | null {
  const nodes = tableIndexes(analysis).find((t) => t.graph.table.name === table)?.groups.get(key);
  return nodes ? nodes.map((node) => chainItem(analysis, pods, node)) : null;
}

/** Every written chain with the lower-cased text a query searches: name, table, service. */
function searchable(analysis: Analysis): Array<{ node: ChainNode; text: string }> {
  return memo(analysis, 'chainTexts', () => {
    const model = serviceModelOf(analysis);
    const list: Array<{ node: ChainNode; text: string }> = [];
    for (const { graph, nodes } of tableIndexes(analysis)) {
      for (const node of nodes) {
        const service = model.serviceByChain.get(node);
        list.push({ node, text: chainSearchText(node.chain.name, graph.table.name, service ? serviceTitle(service) : null) });
      }
    }
    return list;
  });
}

/** Chains whose name, table or service contains every word of the query; or the one chain asked by name. */
export function findChains(analysis: Analysis, pods: PodInventory | undefined, query: string, limit = MAX_FOUND_CHAINS, exact?: { chain: string; table?: string }): FindChainsResult {
  const found: FindChainsResult['chains'] = [];
  if (exact) {
    for (const { graph } of tableIndexes(analysis)) {
      if (exact.table !== undefined && graph.table.name !== exact.table) continue;
      const node = graph.nodes.get(exact.chain);
      if (node && isWritten(node.chain)) found.push({ ...chainItem(analysis, pods, node), table: graph.table.name });
    }
    return { total: found.length, chains: found.slice(0, limit) };
  }
  const wanted = queryWords(query);
  let total = 0;
  for (const { node, text } of searchable(analysis)) {
    if (!hasWords(text, wanted)) continue;
    total++;
    if (found.length < limit) found.push({ ...chainItem(analysis, pods, node), table: node.table.name });
  }
  return { total, chains: found };
}

export function chainRules(analysis: Analysis, tableName: string, chainName: string, pods?: PodInventory): RuleItem[] | null {
  const graph = analysis.graph.tables.find((t) => t.table.name === tableName);
  const node = graph?.nodes.get(chainName);
  if (!graph || !node) return null;
  const model = serviceModelOf(analysis);
  const flow = model.flowOf(node);
  return node.chain.rules.map((rule) => {
    const target = rule.targetName !== undefined ? graph.nodes.get(rule.targetName) : undefined;
    const text = lineTextAt(rule, rule.chainEnd, rule.end).trim();
    const share = target && flow && !rule.recent ? (flow.destinations.get(target)?.share ?? null) : null;
    const service = target && model.serviceByChain.get(target);
    const endpoint = target && service ? endpointOfChain(analysis, pods, target) : undefined;
    return {
      line: rule.line,
      range: lineRange(rule.line, rule.start, rule.end),
      text,
      comment: rule.comment ?? null,
      target: rule.targetName ?? null,
      targetIsChain: target !== undefined,
      ...(target ? { targetChain: { ruleCount: target.chain.rules.length, service: service ? serviceTitle(service) : null, ...(endpoint ? { endpoint } : {}) } } : {}),
      counters: rule.counters ?? null,
      share,
    };
  });
}
