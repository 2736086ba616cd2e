import type { EntryKind, Fate, ServiceModel, ServicePort, TrafficSplit } from './model';
import { podFor, type PodInventory } from './inventory';
import { formatShare } from '../core/statistic';

/** The service table in the shape `netfilter-explorer services --json` prints. */
export interface ServicesJson {
  services: Array<{
    namespace: string;
    name: string;
    port: string;
    protocol: string;
    entries: Array<{
      kind: EntryKind;
      address: string | null;
      port: number | null;
      endpoints: Array<{ ip: string; port: number | null; probability: number; pod?: string }>;
      outcomes?: Partial<Record<Fate, number>>;
      sourceRanges?: string[];
      sessionAffinity: { timeoutSeconds: number } | null;
    }>;
  }>;
}

function outcomesOf(split: TrafficSplit): Partial<Record<Fate, number>> | undefined {
  if (split.fates.size === 0) return undefined;
  const outcomes: Partial<Record<Fate, number>> = {};
  for (const [fate, share] of split.fates) if (share > 0) outcomes[fate] = share;
  return Object.keys(outcomes).length > 0 ? outcomes : undefined;
}

export function servicesJson(model: ServiceModel, pods?: PodInventory): ServicesJson {
  return {
    services: model.services.map((service) => ({
      namespace: service.namespace,
      name: service.name,
      port: service.port,
      protocol: service.protocol,
      entries: service.entries.map((entry) => {
        const outcomes = outcomesOf(entry.split);
        return {
          kind: entry.kind,
          address: entry.address,
          port: entry.port ?? null,
          endpoints: entry.split.endpoints.map(({ endpoint, share }) => {
            const pod = podFor(pods, endpoint.ip);
            return { ip: endpoint.ip, port: endpoint.port ?? null, probability: share, ...(pod ? { pod: `${pod.namespace}/${pod.name}` } : {}) };
          }),
          ...(outcomes ? { outcomes } : {}),
          ...(entry.sourceRanges.length > 0 ? { sourceRanges: entry.sourceRanges } : {}),
          sessionAffinity: entry.sessionAffinitySeconds === undefined ? null : { timeoutSeconds: entry.sessionAffinitySeconds },
        };
      }),
    })),
  };
}

const FATE_WORDS: Record<Fate, string> = {
  REJECT: 'rejected (no endpoints)',
  DROP: 'dropped',
  ACCEPT: 'accepted without DNAT',
  fallthrough: 'not load-balanced by any rule of this dump',
  loop: 'caught in a jump loop',
  unknown: 'sent to a chain this file does not contain',
};

export function describeFate(fate: Fate): string {
  return FATE_WORDS[fate];
}

export function serviceTitle(service: ServicePort): string {
  if (service.nameSource === 'inferred' && service.namespace === '') return `${service.name} (service name unknown)`;
  return service.key;
}

export function entryTitle(kind: EntryKind, address: string | null, port: number | undefined, protocol: string): string {
  const where = address === null ? `node port ${port ?? '?'}` : `${address.includes(':') ? `[${address}]` : address}${port !== undefined ? `:${port}` : ''}`;
  const label: Record<EntryKind, string> = { clusterIP: 'cluster IP', nodePort: '', externalIP: 'external IP', loadBalancerIP: 'load-balancer IP' };
  return `${label[kind] ? `${label[kind]} ` : ''}${where}/${protocol}`;
}

export function endpointTitle(ip: string, port: number | undefined): string {
  return `${ip.includes(':') ? `[${ip}]` : ip}${port !== undefined ? `:${port}` : ''}`;
}

/** The readable table `netfilter-explorer services` prints without --json. */
export function servicesTable(model: ServiceModel, pods?: PodInventory): string {
  if (model.services.length === 0) return 'No Kubernetes services found (no KUBE-SERVICES rules in the nat table).\n';
  const out: string[] = [];
  for (const service of model.services) {
    out.push(`${serviceTitle(service)}  ${service.protocol}${service.nameSource === 'inferred' ? '  (name inferred from the chain graph)' : ''}`);
    for (const entry of service.entries) {
      const affinity = entry.sessionAffinitySeconds !== undefined ? `  session affinity ${entry.sessionAffinitySeconds} s` : '';
      const ranges = entry.sourceRanges.length > 0 ? `  from ${entry.sourceRanges.join(', ')}` : '';
      out.push(`  ${entryTitle(entry.kind, entry.address, entry.port, service.protocol)}${ranges}${affinity}`);
      for (const { endpoint, share } of entry.split.endpoints) {
        const pod = podFor(pods, endpoint.ip);
        out.push(`    ${endpointTitle(endpoint.ip, endpoint.port).padEnd(24)} ${formatShare(share).padStart(8)}${endpoint.local ? '  local' : ''}${pod ? `  ${pod.namespace}/${pod.name}${pod.node ? ` on ${pod.node}` : ''}` : ''}`);
      }
      for (const [fate, share] of entry.split.fates) out.push(`    ${FATE_WORDS[fate].padEnd(24)} ${formatShare(share).padStart(8)}`);
      for (const condition of entry.conditions) {
        const targets = [...condition.endpoints.map((e) => `${endpointTitle(e.endpoint.ip, e.endpoint.port)} ${formatShare(e.share)}`), ...[...condition.fates].map(([fate, share]) => `${FATE_WORDS[fate]} ${formatShare(share)}`)];
        out.push(`    if ${condition.condition}: ${targets.join(', ')}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}
