// The Services view's requests. A dump of 10,000 services has 100,000 endpoints, and the whole
// tree as one answer was 35 MB of JSON: seconds to send and to read. So the view asks level by
// level: namespaces with counts, a namespace's services (in pages when long), a service's
// entries and endpoints when it is expanded. The filter runs here, on an index made once per
// version (and pod inventory).
import { type Analysis, tableGraphAtLine } from '../core/analysis';
import type { ChainNode } from '../core/graph';
import { chainNameOf } from '../core/ruleset';
import { itself, lowerBound } from '../core/sorted';
import { hasWords, queryWords } from '../core/words';
import { serviceModelOf } from '../kube';
import { podFor, type PodInventory } from '../kube/inventory';
import type { Endpoint, ServiceEntry, ServicePort, TrafficSplit } from '../kube/model';
import { endpointTitle, entryTitle, serviceTitle } from '../kube/report';
import type {
  ChainRef,
  EndpointItem,
  NamespaceItem,
  ServiceAtResult,
  ServiceItem,
  ServiceListParams,
  ServiceListResult,
  ServicesResult,
  ServiceSummary,
  SplitItem,
} from '../protocol';
import { memo, memoWith } from './memo';
import { chainPlace } from './navigation';
import { lineRange, toRange } from './ranges';

const collator = new Intl.Collator();

/**
 * The services of a version in display order (namespace, then title), with the counts the top
 * level shows. What a list shows of each service (its summary) is made when a list first asks
 * for it: after every edit the view asks for the top level again, and on a dump of 10,000
 * services making every summary took most of that answer's time.
 */
interface TreeIndex {
  services: ServicePort[];
  titles: string[];
  /** Endpoints each service's entries reach, by display position. */
  endpointCounts: Int32Array;
  /** Names of chains with a skewed split. */
  skewedChains: Set<string>;
  /** Summaries made so far, by display position (summaryAt). */
  summaries: Array<ServiceSummary | undefined>;
  /** Display position by ServiceSummary.id, made on first use (positionOf). */
  byId: Map<string, number> | undefined;
  /** Each namespace's run of `services`. */
  namespaces: Array<{ namespace: string; start: number; count: number }>;
  endpointTotal: number;
}

function chainRef(analysis: Analysis, node: ChainNode): ChainRef {
  const place = chainPlace(analysis, node);
  return { name: node.chain.name, range: place ? toRange(place.span) : lineRange(0, 0, 0) };
}

/** Endpoints some entry (or a condition of one) sends traffic to; an endpoint chain nothing reaches is not among them. */
function reachedEndpoints(service: ServicePort): Set<Endpoint> {
  const seen = new Set<Endpoint>();
  for (const entry of service.entries) {
    for (const { endpoint } of entry.split.endpoints) seen.add(endpoint);
    for (const condition of entry.conditions) for (const { endpoint } of condition.endpoints) seen.add(endpoint);
  }
  return seen;
}

/** How many endpoints reachedEndpoints finds, without listing them in the common case. */
function reachedEndpointCount(service: ServicePort): number {
  const entries = service.entries;
  // A split lists each endpoint once (its shares are added up by endpoint chain).
  if (entries.length === 1 && entries[0]!.conditions.length === 0) return entries[0]!.split.endpoints.length;
  return reachedEndpoints(service).size;
}

function isLocalOnly(split: TrafficSplit): boolean {
  return split.endpoints.length > 0 && split.endpoints.every((e) => e.endpoint.local);
}

/** What the icon of a service says, most urgent first. */
function stateOf(service: ServicePort, endpoints: number, skewed: boolean): ServiceSummary['state'] {
  if (endpoints === 0) return 'noEndpoints';
  if (skewed) return 'skewed';
  const external = service.entries.filter((e) => e.kind !== 'clusterIP');
  if (external.some((e) => isLocalOnly(e.split)) && !external.some((e) => e.split.endpoints.some((p) => !p.endpoint.local))) return 'localOnly';
  return 'ok';
}

function entryTitleOf(service: ServicePort, entry: ServiceEntry): string {
  return entryTitle(entry.kind, entry.address, entry.port, service.protocol);
}

function treeIndex(analysis: Analysis): TreeIndex {
  return memo(analysis, 'servicesTree', () => {
    const model = serviceModelOf(analysis);
    const skewedChains = new Set<string>();
    for (const d of model.diagnostics) {
      const rule = d.code === 'skewed-probability' ? analysis.rulesByLine[d.span.line] : undefined;
      if (rule) skewedChains.add(chainNameOf(rule));
    }
    const titled = model.services.map((service) => ({ service, title: serviceTitle(service) }));
    titled.sort((a, b) => (a.service.namespace === b.service.namespace ? 0 : collator.compare(a.service.namespace, b.service.namespace)) || collator.compare(a.title, b.title));
    const services = titled.map((t) => t.service);
    const titles = titled.map((t) => t.title);
    const endpointCounts = new Int32Array(services.length);
    const namespaces: TreeIndex['namespaces'] = [];
    let endpointTotal = 0;
    for (let position = 0; position < services.length; position++) {
      const service = services[position]!;
      const last = namespaces[namespaces.length - 1];
      if (last && last.namespace === service.namespace) last.count++;
      else namespaces.push({ namespace: service.namespace, start: position, count: 1 });
      const endpoints = reachedEndpointCount(service);
      endpointCounts[position] = endpoints;
      endpointTotal += endpoints;
    }
    return { services, titles, endpointCounts, skewedChains, summaries: [], byId: undefined, namespaces, endpointTotal };
  });
}

/** What a list shows of the service at a display position. */
function summaryAt(analysis: Analysis, index: TreeIndex, position: number): ServiceSummary {
  let summary = index.summaries[position];
  if (summary === undefined) {
    const service = index.services[position]!;
    const endpoints = index.endpointCounts[position]!;
    const skewed = service.chains.some((c) => index.skewedChains.has(c.chain.name));
    const first = service.chains[0];
    const firstEntry = service.entries[0];
    const range = first ? chainRef(analysis, first).range : firstEntry ? lineRange(firstEntry.rule.line, firstEntry.rule.start, firstEntry.rule.end) : null;
    summary = {
      id: service.id,
      namespace: service.namespace,
      name: service.name,
      port: service.port,
      protocol: service.protocol,
      title: index.titles[position]!,
      nameSource: service.nameSource,
      hashConfirmed: service.hashConfirmed,
      endpointCount: endpoints,
      skewed,
      state: stateOf(service, endpoints, skewed),
      entryTitles: service.entries.map((e) => entryTitleOf(service, e)),
      range,
    };
    index.summaries[position] = summary;
  }
  return summary;
}

/** The display position of the service with this id. */
function positionOf(index: TreeIndex, id: string): number | undefined {
  if (index.byId === undefined) {
    const byId = new Map<string, number>();
    index.services.forEach((service, position) => byId.set(service.id, position));
    index.byId = byId;
  }
  return index.byId.get(id);
}

/** What the filter searches in a service: namespace, name, port, protocol, entries, endpoints, pods and nodes, chains. */
function haystack(service: ServicePort, title: string, pods: PodInventory | undefined): string {
  const parts = [title, service.protocol, ...service.chains.map((c) => c.chain.name), ...service.entries.map((e) => entryTitleOf(service, e))];
  for (const entry of service.entries) parts.push(...entry.sourceRanges);
  for (const endpoint of reachedEndpoints(service)) {
    parts.push(endpointTitle(endpoint.ip, endpoint.port), endpoint.chain.chain.name);
    const pod = podFor(pods, endpoint.ip);
    if (pod) parts.push(`${pod.namespace}/${pod.name}`, pod.node ?? '');
  }
  return parts.join('\n').toLowerCase();
}

/**
 * Each service's haystack, kept from one version to the next while it is made of the same: a
 * model kept or revised after an edit has the same service objects, and an edit that reaches an
 * entry (a probability, an endpoint's address) makes its splits again. With a filter in the
 * Services view, making every haystack again took 150-250 ms of the view's answer after each
 * edit of the 10k dump.
 */
const keptHaystacks = new WeakMap<ServicePort, { splits: TrafficSplit[]; pods: PodInventory | undefined; text: string }>();

function haystackOf(service: ServicePort, title: string, pods: PodInventory | undefined): string {
  const splits = service.entries.map((e) => e.split);
  const kept = keptHaystacks.get(service);
  if (kept && kept.pods === pods && kept.splits.length === splits.length && kept.splits.every((split, i) => split === splits[i])) return kept.text;
  const text = haystack(service, title, pods);
  keptHaystacks.set(service, { splits, pods, text });
  return text;
}

/** Display positions of the services that match every word of the filter, or undefined for no filter; the last answer is kept. */
function matching(analysis: Analysis, pods: PodInventory | undefined, filter: string | undefined): number[] | undefined {
  const wanted = queryWords(filter);
  if (wanted.length === 0) return undefined;
  const index = treeIndex(analysis);
  const texts = memoWith(analysis, 'servicesHaystacks', pods, () => index.services.map((s, i) => haystackOf(s, index.titles[i]!, pods)));
  const key = wanted.join(' ');
  const last = memoWith(analysis, 'servicesFilter', pods, () => ({ key: '', positions: [] as number[] }));
  if (last.key !== key) {
    const positions: number[] = [];
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i]!;
      if (hasWords(text, wanted)) positions.push(i);
    }
    last.key = key;
    last.positions = positions;
  }
  return last.positions;
}

/** The Services view's top level: namespaces and how many services of each the filter keeps. */
export function servicesTree(analysis: Analysis, uri: string, version: number, pods: PodInventory | undefined, filter: string | undefined): ServicesResult {
  const index = treeIndex(analysis);
  const positions = matching(analysis, pods, filter);
  let namespaces: NamespaceItem[];
  if (!positions) {
    namespaces = index.namespaces.map((n) => ({ namespace: n.namespace, services: n.count }));
  } else {
    namespaces = [];
    for (const i of positions) {
      const namespace = index.services[i]!.namespace;
      const last = namespaces[namespaces.length - 1];
      if (last && last.namespace === namespace) last.services++;
      else namespaces.push({ namespace, services: 1 });
    }
  }
  return {
    uri,
    version,
    total: index.services.length,
    endpointTotal: index.endpointTotal,
    namespaceTotal: index.namespaces.length,
    filter: queryWords(filter).join(' '),
    matched: positions ? positions.length : index.services.length,
    namespaces,
    podSource: pods?.source ?? null,
  };
}

/** A namespace's services (or all), that match the filter, from `offset`, at most `limit`. */
export function serviceList(analysis: Analysis, uri: string, version: number, pods: PodInventory | undefined, params: Omit<ServiceListParams, 'textDocument'>): ServiceListResult {
  const index = treeIndex(analysis);
  let from = 0;
  let to = index.services.length;
  if (params.namespace !== undefined) {
    const ns = index.namespaces.find((n) => n.namespace === params.namespace);
    from = ns ? ns.start : 0;
    to = ns ? ns.start + ns.count : 0;
  }
  const positions = matching(analysis, pods, params.filter);
  const offset = Math.max(0, Math.floor(params.offset ?? 0));
  const limit = params.limit === undefined ? Infinity : Math.max(0, Math.floor(params.limit));
  const services: ServiceSummary[] = [];
  let total: number;
  if (!positions) {
    total = to - from;
    for (let i = from + offset; i < to && services.length < limit; i++) services.push(summaryAt(analysis, index, i));
  } else {
    const first = lowerBound(positions, from, itself);
    const end = lowerBound(positions, to, itself);
    total = end - first;
    for (let k = first + offset; k < end && services.length < limit; k++) services.push(summaryAt(analysis, index, positions[k]!));
  }
  return { uri, version, total, offset, services };
}

function splitItem(analysis: Analysis, split: TrafficSplit, pods: PodInventory | undefined): SplitItem {
  const endpoints: EndpointItem[] = split.endpoints.map(({ endpoint, share }) => {
    const pod = podFor(pods, endpoint.ip);
    return {
      ip: endpoint.ip,
      port: endpoint.port ?? null,
      share,
      local: endpoint.local,
      chain: chainRef(analysis, endpoint.chain),
      ...(pod ? { pod: { namespace: pod.namespace, name: pod.name, ...(pod.node ? { node: pod.node } : {}) } } : {}),
    };
  });
  const outcomes: Record<string, number> = {};
  for (const [fate, share] of split.fates) outcomes[fate] = share;
  return { endpoints, outcomes };
}

function serviceItem(analysis: Analysis, position: number, pods: PodInventory | undefined): ServiceItem {
  const index = treeIndex(analysis);
  const service = index.services[position]!;
  return {
    ...summaryAt(analysis, index, position),
    chains: service.chains.map((c) => chainRef(analysis, c)),
    entries: service.entries.map((entry) => ({
      kind: entry.kind,
      address: entry.address,
      port: entry.port ?? null,
      title: entryTitleOf(service, entry),
      ruleRange: lineRange(entry.rule.line, entry.rule.start, entry.rule.end),
      ...(entry.chain ? { chain: chainRef(analysis, entry.chain) } : {}),
      sourceRanges: entry.sourceRanges,
      sessionAffinitySeconds: entry.sessionAffinitySeconds ?? null,
      ...splitItem(analysis, entry.split, pods),
      conditions: entry.conditions.map((c) => ({ condition: c.condition, ruleRange: lineRange(c.rule.line, c.rule.start, c.rule.end), ...splitItem(analysis, c, pods) })),
    })),
  };
}

/** One service port with its entries, endpoints and chains, as the view shows it when expanded. */
export function serviceDetails(analysis: Analysis, pods: PodInventory | undefined, id: string): ServiceItem | null {
  const position = positionOf(treeIndex(analysis), id);
  return position === undefined ? null : serviceItem(analysis, position, pods);
}

/** The entries and conditions whose rule is on each line: the lines of KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXT... rules. */
function entryRules(analysis: Analysis): Map<number, { position: number; entry: number; condition: boolean }> {
  return memo(analysis, 'serviceEntryRules', () => {
    const index = treeIndex(analysis);
    const byLine = new Map<number, { position: number; entry: number; condition: boolean }>();
    index.services.forEach((service, position) => {
      service.entries.forEach((entry, e) => {
        if (!byLine.has(entry.rule.line)) byLine.set(entry.rule.line, { position, entry: e, condition: false });
      });
    });
    // A condition's rule counts when no entry's rule is on that line.
    index.services.forEach((service, position) => {
      service.entries.forEach((entry, e) => {
        for (const c of entry.conditions) if (!byLine.has(c.rule.line)) byLine.set(c.rule.line, { position, entry: e, condition: true });
      });
    });
    return byLine;
  });
}

/** The chain a line declares or holds a rule of. */
function chainAtLine(analysis: Analysis, line: number): ChainNode | undefined {
  const declared = analysis.declarationsByLine.get(line);
  if (declared) return declared;
  const rule = analysis.rulesByLine[line];
  return rule ? tableGraphAtLine(analysis, line)?.nodes.get(chainNameOf(rule)) : undefined;
}

type Hit = Omit<ServiceAtResult, 'service' | 'index'> & { position: number };

function hitAt(analysis: Analysis, line: number): Hit | undefined {
  const rule = entryRules(analysis).get(line);
  if (rule) return { position: rule.position, entry: rule.entry, endpoint: null, via: rule.condition ? 'condition rule' : 'entry rule' };
  const node = chainAtLine(analysis, line);
  if (!node) return undefined;
  const model = serviceModelOf(analysis);
  const service = model.serviceByChain.get(node);
  const position = service && positionOf(treeIndex(analysis), service.id);
  if (!service || position === undefined) return undefined;
  const endpoint = model.endpointByChain.get(node);
  if (endpoint) {
    for (let e = 0; e < service.entries.length; e++) {
      const entry = service.entries[e]!;
      const direct = entry.split.endpoints.findIndex((s) => s.endpoint === endpoint);
      if (direct >= 0) return { position, entry: e, endpoint: { condition: null, index: direct }, via: 'endpoint chain' };
      for (let c = 0; c < entry.conditions.length; c++) {
        const index = entry.conditions[c]!.endpoints.findIndex((s) => s.endpoint === endpoint);
        if (index >= 0) return { position, entry: e, endpoint: { condition: c, index }, via: 'endpoint chain' };
      }
    }
  }
  const entry = service.entries.findIndex((e) => e.chain === node);
  if (entry >= 0) return { position, entry, endpoint: null, via: 'entry chain' };
  return service.chains.includes(node) ? { position, entry: null, endpoint: null, via: 'service chain' } : undefined;
}

/** The service (and entry, endpoint) a line belongs to: the rule of an entry, or a line of one of its chains. */
export function serviceAt(analysis: Analysis, pods: PodInventory | undefined, line: number, filter: string | undefined): ServiceAtResult | null {
  const hit = hitAt(analysis, line);
  if (!hit) return null;
  const { position, ...rest } = hit;
  const index = treeIndex(analysis);
  const ns = index.namespaces.find((n) => n.start <= position && position < n.start + n.count)!;
  const positions = matching(analysis, pods, filter);
  let place: number | null;
  if (!positions) place = position - ns.start;
  else {
    const k = lowerBound(positions, position, itself);
    place = positions[k] === position ? k - lowerBound(positions, ns.start, itself) : null;
  }
  return { service: serviceItem(analysis, position, pods), ...rest, index: place };
}

/** The endpoint each KUBE-SEP chain leads to, for the Chains view: `10.32.0.3:53` and its pod. */
export function endpointOfChain(analysis: Analysis, pods: PodInventory | undefined, node: ChainNode): { ip: string; port: number | null; pod?: string } | undefined {
  const endpoint = serviceModelOf(analysis).endpointByChain.get(node);
  if (!endpoint) return undefined;
  const pod = podFor(pods, endpoint.ip);
  return { ip: endpoint.ip, port: endpoint.port ?? null, ...(pod ? { pod: pod.name } : {}) };
}
