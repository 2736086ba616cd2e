// What the views and commands show, computed from the server's answers. No VS Code import, so
// that it is unit-tested with Node's test runner (test/client/model.test.ts). Nothing here
// reads the dump: the server owns every netfilter fact (it also filters the services and finds
// the service at a line); this file only arranges and formats.

import { formatShare } from '../../server/src/core/statistic';
import type { EndpointItem, EntryItem, ServiceItem, ServiceSummary, SplitItem } from '../../server/src/protocol';

/** A share for people, written by the server's own function: 50 %, 33.3 %, 8.33 %, 0.012 %. */
export { formatShare };

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
export function serviceLabel(service: ServiceSummary): string {
  const prefix = `${service.namespace}/`;
  return service.title.startsWith(prefix) ? service.title.slice(prefix.length) : service.title;
}

/** Every endpoint reached from an entry: directly, or under one of its conditions. */
function entryEndpoints(entry: EntryItem): EndpointItem[] {
  return [...entry.endpoints, ...entry.conditions.flatMap((c) => c.endpoints)];
}

/** All endpoints an entry reaches are on this node (external traffic policy Local). */
function isLocalOnly(split: SplitItem): boolean {
  return split.endpoints.length > 0 && split.endpoints.every((e) => e.local);
}

type EntryState = 'noEndpoints' | 'localOnly' | 'ok';

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
export function serviceDescription(service: ServiceSummary): string {
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
// Long lists (the services of a namespace, the rules of a chain) show thousands of rows in pages.

export const PAGE_THRESHOLD = 1000;
export const PAGE_SIZE = 500;

/** The pages of a list of `count` rows: all at once up to PAGE_THRESHOLD, else `{ offset, count }` pages of PAGE_SIZE. */
export function listPages(count: number): Array<{ offset: number; count: number }> | undefined {
  if (count <= PAGE_THRESHOLD) return undefined;
  const pages: Array<{ offset: number; count: number }> = [];
  for (let offset = 0; offset < count; offset += PAGE_SIZE) pages.push({ offset, count: Math.min(PAGE_SIZE, count - offset) });
  return pages;
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
