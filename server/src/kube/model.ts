import type { Analysis } from '../core/analysis';
import type { ChainNode, TableGraph } from '../core/graph';
import type { Diagnostic, Rule } from '../core/ruleset';
import { FlowWalker, parseEndpointAddress, type Flow, type OutcomeKind } from './flow';
import { endpointHash, kubeChain, servicePortHash } from './hashes';
import { type CommentRole, parseKubeComment, servicePortKey, type ServicePortName } from './names';
import { formatShare, kernelProbability, kubeProxyProbability } from '../core/statistic';

export type EntryKind = 'clusterIP' | 'nodePort' | 'externalIP' | 'loadBalancerIP';
export const ENTRY_KINDS: readonly EntryKind[] = ['clusterIP', 'nodePort', 'externalIP', 'loadBalancerIP'];

/**
 * Where a share of the traffic ends other than at an endpoint. `fallthrough`: no rule of the dump
 * handles it; `unknown`: it enters a chain this file does not contain (a partial restore file).
 */
export type Fate = 'REJECT' | 'DROP' | 'ACCEPT' | 'fallthrough' | 'loop' | 'unknown';

/** One pod IP:port behind a service port: a KUBE-SEP chain and its DNAT. */
export interface Endpoint {
  ip: string;
  port: number | undefined;
  chain: ChainNode;
  dnat: Rule | undefined;
  /** Reached from the service's KUBE-SVL (or KUBE-XLB) chain: a pod on this node. */
  local: boolean;
  /** The SEP chain records clients for session affinity (`-m recent --set`). */
  recordsAffinity: boolean;
  /** How the endpoint was tied to its service. */
  nameSource: 'comment' | 'graph';
  /** The SEP chain's name is kube-proxy's hash of the service port, protocol and ip:port. */
  hashConfirmed: boolean;
}

export interface EndpointShare {
  endpoint: Endpoint;
  share: number;
}

export interface TrafficSplit {
  endpoints: EndpointShare[];
  fates: Map<Fate, number>;
}

export interface ConditionalSplit extends TrafficSplit {
  condition: string;
  rule: Rule;
}

/** One way traffic enters a service port: its cluster IP, a node port, an external IP or a load-balancer IP. */
export interface ServiceEntry {
  kind: EntryKind;
  /** null for a node port, which is every local address. */
  address: string | null;
  port: number | undefined;
  /** The rule that matches the address and port (in KUBE-SERVICES, KUBE-NODEPORTS or a filter chain). */
  rule: Rule;
  /** KUBE-SVC / SVL / EXT / FW / XLB chain the traffic enters by; absent when the filter table rejects it before. */
  chain: ChainNode | undefined;
  /** Load-balancer source ranges (KUBE-FW rules); the split below is for traffic from them. */
  sourceRanges: string[];
  /** What new connections of unconditioned traffic get. Shares and fates sum to 1. */
  split: TrafficSplit;
  /** Traffic the rules treat differently: from pods, from the node, from a recent client. */
  conditions: ConditionalSplit[];
  sessionAffinitySeconds: number | undefined;
}

export interface ServicePort {
  /** `ns/name:port/TCP`: unique in a model. */
  id: string;
  namespace: string;
  name: string;
  /** Port name, '' when unnamed. */
  port: string;
  protocol: string;
  /** The name kube-proxy hashes: `ns/name:port`. */
  key: string;
  /** Read from a comment, or guessed from a chain name when no comment names it. */
  nameSource: 'comment' | 'inferred';
  /** The 16-character suffix of its KUBE-SVC/SVL/EXT/FW chains, when it has any. */
  hash: string | undefined;
  /** The hash equals kube-proxy's hash of key and protocol. */
  hashConfirmed: boolean;
  chains: ChainNode[];
  endpoints: Endpoint[];
  entries: ServiceEntry[];
}

export interface ServiceModel {
  services: ServicePort[];
  /** Service port of every KUBE-SVC/SVL/EXT/FW/XLB/SEP chain the model explains. */
  serviceByChain: Map<ChainNode, ServicePort>;
  endpointByChain: Map<ChainNode, Endpoint>;
  /** Cluster, external and load-balancer IPs to the entries that match them. */
  entriesByAddress: Map<string, Array<{ service: ServicePort; entry: ServiceEntry }>>;
  endpointsByIp: Map<string, Array<{ service: ServicePort; endpoint: Endpoint }>>;
  diagnostics: Diagnostic[];
  /** What happens to packets entering a nat chain (shares of the endpoints it reaches), computed once per chain. */
  flowOf(node: ChainNode): Flow | undefined;
}

const ENTRY_ROLES: Partial<Record<CommentRole, EntryKind>> = {
  'cluster-ip': 'clusterIP',
  'external-ip': 'externalIP',
  'loadbalancer-ip': 'loadBalancerIP',
};

const MASQ_CHAIN = 'KUBE-MARK-MASQ';

/** `10.96.0.10/32` -> `10.96.0.10`; a wider prefix stays as written. */
function hostAddress(text: string | undefined): string | null {
  if (text === undefined) return null;
  return text.replace(/\/(32|128)$/, '');
}

function portOf(rule: Rule): number | undefined {
  const text = rule.facts.dport;
  const n = text === undefined ? NaN : Number(text);
  return Number.isInteger(n) ? n : undefined;
}

function protocolOf(rule: Rule): string {
  return (rule.facts.protocol ?? 'tcp').toUpperCase();
}

/** The comment of a rule as kube-proxy wrote it, if it is one of kube-proxy's. */
function kubeCommentOf(rule: Rule) {
  return rule.comment === undefined ? undefined : parseKubeComment(rule.comment);
}

class ModelBuilder {
  readonly services = new Map<string, ServicePort>();
  readonly serviceByChain = new Map<ChainNode, ServicePort>();
  readonly endpointByChain = new Map<ChainNode, Endpoint>();
  readonly diagnostics: Diagnostic[] = [];
  readonly walker: FlowWalker | undefined;
  /** Filter-table rules that reject or drop a service's traffic, by service id. */
  private readonly filterFates = new Map<string, Array<{ rule: Rule; address: string | null; port: number | undefined; fate: Fate; role: CommentRole; chain: string }>>();

  constructor(private readonly analysis: Analysis, private readonly nat: TableGraph | undefined, private readonly filter: TableGraph | undefined) {
    this.walker = nat ? new FlowWalker(nat) : undefined;
  }

  private service(name: ServicePortName, protocol: string, nameSource: 'comment' | 'inferred'): ServicePort {
    const key = servicePortKey(name);
    const id = `${key}/${protocol}`;
    let service = this.services.get(id);
    if (!service) {
      service = { id, ...name, protocol, key, nameSource, hash: undefined, hashConfirmed: false, chains: [], endpoints: [], entries: [] };
      this.services.set(id, service);
    } else if (nameSource === 'comment') {
      service.nameSource = 'comment';
    }
    return service;
  }

  private attachChain(service: ServicePort, node: ChainNode | undefined): void {
    if (!node || this.serviceByChain.has(node)) return;
    const parsed = kubeChain(node.chain.name);
    if (!parsed || parsed.kind === 'SEP') return;
    this.serviceByChain.set(node, service);
    service.chains.push(node);
    if (service.hash === undefined) {
      service.hash = parsed.hash;
      service.hashConfirmed = servicePortHash(service.key, service.protocol) === parsed.hash;
    }
  }

  /** The service port a chain jumped to from KUBE-SERVICES belongs to, when its rule has no comment: by hash, else by the chain's name. */
  private inferService(target: ChainNode, protocol: string): ServicePort {
    const parsed = kubeChain(target.chain.name);
    for (const service of this.services.values()) {
      if (parsed && service.hash === parsed.hash) return service;
    }
    // Rules of the chain itself or its endpoints may still carry the name.
    for (const rule of target.chain.rules) {
      const comment = kubeCommentOf(rule);
      if (comment) return this.service(comment.service, protocol, 'comment');
    }
    return this.service({ namespace: '', name: target.chain.name, port: '' }, protocol, 'inferred');
  }

  collectEntries(): Array<{ service: ServicePort; entry: ServiceEntry }> {
    const found: Array<{ service: ServicePort; entry: ServiceEntry }> = [];
    const nat = this.nat;
    if (!nat) return found;
    const services = nat.nodes.get('KUBE-SERVICES');
    for (const rule of services?.chain.rules ?? []) {
      const target = rule.target ? nat.nodes.get(rule.target.name) : undefined;
      if (!target || target.chain.name === MASQ_CHAIN || target.chain.name === 'KUBE-NODEPORTS') continue;
      const protocol = protocolOf(rule);
      const comment = kubeCommentOf(rule);
      const kind = comment ? ENTRY_ROLES[comment.role] : kindFromChain(target.chain.name);
      if (!kind) continue;
      const service = comment ? this.service(comment.service, protocol, 'comment') : this.inferService(target, protocol);
      this.attachChain(service, target);
      found.push({ service, entry: this.entry(kind, hostAddress(rule.facts.destination), portOf(rule), rule, target) });
    }
    const nodePorts = nat.nodes.get('KUBE-NODEPORTS');
    const seen = new Set<string>();
    for (const rule of nodePorts?.chain.rules ?? []) {
      const target = rule.target ? nat.nodes.get(rule.target.name) : undefined;
      if (!target || target.chain.name === MASQ_CHAIN) continue;
      const protocol = protocolOf(rule);
      const comment = kubeCommentOf(rule);
      const service = comment ? this.service(comment.service, protocol, 'comment') : this.inferService(target, protocol);
      this.attachChain(service, target);
      const port = portOf(rule);
      // kube-proxy writes a second rule for node ports reached on 127.0.0.0/8; it is the same entry.
      const key = `${service.id}:${port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      found.push({ service, entry: this.entry('nodePort', null, port, rule, target) });
    }
    return found;
  }

  private entry(kind: EntryKind, address: string | null, port: number | undefined, rule: Rule, chain: ChainNode | undefined): ServiceEntry {
    return { kind, address, port, rule, chain, sourceRanges: [], split: { endpoints: [], fates: new Map() }, conditions: [], sessionAffinitySeconds: undefined };
  }

  /** Rules of the filter table that reject (no endpoints) or drop (no local endpoints, firewall) a service's traffic. */
  collectFilterFates(): void {
    const filter = this.filter;
    if (!filter) return;
    for (const chainName of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS']) {
      for (const rule of filter.nodes.get(chainName)?.chain.rules ?? []) {
        const comment = kubeCommentOf(rule);
        const target = rule.target?.name;
        if (!comment || (target !== 'REJECT' && target !== 'DROP')) continue;
        if (comment.role !== 'no-endpoints' && comment.role !== 'no-local-endpoints' && comment.role !== 'firewall-not-accepted') continue;
        const service = this.service(comment.service, protocolOf(rule), 'comment');
        const list = this.filterFates.get(service.id) ?? [];
        const dstType = rule.facts.dstType;
        list.push({ rule, address: dstType === 'LOCAL' ? null : hostAddress(rule.facts.destination), port: portOf(rule), fate: target, role: comment.role, chain: chainName });
        this.filterFates.set(service.id, list);
      }
    }
  }

  private filterFate(service: ServicePort, entry: { address: string | null; port: number | undefined }) {
    return this.filterFates.get(service.id)?.find((f) => f.address === entry.address && (f.port === undefined || entry.port === undefined || f.port === entry.port));
  }

  collectEndpoints(): void {
    const nat = this.nat;
    if (!nat) return;
    for (const service of this.services.values()) {
      // KUBE-SVC first so that endpoint order follows the cluster chain; SVL/XLB mark local ones.
      const ordered = [...service.chains].sort((a, b) => chainOrder(a) - chainOrder(b));
      for (const chain of ordered) {
        const kind = kubeChain(chain.chain.name)?.kind;
        if (kind !== 'SVC' && kind !== 'SVL' && kind !== 'XLB') continue;
        for (const jump of chain.outgoing) {
          if (kubeChain(jump.to.chain.name)?.kind !== 'SEP') continue;
          const endpoint = this.endpoint(service, jump.to);
          if (kind !== 'SVC') endpoint.local = true;
        }
      }
    }
    // SEP chains nothing explained (an orphan, or a SVC chain without a KUBE-SERVICES rule) still name their service.
    for (const node of nat.nodes.values()) {
      if (kubeChain(node.chain.name)?.kind !== 'SEP' || this.endpointByChain.has(node)) continue;
      const comment = node.chain.rules.map(kubeCommentOf).find((c) => c !== undefined);
      if (!comment) continue;
      const dnat = node.chain.rules.find((r) => r.target?.name === 'DNAT');
      this.endpoint(this.service(comment.service, dnat ? protocolOf(dnat) : 'TCP', 'comment'), node);
    }
  }

  private endpoint(service: ServicePort, node: ChainNode): Endpoint {
    const existing = this.endpointByChain.get(node);
    if (existing) return existing;
    const dnat = node.chain.rules.find((r) => r.target?.name === 'DNAT');
    const text = dnat?.facts.toDestination;
    const parsed = text === undefined ? undefined : parseEndpointAddress(text);
    const named = node.chain.rules.some((r) => kubeCommentOf(r)?.service && servicePortKey(kubeCommentOf(r)!.service) === service.key);
    const endpoint: Endpoint = {
      ip: parsed?.ip ?? '',
      port: parsed?.port,
      chain: node,
      dnat,
      local: false,
      recordsAffinity: node.chain.rules.some((r) => r.facts.recent?.set === true),
      nameSource: named ? 'comment' : 'graph',
      hashConfirmed: parsed !== undefined && kubeChain(node.chain.name)?.hash === endpointHash(service.key, service.protocol, text!),
    };
    this.endpointByChain.set(node, endpoint);
    this.serviceByChain.set(node, service);
    service.endpoints.push(endpoint);
    return endpoint;
  }

  computeSplits(entries: Array<{ service: ServicePort; entry: ServiceEntry }>): void {
    for (const { service, entry } of entries) {
      service.entries.push(entry);
      if (entry.chain && !entry.chain.declared) {
        entry.split = { endpoints: [], fates: new Map([['unknown', 1]]) };
        continue;
      }
      const flow = entry.chain && this.walker ? this.walker.flowOf(entry.chain) : undefined;
      if (!flow) continue;
      const fallthrough = this.filterFate(service, entry)?.fate ?? 'fallthrough';
      entry.sessionAffinitySeconds = flow.affinitySeconds;
      const isFirewall = kubeChain(entry.chain!.chain.name)?.kind === 'FW';
      const sourceBranches = isFirewall ? flow.branches.filter((b) => /^from \S+$/.test(b.condition)) : [];
      if (sourceBranches.length > 0) {
        // A load balancer with source ranges: the split is for the allowed sources; the rest is a condition.
        entry.sourceRanges = sourceBranches.map((b) => b.condition.slice('from '.length));
        entry.split = this.splitOf(sourceBranches[0]!.flow, fallthrough);
        if (entry.split.endpoints.length > 0 || entry.split.fates.size > 0) entry.sessionAffinitySeconds = sourceBranches[0]!.flow.affinitySeconds;
        entry.conditions.push({ condition: `from other sources than ${entry.sourceRanges.join(', ')}`, rule: entry.rule, ...this.splitOf(flow, fallthrough, false) });
        for (const branch of flow.branches) if (!sourceBranches.includes(branch)) entry.conditions.push(this.conditional(branch.condition, branch.rule, branch.flow, fallthrough));
        continue;
      }
      entry.split = this.splitOf(flow, fallthrough);
      for (const branch of flow.branches) {
        if (branch.condition.includes('session affinity')) continue;
        entry.conditions.push(this.conditional(branch.condition, branch.rule, branch.flow, fallthrough));
      }
    }
    for (const service of this.services.values()) {
      for (const fate of this.filterFates.get(service.id) ?? []) {
        // A filter rule for an address no nat rule load-balances: the service has no (local) endpoints there.
        if (service.entries.some((e) => e.address === fate.address && e.port === fate.port)) continue;
        const kind: EntryKind = fate.chain === 'KUBE-SERVICES' ? 'clusterIP' : fate.address === null ? 'nodePort' : 'externalIP';
        const entry = this.entry(kind, fate.address, fate.port, fate.rule, undefined);
        entry.split = { endpoints: [], fates: new Map([[fate.fate, 1]]) };
        service.entries.push(entry);
      }
    }
  }

  private conditional(condition: string, rule: Rule, flow: Flow, fallthrough: Fate): ConditionalSplit {
    return { condition, rule, ...this.splitOf(flow, fallthrough) };
  }

  private splitOf(flow: Flow, fallthrough: Fate, includeDestinations = true): TrafficSplit {
    const endpoints: EndpointShare[] = [];
    if (includeDestinations) {
      for (const { destination, share } of flow.destinations.values()) {
        const endpoint = this.endpointByChain.get(destination.chain);
        if (endpoint) endpoints.push({ endpoint, share });
      }
    }
    const fates = new Map<Fate, number>();
    const addFate = (fate: Fate, share: number) => {
      if (share > 0) fates.set(fate, (fates.get(fate) ?? 0) + share);
    };
    for (const [kind, share] of flow.outcomes) addFate(outcomeFate(kind), share);
    if (!includeDestinations) for (const { share } of flow.destinations.values()) addFate('ACCEPT', share);
    addFate(fallthrough, flow.returned);
    return { endpoints, fates };
  }

  checkProblems(): void {
    const nat = this.nat;
    if (!nat) return;
    const full = this.analysis.ruleset.form === 'save';
    for (const [node, endpoint] of this.endpointByChain) {
      const declaration = node.chain.declaration;
      if (!endpoint.dnat && declaration) {
        this.diagnostics.push({
          span: declaration, severity: 'warning', code: 'sep-without-dnat',
          message: `Endpoint chain '${node.chain.name}' has no DNAT rule, so traffic sent here is not forwarded to a pod. kube-proxy writes '-j DNAT --to-destination IP:PORT' in every KUBE-SEP chain.`,
        });
      }
    }
    for (const node of nat.nodes.values()) {
      const parsed = kubeChain(node.chain.name);
      if (parsed?.kind === 'SEP' && full && node.incoming.length === 0 && node.chain.declaration && node.chain.rules.length > 0) {
        this.diagnostics.push({
          span: node.chain.declaration, severity: 'warning', code: 'orphan-endpoint',
          message: `Nothing jumps to endpoint chain '${node.chain.name}': no service sends traffic to ${this.endpointByChain.get(node)?.ip || 'it'}. A leftover of an old sync?`,
        });
      }
      if (parsed?.kind === 'SVC' || parsed?.kind === 'SVL') this.checkSkew(node);
    }
    for (const service of this.services.values()) {
      for (const entry of service.entries) {
        if (entry.chain || entry.split.endpoints.length > 0) continue;
        const fate = [...entry.split.fates.keys()][0] ?? 'REJECT';
        const where = entry.address === null ? `node port ${entry.port ?? ''}` : `${entry.address}${entry.port !== undefined ? `:${entry.port}` : ''}`;
        this.diagnostics.push({
          span: { line: entry.rule.line, start: entry.rule.start, end: entry.rule.end }, severity: 'information', code: 'no-endpoints',
          message: `Service ${service.key} (${service.protocol}) has no ${fate === 'DROP' ? 'local ' : ''}endpoints: traffic to ${where} is ${fate === 'DROP' ? 'dropped' : 'rejected'} here. Check that its pods are ready and match the service's selector.`,
        });
      }
    }
  }

  /** kube-proxy gives endpoint i of n the probability 1/(n-i); anything else skews the split. */
  private checkSkew(node: ChainNode): void {
    const rules = node.chain.rules.filter((r) => r.target && kubeChain(r.target.name)?.kind === 'SEP' && !r.facts.recent);
    const n = rules.length;
    rules.forEach((rule, i) => {
      const statistic = rule.facts.statistic;
      if (statistic?.every !== undefined) return;
      const text = statistic?.probability;
      const expected = i === n - 1 ? undefined : kubeProxyProbability(i, n);
      const span = text !== undefined ? { line: rule.line, start: statistic!.valueEnd - text.length, end: statistic!.valueEnd } : { line: rule.line, start: rule.start, end: rule.end };
      // The parser reports a probability the kernel would refuse.
      if (text !== undefined && kernelProbability(text) === undefined) return;
      const actual = text === undefined ? (statistic ? undefined : 1) : kernelProbability(text)!;
      const wanted = expected ?? 1;
      if (actual !== undefined && Math.abs(actual - wanted) > 1e-9) {
        this.diagnostics.push({
          span, severity: 'warning', code: 'skewed-probability',
          message: `Skewed split: with ${n} endpoints kube-proxy gives rule ${i + 1} of '${node.chain.name}' the probability ${expected === undefined ? '1 (no statistic match)' : (1 / (n - i)).toFixed(10)}, here it is ${actual.toFixed(11)}, so its endpoint gets ${formatShare(this.shareOf(node, rule))} instead of ${formatShare(1 / n)}.`,
        });
      }
    });
  }

  private shareOf(node: ChainNode, rule: Rule): number {
    const target = rule.target ? this.nat?.nodes.get(rule.target.name) : undefined;
    const flow = this.walker?.flowOf(node);
    return (target && flow?.destinations.get(target)?.share) ?? 0;
  }
}

function outcomeFate(kind: OutcomeKind): Fate {
  return kind === 'too-deep' ? 'loop' : kind;
}

function chainOrder(node: ChainNode): number {
  return ['SVC', 'SVL', 'XLB', 'EXT', 'FW'].indexOf(kubeChain(node.chain.name)?.kind ?? '');
}

/** The entry kind a chain name implies when KUBE-SERVICES has no comment to say it. */
function kindFromChain(name: string): EntryKind | undefined {
  const kind = kubeChain(name)?.kind;
  return kind === 'SVC' || kind === 'SVL' ? 'clusterIP' : kind === 'FW' ? 'loadBalancerIP' : kind === 'EXT' || kind === 'XLB' ? 'externalIP' : undefined;
}

function entryOrder(a: ServiceEntry, b: ServiceEntry): number {
  return ENTRY_KINDS.indexOf(a.kind) - ENTRY_KINDS.indexOf(b.kind) || (a.address ?? '').localeCompare(b.address ?? '') || (a.port ?? 0) - (b.port ?? 0);
}

/** Services, their entries and endpoints with effective shares, from the nat and filter tables of a dump. */
export function buildServiceModel(analysis: Analysis): ServiceModel {
  const nat = analysis.graph.tables.find((t) => t.table.name === 'nat');
  const filter = analysis.graph.tables.find((t) => t.table.name === 'filter');
  const builder = new ModelBuilder(analysis, nat, filter);
  builder.collectFilterFates();
  const entries = builder.collectEntries();
  builder.collectEndpoints();
  builder.computeSplits(entries);
  builder.checkProblems();
  const services = [...builder.services.values()]
    .filter((s) => s.entries.length > 0 || s.endpoints.length > 0)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || a.port.localeCompare(b.port) || a.protocol.localeCompare(b.protocol));
  const entriesByAddress = new Map<string, Array<{ service: ServicePort; entry: ServiceEntry }>>();
  const endpointsByIp = new Map<string, Array<{ service: ServicePort; endpoint: Endpoint }>>();
  for (const service of services) {
    service.entries.sort(entryOrder);
    for (const entry of service.entries) {
      if (entry.address === null) continue;
      const list = entriesByAddress.get(entry.address) ?? [];
      list.push({ service, entry });
      entriesByAddress.set(entry.address, list);
    }
    for (const endpoint of service.endpoints) {
      if (!endpoint.ip) continue;
      const list = endpointsByIp.get(endpoint.ip) ?? [];
      list.push({ service, endpoint });
      endpointsByIp.set(endpoint.ip, list);
    }
  }
  const walker = builder.walker;
  return {
    services,
    serviceByChain: builder.serviceByChain,
    endpointByChain: builder.endpointByChain,
    entriesByAddress,
    endpointsByIp,
    diagnostics: builder.diagnostics.sort((a, b) => a.span.line - b.span.line || a.span.start - b.span.start),
    flowOf: (node) => (walker && node.table === nat?.table ? walker.flowOf(node) : undefined),
  };
}
