import { type CodeLens, type InlayHint, InlayHintKind, type Position, type Range } from 'vscode-languageserver';
import { type Analysis, tableGraphAtLine } from '../core/analysis';
import type { ChainNode } from '../core/graph';
import { type Arg, chainNameOf, type Rule, targetOf } from '../core/ruleset';
import { ruleSpec, statisticValueOf } from '../core/ruleSpec';
import { serviceModelOf } from '../kube';
import { parseEndpointAddress } from '../kube/flow';
import { kubeChain } from '../kube/hashes';
import { podFor, type Pod, type PodInventory } from '../kube/inventory';
import type { Endpoint, ServiceEntry, ServiceModel, ServicePort, TrafficSplit } from '../kube/model';
import { describeFate, endpointTitle, entryTitle, serviceTitle } from '../kube/report';
import { formatShare } from '../core/statistic';
import { memoWith } from './memo';
import { occurrencesOfChain } from './navigation';
import { lineRange, toRange } from './ranges';

const CHAIN_ROLE: Record<string, string> = {
  SVC: 'cluster traffic: picks one of all endpoints',
  SVL: 'local traffic: picks one of the endpoints on this node',
  EXT: 'external traffic (node port, external and load-balancer IPs)',
  FW: 'load-balancer firewall: admits the source ranges',
  XLB: 'external traffic to local endpoints (before Kubernetes 1.26)',
  SEP: 'one endpoint: DNAT to a pod',
};

function podText(pod: Pod | undefined): string | undefined {
  return pod ? `${pod.namespace}/${pod.name}${pod.node ? ` on ${pod.node}` : ''}` : undefined;
}

function nameNote(service: ServicePort): string {
  if (service.nameSource === 'inferred') return ' *(name inferred from the chain graph, no comment names it)*';
  return service.hashConfirmed ? '' : service.hash ? ' *(chain hash does not match this name)*' : '';
}

function splitTable(split: TrafficSplit, pods: PodInventory | undefined): string[] {
  const rows = split.endpoints.map(({ endpoint, share }) => `| ${endpointTitle(endpoint.ip, endpoint.port)} | ${formatShare(share)} | ${podText(podFor(pods, endpoint.ip)) ?? ''}${endpoint.local ? ' (local)' : ''} |`);
  for (const [fate, share] of split.fates) rows.push(`| ${describeFate(fate)} | ${formatShare(share)} | |`);
  return rows.length > 0 ? ['| endpoint | share | pod |', '|---|---|---|', ...rows] : [];
}

/** Entries whose traffic passes through a chain of the service. */
function entriesThrough(service: ServicePort, node: ChainNode, model: ServiceModel): ServiceEntry[] {
  return service.entries.filter((entry) => {
    if (!entry.chain) return false;
    if (entry.chain === node) return true;
    const flow = model.flowOf(entry.chain);
    return flow !== undefined && [...flow.destinations.keys()].some((sep) => node.outgoing.some((j) => j.to === sep) || sep === node);
  });
}

/** The Kubernetes part of a chain's hover: which service, how traffic enters, where it goes. */
export function kubeChainMarkdown(analysis: Analysis, node: ChainNode, pods: PodInventory | undefined): string | undefined {
  const model = serviceModelOf(analysis);
  const service = model.serviceByChain.get(node);
  if (!service) return undefined;
  const kind = kubeChain(node.chain.name)?.kind;
  const lines = [`**Service \`${serviceTitle(service)}\`** (${service.protocol})${nameNote(service)}`, ''];
  const endpoint = model.endpointByChain.get(node);
  if (endpoint) {
    lines.push(...endpointLines(service, endpoint, pods));
    return lines.join('\n');
  }
  if (kind) lines.push(`${kind} chain — ${CHAIN_ROLE[kind]}`, '');
  const entries = entriesThrough(service, node, model);
  if (entries.length > 0) lines.push(`Entered by: ${entries.map((e) => entryTitle(e.kind, e.address, e.port, service.protocol)).join(', ')}`, '');
  const flow = model.flowOf(node);
  if (flow) {
    const split: TrafficSplit = { endpoints: [], fates: new Map() };
    for (const { destination, share } of flow.destinations.values()) {
      const ep = model.endpointByChain.get(destination.chain);
      if (ep) split.endpoints.push({ endpoint: ep, share });
    }
    const table = splitTable(split, pods);
    if (table.length > 0) lines.push(...table, '');
    if (flow.returned > 0) lines.push(`${formatShare(flow.returned)} of the traffic${flow.returned < 1 ? ' left' : ''} returns to the calling chain.`, '');
    if (flow.affinitySeconds !== undefined) lines.push(`Session affinity: a client keeps its endpoint for ${flow.affinitySeconds} s; the shares are for new clients.`, '');
    for (const branch of flow.branches) {
      if (branch.condition.includes('session affinity')) continue;
      const targets = [...branch.flow.destinations.values()].map(({ destination, share }) => `${endpointTitle(destination.ip, destination.port)} ${formatShare(share)}`);
      lines.push(`If ${branch.condition}: ${targets.length > 0 ? targets.join(', ') : [...branch.flow.outcomes.keys()].join(', ') || 'continues'} (line ${branch.rule.line + 1})`, '');
    }
  }
  if (service.endpoints.length === 0 && service.entries.every((e) => !e.chain)) lines.push('No endpoints: traffic is rejected.');
  return lines.join('\n').trimEnd();
}

function endpointLines(service: ServicePort, endpoint: Endpoint, pods: PodInventory | undefined): string[] {
  const pod = podFor(pods, endpoint.ip);
  const lines = [`Endpoint **${endpointTitle(endpoint.ip, endpoint.port)}**${endpoint.local ? ' (on this node)' : ''}`, ''];
  lines.push(pod ? `Pod: **${pod.namespace}/${pod.name}**${pod.node ? ` on node ${pod.node}` : ''}` : pods ? `Pod: no pod with IP ${endpoint.ip} in ${pods.source}` : 'Pod: unknown (set `netfilterExplorer.podInventory` to a `kubectl get pods -A -o json` file to see pod names)');
  lines.push('');
  const shares: string[] = [];
  for (const entry of service.entries) {
    const share = entry.split.endpoints.find((e) => e.endpoint === endpoint)?.share;
    if (share !== undefined) shares.push(`${formatShare(share)} of ${entryTitle(entry.kind, entry.address, entry.port, service.protocol)}`);
  }
  lines.push(shares.length > 0 ? `Share: ${shares.join(' · ')}` : 'Share: no entry of the service reaches it for new connections.');
  if (endpoint.recordsAffinity) lines.push('', 'Records clients for session affinity (`-m recent --set`).');
  if (endpoint.nameSource === 'graph') lines.push('', `Service inferred from the jump graph (its rules have no comment)${endpoint.hashConfirmed ? '; the chain hash confirms it' : ''}.`);
  if (!endpoint.dnat) lines.push('', '⚠ No DNAT rule: traffic sent here is not forwarded to a pod.');
  return lines;
}

/** Text under the cursor among a rule's arguments, with its range. */
function argAt(rule: Rule, character: number): Arg | undefined {
  const spec = ruleSpec(rule);
  const options = [...spec.matches.flatMap((m) => m.options), ...spec.targetOptions];
  for (const option of options) {
    for (const value of option.values) if (character >= value.start && character <= value.end) return value;
  }
  return undefined;
}

/** An IP address in an argument: `10.96.0.10/32`, `10.32.0.3:53`, `[fd00::1]:53`, `fd00::a/128`. */
function addressIn(text: string): string | undefined {
  return parseEndpointAddress(text.replace(/\/(32|128)$/, ''))?.ip;
}

/** Hover on an address anywhere in a rule: which service entry or endpoint it is, and which pod. */
export function addressHover(analysis: Analysis, position: Position, pods: PodInventory | undefined): { markdown: string; range: Range } | undefined {
  const rule = analysis.rulesByLine[position.line];
  if (!rule) return undefined;
  const arg = argAt(rule, position.character);
  const ip = arg && addressIn(arg.text);
  if (!arg || !ip) return undefined;
  const model = serviceModelOf(analysis);
  const lines: string[] = [];
  for (const { service, entry } of model.entriesAt(ip)) {
    const endpoints = entry.split.endpoints.map(({ endpoint, share }) => `${endpointTitle(endpoint.ip, endpoint.port)} ${formatShare(share)}`);
    const fates = [...entry.split.fates].map(([fate, share]) => `${describeFate(fate)} ${formatShare(share)}`);
    lines.push(`**${entryTitle(entry.kind, entry.address, entry.port, service.protocol)}** of service \`${serviceTitle(service)}\` → ${[...endpoints, ...fates].join(', ') || 'no endpoints'}`);
  }
  for (const { service, endpoint } of model.endpointsAt(ip)) {
    lines.push([`**Service \`${serviceTitle(service)}\`** (${service.protocol}) — \`${endpoint.chain.chain.name}\``, '', ...endpointLines(service, endpoint, pods)].join('\n'));
  }
  if (lines.length === 0) {
    const pod = podText(podFor(pods, ip));
    if (!pod) return undefined;
    lines.push(`**${ip}** — pod ${pod}`);
  }
  return { markdown: lines.join('\n\n'), range: lineRange(position.line, arg.start, arg.end) };
}

/** `≈ 33.3 %` after each `--probability` and after the fall-through jump of a service chain: the endpoint's share. */
export function inlayHints(analysis: Analysis, range: Range): InlayHint[] {
  const model = serviceModelOf(analysis);
  const hints: InlayHint[] = [];
  const last = Math.min(range.end.line, analysis.rulesByLine.length - 1);
  for (let line = Math.max(0, range.start.line); line <= last; line++) {
    const rule = analysis.rulesByLine[line];
    const target = rule && targetOf(rule);
    if (!rule || !target || rule.recent) continue;
    const graph = tableGraphAtLine(analysis, line);
    const from = graph?.nodes.get(chainNameOf(rule));
    const to = graph?.nodes.get(target.name);
    if (!from || !to || !model.endpointByChain.has(to)) continue;
    const share = model.flowOf(from)?.destinations.get(to)?.share;
    if (share === undefined) continue;
    const probability = rule.statistic;
    const at = (probability && statisticValueOf(rule)?.end) ?? target.end;
    const endpoint = model.endpointByChain.get(to)!;
    hints.push({
      position: { line, character: at },
      label: `≈ ${formatShare(share)}`,
      kind: InlayHintKind.Parameter,
      paddingLeft: true,
      tooltip: `${endpointTitle(endpoint.ip, endpoint.port)} gets ${formatShare(share)} of the new connections entering ${from.chain.name}${probability ? ': this rule\'s probability, as the kernel stores it, times the share left by the rules above' : ': what the rules above leave'}.`,
    });
  }
  return hints;
}

/** Above this many service and endpoint chains, no code lenses are offered. */
export const MAX_CODE_LENS_CHAINS = 5_000;

/** Code lenses above service and endpoint chains: where traffic goes, and how many rules name the chain. */
export function codeLenses(analysis: Analysis, uri: string, pods: PodInventory | undefined): CodeLens[] {
  return memoWith(analysis, `codeLenses ${uri}`, pods, () => makeCodeLenses(analysis, uri, pods));
}

function makeCodeLenses(analysis: Analysis, uri: string, pods: PodInventory | undefined): CodeLens[] {
  const model = serviceModelOf(analysis);
  const lenses: CodeLens[] = [];
  // Tens of thousands of lenses keep the editor busy; on a dump that large hovers and hints say the same.
  if (model.serviceByChain.size > MAX_CODE_LENS_CHAINS) return lenses;
  for (const [node, service] of model.serviceByChain) {
    const declaration = node.chain.declaration;
    if (!declaration) continue;
    const range = toRange(declaration);
    const endpoint = model.endpointByChain.get(node);
    let title: string;
    if (endpoint) {
      const pod = podFor(pods, endpoint.ip);
      const cluster = service.entries.find((e) => e.split.endpoints.some((s) => s.endpoint === endpoint));
      const share = cluster?.split.endpoints.find((s) => s.endpoint === endpoint)?.share;
      title = `${serviceTitle(service)} → ${endpointTitle(endpoint.ip, endpoint.port)}${pod ? ` (${pod.name})` : ''}${share !== undefined ? ` · ${formatShare(share)}` : ''}`;
    } else {
      const flow = model.flowOf(node);
      const count = flow ? flow.destinations.size : 0;
      title = `${serviceTitle(service)} · ${count === 0 ? 'no endpoints' : `${count} endpoint${count === 1 ? '' : 's'}`}`;
    }
    lenses.push({ range, command: { title, command: '' } });
    const references = occurrencesOfChain(analysis, node).filter((o) => o.role !== 'declaration');
    lenses.push({
      range,
      command: {
        title: `${references.length} reference${references.length === 1 ? '' : 's'}`,
        command: 'netfilterExplorer.showReferences',
        arguments: [uri, range.start, references.map((o) => ({ uri, range: toRange(o.span) }))],
      },
    });
  }
  return lenses.sort((a, b) => a.range.start.line - b.range.start.line);
}
