import type { ChainNode, TableGraph } from '../core/graph';
import type { Rule, RuleOption } from '../core/ruleset';
import { ruleSpec } from '../core/ruleSpec';
import { kernelProbability } from '../core/statistic';
import { kubeChainKind, type KubeChainKind } from './hashes';

/** Where a packet that reached a DNAT rule goes. */
export interface Destination {
  ip: string;
  port: number | undefined;
  /** The chain holding the DNAT rule: a KUBE-SEP chain in kube-proxy's rules. */
  chain: ChainNode;
  rule: Rule;
}

/** Terminal fates other than a DNAT, by target name. */
export type OutcomeKind = 'REJECT' | 'DROP' | 'ACCEPT' | 'loop' | 'too-deep';

/** A part of the traffic that only some packets take, decided by a match we cannot weigh (a source range, a recent-list check). */
export interface Branch {
  condition: string;
  rule: Rule;
  /** What happens to the packets that match, as shares of those packets. */
  flow: Flow;
}

/** A destination with the share of the traffic entering a chain that reaches it. */
export interface DestinationShare {
  destination: Destination;
  share: number;
}

/**
 * What happens to packets entering a chain, as shares of them. Flows are shared between the
 * chains that lead to the same place and never change once the walker returns them.
 */
export interface Flow {
  /** By the chain holding the DNAT rule, in the order they are first reached. Built on first use: loops should use destinationCount, destinationAt and shareAt. */
  readonly destinations: ReadonlyMap<ChainNode, DestinationShare>;
  readonly destinationCount: number;
  destinationAt(index: number): Destination;
  shareAt(index: number): number;
  /** By kind, in the order first reached. Built on first use: loops should use outcomeCount, outcomeAt and outcomeShareAt. */
  readonly outcomes: ReadonlyMap<OutcomeKind, number>;
  readonly outcomeCount: number;
  outcomeAt(index: number): OutcomeKind;
  outcomeShareAt(index: number): number;
  /** Share that comes back out of the chain (falls through its rules or RETURNs). */
  readonly returned: number;
  readonly branches: readonly Branch[];
  /** `-m recent --rcheck --seconds N` before the split: clients seen within N seconds keep their endpoint. */
  readonly affinitySeconds: number | undefined;
  /** Rules whose probability was not a number in [0, 1]; they are taken as never matching. */
  readonly badProbabilities: readonly Rule[];
}

const NO_DESTINATIONS: DnatFlow[] = [];
const NO_NUMBERS: number[] = [];
const NO_OUTCOMES: OutcomeKind[] = [];
const NO_BRANCHES: Branch[] = [];
const NO_RULES: Rule[] = [];
/** Above this many destinations a flow under construction finds them by a map instead of a scan. */
const INDEX_FROM = 12;

/**
 * Destinations and outcomes as parallel arrays: a service with ten endpoints costs a few
 * arrays, not a map entry and an object per endpoint per chain. The Map views callers know
 * are made on first use.
 */
class FlowData implements Flow {
  dests: DnatFlow[] = NO_DESTINATIONS;
  shares: number[] = NO_NUMBERS;
  kinds: OutcomeKind[] = NO_OUTCOMES;
  kindShares: number[] = NO_NUMBERS;
  returned = 0;
  branches: Branch[] = NO_BRANCHES;
  affinitySeconds: number | undefined = undefined;
  badProbabilities: Rule[] = NO_RULES;
  /** While the flow is built: the position of each destination's chain, once it has many. Then the Map views, once asked for. */
  private index: Map<ChainNode, number> | undefined = undefined;
  private views: { destinations?: Map<ChainNode, DestinationShare>; outcomes?: Map<OutcomeKind, number> } | undefined = undefined;

  get destinationCount(): number {
    return this.dests.length;
  }

  destinationAt(index: number): Destination {
    return this.dests[index]!;
  }

  shareAt(index: number): number {
    return this.shares[index]!;
  }

  get outcomeCount(): number {
    return this.kinds.length;
  }

  outcomeAt(index: number): OutcomeKind {
    return this.kinds[index]!;
  }

  outcomeShareAt(index: number): number {
    return this.kindShares[index]!;
  }

  get destinations(): ReadonlyMap<ChainNode, DestinationShare> {
    this.views ??= {};
    if (!this.views.destinations) {
      const map = new Map<ChainNode, DestinationShare>();
      for (let i = 0; i < this.dests.length; i++) map.set(this.dests[i]!.chain, { destination: this.dests[i]!, share: this.shares[i]! });
      this.views.destinations = map;
    }
    return this.views.destinations;
  }

  get outcomes(): ReadonlyMap<OutcomeKind, number> {
    this.views ??= {};
    if (!this.views.outcomes) {
      const map = new Map<OutcomeKind, number>();
      for (let i = 0; i < this.kinds.length; i++) map.set(this.kinds[i]!, this.kindShares[i]!);
      this.views.outcomes = map;
    }
    return this.views.outcomes;
  }

  /** Adds `share` of the traffic to a destination (the chain holding its DNAT rule). */
  addDestination(destination: DnatFlow, share: number): void {
    const at = this.positionOf(destination.chain);
    if (at >= 0) {
      this.shares[at] += share;
      return;
    }
    if (this.dests === NO_DESTINATIONS) {
      this.dests = [destination];
      this.shares = [share];
      return;
    }
    if (this.index) this.index.set(destination.chain, this.dests.length);
    this.dests.push(destination);
    this.shares.push(share);
    if (!this.index && this.dests.length > INDEX_FROM) {
      this.index = new Map();
      for (let i = 0; i < this.dests.length; i++) this.index.set(this.dests[i]!.chain, i);
    }
  }

  private positionOf(chain: ChainNode): number {
    if (this.index) return this.index.get(chain) ?? -1;
    const dests = this.dests;
    for (let i = 0; i < dests.length; i++) if (dests[i]!.chain === chain) return i;
    return -1;
  }

  addOutcome(kind: OutcomeKind, share: number): void {
    const at = this.kinds.indexOf(kind);
    if (at >= 0) {
      this.kindShares[at] = this.kindShares[at]! + share;
    } else if (this.kinds === NO_OUTCOMES) {
      this.kinds = [kind];
      this.kindShares = [0 + share];
    } else {
      this.kinds.push(kind);
      this.kindShares.push(0 + share);
    }
  }

  addBranch(branch: Branch): void {
    if (this.branches === NO_BRANCHES) this.branches = [branch];
    else this.branches.push(branch);
  }

  addBadProbability(rule: Rule): void {
    if (this.badProbabilities === NO_RULES) this.badProbabilities = [rule];
    else this.badProbabilities.push(rule);
  }

  /** Done building: the index is only needed while destinations are added. */
  seal(): void {
    this.index = undefined;
  }
}

const NO_OUTCOME_MAP: ReadonlyMap<OutcomeKind, number> = new Map();

/**
 * What a DNAT rule does with the packets it gets: all of them go to one address. It is its own
 * destination, so a KUBE-SEP chain, whose flow this is, costs one small object.
 */
class DnatFlow implements Flow, Destination {
  constructor(
    readonly ip: string,
    readonly port: number | undefined,
    readonly chain: ChainNode,
    readonly rule: Rule,
    /** chain.id, kept here so that a split need not visit the chain. */
    readonly chainId: number,
  ) {}

  get destinationCount(): number {
    return 1;
  }

  destinationAt(index: number): Destination {
    if (index !== 0) throw new RangeError(`destination ${index} of 1`);
    return this;
  }

  shareAt(index: number): number {
    if (index !== 0) throw new RangeError(`destination ${index} of 1`);
    return 1;
  }

  get destinations(): ReadonlyMap<ChainNode, DestinationShare> {
    return new Map([[this.chain, { destination: this, share: 1 }]]);
  }

  get outcomes(): ReadonlyMap<OutcomeKind, number> {
    return NO_OUTCOME_MAP;
  }

  get outcomeCount(): number {
    return 0;
  }

  outcomeAt(index: number): OutcomeKind {
    throw new RangeError(`outcome ${index} of 0`);
  }

  outcomeShareAt(index: number): number {
    throw new RangeError(`outcome ${index} of 0`);
  }

  get returned(): number {
    return 0;
  }

  get branches(): readonly Branch[] {
    return NO_BRANCHES;
  }

  get affinitySeconds(): number | undefined {
    return undefined;
  }

  get badProbabilities(): readonly Rule[] {
    return NO_RULES;
  }
}

type WalkFlow = FlowData | DnatFlow;

/** The node id of the chain holding destination `index` of a flow the walker made. */
export function destinationChainId(flow: Flow, index: number): number {
  return (flow.destinationAt(index) as DnatFlow).chainId;
}

/** Nothing reached: no destination, no outcome, no branch. */
function isEmpty(flow: WalkFlow): boolean {
  return flow instanceof FlowData && flow.dests.length === 0 && flow.kinds.length === 0;
}

/** Adds `share` of what happens in `from` to `into`, in the order `from` has it. */
function add(into: FlowData, from: WalkFlow, share: number): void {
  if (share === 0) return;
  if (from instanceof DnatFlow) {
    into.addDestination(from, share);
    return;
  }
  const dests = from.dests;
  const shares = from.shares;
  for (let i = 0; i < dests.length; i++) into.addDestination(dests[i]!, shares[i]! * share);
  const kinds = from.kinds;
  const kindShares = from.kindShares;
  for (let i = 0; i < kinds.length; i++) into.addOutcome(kinds[i]!, kindShares[i]! * share);
  for (let i = 0; i < from.branches.length; i++) into.addBranch(from.branches[i]!);
  if (from.affinitySeconds !== undefined) into.affinitySeconds = from.affinitySeconds;
  for (let i = 0; i < from.badProbabilities.length; i++) into.addBadProbability(from.badProbabilities[i]!);
}

/** What a rule's target does, as the walk reads it: a verdict, a DNAT, a chain to enter. */
const enum Op {
  /** No target: the rule only counts. */
  None,
  Accept,
  Drop,
  Reject,
  Dnat,
  /** SNAT, MASQUERADE and the like: the packet leaves nat without a DNAT; counted as accepted. */
  Other,
  Return,
  /** A jump to KUBE-MARK-DROP. */
  MarkDrop,
  /** A chain of the table: `targets` holds its node id. */
  Chain,
  /** Any other target (MARK, LOG, a chain the table lacks): packets go on. */
  Continue,
}

/** Kubelet's KUBE-FIREWALL drops what KUBE-MARK-DROP marks, so a jump there is a drop. */
const MARK_DROP_CHAIN = 'KUBE-MARK-DROP';
const MAX_DEPTH = 64;

/** Targets the walk knows by name. None is longer than KUBE-MARK-DROP. */
const TARGET_OPS: ReadonlyMap<string, Op> = new Map([
  ['ACCEPT', Op.Accept], ['DROP', Op.Drop], ['REJECT', Op.Reject], ['DNAT', Op.Dnat],
  ['SNAT', Op.Other], ['MASQUERADE', Op.Other], ['REDIRECT', Op.Other], ['NETMAP', Op.Other], ['QUEUE', Op.Other], ['NFQUEUE', Op.Other], ['TPROXY', Op.Other], ['SYNPROXY', Op.Other],
  ['RETURN', Op.Return], [MARK_DROP_CHAIN, Op.MarkDrop],
]);

/** The op of a target name, Op.Chain standing for "any other name". */
function opOfName(name: string): Op {
  return (name.length <= MARK_DROP_CHAIN.length ? TARGET_OPS.get(name) : undefined) ?? Op.Chain;
}

/** Options that do not narrow which packets of this entry reach the rule. */
function isNeutral(module: string, option: RuleOption): boolean {
  if (module === 'comment' || module === 'statistic') return true;
  if (module === '' && (option.key === 'protocol' || option.key === 'set-counters' || option.key === 'ipv4' || option.key === 'ipv6')) return true;
  // The entry already matched its port; SEP rules repeat `-m tcp -p tcp` without ports.
  if (module === 'tcp' || module === 'udp' || module === 'sctp') return true;
  // A recent check is session affinity, handled apart; --set and the rest only record.
  return module === 'recent';
}

function describeOption(module: string, option: RuleOption): string {
  const value = option.values.map((v) => v.text).join(' ');
  const not = option.negated ? 'not ' : '';
  switch (option.key) {
    case 'source':
      return `${not}from ${value}`;
    case 'destination':
      return `${not}to ${value}`;
    case 'src-type':
      return value === 'LOCAL' ? `${not}from the node itself` : `${not}from address type ${value}`;
    case 'dst-type':
      return value === 'LOCAL' ? `${not}to an address of the node` : `${not}to address type ${value}`;
    case 'in-interface':
      return `${not}in on ${value}`;
    case 'out-interface':
      return `${not}out on ${value}`;
    default:
      return `${option.negated ? '! ' : ''}${module && module !== '' ? `-m ${module} ` : ''}${option.name}${value ? ` ${value}` : ''}`;
  }
}

/** The matches of a rule that select some of the traffic, in words; undefined when every packet reaching it matches. */
export function ruleCondition(rule: Rule): string | undefined {
  if (!rule.facts.conditional) return undefined;
  const parts: string[] = [];
  for (const match of ruleSpec(rule).matches) {
    for (const option of match.options) {
      if (!isNeutral(match.module, option)) parts.push(describeOption(match.module, option));
    }
  }
  return parts.length > 0 ? [...new Set(parts)].join(', ') : undefined;
}

/** The probability the kernel uses for each `--probability` text, read once per distinct text. */
export class ProbabilityCache {
  private readonly known = new Map<string, number | undefined>();

  kernel(text: string): number | undefined {
    let p = this.known.get(text);
    if (p === undefined && !this.known.has(text)) {
      p = kernelProbability(text);
      this.known.set(text, p);
    }
    return p;
  }
}

/** `--mode random --probability p` as the kernel uses it, `--mode nth --every n` as 1/n, or 1 without a statistic match. */
function selectionProbability(rule: Rule, probabilities: ProbabilityCache): number | undefined {
  const statistic = rule.facts.statistic;
  if (!statistic) return 1;
  if (statistic.every !== undefined) {
    const every = Number(statistic.every);
    return Number.isInteger(every) && every >= 1 ? 1 / every : undefined;
  }
  if (statistic.probability === undefined) return 1;
  const p = probabilities.kernel(statistic.probability);
  return p === undefined ? undefined : statistic.negated ? 1 - p : p;
}

function affinitySeconds(rule: Rule): number | undefined {
  const recent = rule.facts.recent;
  return recent?.check && recent.seconds !== undefined && Number.isFinite(recent.seconds) ? recent.seconds : undefined;
}

/** Returned by the IPv4 reader for text that is not shaped like `a.b.c.d[:port]`. */
const NOT_V4 = null;

/** `a.b.c.d` or `a.b.c.d:port` with 1-3 digit parts and a 1-5 digit port, read without a regular expression. */
function parseV4Endpoint(text: string): { ip: string; port: number | undefined } | undefined | typeof NOT_V4 {
  const length = text.length;
  let i = 0;
  let valid = true;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (text.charCodeAt(i) !== 46 /* . */) return NOT_V4;
      i++;
    }
    const from = i;
    let value = 0;
    while (i < length && i - from < 4) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
      i++;
    }
    const digits = i - from;
    if (digits === 0 || digits > 3) return NOT_V4;
    if (value > 255) valid = false;
  }
  const ipEnd = i;
  let port: number | undefined;
  if (i < length) {
    if (text.charCodeAt(i) !== 58 /* : */) return NOT_V4;
    i++;
    const from = i;
    let value = 0;
    while (i < length) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return NOT_V4;
      value = value * 10 + (c - 48);
      i++;
    }
    if (i - from === 0 || i - from > 5) return NOT_V4;
    port = value;
  }
  // The shape of an IPv4 address with an octet above 255: no address (a '.' rules out IPv6 too).
  if (!valid) return undefined;
  return { ip: ipEnd === length ? text : text.slice(0, ipEnd), port };
}

export function parseEndpointAddress(text: string): { ip: string; port: number | undefined } | undefined {
  const first = text.charCodeAt(0);
  if (first >= 48 && first <= 57) {
    const v4 = parseV4Endpoint(text);
    if (v4 !== NOT_V4) return v4;
  }
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) return { ip: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text);
  if (v4 && v4[1]!.split('.').every((o) => Number(o) <= 255)) return { ip: v4[1]!, port: v4[2] === undefined ? undefined : Number(v4[2]) };
  if (/^[0-9a-fA-F:]+$/.test(text) && text.includes(':')) return { ip: text, port: undefined };
  return undefined;
}

/** What a rule's statistic match says, for the check of kube-proxy's probabilities: `bare` is `-m statistic` with neither --probability nor --every. */
export type StatisticForm = 'none' | 'every' | 'probability' | 'bare';
const STATISTIC_FORMS: readonly StatisticForm[] = ['none', 'every', 'probability', 'bare'];
const EVERY = 1;
const PROBABILITY = 2;
const BARE = 3;

const CONDITIONAL = 1;
const GOTO = 2;
const RECENT = 4;

const NODE_RECORDS_AFFINITY = 1;
const NODE_HAS_COMMENT = 2;

/** The kinds of KUBE- chain names by code; 0 is none. */
const KUBE_KINDS: ReadonlyArray<KubeChainKind | undefined> = [undefined, 'SVC', 'SVL', 'EXT', 'FW', 'XLB', 'SEP'];

/** What the names of a table's chains say, read once in the table's order. */
class CompiledNodes {
  /** KUBE_KINDS code of each node's name. */
  readonly kinds: Uint8Array;
  /** What a jump to the node does, by its name (Op.Chain for any chain the walk enters). */
  readonly ops: Uint8Array;

  constructor(graph: TableGraph) {
    const list = graph.list;
    this.kinds = new Uint8Array(list.length);
    this.ops = new Uint8Array(list.length);
    for (let id = 0; id < list.length; id++) {
      const name = list[id]!.chain.name;
      const kind = kubeChainKind(name);
      if (kind !== undefined) this.kinds[id] = KUBE_KINDS.indexOf(kind);
      this.ops[id] = kind !== undefined ? Op.Chain : opOfName(name);
    }
  }
}

/**
 * The rules of a table's chains, read once in the table's order into flat arrays indexed by
 * rule (chain by chain, in each chain's order). The walk then follows jumps in any order
 * without going back to the rule objects, their facts and their target names, which on a
 * large dump lie far apart in memory.
 */
class CompiledRules {
  /** Rules of node id i: first[i] to first[i + 1] - 1. */
  readonly first: Int32Array;
  readonly rules: Rule[];
  readonly ops: Uint8Array;
  /** Node id for Op.Chain. */
  readonly targets: Int32Array;
  /** The probability of selecting the rule as the kernel uses it; NaN when it is not a number in [0, 1]. */
  readonly probabilities: Float64Array;
  /** `-m recent --rcheck --seconds N`; NaN without. */
  readonly seconds: Float64Array;
  readonly flags: Uint8Array;
  readonly statisticForms: Uint8Array;
  /** The kernel's value of --probability as written (no `!`); NaN when it is no number in [0, 1]. */
  readonly kernelProbabilities: Float64Array;
  /** The address a DNAT rule sends packets to; undefined when its --to-destination is no IP[:port]. */
  readonly dnatIps: Array<string | undefined>;
  /** Its port; NaN without. */
  readonly dnatPorts: Float64Array;
  /** Per node: the rule index of its first DNAT rule, or -1. */
  readonly firstDnat: Int32Array;
  readonly nodeFlags: Uint8Array;
  /** The node ids the jumps of node id i go to (node.outgoing): firstJump[i] to firstJump[i + 1] - 1 in jumpTargets. */
  readonly firstJump: Int32Array;
  readonly jumpTargets: Int32Array;

  constructor(graph: TableGraph, nodes: CompiledNodes, probabilities: ProbabilityCache) {
    const list = graph.list;
    let count = 0;
    let jumps = 0;
    for (const node of list) {
      count += node.chain.rules.length;
      jumps += node.outgoing.length;
    }
    this.firstJump = new Int32Array(list.length + 1);
    this.jumpTargets = new Int32Array(jumps);
    this.first = new Int32Array(list.length + 1);
    this.rules = new Array<Rule>(count);
    this.ops = new Uint8Array(count);
    this.targets = new Int32Array(count);
    this.probabilities = new Float64Array(count);
    this.seconds = new Float64Array(count);
    this.flags = new Uint8Array(count);
    this.statisticForms = new Uint8Array(count);
    this.kernelProbabilities = new Float64Array(count);
    this.dnatIps = new Array<string | undefined>(count).fill(undefined);
    this.dnatPorts = new Float64Array(count);
    this.firstDnat = new Int32Array(list.length).fill(-1);
    this.nodeFlags = new Uint8Array(list.length);
    let r = 0;
    let jump = 0;
    for (let id = 0; id < list.length; id++) {
      const node = list[id]!;
      this.first[id] = r;
      const rules = node.chain.rules;
      const outgoing = node.outgoing;
      this.firstJump[id] = jump;
      for (let j = 0; j < outgoing.length; j++) this.jumpTargets[jump++] = outgoing[j]!.to.id;
      let j = 0;
      let nodeFlags = 0;
      for (let k = 0; k < rules.length; k++, r++) {
        const rule = rules[k]!;
        this.rules[r] = rule;
        // The graph has a jump for each rule that names a chain, in the table's order.
        let jumpTo = -1;
        if (j < outgoing.length && outgoing[j]!.rule === rule) jumpTo = this.jumpTargets[this.firstJump[id]! + j++]!;
        const facts = rule.facts;
        if (facts.recent?.set === true) nodeFlags |= NODE_RECORDS_AFFINITY;
        if (rule.comment !== undefined) nodeFlags |= NODE_HAS_COMMENT;
        const target = rule.target;
        if (!target) continue;
        // A jump names a chain: what its name means was read with the chain's.
        let op: Op = jumpTo !== -1 ? nodes.ops[jumpTo]! : opOfName(target.name);
        if (op === Op.Chain) {
          const next = jumpTo !== -1 ? jumpTo : graph.nodes.get(target.name)?.id;
          if (next !== undefined) this.targets[r] = next;
          else op = Op.Continue;
        } else if (op === Op.Dnat) {
          const text = facts.toDestination;
          const parsed = text === undefined ? undefined : parseEndpointAddress(text);
          if (parsed) {
            this.dnatIps[r] = parsed.ip;
            this.dnatPorts[r] = parsed.port === undefined ? NaN : parsed.port;
          }
          if (this.firstDnat[id] === -1) this.firstDnat[id] = r;
        }
        this.ops[r] = op;
        const p = selectionProbability(rule, probabilities);
        this.probabilities[r] = p === undefined ? NaN : p;
        const recentSeconds = affinitySeconds(rule);
        this.seconds[r] = recentSeconds === undefined ? NaN : recentSeconds;
        this.flags[r] = (facts.conditional ? CONDITIONAL : 0) | (target.kind === 'goto' ? GOTO : 0) | (facts.recent ? RECENT : 0);
        const statistic = facts.statistic;
        if (statistic) {
          if (statistic.every !== undefined) {
            this.statisticForms[r] = EVERY;
          } else if (statistic.probability !== undefined) {
            this.statisticForms[r] = PROBABILITY;
            this.kernelProbabilities[r] = probabilities.kernel(statistic.probability) ?? NaN;
          } else {
            this.statisticForms[r] = BARE;
          }
        }
      }
      this.nodeFlags[id] = nodeFlags;
    }
    this.first[list.length] = r;
    this.firstJump[list.length] = jump;
  }
}

/**
 * Follows the packets entering chains of the nat table and says where they end: which DNAT
 * destinations with what share, which drops or rejects, and what comes back. Probabilities are
 * the kernel's; a rule whose match cannot be weighed becomes a conditional branch instead.
 * Results are cached per chain (they scale linearly with the share entering).
 */
export class FlowWalker {
  /** Flows by node id. */
  private readonly cache: Array<WalkFlow | undefined>;
  private readonly active: Uint8Array;
  readonly probabilities = new ProbabilityCache();
  private compiledNodes: CompiledNodes | undefined;
  private compiledRules: CompiledRules | undefined;

  constructor(private readonly graph: TableGraph) {
    const size = graph.list.length;
    this.cache = new Array<WalkFlow | undefined>(size).fill(undefined);
    this.active = new Uint8Array(size);
  }

  /** The chains' names, read on first use. */
  private get nodes(): CompiledNodes {
    return (this.compiledNodes ??= new CompiledNodes(this.graph));
  }

  /** The table's rules in flat arrays, read on first use. */
  private get compiled(): CompiledRules {
    return (this.compiledRules ??= new CompiledRules(this.graph, this.nodes, this.probabilities));
  }

  /** Whether a node is one of this walker's table (by id): the others have no flow here. */
  owns(node: ChainNode): boolean {
    return this.graph.list[node.id] === node;
  }

  private checkOwned(node: ChainNode): void {
    if (!this.owns(node)) throw new Error(`'${node.chain.name}' is not a chain of table '${this.graph.table.name}'`);
  }

  /** kubeChain(name)?.kind of a chain of this table, read once per chain. */
  kubeKindOf(node: ChainNode): KubeChainKind | undefined {
    this.checkOwned(node);
    return this.kindAt(node.id);
  }

  // The model asks by node id: a node object of a large table is a visit to memory far away.

  nodeAt(id: number): ChainNode {
    return this.graph.list[id]!;
  }

  kindAt(id: number): KubeChainKind | undefined {
    return KUBE_KINDS[this.nodes.kinds[id]!];
  }

  /** The first DNAT rule of a chain. */
  dnatRuleAt(id: number): Rule | undefined {
    const at = this.compiled.firstDnat[id]!;
    return at === -1 ? undefined : this.compiled.rules[at];
  }

  /** Where the first DNAT rule of a chain sends packets; undefined without one or when its --to-destination is no IP[:port]. */
  dnatIpAt(id: number): string | undefined {
    const at = this.compiled.firstDnat[id]!;
    return at === -1 ? undefined : this.compiled.dnatIps[at];
  }

  /** The port of dnatIpAt(id). */
  dnatPortAt(id: number): number | undefined {
    const at = this.compiled.firstDnat[id]!;
    const port = at === -1 ? NaN : this.compiled.dnatPorts[at]!;
    return port === port ? port : undefined;
  }

  /** A rule of the chain records clients for session affinity (`-m recent --set`). */
  recordsAffinityAt(id: number): boolean {
    return (this.compiled.nodeFlags[id]! & NODE_RECORDS_AFFINITY) !== 0;
  }

  /** A rule of the chain has a comment. */
  hasCommentsAt(id: number): boolean {
    return (this.compiled.nodeFlags[id]! & NODE_HAS_COMMENT) !== 0;
  }

  /** The jumps of a chain (node.outgoing) are jumpTargetAt(j) for firstJumpOf(id) <= j < firstJumpOf(id + 1). */
  firstJumpOf(id: number): number {
    return this.compiled.firstJump[id]!;
  }

  jumpTargetAt(jump: number): number {
    return this.compiled.jumpTargets[jump]!;
  }

  /**
   * The rules of a chain that jump to KUBE-SEP chains without a recent match, with what their
   * statistic match says: `kernel` is the kernel's --probability, NaN when it is no number in [0, 1].
   */
  endpointJumpsAt(id: number): Array<{ rule: Rule; statistic: StatisticForm; kernel: number }> {
    const table = this.compiled;
    const kinds = this.nodes.kinds;
    const sep = KUBE_KINDS.indexOf('SEP');
    const jumps: Array<{ rule: Rule; statistic: StatisticForm; kernel: number }> = [];
    const end = table.first[id + 1]!;
    for (let r = table.first[id]!; r < end; r++) {
      if (table.ops[r] !== Op.Chain || kinds[table.targets[r]!] !== sep || (table.flags[r]! & RECENT) !== 0) continue;
      jumps.push({ rule: table.rules[r]!, statistic: STATISTIC_FORMS[table.statisticForms[r]!]!, kernel: table.kernelProbabilities[r]! });
    }
    return jumps;
  }

  flowOf(node: ChainNode, depth = 0): Flow {
    this.checkOwned(node);
    return this.walk(node.id, depth);
  }

  private walk(id: number, depth: number): WalkFlow {
    const cached = this.cache[id];
    if (cached) return cached;
    if (this.active[id] === 1) return this.terminal('loop');
    if (depth > MAX_DEPTH) return this.terminal('too-deep');
    this.active[id] = 1;
    const table = this.compiled;
    const { ops, probabilities, seconds: secondsOf, flags } = table;
    const flow = new FlowData();
    let remaining = 1;
    // A chain entered by -g returns to the chain that jumped here, not to this one.
    let returnedByGoto = 0;
    // A chain whose one effective rule takes all its traffic (a KUBE-SEP's DNAT) shares that rule's flow.
    let only: WalkFlow | undefined;
    const end = table.first[id + 1]!;
    for (let r = table.first[id]!; r < end; r++) {
      if (remaining <= 0) break;
      const op = ops[r]!;
      if (op === Op.None) continue;
      const p = probabilities[r]!;
      if (p !== p) {
        flow.addBadProbability(table.rules[r]!);
        continue;
      }
      const result = this.targetFlow(table, id, r, op, depth);
      if (result === undefined) continue;
      const seconds = secondsOf[r]!;
      if (seconds === seconds) {
        // New clients fail the recent check; returning ones keep their endpoint.
        flow.affinitySeconds = seconds;
        flow.addBranch({ condition: `a client seen in the last ${seconds} s (session affinity)`, rule: table.rules[r]!, flow: result });
        continue;
      }
      const condition = (flags[r]! & CONDITIONAL) !== 0 ? ruleCondition(table.rules[r]!) : undefined;
      if (condition !== undefined) {
        if (result.returned === 1 && isEmpty(result)) continue;
        flow.addBranch({ condition, rule: table.rules[r]!, flow: result });
        continue;
      }
      const share = remaining * p;
      const goto = (flags[r]! & GOTO) !== 0;
      if (share === 1 && !only && !goto && isEmpty(flow)) {
        only = result;
        remaining = result.returned;
        continue;
      }
      if (only) {
        add(flow, only, 1);
        only = undefined;
      }
      add(flow, result, share);
      if (goto) {
        returnedByGoto += share * result.returned;
        remaining -= share;
      } else {
        remaining -= share * (1 - result.returned);
      }
    }
    this.active[id] = 0;
    if (only && flow.branches.length === 0 && flow.badProbabilities.length === 0 && flow.affinitySeconds === undefined && remaining === only.returned) {
      this.cache[id] = only;
      return only;
    }
    if (only) add(flow, only, 1);
    flow.returned = remaining + returnedByGoto;
    flow.seal();
    this.cache[id] = flow;
    return flow;
  }

  private readonly terminals = new Map<OutcomeKind, FlowData>();

  /** The flow of a verdict: every packet ends with it. Shared, never changed. */
  private terminal(kind: OutcomeKind): FlowData {
    let flow = this.terminals.get(kind);
    if (!flow) {
      flow = new FlowData();
      flow.addOutcome(kind, 1);
      this.terminals.set(kind, flow);
    }
    return flow;
  }

  private readonly returning: FlowData = (() => {
    const flow = new FlowData();
    flow.returned = 1;
    return flow;
  })();

  /** What the target of rule r (of node id) does with the packets it gets; undefined for targets that let them go on (MARK, LOG). */
  private targetFlow(table: CompiledRules, id: number, r: number, op: Op, depth: number): WalkFlow | undefined {
    switch (op) {
      case Op.Dnat: {
        const ip = table.dnatIps[r];
        if (ip === undefined) return this.terminal('ACCEPT');
        const port = table.dnatPorts[r]!;
        return new DnatFlow(ip, port === port ? port : undefined, this.graph.list[id]!, table.rules[r]!, id);
      }
      case Op.Accept:
      case Op.Other:
        return this.terminal('ACCEPT');
      case Op.Drop:
      case Op.MarkDrop:
        return this.terminal('DROP');
      case Op.Reject:
        return this.terminal('REJECT');
      case Op.Return:
        return this.returning;
      case Op.Chain: {
        const flow = this.walk(table.targets[r]!, depth + 1);
        if (flow.returned === 1 && isEmpty(flow) && flow.branches.length === 0) return undefined;
        return flow;
      }
      default:
        return undefined;
    }
  }
}
