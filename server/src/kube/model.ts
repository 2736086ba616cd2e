import { type Analysis, diagnosticOrder } from '../core/analysis';
import { type ChainNode, chainsLeadingTo, type TableGraph } from '../core/graph';
import type { Chain, Diagnostic, Rule, Span, Table } from '../core/ruleset';
import { statisticValueOf } from '../core/ruleSpec';
import { destinationChainId, FlowWalker, type Flow, type OutcomeKind } from './flow';
import { endpointHash, kubeChain, type KubeChainKind, servicePortHash } from './hashes';
import { type CommentRole, readKubeComment, servicePortKey, type ServicePortName } from './names';
import { formatShare, kubeProxyProbability } from '../core/statistic';

export type EntryKind = 'clusterIP' | 'nodePort' | 'externalIP' | 'loadBalancerIP';

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
  serviceByChain: ReadonlyMap<ChainNode, ServicePort>;
  endpointByChain: ReadonlyMap<ChainNode, Endpoint>;
  /** The entries whose cluster, external or load-balancer IP is this address, in the order of the services; once per address and version. */
  entriesAt(address: string): ReadonlyArray<{ service: ServicePort; entry: ServiceEntry }>;
  /**
   * The endpoints whose DNAT sends packets to this address, in the order of the services and
   * their endpoints. Found in the flow walker's DNAT table, once per address and version: a map
   * of a large dump's 100,000 endpoints by address took 100 ms, made again after every edit.
   */
  endpointsAt(ip: string): ReadonlyArray<{ service: ServicePort; endpoint: Endpoint }>;
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

/** Past this many chains leading to those an edit changed, every entry's shares are worked out again. */
const REACHING_LIMIT = 4096;

/** The chains of the filter table whose rules reject or drop a service's traffic. */
const FILTER_CHAINS = ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS'];

/** `10.96.0.10/32` -> `10.96.0.10`; a wider prefix stays as written. */
function hostAddress(text: string | undefined): string | null {
  if (text === undefined) return null;
  if (text.endsWith('/32')) return text.slice(0, -3);
  return text.endsWith('/128') ? text.slice(0, -4) : text;
}

function portOf(rule: Rule): number | undefined {
  const text = rule.dport;
  const n = text === undefined ? NaN : Number(text);
  return Number.isInteger(n) ? n : undefined;
}

/**
 * A service port name as read once: interned by its key (one object per key), and kept with the
 * comments that name it from one model to the next after an edit.
 */
interface PortName {
  readonly service: ServicePortName;
  /** servicePortKey(service). */
  readonly key: string;
}

/** A kube-proxy comment as the model reads it. */
interface ReadComment {
  readonly role: CommentRole;
  readonly name: PortName;
}

/** The chains whose comments NameCache keeps by rule: nat KUBE-SERVICES and KUBE-NODEPORTS, then the filter chains of FILTER_CHAINS. */
const SERVICES_SLOT = 0;
const NODEPORTS_SLOT = 1;
const FILTER_SLOT = 2;

/**
 * The names of service ports read from comments, interned by key, and the comments of the
 * chains that list the service ports (slots) by rule: the KUBE-SERVICES and KUBE-NODEPORTS
 * rules of a large dump have one comment per service port, and after an edit within lines
 * the model reads the same rules again, in the same places.
 */
class NameCache {
  private readonly names = new Map<string, PortName>();
  /** By slot and rule index: the comment text last read there, and what it said. */
  private readonly texts: Array<Array<string | undefined>> = [];
  private readonly reads: Array<Array<ReadComment | undefined>> = [];

  /** What a kube-proxy comment says; undefined for any other comment. */
  read(text: string): ReadComment | undefined {
    const comment = readKubeComment(text);
    return comment ? { role: comment.comment.role, name: this.named(comment.key, comment.comment.service) } : undefined;
  }

  /** read(rule.comment) for rule k of the chain of a slot, which has `count` rules. */
  at(slot: number, k: number, count: number, rule: Rule): ReadComment | undefined {
    const text = rule.comment;
    if (text === undefined) return undefined;
    let texts = this.texts[slot];
    let reads = this.reads[slot]!;
    if (texts === undefined || texts.length !== count) {
      texts = this.texts[slot] = new Array<string | undefined>(count).fill(undefined);
      reads = this.reads[slot] = new Array<ReadComment | undefined>(count).fill(undefined);
    }
    if (texts[k] === text) return reads[k];
    const read = this.read(text);
    texts[k] = text;
    reads[k] = read;
    return read;
  }

  /** The name with the key of `service`: the first one read with that key. */
  name(service: ServicePortName): PortName {
    return this.named(servicePortKey(service), service);
  }

  /** The name with key `key`, servicePortKey(service). */
  private named(key: string, service: ServicePortName): PortName {
    let name = this.names.get(key);
    if (name === undefined) {
      name = { service, key };
      this.names.set(key, name);
    }
    return name;
  }

  /** How many names it interned. */
  get size(): number {
    return this.names.size;
  }
}

/** Made by newServicePort, as an object literal: V8 then allocates the thousands of a large dump in the old generation. */
class ServicePortData implements ServicePort {
  declare readonly id: string;
  declare readonly namespace: string;
  declare readonly name: string;
  declare readonly port: string;
  declare readonly protocol: string;
  declare readonly key: string;
  declare nameSource: 'comment' | 'inferred';
  /** Order of creation in its model. */
  declare readonly ordinal: number;
  declare hash: string | undefined;
  declare readonly chains: ChainNode[];
  declare readonly endpoints: Endpoint[];
  declare readonly entries: ServiceEntry[];
  /** The interned name it was made for, and the next service port of that name (another protocol). */
  declare readonly portName: PortName;
  declare sameName: ServicePortData | undefined;
  /** Its place in the sorted services of its model. */
  declare rank: number;
  private declare confirmed: boolean | undefined;

  private constructor() {}

  /** Hashed on first use: a view or hover asks for a few, the model has thousands. */
  get hashConfirmed(): boolean {
    if (this.confirmed === undefined) {
      if (this.hash === undefined) return false;
      this.confirmed = servicePortHash(this.key, this.protocol) === this.hash;
    }
    return this.confirmed;
  }

  set hashConfirmed(value: boolean) {
    this.confirmed = value;
  }
}

function newServicePort(portName: PortName, protocol: string, nameSource: 'comment' | 'inferred', ordinal: number): ServicePortData {
  const name = portName.service;
  const service = {
    __proto__: ServicePortData.prototype,
    id: `${portName.key}/${protocol}`,
    namespace: name.namespace,
    name: name.name,
    port: name.port,
    protocol,
    key: portName.key,
    nameSource,
    ordinal,
    hash: undefined,
    chains: [],
    endpoints: [],
    entries: [],
    portName,
    sameName: undefined,
    rank: -1,
    confirmed: undefined,
  };
  return service as unknown as ServicePortData;
}

/**
 * The endpoint of a KUBE-SEP chain. A large dump has one per pod and service, so it keeps the
 * chain's id and reads its address, chain and DNAT rule from the walker's tables when asked.
 */
class EndpointData implements Endpoint {
  declare local: boolean;
  private declare named: boolean | undefined;
  private declare confirmed: boolean | undefined;
  /** The builder that made it, whose walker it reads through: a revised model has a walker of its own. */
  private declare readonly source: { readonly walker: FlowWalker | undefined };
  private declare readonly id: number;
  /** The service port kube-proxy hashes into the chain's name. */
  private declare readonly service: ServicePort;

  /** Made by newEndpoint, as an object literal: a large dump has 100,000, which V8 then allocates in the old generation. */
  private constructor() {}

  private get walker(): FlowWalker {
    return this.source.walker!;
  }

  get ip(): string {
    return this.walker.dnatIpAt(this.id) ?? '';
  }

  get port(): number | undefined {
    return this.walker.dnatPortAt(this.id);
  }

  get chain(): ChainNode {
    return this.walker.nodeAt(this.id);
  }

  get dnat(): Rule | undefined {
    return this.walker.dnatRuleAt(this.id);
  }

  get recordsAffinity(): boolean {
    return this.walker.recordsAffinityAt(this.id);
  }

  /** 'comment' when a rule of the chain names the service in kube-proxy's words. */
  get nameSource(): 'comment' | 'graph' {
    if (this.named === undefined) {
      this.named = false;
      if (this.walker.hasCommentsAt(this.id)) {
        for (const rule of this.chain.chain.rules) {
          if (rule.comment === undefined) continue;
          if (readKubeComment(rule.comment)?.key === this.service.key) {
            this.named = true;
            break;
          }
        }
      }
    }
    return this.named ? 'comment' : 'graph';
  }

  /** Hashed on first use: the model has an endpoint per KUBE-SEP chain, a hover shows one. */
  get hashConfirmed(): boolean {
    if (this.confirmed === undefined) {
      const text = this.walker.hasDnatAddressAt(this.id) ? this.dnat!.toDestination : undefined;
      const chainHash = kubeChain(this.chain.chain.name)?.hash;
      this.confirmed = text !== undefined && chainHash !== undefined && chainHash === endpointHash(this.service.key, this.service.protocol, text);
    }
    return this.confirmed;
  }

  set hashConfirmed(value: boolean) {
    this.confirmed = value;
  }

  /** Forgets what it read of its chain's rules, after an edit of them. */
  forgetReadings(): void {
    this.named = undefined;
    this.confirmed = undefined;
  }
}

function newEndpoint(source: { readonly walker: FlowWalker | undefined }, id: number, service: ServicePort): EndpointData {
  const endpoint = { __proto__: EndpointData.prototype, local: false, named: undefined, confirmed: undefined, source, id, service };
  return endpoint as unknown as EndpointData;
}

/**
 * A service entry. What its traffic does (split, conditions, source ranges, affinity) is worked
 * out for all entries together on first use: the diagnostics need none of it, a view all of it.
 */
class EntryData implements ServiceEntry {
  declare readonly kind: EntryKind;
  declare readonly address: string | null;
  declare readonly port: number | undefined;
  declare readonly rule: Rule;
  declare readonly chain: ChainNode | undefined;
  /** Works out the shares of the entries that have them to work out; undefined when this one's are known. */
  private declare readonly shares: SharesOf | undefined;
  private declare splitValue: TrafficSplit | undefined;
  private declare conditionsValue: ConditionalSplit[];
  private declare sourceRangesValue: string[];
  private declare affinityValue: number | undefined;

  /** Made by newEntry, as an object literal. */
  private constructor() {}

  get split(): TrafficSplit {
    this.shares?.ensureShares(this);
    return (this.splitValue ??= { endpoints: [], fates: new Map() });
  }

  set split(split: TrafficSplit) {
    this.splitValue = split;
  }

  get conditions(): ConditionalSplit[] {
    this.shares?.ensureShares(this);
    return this.conditionsValue;
  }

  set conditions(conditions: ConditionalSplit[]) {
    this.conditionsValue = conditions;
  }

  get sourceRanges(): string[] {
    this.shares?.ensureShares(this);
    return this.sourceRangesValue;
  }

  set sourceRanges(ranges: string[]) {
    this.sourceRangesValue = ranges;
  }

  get sessionAffinitySeconds(): number | undefined {
    this.shares?.ensureShares(this);
    return this.affinityValue;
  }

  set sessionAffinitySeconds(seconds: number | undefined) {
    this.affinityValue = seconds;
  }

  /** Forgets what its traffic does, when the builder works that out (an entry by a declared chain), so that it is worked out again. */
  forgetShares(): void {
    if (!this.shares || !this.chain?.declared) return;
    this.splitValue = undefined;
    this.conditionsValue = [];
    this.sourceRangesValue = [];
    this.affinityValue = undefined;
  }
}

/** What works out an entry's shares: its own (without jump loops, a chain's flow does not depend on what was walked before), or every waiting entry's. */
interface SharesOf {
  ensureShares(entry?: ServiceEntry): void;
}

function newEntry(kind: EntryKind, address: string | null, port: number | undefined, rule: Rule, chain: ChainNode | undefined, shares: SharesOf | undefined): EntryData {
  const entry = {
    __proto__: EntryData.prototype,
    kind,
    address,
    port,
    rule,
    chain,
    shares,
    splitValue: undefined,
    conditionsValue: [],
    sourceRangesValue: [],
    affinityValue: undefined,
  };
  return entry as unknown as EntryData;
}

type FilterFate = { rule: Rule; address: string | null; port: number | undefined; fate: Fate; role: CommentRole; chain: string };

class ModelBuilder {
  /** The service ports in order of creation. */
  readonly services: ServicePortData[] = [];
  /** The first service port made for each name (the others follow its sameName links). */
  readonly servicesByName = new Map<PortName, ServicePortData>();
  readonly names: NameCache;
  /** The service of each nat chain the model explains, by node id; the ids of those chains in the order they were explained. */
  readonly serviceById: Array<ServicePort | undefined>;
  readonly explained: Int32Array;
  explainedCount = 0;
  /** The endpoint of each KUBE-SEP chain, by node id; the ids of those chains in the order their endpoints were made. */
  readonly endpointById: Array<EndpointData | undefined>;
  readonly endpointIds: Int32Array;
  endpointCount = 0;
  diagnostics: Diagnostic[] = [];
  walker: FlowWalker | undefined;
  /** Filter-table rules that reject or drop a service's traffic, by service. */
  private readonly filterFates = new Map<ServicePortData, FilterFate[]>();
  /** Services in the order their chain hash was set, and an index of the first-created service per hash over the first `hashesIndexed` of them. */
  private readonly hashed: ServicePortData[] = [];
  private readonly serviceByHash = new Map<string, ServicePortData>();
  private hashesIndexed = 0;
  /** `TCP` for `tcp`: one string per protocol. */
  private readonly protocols = new Map<string, string>();
  /** Rule indexes for checkSkew, reused. */
  private readonly skewScratch: number[] = [];
  /** kube-proxy's probability for endpoint i of n, by n. */
  private readonly expectedProbabilities = new Map<number, Array<number | undefined>>();

  constructor(
    private analysis: Analysis,
    readonly nat: TableGraph | undefined,
    readonly filter: TableGraph | undefined,
    walker: FlowWalker | undefined,
    names: NameCache | undefined,
  ) {
    this.walker = walker;
    this.names = names ?? new NameCache();
    const size = nat ? nat.list.length : 0;
    this.serviceById = new Array<ServicePort | undefined>(size).fill(undefined);
    this.endpointById = new Array<EndpointData | undefined>(size).fill(undefined);
    // A chain is explained once, an endpoint made once per chain.
    this.explained = new Int32Array(size);
    this.endpointIds = new Int32Array(size);
  }

  /** The id of a nat chain. The model is about the nat table of its analysis: any other chain is a mistake. */
  private idOf(node: ChainNode): number {
    if (this.nat?.list[node.id] !== node) throw new Error(`'${node.chain.name}' is not a chain of the nat table`);
    return node.id;
  }

  private setService(id: number, service: ServicePort): void {
    if (this.serviceById[id] === undefined) this.explained[this.explainedCount++] = id;
    this.serviceById[id] = service;
  }

  /** kubeChain(name).hash of a KUBE-SVC/SVL/EXT/FW/XLB/SEP chain of the nat table. */
  private hashAt(id: number): string | undefined {
    if (this.walker!.kindAt(id) === undefined) return undefined;
    const name = this.walker!.nodeAt(id).chain.name;
    return name.slice(name.length - 16);
  }

  private protocolOf(rule: Rule): string {
    const text = rule.protocol ?? 'tcp';
    let upper = this.protocols.get(text);
    if (upper === undefined) {
      upper = text.toUpperCase();
      this.protocols.set(text, upper);
    }
    return upper;
  }

  /** The service port of a name and protocol (`${key}/${protocol}`), made on first use. */
  private service(name: PortName, protocol: string, nameSource: 'comment' | 'inferred'): ServicePortData {
    const first = this.servicesByName.get(name);
    let service = first;
    while (service !== undefined && service.protocol !== protocol) service = service.sameName;
    if (!service) {
      service = newServicePort(name, protocol, nameSource, this.services.length);
      this.services.push(service);
      if (first === undefined) {
        this.servicesByName.set(name, service);
      } else {
        let last = first;
        while (last.sameName !== undefined) last = last.sameName;
        last.sameName = service;
      }
    } else if (nameSource === 'comment') {
      service.nameSource = 'comment';
    }
    return service;
  }

  /** The comment of a rule as kube-proxy wrote it, if it is one of kube-proxy's. */
  private commentOf(rule: Rule): ReadComment | undefined {
    return rule.comment === undefined ? undefined : this.names.read(rule.comment);
  }

  private attachChain(service: ServicePortData, id: number): void {
    if (this.serviceById[id]) return;
    const kind = this.walker!.kindAt(id);
    if (kind === undefined || kind === 'SEP') return;
    this.setService(id, service);
    service.chains.push(this.walker!.nodeAt(id));
    if (service.hash === undefined) {
      service.hash = this.hashAt(id);
      this.hashed.push(service);
    }
  }

  /** The first-created service whose chain hash is `hash`, among those that have one now. */
  private serviceWithHash(hash: string): ServicePortData | undefined {
    for (; this.hashesIndexed < this.hashed.length; this.hashesIndexed++) {
      const service = this.hashed[this.hashesIndexed]!;
      const known = this.serviceByHash.get(service.hash!);
      if (!known || known.ordinal > service.ordinal) this.serviceByHash.set(service.hash!, service);
    }
    return this.serviceByHash.get(hash);
  }

  /** The service port a chain jumped to from KUBE-SERVICES belongs to, when its rule has no comment: by hash, else by the chain's name. */
  private inferService(id: number, protocol: string): ServicePortData {
    const hash = this.hashAt(id);
    const known = hash === undefined ? undefined : this.serviceWithHash(hash);
    if (known) return known;
    // Rules of the chain itself or its endpoints may still carry the name.
    const target = this.walker!.nodeAt(id);
    const rules = target.chain.rules;
    for (let k = 0; k < rules.length; k++) {
      const comment = this.commentOf(rules[k]!);
      if (comment) return this.service(comment.name, protocol, 'comment');
    }
    return this.service(this.names.name({ namespace: '', name: target.chain.name, port: '' }), protocol, 'inferred');
  }

  collectEntries(): Array<{ service: ServicePortData; entry: ServiceEntry }> {
    const found: Array<{ service: ServicePortData; entry: ServiceEntry }> = [];
    const nat = this.nat;
    const walker = this.walker;
    if (!nat || !walker) return found;
    const masq = nat.nodes.get(MASQ_CHAIN)?.id ?? -1;
    const nodePorts = nat.nodes.get('KUBE-NODEPORTS');
    const services = nat.nodes.get('KUBE-SERVICES');
    if (services) {
      const id = this.idOf(services);
      const rules = services.chain.rules;
      const first = walker.firstRuleOf(id);
      for (let k = 0; k < rules.length; k++) {
        const rule = rules[k]!;
        const target = walker.targetNodeIdAt(first + k);
        if (target === -1 || target === masq || target === nodePorts?.id) continue;
        const protocol = this.protocolOf(rule);
        const comment = this.names.at(SERVICES_SLOT, k, rules.length, rule);
        const kind = comment ? ENTRY_ROLES[comment.role] : kindFromChain(walker.kindAt(target));
        if (!kind) continue;
        const service = comment ? this.service(comment.name, protocol, 'comment') : this.inferService(target, protocol);
        this.attachChain(service, target);
        found.push({ service, entry: newEntry(kind, hostAddress(rule.destination), portOf(rule), rule, walker.nodeAt(target), this) });
      }
    }
    if (nodePorts) {
      const id = this.idOf(nodePorts);
      const rules = nodePorts.chain.rules;
      const first = walker.firstRuleOf(id);
      const seen = new Set<string>();
      for (let k = 0; k < rules.length; k++) {
        const rule = rules[k]!;
        const target = walker.targetNodeIdAt(first + k);
        if (target === -1 || target === masq) continue;
        const protocol = this.protocolOf(rule);
        const comment = this.names.at(NODEPORTS_SLOT, k, rules.length, rule);
        const service = comment ? this.service(comment.name, protocol, 'comment') : this.inferService(target, protocol);
        this.attachChain(service, target);
        const port = portOf(rule);
        // kube-proxy writes a second rule for node ports reached on 127.0.0.0/8; it is the same entry.
        const key = `${service.id}:${port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        found.push({ service, entry: newEntry('nodePort', null, port, rule, walker.nodeAt(target), this) });
      }
    }
    this.attachInnerChains();
    return found;
  }

  /**
   * The chains an entry chain jumps on to for the same service (same hash): KUBE-FW to KUBE-EXT,
   * KUBE-EXT to KUBE-SVC and KUBE-SVL. No rule of KUBE-SERVICES names KUBE-SVL, yet its
   * endpoints are the service's local ones.
   */
  private attachInnerChains(): void {
    const walker = this.walker!;
    for (const service of this.services) {
      const chains = service.chains;
      for (let c = 0; c < chains.length; c++) {
        const id = chains[c]!.id;
        const hash = this.hashAt(id);
        const end = walker.firstJumpOf(id + 1);
        for (let j = walker.firstJumpOf(id); j < end; j++) {
          const to = walker.jumpTargetAt(j);
          const kind = walker.kindAt(to);
          if (kind === undefined || kind === 'SEP' || this.serviceById[to] !== undefined || this.hashAt(to) !== hash) continue;
          this.attachChain(service, to);
        }
      }
    }
  }

  /** Rules of the filter table that reject (no endpoints) or drop (no local endpoints, firewall) a service's traffic. */
  collectFilterFates(): void {
    const filter = this.filter;
    if (!filter) return;
    for (let c = 0; c < FILTER_CHAINS.length; c++) {
      const chainName = FILTER_CHAINS[c]!;
      const rules = filter.nodes.get(chainName)?.chain.rules ?? [];
      for (let k = 0; k < rules.length; k++) {
        const rule = rules[k]!;
        const target = rule.targetName;
        if (target !== 'REJECT' && target !== 'DROP') continue;
        const comment = this.names.at(FILTER_SLOT + c, k, rules.length, rule);
        if (!comment) continue;
        if (comment.role !== 'no-endpoints' && comment.role !== 'no-local-endpoints' && comment.role !== 'firewall-not-accepted') continue;
        const service = this.service(comment.name, this.protocolOf(rule), 'comment');
        const dstType = rule.dstType;
        addTo(this.filterFates, service, { rule, address: dstType === 'LOCAL' ? null : hostAddress(rule.destination), port: portOf(rule), fate: target, role: comment.role, chain: chainName });
      }
    }
  }

  private filterFate(service: ServicePortData, entry: { address: string | null; port: number | undefined }): FilterFate | undefined {
    if (this.filterFates.size === 0) return undefined;
    const fates = this.filterFates.get(service);
    if (!fates) return undefined;
    for (const f of fates) if (f.address === entry.address && (f.port === undefined || entry.port === undefined || f.port === entry.port)) return f;
    return undefined;
  }

  collectEndpoints(): void {
    const nat = this.nat;
    const walker = this.walker;
    if (!nat || !walker) return;
    const services = this.services;
    for (let s = 0; s < services.length; s++) {
      const service = services[s]!;
      // KUBE-SVC first so that endpoint order follows the cluster chain; SVL/XLB mark local ones.
      const chains = service.chains;
      for (let p = 0; p < ENDPOINT_PARENTS.length; p++) {
        const kind = ENDPOINT_PARENTS[p]!;
        for (let c = 0; c < chains.length; c++) {
          const id = chains[c]!.id;
          if (walker.kindAt(id) !== kind) continue;
          const end = walker.firstJumpOf(id + 1);
          for (let j = walker.firstJumpOf(id); j < end; j++) {
            const to = walker.jumpTargetAt(j);
            if (walker.kindAt(to) !== 'SEP') continue;
            const endpoint = this.endpoint(service, to);
            if (kind !== 'SVC') endpoint.local = true;
          }
        }
      }
    }
    // SEP chains nothing explained (an orphan, or a SVC chain without a KUBE-SERVICES rule) still name their service.
    for (let id = 0; id < nat.list.length; id++) {
      if (walker.kindAt(id) !== 'SEP' || this.endpointById[id] !== undefined || !walker.hasCommentsAt(id)) continue;
      const rules = walker.nodeAt(id).chain.rules;
      let comment: ReadComment | undefined;
      for (let k = 0; k < rules.length && !comment; k++) comment = this.commentOf(rules[k]!);
      if (!comment) continue;
      const dnat = rules.find((r) => r.targetName === 'DNAT');
      this.endpoint(this.service(comment.name, dnat ? this.protocolOf(dnat) : 'TCP', 'comment'), id);
    }
  }

  /** The endpoint of the KUBE-SEP chain of node id. */
  private endpoint(service: ServicePort, id: number): EndpointData {
    const existing = this.endpointById[id];
    if (existing) return existing;
    const endpoint = newEndpoint(this, id, service);
    this.endpointById[id] = endpoint;
    this.endpointIds[this.endpointCount++] = id;
    this.setService(id, service);
    service.endpoints.push(endpoint);
    return endpoint;
  }

  /** Gives each service its entries, with those of filter rules for addresses no nat rule load-balances. */
  placeEntries(entries: Array<{ service: ServicePortData; entry: ServiceEntry }>): void {
    for (let e = 0; e < entries.length; e++) {
      const { service, entry } = entries[e]!;
      service.entries.push(entry);
      if (entry.chain && !entry.chain.declared) entry.split = { endpoints: [], fates: new Map([['unknown', 1]]) };
    }
    this.pending = new Map(entries.map((item) => [item.entry, item]));
    this.allEntries = entries;
    for (const [service, fates] of this.filterFates) {
      for (const fate of fates) {
        // A filter rule for an address no nat rule load-balances: the service has no (local) endpoints there.
        if (service.entries.some((e) => e.address === fate.address && e.port === fate.port)) continue;
        const kind: EntryKind = fate.chain === 'KUBE-SERVICES' ? 'clusterIP' : fate.address === null ? 'nodePort' : 'externalIP';
        const entry = newEntry(kind, fate.address, fate.port, fate.rule, undefined, undefined);
        entry.split = { endpoints: [], fates: new Map([[fate.fate, 1]]) };
        service.entries.push(entry);
      }
    }
  }

  /** The entries whose shares are still to be worked out, in the order of their rules. */
  private pending = new Map<ServiceEntry, { service: ServicePortData; entry: ServiceEntry }>();
  private allEntries: Array<{ service: ServicePortData; entry: ServiceEntry }> = [];

  /**
   * Works out what the traffic of `entry` does, or of every entry still waiting (in the order of
   * their rules). Flows are cached per chain; in a dump with jump loops the first walk decides
   * where a loop is cut, so there every entry is worked out at once, in order. Without loops an
   * entry is worked out alone: a hover after opening a 10k dump or after an edit then walks one
   * service's chains, not the 10,000 services' (about 100 ms).
   */
  ensureShares(entry?: ServiceEntry): void {
    if (this.pending.size === 0) return;
    if (entry !== undefined && this.nat!.cycles.length === 0) {
      const item = this.pending.get(entry);
      if (item === undefined) return;
      this.pending.delete(entry);
      this.workOutShares(item.service, item.entry);
      return;
    }
    const items = [...this.pending.values()];
    this.pending.clear();
    for (const { service, entry: each } of items) this.workOutShares(service, each);
  }

  private workOutShares(service: ServicePortData, entry: ServiceEntry): void {
    if (entry.chain && !entry.chain.declared) return;
    const flow = entry.chain && this.walker ? this.walker.flowOf(entry.chain) : undefined;
    if (!flow) return;
    const fallthrough = this.filterFate(service, entry)?.fate ?? 'fallthrough';
    entry.sessionAffinitySeconds = flow.affinitySeconds;
    const isFirewall = this.walker!.kindAt(this.idOf(entry.chain!)) === 'FW';
    const sourceBranches = isFirewall ? flow.branches.filter((b) => /^from \S+$/.test(b.condition)) : [];
    if (sourceBranches.length > 0) {
      // A load balancer with source ranges: the split is for the allowed sources; the rest is a condition.
      entry.sourceRanges = sourceBranches.map((b) => b.condition.slice('from '.length));
      entry.split = this.splitOf(sourceBranches[0]!.flow, fallthrough);
      if (entry.split.endpoints.length > 0 || entry.split.fates.size > 0) entry.sessionAffinitySeconds = sourceBranches[0]!.flow.affinitySeconds;
      entry.conditions.push({ condition: `from other sources than ${entry.sourceRanges.join(', ')}`, rule: entry.rule, ...this.splitOf(flow, fallthrough, false) });
      for (const branch of flow.branches) if (!sourceBranches.includes(branch)) entry.conditions.push(this.conditional(branch.condition, branch.rule, branch.flow, fallthrough));
      return;
    }
    entry.split = this.splitOf(flow, fallthrough);
    for (const branch of flow.branches) {
      if (branch.condition.includes('session affinity')) continue;
      entry.conditions.push(this.conditional(branch.condition, branch.rule, branch.flow, fallthrough));
    }
  }

  /**
   * The flow of a nat chain. With jump loops the entries walk first (the first walk decides
   * where a loop is cut); without, a chain's flow does not depend on the order chains are walked
   * in, and it is walked alone rather than after every entry of every service (after an edit).
   */
  flowOf(node: ChainNode): Flow {
    if (this.nat!.cycles.length > 0) this.ensureShares();
    return this.walker!.flowOf(node);
  }

  private conditional(condition: string, rule: Rule, flow: Flow, fallthrough: Fate): ConditionalSplit {
    const split = this.splitOf(flow, fallthrough);
    return { condition, rule, endpoints: split.endpoints, fates: split.fates };
  }

  private splitOf(flow: Flow, fallthrough: Fate, includeDestinations = true): TrafficSplit {
    const endpoints: EndpointShare[] = [];
    const count = flow.destinationCount;
    if (includeDestinations) {
      for (let i = 0; i < count; i++) {
        const endpoint = this.endpointById[destinationChainId(flow, i)];
        if (endpoint) endpoints.push({ endpoint, share: flow.shareAt(i) });
      }
    }
    const fates = new Map<Fate, number>();
    for (let i = 0; i < flow.outcomeCount; i++) addFate(fates, outcomeFate(flow.outcomeAt(i)), flow.outcomeShareAt(i));
    if (!includeDestinations) for (let i = 0; i < count; i++) addFate(fates, 'ACCEPT', flow.shareAt(i));
    addFate(fates, fallthrough, flow.returned);
    return { endpoints, fates };
  }

  checkProblems(): void {
    const nat = this.nat;
    if (!nat) return;
    const full = this.analysis.ruleset.form === 'save';
    const walker = this.walker!;
    for (let e = 0; e < this.endpointCount; e++) this.checkDnat(this.endpointIds[e]!);
    for (let id = 0; id < nat.list.length; id++) {
      const kind = walker.kindAt(id);
      if (kind === 'SEP' && full && walker.incomingCountAt(id) === 0) {
        const node = nat.list[id]!;
        if (node.chain.declaration && node.chain.rules.length > 0) {
          this.diagnostics.push({
            span: node.chain.declaration, severity: 'warning', code: 'orphan-endpoint',
            message: `Nothing jumps to endpoint chain '${node.chain.name}': no service sends traffic to ${this.endpointById[id]?.ip || 'it'}. A leftover of an old sync?`,
          });
        }
      }
      if (kind === 'SVC' || kind === 'SVL') this.checkSkew(id);
    }
    for (const service of this.services) {
      const entries = service.entries;
      for (let e = 0; e < entries.length; e++) {
        const entry = entries[e]!;
        if (entry.chain || entry.split.endpoints.length > 0) continue;
        const fate = entry.split.fates.keys().next().value ?? 'REJECT';
        const where = entry.address === null ? `node port ${entry.port ?? ''}` : `${entry.address}${entry.port !== undefined ? `:${entry.port}` : ''}`;
        this.diagnostics.push({
          span: { line: entry.rule.line, start: entry.rule.start, end: entry.rule.end }, severity: 'information', code: 'no-endpoints',
          message: `Service ${service.key} (${service.protocol}) has no ${fate === 'DROP' ? 'local ' : ''}endpoints: traffic to ${where} is ${fate === 'DROP' ? 'dropped' : 'rejected'} here. Check that its pods are ready and match the service's selector.`,
        });
      }
    }
  }

  /** An endpoint chain without a DNAT rule forwards nothing. */
  private checkDnat(id: number): void {
    const walker = this.walker!;
    if (walker.hasDnatAt(id)) return;
    const node = walker.nodeAt(id);
    const declaration = node.chain.declaration;
    if (!declaration) return;
    this.diagnostics.push({
      span: declaration, severity: 'warning', code: 'sep-without-dnat',
      message: `Endpoint chain '${node.chain.name}' has no DNAT rule, so traffic sent here is not forwarded to a pod. kube-proxy writes '-j DNAT --to-destination IP:PORT' in every KUBE-SEP chain.`,
    });
  }

  /**
   * The service ports an edit touched, when it left the model's structure as it was: it changed
   * only rules of KUBE-SVC/SVL/EXT/FW/XLB/SEP chains the model explains (an endpoint chain
   * reached by jumps from its service's chains only), no jump between such chains, and each port
   * touched has entries whose rules name it in a comment (so no name was guessed from a chain
   * the edit changed). Undefined otherwise, or when the table has jump loops (where a loop is
   * cut depends on the order of the walks).
   */
  touchedServices(walker: FlowWalker, reuse: ModelReuse): { services: Set<ServicePortData>; chains: Set<number> } | undefined {
    const nat = this.nat;
    if (!nat || nat.cycles.length > 0 || reuse.lines.length === 0) return undefined;
    const ids = new Set<number>();
    for (const chain of [...reuse.changed.map((rule) => rule.chain), ...reuse.chains]) {
      if (!chain || nat.list[chain.id]?.chain !== chain) return undefined;
      ids.add(chain.id);
    }
    for (const jump of reuse.jumps) {
      if (jump.table !== nat.table || walker.kindAt(jump.to) !== undefined || this.serviceById[jump.to] !== undefined) return undefined;
      ids.add(jump.from);
    }
    const touched = new Set<ServicePortData>();
    for (const id of ids) {
      const kind = walker.kindAt(id);
      const service = this.serviceById[id] as ServicePortData | undefined;
      if (kind === undefined || service === undefined) return undefined;
      // An endpoint chain only its own service's chains jump to: the shares of no other service depend on it.
      if (kind === 'SEP' && (nat.list[id]!.incoming.length === 0 || !nat.list[id]!.incoming.every((jump) => service.chains.includes(jump.from)))) return undefined;
      touched.add(service);
    }
    for (const service of touched) if (service.entries.length === 0 || service.entries.some((entry) => entry.rule.comment === undefined)) return undefined;
    return { services: touched, chains: ids };
  }

  /**
   * The model after an edit that left its structure as it was (touchedServices): the same
   * service ports, entries and endpoints, read through `walker` now, their shares worked out
   * again when first asked for, and the diagnostics of the ports the edit touched made again.
   */
  revise(analysis: Analysis, walker: FlowWalker, touched: ReadonlySet<ServicePortData>, chains: ReadonlySet<number>, lines: readonly number[]): void {
    this.analysis = analysis;
    // Endpoints read through this.walker; those of the ports touched forget what they read.
    this.walker = walker;
    for (const service of touched) for (const endpoint of service.endpoints) (endpoint as EndpointData).forgetReadings();
    // Shares worked out already stay for the entries whose traffic cannot reach a chain the edit
    // changed; those not worked out since an edit before stay to be worked out.
    const waiting = this.pending.size === 0 ? undefined : new Set(this.pending.values());
    const reaching = waiting?.size === this.allEntries.length ? undefined : chainsLeadingTo(this.nat!, chains, REACHING_LIMIT);
    const pending = reaching
      ? this.allEntries.filter((item) => (item.entry.chain !== undefined && reaching[item.entry.chain.id] !== 0) || waiting?.has(item) === true)
      : this.allEntries;
    for (const { entry } of pending) (entry as EntryData).forgetShares();
    this.pending = new Map(pending.map((item) => [item.entry, item]));
    // What checkProblems said of the touched ports' endpoints and service chains goes; the rest stays.
    const declarations = new Set<Span | undefined>();
    const ruleLines = new Set(lines);
    const skewed: number[] = [];
    for (const service of touched) {
      for (const endpoint of service.endpoints) declarations.add(endpoint.chain.chain.declaration);
      for (const node of service.chains) {
        const kind = walker.kindAt(node.id);
        if (kind !== 'SVC' && kind !== 'SVL') continue;
        skewed.push(node.id);
        for (const rule of node.chain.rules) ruleLines.add(rule.line);
      }
    }
    this.diagnostics = this.diagnostics.filter((d) => !(d.code === 'sep-without-dnat' && declarations.has(d.span)) && !(d.code === 'skewed-probability' && ruleLines.has(d.span.line)));
    for (const service of touched) for (const endpoint of service.endpoints) this.checkDnat(endpoint.chain.id);
    for (const id of skewed) this.checkSkew(id);
  }

  /** kube-proxy gives endpoint i of n the probability 1/(n-i); anything else skews the split. */
  private checkSkew(id: number): void {
    const walker = this.walker!;
    const jumps = this.skewScratch;
    const n = walker.endpointJumpsAt(id, jumps);
    for (let i = 0; i < n; i++) {
      const r = jumps[i]!;
      const form = walker.statisticFormAt(r);
      const kernel = walker.kernelProbabilityAt(r);
      // The parser reports a probability the kernel would refuse.
      if (form === 'every' || (form === 'probability' && Number.isNaN(kernel))) continue;
      const expected = i === n - 1 ? undefined : this.expectedProbability(i, n);
      const actual = form === 'probability' ? kernel : form === 'none' ? 1 : undefined;
      const wanted = expected ?? 1;
      if (actual !== undefined && Math.abs(actual - wanted) > 1e-9) {
        const node = walker.nodeAt(id);
        const rule = walker.ruleAt(r);
        const value = rule.statistic?.probability !== undefined ? statisticValueOf(rule) : undefined;
        const span = value ? { line: rule.line, start: value.start, end: value.end } : { line: rule.line, start: rule.start, end: rule.end };
        this.diagnostics.push({
          span, severity: 'warning', code: 'skewed-probability',
          message: `Skewed split: with ${n} endpoints kube-proxy gives rule ${i + 1} of '${node.chain.name}' the probability ${expected === undefined ? '1 (no statistic match)' : (1 / (n - i)).toFixed(10)}, here it is ${actual.toFixed(11)}, so its endpoint gets ${formatShare(this.shareOf(node, rule))} instead of ${formatShare(1 / n)}.`,
        });
      }
    }
  }

  /** kubeProxyProbability(i, n), computed once per (i, n). */
  private expectedProbability(i: number, n: number): number {
    let row = this.expectedProbabilities.get(n);
    if (!row) {
      row = [];
      this.expectedProbabilities.set(n, row);
    }
    let p = row[i];
    if (p === undefined) {
      p = kubeProxyProbability(i, n);
      row[i] = p;
    }
    return p;
  }

  private shareOf(node: ChainNode, rule: Rule): number {
    const target = rule.targetName !== undefined ? this.nat?.nodes.get(rule.targetName) : undefined;
    const flow = this.walker ? this.flowOf(node) : undefined;
    return (target && flow?.destinations.get(target)?.share) ?? 0;
  }
}

function addFate(fates: Map<Fate, number>, fate: Fate, share: number): void {
  if (share > 0) fates.set(fate, (fates.get(fate) ?? 0) + share);
}

function addTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Chains whose jumps to KUBE-SEP chains make endpoints, in the order they are read: the cluster chain first. */
const ENDPOINT_PARENTS: readonly KubeChainKind[] = ['SVC', 'SVL', 'XLB'];

function outcomeFate(kind: OutcomeKind): Fate {
  return kind === 'too-deep' ? 'loop' : kind;
}

/** The entry kind a chain name implies when KUBE-SERVICES has no comment to say it. */
function kindFromChain(kind: KubeChainKind | undefined): EntryKind | undefined {
  return kind === 'SVC' || kind === 'SVL' ? 'clusterIP' : kind === 'FW' ? 'loadBalancerIP' : kind === 'EXT' || kind === 'XLB' ? 'externalIP' : undefined;
}

const ENTRY_KIND_ORDER: Readonly<Record<EntryKind, number>> = { clusterIP: 0, nodePort: 1, externalIP: 2, loadBalancerIP: 3 };

/** The comparison String.prototype.localeCompare makes, without building it again per call. */
const collator = new Intl.Collator();

/** collator.compare, without asking it about equal strings (most namespaces, ports and protocols of neighbours in a sort). */
function compareText(a: string, b: string): number {
  return a === b ? 0 : collator.compare(a, b);
}

function entryOrder(a: ServiceEntry, b: ServiceEntry): number {
  return ENTRY_KIND_ORDER[a.kind] - ENTRY_KIND_ORDER[b.kind] || compareText(a.address ?? '', b.address ?? '') || (a.port ?? 0) - (b.port ?? 0);
}

function serviceOrder(a: ServicePort, b: ServicePort): number {
  return compareText(a.namespace, b.namespace) || compareText(a.name, b.name) || compareText(a.port, b.port) || compareText(a.protocol, b.protocol);
}

/** code-unit order of the fields serviceOrder compares with the collator. */
function serviceCodeOrder(a: ServicePort, b: ServicePort): number {
  return codeOrder(a.namespace, b.namespace) || codeOrder(a.name, b.name) || codeOrder(a.port, b.port) || codeOrder(a.protocol, b.protocol);
}

function codeOrder(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/**
 * Sorts services (in order of creation) as a stable sort by serviceOrder would, and says whether
 * no two of them compare equal. For the lowercase DNS names of kube-proxy's comments the
 * collator's order is that of code units, which is much cheaper to sort by: the result is then
 * checked with the collator pair by pair, and sorted again with it when it disagrees.
 */
function sortServices(services: ServicePortData[]): boolean {
  services.sort(serviceCodeOrder);
  let strict = true;
  for (let s = 1; s < services.length; s++) {
    const a = services[s - 1]!;
    const b = services[s]!;
    const order = serviceOrder(a, b);
    if (order < 0) continue;
    // Equal for the collator: a stable sort keeps them in order of creation.
    if (order === 0 && a.ordinal < b.ordinal) {
      strict = false;
      continue;
    }
    services.sort((x, y) => serviceOrder(x, y) || x.ordinal - y.ordinal);
    strict = true;
    for (let t = 1; t < services.length && strict; t++) strict = serviceOrder(services[t - 1]!, services[t]!) !== 0;
    return strict;
  }
  return strict;
}

/**
 * Puts services in the order the same service ports had in the previous model (ranks), when
 * they are the same set: the order of a set whose members all compare unequal is its own.
 */
function sortAsBefore(services: ServicePortData[], before: Reading, count: number): boolean {
  if (!before.strict || services.length !== count) return false;
  const placed = new Array<ServicePortData | undefined>(services.length).fill(undefined);
  for (let s = 0; s < services.length; s++) {
    const service = services[s]!;
    let previous = before.builder.servicesByName.get(service.portName);
    while (previous !== undefined && previous.protocol !== service.protocol) previous = previous.sameName;
    const rank = previous === undefined ? -1 : previous.rank;
    if (rank < 0 || placed[rank] !== undefined) return false;
    placed[rank] = service;
  }
  for (let s = 0; s < services.length; s++) services[s] = placed[s]!;
  return true;
}

/** What a model read, for the model after an edit: its builder (service ports by name, ranked), its walker, the comments' names, and whether its order is strict. */
interface Reading {
  /** What the model was built with: an edit that leaves the structure as it was revises it (ModelBuilder.revise). */
  builder: ModelBuilder;
  /** The walker the model was made with (a revision moves the builder on to a walker of its own). */
  walker: FlowWalker | undefined;
  names: NameCache | undefined;
  /** Whether no two of the model's service ports compare equal in serviceOrder. */
  strict: boolean;
}

const readings = new WeakMap<ServiceModel, Reading>();

/** The model of the same dump before edits to the rules `changed` and the chains `chains`: what it read of the rules is taken over where it still holds. */
export interface ModelReuse {
  model: ServiceModel;
  /** The rules of the edited lines now. */
  changed: readonly Rule[];
  /** The chains that gained or lost rules. */
  chains: readonly Chain[];
  /** The lines edited: none when lines were removed (the model's diagnostics then were not moved with the rest). */
  lines: readonly number[];
  /** The jumps taken out or put in: node ids of their ends, and their table. */
  jumps: ReadonlyArray<{ from: number; to: number; table: Table }>;
}

/** Services, their entries and endpoints with effective shares, from the nat and filter tables of a dump. */
export function buildServiceModel(analysis: Analysis, reuse?: ModelReuse): ServiceModel {
  const nat = analysis.graph.tables.find((t) => t.table.name === 'nat');
  const filter = analysis.graph.tables.find((t) => t.table.name === 'filter');
  const before = reuse ? readings.get(reuse.model) : undefined;
  const walker = nat ? new FlowWalker(nat) : undefined;
  const adopted = walker !== undefined && before?.walker !== undefined && walker.adopt(before.walker, reuse!.changed, reuse!.chains);
  // An edit that left the structure as it was: the model before, revised where the edit touched it.
  const previous = before?.builder;
  if (adopted && previous && previous.nat === nat && previous.filter === filter) {
    const touched = previous.touchedServices(walker, reuse!);
    if (touched) {
      previous.revise(analysis, walker, touched.services, touched.chains, reuse!.lines);
      return modelOf(previous, reuse!.model.services as ServicePortData[], before!.strict);
    }
  }
  const builder = new ModelBuilder(analysis, nat, filter, walker, before?.names);
  builder.collectFilterFates();
  const entries = builder.collectEntries();
  builder.collectEndpoints();
  builder.placeEntries(entries);
  builder.checkProblems();
  const services: ServicePortData[] = [];
  for (const s of builder.services) if (s.entries.length > 0 || s.endpoints.length > 0) services.push(s);
  const strict = (before !== undefined && before.names === builder.names && sortAsBefore(services, before, reuse!.model.services.length)) || sortServices(services);
  for (let s = 0; s < services.length; s++) services[s]!.rank = s;
  for (let s = 0; s < services.length; s++) if (services[s]!.entries.length > 1) services[s]!.entries.sort(entryOrder);
  return modelOf(builder, services, strict);
}

/**
 * The nat chains of ids[0, count) with what byId holds for each, looked up by the chain's id.
 * A map of the 100,000 chains of a large dump, made again for every version, took 25-30 ms of
 * the first hover after each edit; the builder's arrays by id already hold the answer (and an
 * edit that revises the model leaves them as they were).
 */
class ChainIndex<T> implements ReadonlyMap<ChainNode, T> {
  constructor(
    private readonly list: readonly ChainNode[],
    private readonly ids: Int32Array,
    readonly size: number,
    private readonly byId: ReadonlyArray<T | undefined>,
  ) {}

  get(node: ChainNode): T | undefined {
    return this.list[node.id] === node ? this.byId[node.id] : undefined;
  }

  has(node: ChainNode): boolean {
    return this.get(node) !== undefined;
  }

  /** In the order the chains were explained. */
  *entries(): MapIterator<[ChainNode, T]> {
    for (let e = 0; e < this.size; e++) {
      const id = this.ids[e]!;
      yield [this.list[id]!, this.byId[id]!];
    }
  }

  *keys(): MapIterator<ChainNode> {
    for (const [node] of this.entries()) yield node;
  }

  *values(): MapIterator<T> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[ChainNode, T]> {
    return this.entries();
  }

  forEach(callback: (value: T, key: ChainNode, map: ReadonlyMap<ChainNode, T>) => void, thisArg?: unknown): void {
    for (const [node, value] of this.entries()) callback.call(thisArg, value, node, this);
  }
}

/** Each address's answer, worked out when first asked; addresses come from the user's hovers, so a bounded number is kept. */
function answeredOnce<T>(answer: (address: string) => T): (address: string) => T {
  const answers = new Map<string, T>();
  return (address) => {
    let found = answers.get(address);
    if (found === undefined) {
      found = answer(address);
      if (answers.size < 10_000) answers.set(address, found);
    }
    return found;
  };
}

/** The model of what a builder read: `services` (sorted, ranked) and its diagnostics. */
function modelOf(builder: ModelBuilder, services: ServicePortData[], strict: boolean): ServiceModel {
  const walker = builder.walker;
  // Lookups made on first use: a services view needs none of them, a hover one.
  let serviceByChain: ChainIndex<ServicePort> | undefined;
  let endpointByChain: ChainIndex<Endpoint> | undefined;
  const entriesAt = answeredOnce((address) => {
    const found: Array<{ service: ServicePort; entry: ServiceEntry }> = [];
    for (const service of services) for (const entry of service.entries) if (entry.address === address) found.push({ service, entry });
    return found;
  });
  const endpointsAt = answeredOnce((ip) => {
    const found: Array<{ service: ServicePortData; endpoint: Endpoint }> = [];
    for (const id of walker?.chainsWithDnatIp(ip) ?? []) {
      const endpoint = builder.endpointById[id];
      const service = builder.serviceById[id] as ServicePortData | undefined;
      if (endpoint && service?.endpoints.includes(endpoint)) found.push({ service, endpoint });
    }
    // In the order of the services, then of their endpoints.
    return found.sort((a, b) => a.service.rank - b.service.rank || a.service.endpoints.indexOf(a.endpoint) - b.service.endpoints.indexOf(b.endpoint));
  });
  const model: ServiceModel = {
    services,
    get serviceByChain() {
      return (serviceByChain ??= new ChainIndex(builder.nat?.list ?? [], builder.explained, builder.explainedCount, builder.serviceById));
    },
    get endpointByChain() {
      return (endpointByChain ??= new ChainIndex(builder.nat?.list ?? [], builder.endpointIds, builder.endpointCount, builder.endpointById));
    },
    entriesAt,
    endpointsAt,
    diagnostics: builder.diagnostics.sort(diagnosticOrder),
    flowOf: (node) => (walker?.owns(node) ? builder.flowOf(node) : undefined),
  };
  // Names of service ports an edit removed stay in the cache: keep it while they are few.
  readings.set(model, { builder, walker, names: builder.names.size <= 2 * builder.services.length + 1024 ? builder.names : undefined, strict });
  return model;
}
