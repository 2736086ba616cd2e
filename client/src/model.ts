// What the views and commands show, computed from the server's answers. No VS Code import, so
// that it is unit-tested with Node's test runner (test/unit/clientModel.test.ts). Nothing here
// reads the dump: the server owns every netfilter fact; this file only arranges and formats.

import type { Range } from 'vscode-languageserver-protocol';
import type { ChainItem, EndpointItem, EntryItem, ServiceItem, ServicesResult, SplitItem } from '../../server/src/protocol';

/** A share for people, as the server writes it: 50 %, 33.3 %, 8.33 %, 0.012 %. */
export function formatShare(share: number): string {
  const percent = share * 100;
  const text = percent >= 10 ? percent.toFixed(1) : percent >= 1 ? percent.toFixed(2) : percent === 0 ? '0' : percent.toPrecision(2);
  return `${text.includes('.') ? text.replace(/\.?0+$/, '') : text} %`;
}

/** `1,234 pkts · 56.7 KiB` for chain and rule counters. */
export function formatCounters(counters: { packets: number; bytes: number }): string {
  return `${counters.packets.toLocaleString('en-US')} pkt${counters.packets === 1 ? '' : 's'} · ${formatBytes(counters.bytes)}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : many}`;
}

/** `10.32.0.3:53`, `[fd00::3]:53`, or the bare address without a port. */
export function endpointAddress(endpoint: Pick<EndpointItem, 'ip' | 'port'>): string {
  if (endpoint.port === null) return endpoint.ip;
  return endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
}

export function podTitle(pod: NonNullable<EndpointItem['pod']>): string {
  return `${pod.namespace}/${pod.name}${pod.node ? ` on ${pod.node}` : ''}`;
}

/** The service's name under its namespace in the tree: `kube-dns:dns-tcp`. */
export function serviceLabel(service: ServiceItem): string {
  const prefix = `${service.namespace}/`;
  return service.title.startsWith(prefix) ? service.title.slice(prefix.length) : service.title;
}

/** Every endpoint reached from an entry: directly, or under one of its conditions. */
export function entryEndpoints(entry: EntryItem): EndpointItem[] {
  return [...entry.endpoints, ...entry.conditions.flatMap((c) => c.endpoints)];
}

export type ServiceState = 'noEndpoints' | 'skewed' | 'localOnly' | 'ok';

/** All endpoints an entry reaches are on this node (external traffic policy Local). */
export function isLocalOnly(split: SplitItem): boolean {
  return split.endpoints.length > 0 && split.endpoints.every((e) => e.local);
}

/** What the icon of a service says, most urgent first. */
export function serviceState(service: ServiceItem): ServiceState {
  if (service.endpointCount === 0) return 'noEndpoints';
  if (service.skewed) return 'skewed';
  if (service.entries.some((e) => e.kind !== 'clusterIP' && isLocalOnly(e)) && !service.entries.some((e) => e.kind !== 'clusterIP' && e.endpoints.some((p) => !p.local))) return 'localOnly';
  return 'ok';
}

export type EntryState = 'noEndpoints' | 'localOnly' | 'ok';

export function entryState(entry: EntryItem): EntryState {
  if (entryEndpoints(entry).length === 0) return 'noEndpoints';
  return isLocalOnly(entry) ? 'localOnly' : 'ok';
}

/** `REJECT 100 %`-style outcomes of a split, in a stable order. */
export function outcomesOf(split: SplitItem): Array<{ outcome: string; share: number }> {
  return Object.entries(split.outcomes)
    .filter(([, share]) => share > 0)
    .map(([outcome, share]) => ({ outcome, share }))
    .sort((a, b) => b.share - a.share || a.outcome.localeCompare(b.outcome));
}

/** One line of description for a service: `TCP · 2 endpoints`, `TCP · no endpoints`. */
export function serviceDescription(service: ServiceItem): string {
  const parts = [service.protocol];
  parts.push(service.endpointCount === 0 ? 'no endpoints' : plural(service.endpointCount, 'endpoint'));
  if (service.skewed) parts.push('skewed');
  if (service.nameSource === 'inferred') parts.push('name inferred');
  return parts.join(' · ');
}

/** One line of description for an entry: `2 endpoints`, `REJECT`, `DROP 100 %`. */
export function entryDescription(entry: EntryItem): string {
  const count = entryEndpoints(entry).length;
  const parts: string[] = [];
  if (entry.endpoints.length > 0) parts.push(plural(entry.endpoints.length, 'endpoint'));
  for (const { outcome, share } of outcomesOf(entry)) parts.push(`${outcome === 'fallthrough' ? 'falls through' : outcome} ${formatShare(share)}`);
  if (entry.conditions.length > 0) parts.push(plural(entry.conditions.length, 'condition'));
  if (count > 0 && isLocalOnly(entry)) parts.push('local only');
  if (entry.sessionAffinitySeconds !== null) parts.push(`affinity ${entry.sessionAffinitySeconds} s`);
  return parts.join(' · ') || 'no endpoints';
}

/** Description of an endpoint: its share and pod. */
export function endpointDescription(endpoint: EndpointItem): string {
  const parts = [formatShare(endpoint.share)];
  if (endpoint.pod) parts.push(endpoint.pod.name);
  if (endpoint.local) parts.push('local');
  return parts.join(' · ');
}

// ---------------------------------------------------------------------------------------------
// The services list, grouped by namespace and filtered client-side.

export interface NamespaceGroup {
  namespace: string;
  services: ServiceItem[];
}

/** The services of one document, grouped once, with a lower-cased text per service to filter on. */
export class ServiceIndex {
  readonly namespaces: NamespaceGroup[];
  readonly total: number;
  readonly endpointTotal: number;
  private readonly haystacks = new Map<ServiceItem, string>();

  constructor(readonly result: ServicesResult) {
    const byNamespace = new Map<string, ServiceItem[]>();
    let endpoints = 0;
    for (const service of result.services) {
      let list = byNamespace.get(service.namespace);
      if (!list) byNamespace.set(service.namespace, (list = []));
      list.push(service);
      endpoints += service.endpointCount;
    }
    this.namespaces = [...byNamespace]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([namespace, services]) => ({ namespace, services: services.sort((a, b) => a.title.localeCompare(b.title)) }));
    this.total = result.services.length;
    this.endpointTotal = endpoints;
  }

  private endpointChains: Map<string, EndpointItem> | undefined;

  /** The endpoint each KUBE-SEP chain leads to, by chain name (for the Chains view). */
  endpointOfChain(name: string): EndpointItem | undefined {
    if (!this.endpointChains) {
      this.endpointChains = new Map();
      for (const service of this.result.services) {
        for (const entry of service.entries) for (const endpoint of entryEndpoints(entry)) this.endpointChains.set(endpoint.chain.name, endpoint);
      }
    }
    return this.endpointChains.get(name);
  }

  /** Namespace, name, port, protocol, every entry's title and address, endpoint addresses and pods, chain names. */
  private haystack(service: ServiceItem): string {
    let text = this.haystacks.get(service);
    if (text === undefined) {
      const parts = [service.title, service.protocol, ...service.chains.map((c) => c.name)];
      for (const entry of service.entries) {
        parts.push(entry.title, entry.address ?? '', ...entry.sourceRanges);
        for (const endpoint of entryEndpoints(entry)) {
          parts.push(endpointAddress(endpoint), endpoint.chain.name);
          if (endpoint.pod) parts.push(`${endpoint.pod.namespace}/${endpoint.pod.name}`, endpoint.pod.node ?? '');
        }
      }
      text = parts.join('\n').toLowerCase();
      this.haystacks.set(service, text);
    }
    return text;
  }

  /** Namespaces with the services that match every word of `query` (case-insensitive substrings). */
  filter(query: string): { namespaces: NamespaceGroup[]; count: number } {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length === 0) return { namespaces: this.namespaces, count: this.total };
    const namespaces: NamespaceGroup[] = [];
    let count = 0;
    for (const group of this.namespaces) {
      const services = group.services.filter((s) => {
        const text = this.haystack(s);
        return words.every((w) => text.includes(w));
      });
      if (services.length > 0) {
        namespaces.push({ namespace: group.namespace, services });
        count += services.length;
      }
    }
    return { namespaces, count };
  }
}

// ---------------------------------------------------------------------------------------------
// The service at the cursor.

export interface ServiceHit {
  service: ServiceItem;
  entry?: EntryItem;
  endpoint?: EndpointItem;
  /** What the cursor line is: the rule of an entry, or a line of (or declaring) a chain. */
  via: 'entry rule' | 'condition rule' | 'endpoint chain' | 'entry chain' | 'service chain';
}

function onLine(range: Range, line: number): boolean {
  return range.start.line <= line && line <= range.end.line;
}

/**
 * The services the cursor line belongs to, best first. `chainAtLine` is the chain whose rules
 * contain the line (from the document symbols); the declaration lines are matched by range.
 */
export function servicesAtLine(services: readonly ServiceItem[], line: number, chainAtLine?: string): ServiceHit[] {
  const hits: ServiceHit[] = [];
  const rank: Record<ServiceHit['via'], number> = { 'entry rule': 0, 'condition rule': 1, 'endpoint chain': 2, 'entry chain': 3, 'service chain': 4 };
  const isChain = (ref: { name: string; range: Range }): boolean => onLine(ref.range, line) || ref.name === chainAtLine;
  for (const service of services) {
    let best: ServiceHit | undefined;
    const offer = (hit: ServiceHit): void => {
      if (!best || rank[hit.via] < rank[best.via]) best = hit;
    };
    for (const entry of service.entries) {
      if (onLine(entry.ruleRange, line)) offer({ service, entry, via: 'entry rule' });
      for (const condition of entry.conditions) if (onLine(condition.ruleRange, line)) offer({ service, entry, via: 'condition rule' });
      for (const endpoint of entryEndpoints(entry)) if (isChain(endpoint.chain)) offer({ service, entry, endpoint, via: 'endpoint chain' });
      if (entry.chain && isChain(entry.chain)) offer({ service, entry, via: 'entry chain' });
    }
    if (service.chains.some(isChain)) offer({ service, via: 'service chain' });
    if (best) hits.push(best);
  }
  return hits.sort((a, b) => rank[a.via] - rank[b.via]);
}

// ---------------------------------------------------------------------------------------------
// The endpoint table as Markdown.

function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** `| entry | endpoint | share | pod |` for every entry of a service, with REJECT/DROP rows. */
export function endpointTableMarkdown(service: ServiceItem): string {
  const rows: string[][] = [];
  for (const entry of service.entries) {
    const splits: Array<{ label: string; split: SplitItem }> = [{ label: entry.title, split: entry }];
    for (const condition of entry.conditions) splits.push({ label: `${entry.title}, ${condition.condition}`, split: condition });
    for (const { label, split } of splits) {
      for (const endpoint of split.endpoints) {
        rows.push([label, endpointAddress(endpoint) + (endpoint.local ? ' (local)' : ''), formatShare(endpoint.share), endpoint.pod ? podTitle(endpoint.pod) : '']);
      }
      for (const { outcome, share } of outcomesOf(split)) rows.push([label, outcome === 'fallthrough' ? 'falls through' : outcome, formatShare(share), '']);
    }
    if (entry.endpoints.length === 0 && outcomesOf(entry).length === 0 && entry.conditions.length === 0) rows.push([entry.title, 'no endpoints', '', '']);
  }
  return [
    `**${cell(service.title)}** (${service.protocol})`,
    '',
    '| entry | endpoint | share | pod |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Long chain lists: grouped by name prefix so that a table with 20,000 chains opens at once.

export const CHAIN_GROUP_THRESHOLD = 500;
export const CHAIN_PAGE_SIZE = 500;

export type ChainListItem = { kind: 'chain'; chain: ChainItem } | { kind: 'group'; label: string; detail?: string; chains: ChainItem[] };

/** The prefix chains are grouped by: the name up to its last `-` (`KUBE-SEP-`), or none. */
function prefixOf(name: string): string | undefined {
  const i = name.lastIndexOf('-');
  return i > 0 ? name.slice(0, i + 1) : undefined;
}

/**
 * The children of a table in the Chains view: the chains themselves when there are few; else
 * chains grouped by name prefix (`KUBE-SEP-*`), each group cut into pages of CHAIN_PAGE_SIZE.
 */
export function chainList(chains: readonly ChainItem[]): ChainListItem[] {
  if (chains.length <= CHAIN_GROUP_THRESHOLD) return chains.map((chain) => ({ kind: 'chain', chain }));
  const groups = new Map<string, ChainItem[]>();
  const out: Array<ChainListItem | { kind: 'prefix'; prefix: string }> = [];
  for (const chain of chains) {
    const prefix = prefixOf(chain.name);
    if (prefix === undefined) {
      out.push({ kind: 'chain', chain });
      continue;
    }
    let list = groups.get(prefix);
    if (!list) {
      groups.set(prefix, (list = []));
      out.push({ kind: 'prefix', prefix });
    }
    list.push(chain);
  }
  return out.flatMap((item): ChainListItem[] => {
    if (item.kind !== 'prefix') return [item];
    const list = groups.get(item.prefix)!;
    if (list.length === 1) return [{ kind: 'chain', chain: list[0]! }];
    return pages(`${item.prefix}*`, list);
  });
}

/** A group, or pages of it when it is long: `KUBE-SEP-* (2 of 20)`, detail `A2… – F7…`. */
export function pages(label: string, chains: readonly ChainItem[]): ChainListItem[] {
  if (chains.length <= CHAIN_PAGE_SIZE) return [{ kind: 'group', label, chains: [...chains] }];
  const sorted = [...chains].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const count = Math.ceil(sorted.length / CHAIN_PAGE_SIZE);
  const prefix = label.endsWith('*') ? label.slice(0, -1) : '';
  const short = (name: string): string => (prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name);
  const out: ChainListItem[] = [];
  for (let i = 0; i < sorted.length; i += CHAIN_PAGE_SIZE) {
    const page = sorted.slice(i, i + CHAIN_PAGE_SIZE);
    out.push({ kind: 'group', label: `${label} (${i / CHAIN_PAGE_SIZE + 1} of ${count})`, detail: `${short(page[0]!.name)} – ${short(page[page.length - 1]!.name)}`, chains: page });
  }
  return out;
}
