import type { ChainNode, TableGraph } from '../core/graph';
import type { Chain, Rule, RuleFacts, RuleOption } from '../core/ruleset';
import { narrowsTraffic, ruleSpec } from '../core/ruleSpec';
import { itself, lowerBound } from '../core/sorted';
import { kernelProbability, STATISTIC_SCALE } from '../core/statistic';
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

const NO_NUMBERS: number[] = [];
const NO_OUTCOMES: OutcomeKind[] = [];
const NO_BRANCHES: Branch[] = [];
const NO_RULES: Rule[] = [];
const NO_OUTCOME_MAP: ReadonlyMap<OutcomeKind, number> = new Map();
/** Above this many destinations a flow under construction finds them by a map instead of a scan. */
const INDEX_FROM = 12;

/**
 * Destinations and outcomes as parallel arrays: a service with ten endpoints costs a few
 * arrays of numbers, not a map entry and an object per endpoint per chain. A destination is a
 * DNAT rule, by its number among the table's DNAT rules; the Destination objects and the Map
 * views callers know are made on first use.
 */
class FlowData implements Flow {
  /** Node ids of the chains holding the DNAT rules (the key: one entry per chain), the rules' DNAT numbers, and the shares. */
  chainIds: number[] = NO_NUMBERS;
  dnats: number[] = NO_NUMBERS;
  shares: number[] = NO_NUMBERS;
  kinds: OutcomeKind[] = NO_OUTCOMES;
  kindShares: number[] = NO_NUMBERS;
  returned = 0;
  branches: Branch[] = NO_BRANCHES;
  affinitySeconds: number | undefined = undefined;
  badProbabilities: Rule[] = NO_RULES;
  /** While the flow is built: the position of each chain id, once it has many. Then the Map views, once asked for. */
  private index: Map<number, number> | undefined = undefined;
  private views: { destinations?: Map<ChainNode, DestinationShare>; outcomes?: Map<OutcomeKind, number> } | undefined = undefined;

  constructor(private readonly table: CompiledRules) {}

  get destinationCount(): number {
    return this.dnats.length;
  }

  destinationAt(index: number): Destination {
    return this.table.destination(this.dnats[index]!);
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
      for (let i = 0; i < this.dnats.length; i++) {
        const destination = this.destinationAt(i);
        map.set(destination.chain, { destination, share: this.shares[i]! });
      }
      this.views.destinations = map;
    }
    return this.views.destinations;
  }

  get outcomes(): ReadonlyMap<OutcomeKind, number> {
    if (this.kinds.length === 0) return NO_OUTCOME_MAP;
    this.views ??= {};
    if (!this.views.outcomes) {
      const map = new Map<OutcomeKind, number>();
      for (let i = 0; i < this.kinds.length; i++) map.set(this.kinds[i]!, this.kindShares[i]!);
      this.views.outcomes = map;
    }
    return this.views.outcomes;
  }

  /** Adds `share` of the traffic to DNAT rule `dnat` of chain `chainId`; a chain already reached keeps its first rule. */
  addDestination(chainId: number, dnat: number, share: number): void {
    const at = this.positionOf(chainId);
    if (at >= 0) {
      this.shares[at] += share;
      return;
    }
    if (this.dnats === NO_NUMBERS) {
      this.chainIds = [chainId];
      this.dnats = [dnat];
      this.shares = [share];
      return;
    }
    if (this.index) this.index.set(chainId, this.dnats.length);
    this.chainIds.push(chainId);
    this.dnats.push(dnat);
    this.shares.push(share);
    if (!this.index && this.dnats.length > INDEX_FROM) {
      this.index = new Map();
      for (let i = 0; i < this.chainIds.length; i++) this.index.set(this.chainIds[i]!, i);
    }
  }

  private positionOf(chainId: number): number {
    if (this.index) return this.index.get(chainId) ?? -1;
    const chainIds = this.chainIds;
    for (let i = 0; i < chainIds.length; i++) if (chainIds[i] === chainId) return i;
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

/**
 * What a DNAT rule does with the packets it gets: all of them go to one address. It is its own
 * destination; the walk itself keeps such a flow as the rule's number, and this object is made
 * when a caller asks for it. Its fields are read from the compiled table.
 */
class DnatFlow implements Flow, Destination {
  constructor(
    private readonly table: CompiledRules,
    /** The rule's number among the table's DNAT rules. */
    readonly dnat: number,
  ) {}

  get ip(): string {
    return this.table.ipOf(this.dnat);
  }

  get port(): number | undefined {
    return this.table.portOf(this.dnat);
  }

  get chain(): ChainNode {
    return this.table.list[this.table.dnatChains[this.dnat]!]!;
  }

  get rule(): Rule {
    return this.table.ruleAt(this.table.dnatRules[this.dnat]!);
  }

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

/** The node id of the chain holding destination `index` of a flow the walker made. */
export function destinationChainId(flow: Flow, index: number): number {
  if (flow instanceof FlowData) return flow.chainIds[index]!;
  if (flow instanceof DnatFlow && index === 0) return flow.chain.id;
  throw new RangeError(`destination ${index} of a flow the walker did not make`);
}

/**
 * A flow as the walk passes it around: a FlowData, or the number of a DNAT rule (a KUBE-SEP's
 * flow) so that the 100,000 endpoint chains of a large cluster cost no object.
 */
type WalkFlow = FlowData | number;

/** Nothing reached: no destination, no outcome, no branch. */
function isEmpty(flow: WalkFlow): boolean {
  return typeof flow !== 'number' && flow.dnats.length === 0 && flow.kinds.length === 0;
}

function returnedOf(flow: WalkFlow): number {
  return typeof flow === 'number' ? 0 : flow.returned;
}

/** Adds `share` of what happens in `from` to `into`, in the order `from` has it. */
function add(into: FlowData, from: WalkFlow, table: CompiledRules, share: number): void {
  if (share === 0) return;
  if (typeof from === 'number') {
    into.addDestination(table.dnatChains[from]!, from, share);
    return;
  }
  const dnats = from.dnats;
  const shares = from.shares;
  for (let i = 0; i < dnats.length; i++) into.addDestination(from.chainIds[i]!, dnats[i]!, shares[i]! * share);
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
function ruleCondition(rule: Rule): string | undefined {
  if (!rule.conditional) return undefined;
  const parts: string[] = [];
  for (const match of ruleSpec(rule).matches) {
    // A recent check is session affinity, handled apart; --set and the rest only record.
    if (match.module === 'recent') continue;
    for (const option of match.options) {
      if (narrowsTraffic(match.module, option.key)) parts.push(describeOption(match.module, option));
    }
  }
  return parts.length > 0 ? [...new Set(parts)].join(', ') : undefined;
}

/** The probability the kernel uses for each `--probability` text, read once per distinct text. */
class ProbabilityCache {
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
function selectionProbability(statistic: RuleFacts['statistic'], probabilities: ProbabilityCache): number | undefined {
  if (!statistic) return 1;
  if (statistic.every !== undefined) {
    const every = Number(statistic.every);
    return Number.isInteger(every) && every >= 1 ? 1 / every : undefined;
  }
  if (statistic.probability === undefined) return 1;
  const p = probabilities.kernel(statistic.probability);
  return p === undefined ? undefined : statistic.negated ? 1 - p : p;
}

function affinitySeconds(recent: RuleFacts['recent']): number | undefined {
  return recent?.check && recent.seconds !== undefined && Number.isFinite(recent.seconds) ? recent.seconds : undefined;
}

/** scanV4Endpoint: the text is not shaped like `a.b.c.d[:port]`. */
const NOT_V4 = -2;
/** scanV4Endpoint: shaped like an IPv4 address, but with an octet above 255: no address (a '.' rules out IPv6 too). */
const BAD_V4 = -1;
/** The port scanV4Endpoint read last; NaN without one. */
let scannedPort = NaN;
/** The address scanV4Endpoint read last, as a 32-bit integer (a.b.c.d is a << 24 | b << 16 | c << 8 | d). */
let scannedV4 = 0;

/**
 * `a.b.c.d` or `a.b.c.d:port` with 1-3 digit parts and a 1-5 digit port, read without a
 * regular expression or an allocation: the length of the address part (the port in
 * scannedPort), or NOT_V4 / BAD_V4.
 */
function scanV4Endpoint(text: string): number {
  const length = text.length;
  let i = 0;
  let valid = true;
  let address = 0;
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
    address = (address << 8) | (value & 255);
  }
  scannedV4 = address;
  const ipEnd = i;
  scannedPort = NaN;
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
    scannedPort = value;
  }
  return valid ? ipEnd : BAD_V4;
}

/** The forms of a --to-destination other than `a.b.c.d[:port]`: `[ip]`, `[ip]:port` and a bare IPv6 address. */
function parseOtherEndpoint(text: string): { ip: string; port: number | undefined } | undefined {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) return { ip: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  if (/^[0-9a-fA-F:]+$/.test(text) && text.includes(':')) return { ip: text, port: undefined };
  return undefined;
}

export function parseEndpointAddress(text: string): { ip: string; port: number | undefined } | undefined {
  const end = scanV4Endpoint(text);
  if (end === BAD_V4) return undefined;
  if (end === NOT_V4) return parseOtherEndpoint(text);
  return { ip: end === text.length ? text : text.slice(0, end), port: scannedPort === scannedPort ? scannedPort : undefined };
}

/** What a rule's statistic match says, for the check of kube-proxy's probabilities: `bare` is `-m statistic` with neither --probability nor --every. */
export type StatisticForm = 'none' | 'every' | 'probability' | 'bare';
const STATISTIC_FORMS: readonly StatisticForm[] = ['none', 'every', 'probability', 'bare'];
const EVERY = 1;
const PROBABILITY = 2;
const BARE = 3;

// Flags of a rule, above its op (4 bits) in its code (CompiledRules.data); the statistic form above them.
const CONDITIONAL = 1 << 4;
const GOTO = 1 << 5;
const RECENT = 1 << 6;
/** `-m recent --rcheck --seconds N`: N is in CompiledRules.affinitySeconds. */
const AFFINITY = 1 << 7;
/** `! --probability`: the kernel's value of the text is in CompiledRules.negatedKernels. */
const NEGATED = 1 << 8;
/** A probability that is not the kernel's integer over 2^31 (`--every 3`, or NaN for none): it is in CompiledRules.otherProbabilities. */
const OTHER_PROBABILITY = 1 << 9;
const FORM_SHIFT = 10;

const NODE_RECORDS_AFFINITY = 1;
const NODE_HAS_COMMENT = 2;

/** The flags a rule gives its chain (CompiledRules.nodeFlags). */
function nodeFlagsOf(rule: Rule): number {
  return (rule.recent?.set === true ? NODE_RECORDS_AFFINITY : 0) | (rule.comment !== undefined ? NODE_HAS_COMMENT : 0);
}

/** The kinds of KUBE- chain names by code; 0 is none. */
const KUBE_KINDS: ReadonlyArray<KubeChainKind | undefined> = [undefined, 'SVC', 'SVL', 'EXT', 'FW', 'XLB', 'SEP'];
const SEP_KIND = KUBE_KINDS.indexOf('SEP');

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
  readonly list: ChainNode[];
  /**
   * Two numbers per node id i, at 2i: the index of its first rule (its rules are firstOf(i) to
   * firstOf(i + 1) - 1) and the walk's state of the chain (FlowWalker), side by side.
   */
  nodeSlots: Int32Array;
  /**
   * Three numbers per rule r, at 3r: its code (op, flags and statistic form), the node id of an
   * Op.Chain or the DNAT number of an Op.Dnat (-1 for a DNAT to no address), and the probability
   * of selecting the rule as the kernel keeps it, an integer over 2^31 (2^31 itself reads as
   * -2^31: see probabilityAt), unless the code says OTHER_PROBABILITY. Side by side, so that a
   * rule is one visit to memory, and in 32 bits: 12 bytes a rule, not 24, outside V8's heap.
   */
  data: Int32Array;
  /** The probabilities of rules with OTHER_PROBABILITY, by index: NaN when it is not a number in [0, 1]. */
  otherProbabilities = new Map<number, number>();
  /** The rule at each index, as read: what ruleAt answers, and what recompile compares the chains' rules with. */
  private rules: Rule[];
  affinitySeconds = new Map<number, number>();
  negatedKernels = new Map<number, number>();
  /** How many DNAT rules with an address the table has: their DNAT numbers are 0 to dnatCount - 1. */
  dnatCount = 0;
  /**
   * By DNAT number: the node id of its chain, its rule's index in the table, and its port (NaN
   * without). Made for the chains that look like kube-proxy's endpoint chains and grown when a
   * dump has more DNAT rules: arrays for every rule would be memory outside V8's heap that, past
   * 64 MB made since its last full collection, makes V8 start one (the 30k dump's model did).
   */
  dnatChains: Int32Array;
  dnatRules: Int32Array;
  dnatPorts: Float64Array;
  /** By DNAT number: the address is the first dnatIpEnds[k] characters of dnatIpTexts[k] (the --to-destination text as written, for IPv4). */
  private readonly dnatIpTexts: string[] = [];
  private dnatIpEnds: Int32Array;
  /** By DNAT number: an IPv4 address as a 32-bit integer (scannedV4), 0 for any other (the texts decide). */
  private dnatV4: Int32Array;
  /** The addresses cut from those texts, once asked for. */
  private dnatIps: Array<string | undefined> | undefined;
  /** Per node: the table index of its first DNAT rule, or -1. */
  readonly firstDnat: Int32Array;
  readonly nodeFlags: Uint8Array;
  /** The Destination objects callers asked for, by DNAT number. */
  private readonly destinations: Array<DnatFlow | undefined> = [];

  constructor(graph: TableGraph, nodes: CompiledNodes, probabilities: ProbabilityCache) {
    const list = graph.list;
    this.list = list;
    let count = 0;
    for (let id = 0; id < list.length; id++) count += list[id]!.chain.rules.length;
    this.nodeSlots = new Int32Array(2 * (list.length + 1));
    this.data = new Int32Array(count * 3);
    this.rules = new Array<Rule>(count);
    this.firstDnat = new Int32Array(list.length).fill(-1);
    this.nodeFlags = new Uint8Array(list.length);
    let endpointChains = 0;
    for (let id = 0; id < list.length; id++) if (nodes.kinds[id] === SEP_KIND) endpointChains++;
    const room = Math.min(count, endpointChains + 64);
    this.dnatChains = new Int32Array(room);
    this.dnatRules = new Int32Array(room);
    this.dnatPorts = new Float64Array(room);
    this.dnatIpEnds = new Int32Array(room);
    this.dnatV4 = new Int32Array(room);
    let r = 0;
    for (let id = 0; id < list.length; id++) {
      const node = list[id]!;
      this.nodeSlots[2 * id] = r;
      const rules = node.chain.rules;
      const firstJump = graph.jumpOffsets[id]!;
      const jumps = graph.jumpOffsets[id + 1]! - firstJump;
      let j = 0;
      let nodeFlags = 0;
      for (let k = 0; k < rules.length; k++, r++) {
        const rule = rules[k]!;
        this.rules[r] = rule;
        // The graph has a jump for each rule that names a chain, in the table's order.
        let jumpTo = -1;
        if (j < jumps && graph.jumpRules[firstJump + j] === rule) jumpTo = graph.jumpTargets[firstJump + j++]!;
        nodeFlags |= nodeFlagsOf(rule);
        this.compileRule(graph, nodes, probabilities, id, r, rule, jumpTo);
      }
      this.nodeFlags[id] = nodeFlags;
    }
    this.nodeSlots[2 * list.length] = r;
  }

  /** Rule r of node id: its code, its chain or DNAT number (`dnat`, the number its DNAT had before an edit), and its probability. */
  private compileRule(graph: TableGraph, nodes: CompiledNodes, probabilities: ProbabilityCache, id: number, r: number, rule: Rule, jumpTo: number, dnat = -1): void {
    const data = this.data;
    data[3 * r] = OTHER_PROBABILITY;
    data[3 * r + 1] = 0;
    data[3 * r + 2] = 0;
    const targetName = rule.targetName;
    if (targetName === undefined) {
      // Without a target (Op.None) a rule selects nothing.
      this.otherProbabilities.set(r, NaN);
      return;
    }
    const recent = rule.recent;
    // A jump names a chain: what its name means was read with the chain's.
    let op: Op = jumpTo !== -1 ? nodes.ops[jumpTo]! : opOfName(targetName);
    let aux = -1;
    if (op === Op.Chain) {
      const next = jumpTo !== -1 ? jumpTo : graph.nodes.get(targetName)?.id;
      if (next !== undefined) aux = next;
      else op = Op.Continue;
    } else if (op === Op.Dnat) {
      const text = rule.toDestination;
      if (dnat === -1 && this.dnatCount === this.dnatChains.length) this.growDnats();
      if (text !== undefined && this.readAddress(text, dnat === -1 ? this.dnatCount : dnat)) {
        aux = dnat === -1 ? this.dnatCount++ : dnat;
        this.dnatChains[aux] = id;
        this.dnatRules[aux] = r;
      }
      if (this.firstDnat[id] === -1) this.firstDnat[id] = r;
    }
    let code: number = op | (rule.conditional ? CONDITIONAL : 0) | (rule.targetKind === 'goto' ? GOTO : 0) | (recent ? RECENT : 0);
    const seconds = affinitySeconds(recent);
    if (seconds !== undefined) {
      code |= AFFINITY;
      this.affinitySeconds.set(r, seconds);
    }
    const statistic = rule.statistic;
    const p = selectionProbability(statistic, probabilities) ?? NaN;
    const scaled = p * STATISTIC_SCALE;
    if (Number.isInteger(scaled)) {
      data[3 * r + 2] = scaled | 0;
    } else {
      code |= OTHER_PROBABILITY;
      this.otherProbabilities.set(r, p);
    }
    if (statistic) {
      if (statistic.every !== undefined) {
        code |= EVERY << FORM_SHIFT;
      } else if (statistic.probability !== undefined) {
        code |= PROBABILITY << FORM_SHIFT;
        if (statistic.negated) {
          code |= NEGATED;
          this.negatedKernels.set(r, probabilities.kernel(statistic.probability) ?? NaN);
        }
      } else {
        code |= BARE << FORM_SHIFT;
      }
    }
    data[3 * r] = code;
    data[3 * r + 1] = aux;
  }

  /**
   * Brings the arrays up to date after edits: `changed` are the rules of the edited lines now
   * (read again in place, or new) and `chains` the chains that gained or lost rules. The rules
   * of the other chains are copied as they stand, moved by the rules added or removed above
   * them; those of these chains are read again, one by one when changed. False when a DNAT
   * rule is added, changed or removed (DNAT numbers follow the table's order): then the rules
   * must be read again.
   */
  recompile(graph: TableGraph, nodes: CompiledNodes, probabilities: ProbabilityCache, changed: readonly Rule[], chains: readonly Chain[]): boolean {
    const list = this.list;
    if (graph.list !== list) return false;
    const fresh = new Set(changed);
    const ids = new Set<number>();
    for (const chain of [...chains, ...changed.map((rule) => rule.chain)]) {
      if (!chain) return false;
      // Edits in other tables leave this one's rules as they are.
      if (graph.table.chains.get(chain.name) !== chain) continue;
      if (list[chain.id]?.chain !== chain) return false;
      ids.add(chain.id);
    }
    const dirty = [...ids].sort((a, b) => a - b);
    const oldSlots = this.nodeSlots;
    const oldRules = this.rules;
    const oldData = this.data;
    const before = (id: number): number => oldSlots[2 * id + 2]! - oldSlots[2 * id]!;
    // In place when no chain gains rules: every span of rules then moves up or stays (data may keep spare room at its end).
    let inPlace = true;
    // Where each rule of a chain read again stood in it, by rule.
    const places: Array<Map<Rule, number>> = [];
    for (const id of dirty) {
      const rules = list[id]!.chain.rules;
      const first = oldSlots[2 * id]!;
      const place = new Map<Rule, number>();
      for (let r = first; r < oldSlots[2 * id + 2]!; r++) place.set(oldRules[r]!, r - first);
      places.push(place);
      // A DNAT rule gone or new would renumber the DNAT rules after it; one read again keeps its number when it still sends to an address.
      const kept = new Set(rules);
      // Rule r, a DNAT to an address before the edit, read again: still one, so it keeps its number.
      const stillSendsToAddress = (rule: Rule, r: number) =>
        oldData[3 * r + 1]! >= 0 && rule.targetName === 'DNAT' && rule.toDestination !== undefined && parseEndpointAddress(rule.toDestination) !== undefined;
      for (let r = first; r < oldSlots[2 * id + 2]!; r++) {
        if ((oldData[3 * r]! & 15) !== Op.Dnat) continue;
        const rule = oldRules[r]!;
        if (!kept.has(rule) || (fresh.has(rule) && !stillSendsToAddress(rule, r))) return false;
      }
      for (const rule of rules) {
        if (rule.targetName !== 'DNAT') continue;
        const at = place.get(rule);
        if (at === undefined || (fresh.has(rule) && (oldData[3 * (first + at)]! & 15) !== Op.Dnat)) return false;
      }
      if (rules.length > before(id)) inPlace = false;
    }
    if (dirty.length === 0) return true;

    // What the chains read again said before, taken before anything is written over.
    const saved = dirty.map((id) => oldData.slice(3 * oldSlots[2 * id]!, 3 * oldSlots[2 * id + 2]!));
    // How far the rules of the chains after the i-th chain read again move: shifts[i].
    const shifts: number[] = [];
    let shift = 0;
    for (const id of dirty) shifts.push((shift += list[id]!.chain.rules.length - before(id)));
    const movedBy = (id: number): number => {
      const i = lowerBound(dirty, id, itself);
      return i === 0 ? 0 : shifts[i - 1]!;
    };
    const total = oldSlots[2 * list.length]! + shift;
    const data = inPlace ? oldData : new Int32Array(3 * total);
    const rulesNow: Rule[] = inPlace ? oldRules : [];
    const slots = new Int32Array(oldSlots.length);
    this.data = data;
    this.rules = rulesNow;
    this.nodeSlots = slots;
    const oldAffinity = this.affinitySeconds;
    const oldNegated = this.negatedKernels;
    const oldOther = this.otherProbabilities;
    this.affinitySeconds = new Map();
    this.negatedKernels = new Map();
    this.otherProbabilities = new Map();
    const isDirty = new Uint8Array(list.length);
    for (const id of dirty) isDirty[id] = 1;
    for (const [table, map] of [[this.affinitySeconds, oldAffinity], [this.negatedKernels, oldNegated], [this.otherProbabilities, oldOther]] as const) {
      for (const [r, value] of map) {
        const id = this.nodeOfOld(oldSlots, r);
        if (!isDirty[id]) table.set(r + movedBy(id), value);
      }
    }
    if (shifts.some((by) => by !== 0)) {
      for (let k = 0; k < this.dnatCount; k++) {
        const id = this.dnatChains[k]!;
        if (!isDirty[id]) this.dnatRules[k] = this.dnatRules[k]! + movedBy(id);
      }
    }
    // In the table's order: the chains left alone in spans between those read again, each span
    // moved as one; then a chain read again, each rule copied from before or read when new or changed.
    let from = 0;
    for (let i = 0; i <= dirty.length; i++) {
      const to = i < dirty.length ? dirty[i]! : list.length;
      const by = i === 0 ? 0 : shifts[i - 1]!;
      const start = oldSlots[2 * from]!;
      const end = oldSlots[2 * to]!;
      if (!inPlace) {
        data.set(oldData.subarray(3 * start, 3 * end), 3 * (start + by));
        for (let r = start; r < end; r++) rulesNow.push(oldRules[r]!);
      } else if (by !== 0) {
        data.copyWithin(3 * (start + by), 3 * start, 3 * end);
        for (let r = start; r < end; r++) rulesNow[r + by] = oldRules[r]!;
      }
      for (let id = from; id < to; id++) {
        slots[2 * id] = oldSlots[2 * id]! + by;
        if (this.firstDnat[id] !== -1) this.firstDnat[id] = this.firstDnat[id]! + by;
      }
      if (i === dirty.length) break;
      const id = to;
      from = id + 1;
      const rules = list[id]!.chain.rules;
      const first = oldSlots[2 * id]! + by;
      slots[2 * id] = first;
      this.firstDnat[id] = -1;
      const was = saved[i]!;
      const place = places[i]!;
      const firstJump = graph.jumpOffsets[id]!;
      const jumps = graph.jumpOffsets[id + 1]! - firstJump;
      let j = 0;
      let flags = 0;
      for (let k = 0; k < rules.length; k++) {
        const rule = rules[k]!;
        const r = first + k;
        if (inPlace) rulesNow[r] = rule;
        else rulesNow.push(rule);
        flags |= nodeFlagsOf(rule);
        // As when the table is read: the graph's jumps of the chain follow its rules.
        let jumpTo = -1;
        if (j < jumps && graph.jumpRules[firstJump + j] === rule) jumpTo = graph.jumpTargets[firstJump + j++]!;
        const at = fresh.has(rule) ? -1 : (place.get(rule) ?? -1);
        if (at === -1) {
          // A DNAT rule read again keeps its number (checked above).
          const before = place.get(rule);
          const dnat = before !== undefined && (was[3 * before]! & 15) === Op.Dnat ? was[3 * before + 1]! : -1;
          this.compileRule(graph, nodes, probabilities, id, r, rule, jumpTo, dnat);
          continue;
        }
        data[3 * r] = was[3 * at]!;
        data[3 * r + 1] = was[3 * at + 1]!;
        data[3 * r + 2] = was[3 * at + 2]!;
        const code = data[3 * r]!;
        const old = oldSlots[2 * id]! + at;
        if ((code & AFFINITY) !== 0) this.affinitySeconds.set(r, oldAffinity.get(old)!);
        if ((code & NEGATED) !== 0) this.negatedKernels.set(r, oldNegated.get(old)!);
        if ((code & OTHER_PROBABILITY) !== 0) this.otherProbabilities.set(r, oldOther.get(old)!);
        if ((code & 15) === Op.Dnat) {
          if (this.firstDnat[id] === -1) this.firstDnat[id] = r;
          if (data[3 * r + 1]! >= 0) this.dnatRules[data[3 * r + 1]!] = r;
        }
      }
      this.nodeFlags[id] = flags;
    }
    slots[2 * list.length] = total;
    rulesNow.length = total;
    return true;
  }

  /** The node whose rules held index r in `slots` (a layout before recompile). */
  private nodeOfOld(slots: Int32Array, r: number): number {
    let low = 0;
    let high = this.list.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (slots[2 * mid]! <= r) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** Twice the room for DNAT numbers. */
  private growDnats(): void {
    const room = 2 * this.dnatChains.length + 64;
    const grown = <T extends Int32Array | Float64Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.dnatChains = grown(this.dnatChains, new Int32Array(room));
    this.dnatRules = grown(this.dnatRules, new Int32Array(room));
    this.dnatPorts = grown(this.dnatPorts, new Float64Array(room));
    this.dnatIpEnds = grown(this.dnatIpEnds, new Int32Array(room));
    this.dnatV4 = grown(this.dnatV4, new Int32Array(room));
  }

  /** Reads a --to-destination as DNAT number k (the next one, or one an edit reads again); false when it is no IP[:port]. */
  private readAddress(text: string, k: number): boolean {
    const end = scanV4Endpoint(text);
    if (end === BAD_V4) return false;
    if (this.dnatIps) this.dnatIps[k] = undefined;
    if (end !== NOT_V4) {
      this.dnatIpTexts[k] = text;
      this.dnatIpEnds[k] = end;
      this.dnatV4[k] = scannedV4;
      this.dnatPorts[k] = scannedPort;
      return true;
    }
    const parsed = parseOtherEndpoint(text);
    if (!parsed) return false;
    this.dnatIpTexts[k] = parsed.ip;
    this.dnatIpEnds[k] = parsed.ip.length;
    this.dnatV4[k] = 0;
    this.dnatPorts[k] = parsed.port === undefined ? NaN : parsed.port;
    return true;
  }

  /** The DNAT numbers whose address is `ip`, by a pass over the table (no address string made). */
  dnatsOfIp(ip: string): number[] {
    const found: number[] = [];
    const length = ip.length;
    // An IPv4 address is compared as a number first: the texts lie all over the dump.
    const v4 = scanV4Endpoint(ip) === length;
    const address = scannedV4;
    for (let k = 0; k < this.dnatCount; k++) {
      if (this.dnatIpEnds[k] !== length || (v4 && this.dnatV4[k] !== address && this.dnatV4[k] !== 0)) continue;
      if (this.dnatIpTexts[k]!.startsWith(ip)) found.push(k);
    }
    return found;
  }

  /** The address of DNAT number k. */
  ipOf(k: number): string {
    const ips = (this.dnatIps ??= new Array<string | undefined>(this.dnatCount).fill(undefined));
    let ip = ips[k];
    if (ip === undefined) {
      const text = this.dnatIpTexts[k]!;
      const end = this.dnatIpEnds[k]!;
      ip = end === text.length ? text : text.slice(0, end);
      ips[k] = ip;
    }
    return ip;
  }

  /** The port of DNAT number k. */
  portOf(k: number): number | undefined {
    const port = this.dnatPorts[k]!;
    return port === port ? port : undefined;
  }

  /** Rule r of the table. */
  ruleAt(r: number): Rule {
    return this.rules[r]!;
  }

  opAt(r: number): Op {
    return this.data[3 * r]! & 15;
  }

  /** The node id of an Op.Chain, the DNAT number of an Op.Dnat (-1 for no address). */
  auxAt(r: number): number {
    return this.data[3 * r + 1]!;
  }

  statisticFormAt(r: number): StatisticForm {
    return STATISTIC_FORMS[this.data[3 * r]! >> FORM_SHIFT]!;
  }

  /** The probability of selecting rule r as the kernel uses it; NaN when it is not a number in [0, 1]. */
  probabilityAt(r: number): number {
    return (this.data[3 * r]! & OTHER_PROBABILITY) !== 0 ? this.otherProbabilities.get(r)! : (this.data[3 * r + 2]! >>> 0) / STATISTIC_SCALE;
  }

  /** The kernel's value of rule r's --probability text (without `!`); NaN when it is no number in [0, 1]. */
  kernelProbabilityAt(r: number): number {
    return (this.data[3 * r]! & NEGATED) !== 0 ? this.negatedKernels.get(r)! : this.probabilityAt(r);
  }

  /** The index of the first rule of node id. */
  firstOf(id: number): number {
    return this.nodeSlots[2 * id]!;
  }

  /** The Destination (and flow) of DNAT number `dnat`: one object per rule, made on first use. */
  destination(dnat: number): DnatFlow {
    return (this.destinations[dnat] ??= new DnatFlow(this, dnat));
  }
}

/** What the walk knows of a chain, in CompiledRules.nodeSlots: not walked yet, being walked, walked (the flow in FlowWalker.flows), or a DNAT rule's flow (STATE_DNAT + its number). */
const STATE_NEW = 0;
const STATE_ACTIVE = 1;
const STATE_FLOW = 2;
const STATE_DNAT = 3;

/**
 * Follows the packets entering chains of the nat table and says where they end: which DNAT
 * destinations with what share, which drops or rejects, and what comes back. Probabilities are
 * the kernel's; a rule whose match cannot be weighed becomes a conditional branch instead.
 * Results are cached per chain (they scale linearly with the share entering).
 */
export class FlowWalker {
  private probabilities = new ProbabilityCache();
  private compiledNodes: CompiledNodes | undefined;
  private compiledRules: CompiledRules | undefined;
  private readonly flows: Array<FlowData | undefined>;

  constructor(private readonly graph: TableGraph) {
    const size = graph.list.length;
    this.flows = new Array<FlowData | undefined>(size).fill(undefined);
  }

  /** The chains' names, read on first use. */
  private get nodes(): CompiledNodes {
    return (this.compiledNodes ??= new CompiledNodes(this.graph));
  }

  /** The table's rules in flat arrays, read on first use. */
  private get compiled(): CompiledRules {
    return (this.compiledRules ??= new CompiledRules(this.graph, this.nodes, this.probabilities));
  }

  /**
   * Takes over what `previous`, the walker of the same table before edits (see
   * CompiledRules.recompile for `changed` and `chains`), read of chain names and rules,
   * instead of reading them all again. The previous walker must not be used afterwards. True
   * when it took over the rules (false: it reads them all when first asked).
   */
  adopt(previous: FlowWalker, changed: readonly Rule[], chains: readonly Chain[]): boolean {
    if (previous.graph !== this.graph || !previous.compiledNodes) return false;
    this.compiledNodes = previous.compiledNodes;
    const rules = previous.compiledRules;
    if (!rules?.recompile(this.graph, previous.compiledNodes, previous.probabilities, changed, chains)) return false;
    // The walk's state of each chain sits next to its rules: this walker has walked none yet.
    for (let id = 0; id < this.graph.list.length; id++) rules.nodeSlots[2 * id + 1] = STATE_NEW;
    this.compiledRules = rules;
    this.probabilities = previous.probabilities;
    return true;
  }

  /** Whether a node is one of this walker's table (by id): the others have no flow here. */
  owns(node: ChainNode): boolean {
    return this.graph.list[node.id] === node;
  }

  private checkOwned(node: ChainNode): void {
    if (!this.owns(node)) throw new Error(`'${node.chain.name}' is not a chain of table '${this.graph.table.name}'`);
  }

  // The model asks by node id: a node object of a large table is a visit to memory far away.

  nodeAt(id: number): ChainNode {
    return this.graph.list[id]!;
  }

  kindAt(id: number): KubeChainKind | undefined {
    return KUBE_KINDS[this.nodes.kinds[id]!];
  }

  /** Whether a chain has a DNAT rule. */
  hasDnatAt(id: number): boolean {
    return this.compiled.firstDnat[id] !== -1;
  }

  /** The first DNAT rule of a chain. */
  dnatRuleAt(id: number): Rule | undefined {
    const r = this.compiled.firstDnat[id]!;
    return r === -1 ? undefined : this.compiled.ruleAt(r);
  }

  /** The DNAT number of the first DNAT rule of a chain; -1 without one or when its --to-destination is no IP[:port]. */
  private dnatNumberAt(id: number): number {
    const table = this.compiled;
    const r = table.firstDnat[id]!;
    return r === -1 ? -1 : table.auxAt(r);
  }

  /** Where the first DNAT rule of a chain sends packets; undefined without one or when its --to-destination is no IP[:port]. */
  dnatIpAt(id: number): string | undefined {
    const dnat = this.dnatNumberAt(id);
    return dnat === -1 ? undefined : this.compiled.ipOf(dnat);
  }

  /** The chains whose first DNAT rule sends packets to `ip` (whose dnatIpAt is `ip`), in the order of their DNAT rules. */
  chainsWithDnatIp(ip: string): number[] {
    const table = this.compiled;
    const ids: number[] = [];
    for (const k of table.dnatsOfIp(ip)) {
      // A chain's address is its first DNAT rule's: each number is at most one chain's.
      const id = table.dnatChains[k]!;
      if (this.dnatNumberAt(id) === k) ids.push(id);
    }
    return ids;
  }

  /** The port of dnatIpAt(id). */
  dnatPortAt(id: number): number | undefined {
    const dnat = this.dnatNumberAt(id);
    return dnat === -1 ? undefined : this.compiled.portOf(dnat);
  }

  /** Whether the first DNAT rule of a chain sends packets to an IP[:port]. */
  hasDnatAddressAt(id: number): boolean {
    return this.dnatNumberAt(id) !== -1;
  }

  /** The index in the compiled table of a chain's first rule (node.chain.rules[k] is rule firstRuleOf(id) + k). */
  firstRuleOf(id: number): number {
    return this.compiled.firstOf(id);
  }

  /** The id of the chain that rule r names as its target, as graph.nodes.get(rule.targetName) finds it; -1 for none. */
  targetNodeIdAt(r: number): number {
    const table = this.compiled;
    const op = table.opAt(r);
    if (op === Op.Chain) return table.auxAt(r);
    if (op === Op.None || op === Op.Continue) return -1;
    // A name the walk knows (ACCEPT, DNAT, RETURN, KUBE-MARK-DROP…) can still be a chain's.
    return this.graph.nodes.get(table.ruleAt(r).targetName!)?.id ?? -1;
  }

  /** A rule of the chain records clients for session affinity (`-m recent --set`). */
  recordsAffinityAt(id: number): boolean {
    return (this.compiled.nodeFlags[id]! & NODE_RECORDS_AFFINITY) !== 0;
  }

  /** A rule of the chain has a comment. */
  hasCommentsAt(id: number): boolean {
    return (this.compiled.nodeFlags[id]! & NODE_HAS_COMMENT) !== 0;
  }

  /** node.incoming.length. */
  incomingCountAt(id: number): number {
    return this.graph.incomingCounts[id]!;
  }

  /** The jumps of a chain (node.outgoing) are jumpTargetAt(j) for firstJumpOf(id) <= j < firstJumpOf(id + 1). */
  firstJumpOf(id: number): number {
    return this.graph.jumpOffsets[id]!;
  }

  jumpTargetAt(jump: number): number {
    return this.graph.jumpTargets[jump]!;
  }

  /**
   * The rules of a chain that jump to KUBE-SEP chains without a recent match, by index in the
   * compiled table, into `into`; how many.
   */
  endpointJumpsAt(id: number, into: number[]): number {
    const table = this.compiled;
    const data = table.data;
    const kinds = this.nodes.kinds;
    let n = 0;
    const end = table.firstOf(id + 1);
    for (let r = table.firstOf(id); r < end; r++) {
      const code = data[3 * r]!;
      if ((code & 15) !== Op.Chain || kinds[data[3 * r + 1]!] !== SEP_KIND || (code & RECENT) !== 0) continue;
      into[n++] = r;
    }
    return n;
  }

  /** Rule r of the compiled table. */
  ruleAt(r: number): Rule {
    return this.compiled.ruleAt(r);
  }

  /** What the statistic match of rule r says. */
  statisticFormAt(r: number): StatisticForm {
    return this.compiled.statisticFormAt(r);
  }

  /** The kernel's value of rule r's --probability (without `!`); NaN when it is no number in [0, 1]. */
  kernelProbabilityAt(r: number): number {
    return this.compiled.kernelProbabilityAt(r);
  }

  flowOf(node: ChainNode, depth = 0): Flow {
    this.checkOwned(node);
    return this.publicFlow(this.walk(node.id, depth));
  }

  private publicFlow(flow: WalkFlow): Flow {
    return typeof flow === 'number' ? this.compiled.destination(flow) : flow;
  }

  private walk(id: number, depth: number): WalkFlow {
    const table = this.compiled;
    // The state of the chain, next to where its rules start (see CompiledRules.nodeSlots).
    const slots = table.nodeSlots;
    const state = slots[2 * id + 1]!;
    if (state !== STATE_NEW) {
      if (state >= STATE_DNAT) return state - STATE_DNAT;
      if (state === STATE_FLOW) return this.flows[id]!;
      return this.terminal('loop');
    }
    if (depth > MAX_DEPTH) return this.terminal('too-deep');
    slots[2 * id + 1] = STATE_ACTIVE;
    const data = table.data;
    // Made when something is added: most chains (a KUBE-SEP) share the flow of one rule.
    let flow: FlowData | undefined;
    let remaining = 1;
    // A chain entered by -g returns to the chain that jumped here, not to this one.
    let returnedByGoto = 0;
    // A chain whose one effective rule takes all its traffic (a KUBE-SEP's DNAT) shares that rule's flow.
    let only: WalkFlow | undefined;
    const end = slots[2 * id + 2]!;
    for (let r = slots[2 * id]!; r < end; r++) {
      if (remaining <= 0) break;
      const code = data[3 * r]!;
      const op: Op = code & 15;
      if (op === Op.None) continue;
      const p = table.probabilityAt(r);
      if (p !== p) {
        (flow ??= new FlowData(table)).addBadProbability(table.ruleAt(r));
        continue;
      }
      const result = this.targetFlow(op, data[3 * r + 1]!, depth);
      if (result === undefined) continue;
      if ((code & AFFINITY) !== 0) {
        // New clients fail the recent check; returning ones keep their endpoint.
        const seconds = table.affinitySeconds.get(r)!;
        flow ??= new FlowData(table);
        flow.affinitySeconds = seconds;
        flow.addBranch({ condition: `a client seen in the last ${seconds} s (session affinity)`, rule: table.ruleAt(r), flow: this.publicFlow(result) });
        continue;
      }
      const condition = (code & CONDITIONAL) !== 0 ? ruleCondition(table.ruleAt(r)) : undefined;
      if (condition !== undefined) {
        if (returnedOf(result) === 1 && isEmpty(result)) continue;
        (flow ??= new FlowData(table)).addBranch({ condition, rule: table.ruleAt(r), flow: this.publicFlow(result) });
        continue;
      }
      const share = remaining * p;
      const goto = (code & GOTO) !== 0;
      if (share === 1 && only === undefined && !goto && (flow === undefined || isEmpty(flow))) {
        only = result;
        remaining = returnedOf(result);
        continue;
      }
      flow ??= new FlowData(table);
      if (only !== undefined) {
        add(flow, only, table, 1);
        only = undefined;
      }
      add(flow, result, table, share);
      if (goto) {
        returnedByGoto += share * returnedOf(result);
        remaining -= share;
      } else {
        remaining -= share * (1 - returnedOf(result));
      }
    }
    if (only !== undefined && (flow === undefined || (flow.branches.length === 0 && flow.badProbabilities.length === 0 && flow.affinitySeconds === undefined)) && remaining === returnedOf(only)) {
      if (typeof only === 'number') {
        slots[2 * id + 1] = STATE_DNAT + only;
      } else {
        slots[2 * id + 1] = STATE_FLOW;
        this.flows[id] = only;
      }
      return only;
    }
    flow ??= new FlowData(table);
    if (only !== undefined) add(flow, only, table, 1);
    flow.returned = remaining + returnedByGoto;
    flow.seal();
    slots[2 * id + 1] = STATE_FLOW;
    this.flows[id] = flow;
    return flow;
  }

  private readonly terminals = new Map<OutcomeKind, FlowData>();

  /** The flow of a verdict: every packet ends with it. Shared, never changed. */
  private terminal(kind: OutcomeKind): FlowData {
    let flow = this.terminals.get(kind);
    if (!flow) {
      flow = new FlowData(this.compiled);
      flow.addOutcome(kind, 1);
      this.terminals.set(kind, flow);
    }
    return flow;
  }

  private returningFlow: FlowData | undefined;

  /** What a RETURN does: every packet goes back. Shared, never changed. */
  private get returning(): FlowData {
    if (!this.returningFlow) {
      this.returningFlow = new FlowData(this.compiled);
      this.returningFlow.returned = 1;
    }
    return this.returningFlow;
  }

  /** What the target of a rule (its op and aux code) does with the packets it gets; undefined for targets that let them go on (MARK, LOG). */
  private targetFlow(op: Op, aux: number, depth: number): WalkFlow | undefined {
    switch (op) {
      case Op.Dnat:
        return aux === -1 ? this.terminal('ACCEPT') : aux;
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
        const flow = this.walk(aux, depth + 1);
        if (returnedOf(flow) === 1 && isEmpty(flow) && (flow as FlowData).branches.length === 0) return undefined;
        return flow;
      }
      default:
        return undefined;
    }
  }
}
