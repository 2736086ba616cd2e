import type { ChainNode, TableGraph } from '../core/graph';
import type { Rule, RuleOption } from '../core/ruleset';
import { ruleSpec } from '../core/ruleSpec';
import { kernelProbability } from '../core/statistic';

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

/** What happens to packets entering a chain, as shares of them. */
export interface Flow {
  destinations: Map<ChainNode, { destination: Destination; share: number }>;
  outcomes: Map<OutcomeKind, number>;
  /** Share that comes back out of the chain (falls through its rules or RETURNs). */
  returned: number;
  branches: Branch[];
  /** `-m recent --rcheck --seconds N` before the split: clients seen within N seconds keep their endpoint. */
  affinitySeconds?: number;
  /** Rules whose probability was not a number in [0, 1]; they are taken as never matching. */
  badProbabilities: Rule[];
}

const TERMINAL_TARGETS: Readonly<Record<string, OutcomeKind | 'dnat' | 'other'>> = {
  ACCEPT: 'ACCEPT', DROP: 'DROP', REJECT: 'REJECT', DNAT: 'dnat',
  SNAT: 'other', MASQUERADE: 'other', REDIRECT: 'other', NETMAP: 'other', QUEUE: 'other', NFQUEUE: 'other', TPROXY: 'other', SYNPROXY: 'other',
};

/** Kubelet's KUBE-FIREWALL drops what KUBE-MARK-DROP marks, so a jump there is a drop. */
const MARK_DROP_CHAIN = 'KUBE-MARK-DROP';
const MAX_DEPTH = 64;

function emptyFlow(): Flow {
  return { destinations: new Map(), outcomes: new Map(), returned: 0, branches: [], badProbabilities: [] };
}

function returningFlow(): Flow {
  return { ...emptyFlow(), returned: 1 };
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

/** `--mode random --probability p` as the kernel uses it, `--mode nth --every n` as 1/n, or 1 without a statistic match. */
function selectionProbability(rule: Rule): number | undefined {
  const statistic = rule.facts.statistic;
  if (!statistic) return 1;
  if (statistic.every !== undefined) {
    const every = Number(statistic.every);
    return Number.isInteger(every) && every >= 1 ? 1 / every : undefined;
  }
  if (statistic.probability === undefined) return 1;
  const p = kernelProbability(statistic.probability);
  return p === undefined ? undefined : statistic.negated ? 1 - p : p;
}

function affinitySeconds(rule: Rule): number | undefined {
  const recent = rule.facts.recent;
  return recent?.check && recent.seconds !== undefined && Number.isFinite(recent.seconds) ? recent.seconds : undefined;
}

export function parseEndpointAddress(text: string): { ip: string; port: number | undefined } | undefined {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) return { ip: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text);
  if (v4 && v4[1]!.split('.').every((o) => Number(o) <= 255)) return { ip: v4[1]!, port: v4[2] === undefined ? undefined : Number(v4[2]) };
  if (/^[0-9a-fA-F:]+$/.test(text) && text.includes(':')) return { ip: text, port: undefined };
  return undefined;
}

function add(into: Flow, from: Flow, share: number): void {
  if (share === 0) return;
  for (const [chain, entry] of from.destinations) {
    const existing = into.destinations.get(chain);
    if (existing) existing.share += entry.share * share;
    else into.destinations.set(chain, { destination: entry.destination, share: entry.share * share });
  }
  for (const [kind, value] of from.outcomes) into.outcomes.set(kind, (into.outcomes.get(kind) ?? 0) + value * share);
  for (const branch of from.branches) into.branches.push(branch);
  if (from.affinitySeconds !== undefined) into.affinitySeconds = from.affinitySeconds;
  into.badProbabilities.push(...from.badProbabilities);
}

/**
 * Follows the packets entering chains of the nat table and says where they end: which DNAT
 * destinations with what share, which drops or rejects, and what comes back. Probabilities are
 * the kernel's; a rule whose match cannot be weighed becomes a conditional branch instead.
 * Results are cached per chain (they scale linearly with the share entering).
 */
export class FlowWalker {
  private readonly cache = new Map<ChainNode, Flow>();
  private readonly active = new Set<ChainNode>();

  constructor(private readonly graph: TableGraph) {}

  flowOf(node: ChainNode, depth = 0): Flow {
    const cached = this.cache.get(node);
    if (cached) return cached;
    if (this.active.has(node)) return this.terminal('loop');
    if (depth > MAX_DEPTH) return this.terminal('too-deep');
    this.active.add(node);
    const flow = emptyFlow();
    let remaining = 1;
    // A chain entered by -g returns to the chain that jumped here, not to this one.
    let returnedByGoto = 0;
    // A chain whose one effective rule takes all its traffic (a KUBE-SEP's DNAT) shares that rule's flow.
    let only: Flow | undefined;
    for (const rule of node.chain.rules) {
      if (remaining <= 0) break;
      const target = rule.target;
      if (!target) continue;
      const p = selectionProbability(rule);
      if (p === undefined) {
        flow.badProbabilities.push(rule);
        continue;
      }
      const result = this.targetFlow(rule, depth);
      if (result === 'continue') continue;
      const seconds = affinitySeconds(rule);
      if (seconds !== undefined) {
        // New clients fail the recent check; returning ones keep their endpoint.
        flow.affinitySeconds = seconds;
        flow.branches.push({ condition: `a client seen in the last ${seconds} s (session affinity)`, rule, flow: result });
        continue;
      }
      const condition = ruleCondition(rule);
      if (condition !== undefined) {
        if (result.returned === 1 && result.destinations.size === 0 && result.outcomes.size === 0) continue;
        flow.branches.push({ condition, rule, flow: result });
        continue;
      }
      const share = remaining * p;
      if (share === 1 && !only && target.kind === 'jump' && flow.destinations.size === 0 && flow.outcomes.size === 0) {
        only = result;
        remaining = result.returned;
        continue;
      }
      if (only) {
        add(flow, only, 1);
        only = undefined;
      }
      add(flow, result, share);
      if (target.kind === 'goto') {
        returnedByGoto += share * result.returned;
        remaining -= share;
      } else {
        remaining -= share * (1 - result.returned);
      }
    }
    this.active.delete(node);
    if (only && flow.branches.length === 0 && flow.badProbabilities.length === 0 && flow.affinitySeconds === undefined && remaining === only.returned) {
      this.cache.set(node, only);
      return only;
    }
    if (only) add(flow, only, 1);
    flow.returned = remaining + returnedByGoto;
    this.cache.set(node, flow);
    return flow;
  }

  private readonly terminals = new Map<OutcomeKind, Flow>();

  /** The flow of a verdict: every packet ends with it. Shared, never changed. */
  private terminal(kind: OutcomeKind): Flow {
    let flow = this.terminals.get(kind);
    if (!flow) {
      flow = emptyFlow();
      flow.outcomes.set(kind, 1);
      this.terminals.set(kind, flow);
    }
    return flow;
  }

  private readonly returning: Flow = returningFlow();

  /** What the target of a rule does with the packets it gets; 'continue' for targets that let them go on (MARK, LOG). */
  private targetFlow(rule: Rule, depth: number): Flow | 'continue' {
    const target = rule.target!;
    const terminal = TERMINAL_TARGETS[target.name];
    if (terminal === 'dnat') {
      const text = rule.facts.toDestination;
      const parsed = text === undefined ? undefined : parseEndpointAddress(text);
      if (!parsed) return this.terminal('ACCEPT');
      const chain = this.graph.nodes.get(rule.chainName)!;
      const flow = emptyFlow();
      flow.destinations.set(chain, { destination: { ip: parsed.ip, port: parsed.port, chain, rule }, share: 1 });
      return flow;
    }
    if (terminal === 'other') return this.terminal('ACCEPT');
    if (terminal !== undefined) return this.terminal(terminal);
    if (target.name === 'RETURN') return this.returning;
    if (target.name === MARK_DROP_CHAIN) return this.terminal('DROP');
    const next = this.graph.nodes.get(target.name);
    if (!next) return 'continue';
    const flow = this.flowOf(next, depth + 1);
    if (flow.returned === 1 && flow.destinations.size === 0 && flow.outcomes.size === 0 && flow.branches.length === 0) return 'continue';
    return flow;
  }
}
