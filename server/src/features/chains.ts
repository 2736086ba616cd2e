import { type Analysis, definitionOf, occurrencesOf } from '../core/analysis';
import { serviceModelOf } from '../kube';
import { serviceTitle } from '../kube/report';
import type { ChainItem, ChainsResult, RuleItem } from '../protocol';
import type { PodInventory } from '../kube/inventory';
import { memoWith } from './memo';
import { lineRange, toRange } from './ranges';
import { endpointOfChain } from './servicesTree';

/** The Chains view's tables and chains (made once per version and pod inventory); rules are fetched per chain when it is expanded. */
export function chainsResult(analysis: Analysis, uri: string, version: number, pods: PodInventory | undefined): ChainsResult {
  return memoWith(analysis, `chains ${uri} ${version}`, pods, () => makeChainsResult(analysis, uri, version, pods));
}

function makeChainsResult(analysis: Analysis, uri: string, version: number, pods: PodInventory | undefined): ChainsResult {
  const model = serviceModelOf(analysis);
  return {
    uri,
    version,
    tables: analysis.graph.tables.map(({ table, nodes }) => ({
      name: table.name,
      range: toRange(table.nameSpan),
      chains: [...nodes.values()]
        .filter((n) => n.chain.declaration || n.chain.rules.length > 0)
        .map((node): ChainItem => {
          const place = definitionOf(node) ?? occurrencesOf(analysis, node)[0];
          const service = model.serviceByChain.get(node);
          const endpoint = service ? endpointOfChain(analysis, pods, node) : undefined;
          return {
            name: node.chain.name,
            builtin: node.chain.builtin,
            policy: node.chain.builtin && node.chain.policy && node.chain.policy !== '-' ? node.chain.policy : null,
            counters: node.chain.counters ?? null,
            range: place ? toRange(place.span) : toRange(table.nameSpan),
            ruleCount: node.chain.rules.length,
            incoming: node.incoming.length,
            service: service ? serviceTitle(service) : null,
            ...(endpoint ? { endpoint } : {}),
          };
        }),
    })),
  };
}

export function chainRules(analysis: Analysis, tableName: string, chainName: string, lineText: (line: number) => string): RuleItem[] | null {
  const graph = analysis.graph.tables.find((t) => t.table.name === tableName);
  const node = graph?.nodes.get(chainName);
  if (!graph || !node) return null;
  const flow = serviceModelOf(analysis).flowOf(node);
  return node.chain.rules.map((rule) => {
    const target = rule.target ? graph.nodes.get(rule.target.name) : undefined;
    const text = lineText(rule.line).slice(rule.chainSpan.end, rule.end).trim();
    const share = target && flow && !rule.facts.recent ? (flow.destinations.get(target)?.share ?? null) : null;
    return {
      line: rule.line,
      range: lineRange(rule.line, rule.start, rule.end),
      text,
      comment: rule.comment ?? null,
      target: rule.target?.name ?? null,
      targetIsChain: target !== undefined,
      counters: rule.counters ?? null,
      share,
    };
  });
}
