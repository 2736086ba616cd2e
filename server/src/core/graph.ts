import {
  type Chain,
  type Diagnostic,
  type JumpKind,
  type Rule,
  type Ruleset,
  type Table,
  chainSpanOf,
  isBuiltinTarget,
  newChain,
} from './ruleset';
import { takeJumpsRead } from './jumpsRead';
import { itself, lowerBound } from './sorted';

/** One `-j CHAIN` or `-g CHAIN` from a rule to a chain of the same table. */
export interface Jump {
  from: ChainNode;
  to: ChainNode;
  rule: Rule;
  kind: JumpKind;
}

export interface ChainNode {
  /** Position in its table graph's `list`: a key for per-chain arrays. */
  id: number;
  table: Table;
  chain: Chain;
  /** False for a name that rules jump to but no line declares. */
  declared: boolean;
  /** The jumps to this chain, in line order; listed for the whole table when first asked for. */
  readonly incoming: Jump[];
  /** The jumps of this chain's rules, in line order; made from the graph's flat arrays when first asked for. An edit changes this list, and refreshTableGraph reads it again. */
  readonly outgoing: Jump[];
  /** Reached from a built-in chain by following jumps. */
  reachable: boolean;
  /** Part of a jump loop. */
  inCycle: boolean;
}

/**
 * A node as made: its jumps are kept by the graph in flat arrays (jumpOffsets, jumpTargets,
 * jumpRules), and made into Jump objects only for the nodes asked for. A dump of a large
 * cluster has 220,000 jumps; making an object for each as the graph is built took longer
 * than all the rest of the build, and most uses never look at them.
 */
interface NodeData extends Omit<ChainNode, 'incoming' | 'outgoing'> {
  outgoingJumps: Jump[] | undefined;
  incomingJumps: Jump[] | undefined;
  graph: TableGraph;
}

/** The node's jumps as objects, made from the graph's flat arrays when first asked for. */
function outgoingOf(node: NodeData): Jump[] {
  let jumps = node.outgoingJumps;
  if (jumps === undefined) {
    const { list, jumpOffsets, jumpTargets, jumpRules } = node.graph;
    jumps = [];
    const self = node as unknown as ChainNode;
    if (node.id + 1 < jumpOffsets.length) {
      for (let k = jumpOffsets[node.id]!; k < jumpOffsets[node.id + 1]!; k++) {
        const rule = jumpRules[k]!;
        jumps.push({ from: self, to: list[jumpTargets[k]!]!, rule, kind: rule.targetKind });
      }
    }
    node.outgoingJumps = jumps;
  }
  return jumps;
}

/**
 * The node's incoming jumps, the same Jump objects as its callers' outgoing ones (an edit takes
 * a jump out of both lists), found in the graph's flat arrays when first asked for: only the
 * chains that jump here make their Jump objects.
 */
function incomingOf(node: NodeData): Jump[] {
  let jumps = node.incomingJumps;
  if (jumps === undefined) {
    const { list, jumpOffsets, jumpTargets, incomingCounts } = node.graph;
    jumps = [];
    // The counts come from the same arrays: the scan stops at the last jump here.
    const count = incomingCounts[node.id] ?? 0;
    for (let k = 0; k < jumpTargets.length && jumps.length < count; k++) {
      if (jumpTargets[k] !== node.id) continue;
      const from = jumpSource(jumpOffsets, k);
      // The arrays are made again from the outgoing lists after every edit (refreshTableGraph), so the two agree.
      jumps.push(outgoingOf(list[from] as unknown as NodeData)[k - jumpOffsets[from]!]!);
    }
    // Chains are listed in order of declaration, which is not always the order of their rules.
    for (let i = 1; i < jumps.length; i++) {
      if (jumps[i - 1]!.rule.line > jumps[i]!.rule.line) {
        jumps.sort((x, y) => x.rule.line - y.rule.line);
        break;
      }
    }
    node.incomingJumps = jumps;
  }
  return jumps;
}

/** The node id of the chain whose range of jumps holds jump k: the last one starting at or before it. */
function jumpSource(jumpOffsets: Int32Array, k: number): number {
  return lowerBound(jumpOffsets, k + 1, itself) - 1;
}

/**
 * The chains from which jumps lead to one of `ids`, themselves included (not 0 at their id),
 * found backwards in the graph's flat arrays a level at a time; undefined past `limit` chains.
 */
export function chainsLeadingTo(graph: TableGraph, ids: Iterable<number>, limit: number): Int32Array | undefined {
  const { jumpOffsets, jumpTargets } = graph;
  // The level each chain was found at, from 1: a pass over the jumps finds the callers of the level before.
  const level = new Int32Array(graph.list.length);
  let found = 0;
  for (const id of ids) {
    level[id] = 1;
    found++;
  }
  for (let depth = 1, added = found; added > 0; depth++) {
    added = 0;
    for (let k = 0; k < jumpTargets.length; k++) {
      if (level[jumpTargets[k]!] !== depth) continue;
      const from = jumpSource(jumpOffsets, k);
      if (level[from] !== 0) continue;
      level[from] = depth + 1;
      added++;
    }
    found += added;
    if (found > limit) return undefined;
  }
  return level;
}

/** A node's incoming jumps when they have been listed already; undefined means they will be listed from the graph's flat arrays. */
export function listedIncoming(node: ChainNode): Jump[] | undefined {
  return (node as unknown as NodeData).incomingJumps;
}

const NODE_PROTOTYPE = {
  get incoming(): Jump[] {
    return incomingOf(this as unknown as NodeData);
  },
  get outgoing(): Jump[] {
    return outgoingOf(this as unknown as NodeData);
  },
};

/** The nodes of a table by name: its chains by their ids, and names only jumped to. */
export class NodeMap {
  /** Names no line declares or uses as a rule's chain, only as a jump target. */
  private readonly extra = new Map<string, ChainNode>();

  constructor(
    private readonly table: Table,
    private readonly list: ChainNode[],
  ) {}

  get(name: string): ChainNode | undefined {
    const chain = this.table.chains.get(name);
    return chain ? this.list[chain.id] : this.extra.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  values(): IterableIterator<ChainNode> {
    return this.list.values();
  }

  /** Adds a node for a name the table's chains do not have. */
  addExtra(node: ChainNode): void {
    this.extra.set(node.chain.name, node);
  }
}

export interface TableGraph {
  table: Table;
  nodes: NodeMap;
  /** The same nodes by id. */
  list: ChainNode[];
  /** Loops of chains, each as a path that returns to its first chain. */
  cycles: string[][];
  /** The jumps as flat arrays: node id i jumps to jumpTargets[jumpOffsets[i] .. jumpOffsets[i + 1]), as in its `outgoing`, by the rules jumpRules[...] of the same range. */
  jumpOffsets: Int32Array;
  jumpTargets: Int32Array;
  jumpRules: Rule[];
  /** How many jumps go to each node id (its `incoming.length`, without listing them). */
  incomingCounts: Int32Array;
  /** Undeclared and unused chains and jump loops of this table. */
  diagnostics: Diagnostic[];
}

export interface ChainGraph {
  tables: TableGraph[];
  byTable: Map<Table, TableGraph>;
  diagnostics: Diagnostic[];
}

/** Chains kube-proxy and kubelet create empty on purpose, to detect that the table was flushed. */
function isMarkerChain(name: string): boolean {
  return name.endsWith('-CANARY') || name === 'KUBE-IPTABLES-HINT';
}

const CYCLE_NAMES_SHOWN = 8;

export function buildChainGraph(ruleset: Ruleset): ChainGraph {
  const tables: TableGraph[] = [];
  const byTable = new Map<Table, TableGraph>();
  for (const table of ruleset.tables) {
    const list: ChainNode[] = [];
    const graph: TableGraph = {
      table, nodes: new NodeMap(table, list), list, cycles: [], jumpOffsets: EMPTY, jumpTargets: EMPTY, jumpRules: [], incomingCounts: EMPTY, diagnostics: [],
    };
    const { nodes } = graph;
    const addNode = (chain: Chain, declared: boolean): ChainNode => {
      const node = {
        __proto__: NODE_PROTOTYPE, id: list.length, table, chain, declared, reachable: false, inCycle: false, outgoingJumps: undefined, incomingJumps: undefined, graph,
      };
      list.push(node as unknown as ChainNode);
      return node as unknown as ChainNode;
    };
    // Node ids are the chains' ids; names only jumped to get the ids after them.
    // forEach rather than for...of: no iterator result made for each of 100,000 chains.
    table.chains.forEach((chain) => addNode(chain, chain.builtin || chain.declaration !== undefined));
    // The jumps the parser noted as it read the rules, or (when it could not stand for them) the rules read again.
    const read = takeJumpsRead(table);
    const jumps = read && allBuiltin(read.builtinNames, nodes) ? read : jumpsOfRules(table.rules, list, nodes, addNode);
    const { offsets, targets, rules: jumpRules } = layOutJumps(jumps, table.rules, list.length);
    graph.jumpOffsets = offsets;
    graph.jumpTargets = targets;
    graph.jumpRules = jumpRules;
    analyseTableGraph(graph, ruleset);
    tables.push(graph);
    byTable.set(table, graph);
  }
  return { tables, byTable, diagnostics: tables.flatMap((t) => t.diagnostics) };
}

const EMPTY = new Int32Array(0);

/** No chain of the table is named after one of these built-in targets (which a rule then would jump to, though read as a target). */
function allBuiltin(names: ReadonlySet<string>, nodes: NodeMap): boolean {
  for (const name of names) if (nodes.has(name)) return false;
  return true;
}

/** Jumps as three numbers each, in the table's order: the node they leave, the node they go to, the index of their rule in table.rules. */
interface JumpList {
  from: Int32Array;
  to: Int32Array;
  rule: Int32Array;
  count: number;
}

/** The jump arrays: the jumps counted by the node they leave, then laid out node by node, in the table's order within each. */
function layOutJumps({ from, to, rule, count }: JumpList, rules: readonly Rule[], nodeCount: number): JumpArrays {
  const offsets = new Int32Array(nodeCount + 1);
  for (let k = 0; k < count; k++) offsets[from[k]! + 1]++;
  for (let id = 0; id < nodeCount; id++) offsets[id + 1] += offsets[id]!;
  const targets = new Int32Array(count);
  const jumpRules = new Array<Rule>(count);
  const next = offsets.slice(0, nodeCount);
  for (let k = 0; k < count; k++) {
    const at = next[from[k]!]!++;
    targets[at] = to[k]!;
    jumpRules[at] = rules[rule[k]!]!;
  }
  return { offsets, targets, rules: jumpRules };
}

/**
 * The jumps of the table's rules, found by reading each rule (a name only jumped to has no
 * rules, so no jumps). A name the parser did not link to a chain is looked up here, or gets a
 * node of its own.
 */
function jumpsOfRules(rules: readonly Rule[], list: ChainNode[], nodes: NodeMap, addNode: (chain: Chain, declared: boolean) => ChainNode): JumpList {
  const jumps: JumpList = { from: new Int32Array(rules.length), to: new Int32Array(rules.length), rule: new Int32Array(rules.length), count: 0 };
  // What -j NAME leads to, for names the parser did not link to a chain (DNAT on every endpoint's rule): a node's id, or -1 for a target extension.
  const unlinked = new Map<string, number>();
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r]!;
    const name = rule.targetName;
    if (name === undefined || name === '') continue;
    let to = rule.targetChain?.id;
    if (to === undefined) {
      const jump = rule.targetKind === 'jump';
      to = jump ? unlinked.get(name) : undefined;
      if (to === undefined) {
        to = nodes.get(name)?.id;
        if (to === undefined && !(jump && isBuiltinTarget(name))) {
          to = addNode(newChain(list.length, name, false), false).id;
          nodes.addExtra(list[to]!);
        }
        to ??= -1;
        if (jump) unlinked.set(name, to);
      }
      if (to === -1) continue;
    }
    jumps.from[jumps.count] = rule.chain!.id;
    jumps.to[jumps.count] = to;
    jumps.rule[jumps.count++] = r;
  }
  return jumps;
}

/** One jump an edit took out of a table's graph or put in: the ids of its ends and its rule. */
export interface JumpEdit {
  from: number;
  to: number;
  rule: Rule;
}

/** What an edit did to a table's graph: jumps taken out and put in, and the chains that lost or gained a rule. */
export interface GraphEdit {
  removed: JumpEdit[];
  added: JumpEdit[];
  /** Node ids of chains whose count of rules changed. */
  resized: number[];
}

/**
 * After edits to nodes' `outgoing` lists: the flat jump arrays again, and what follows from
 * them. With `edit`, what follows is revised around the jumps it names when that is sure to
 * give what a full analysis gives (revisedTableGraph), which on a large dump is a few
 * milliseconds instead of thirty.
 */
export function refreshTableGraph(graph: TableGraph, ruleset: Ruleset, edit?: GraphEdit): void {
  const small = edit !== undefined && edit.removed.length + edit.added.length <= REVISED_JUMPS;
  if (!small || !patchedJumpArrays(graph, edit)) remakeJumpArrays(graph);
  if (!small || !revisedTableGraph(graph, ruleset, edit)) analyseTableGraph(graph, ruleset);
}

/** At most this many jumps changed, the arrays are patched and the table revised around them. */
const REVISED_JUMPS = 2;

/** The flat jump arrays made again from the nodes' outgoing lists (those made) and the arrays before. */
function remakeJumpArrays(graph: TableGraph): void {
  const { list, jumpOffsets, jumpTargets, jumpRules } = graph;
  const n = list.length;
  // A node whose jumps were never made into objects has the jumps it had.
  const made = (id: number): Jump[] | undefined => (list[id] as unknown as NodeData).outgoingJumps;
  const before = (id: number): number => (id + 1 < jumpOffsets.length ? jumpOffsets[id + 1]! - jumpOffsets[id]! : 0);
  const offsets = new Int32Array(n + 1);
  for (let id = 0; id < n; id++) offsets[id + 1] = offsets[id]! + (made(id)?.length ?? before(id));
  const targets = new Int32Array(offsets[n]!);
  const rules = new Array<Rule>(offsets[n]!);
  for (let id = 0, k = 0; id < n; id++) {
    const jumps = made(id);
    if (jumps) {
      for (const jump of jumps) {
        targets[k] = jump.to.id;
        rules[k++] = jump.rule;
      }
    } else {
      for (let j = jumpOffsets[id]!; j < jumpOffsets[id]! + before(id); j++) {
        targets[k] = jumpTargets[j]!;
        rules[k++] = jumpRules[j]!;
      }
    }
  }
  graph.jumpOffsets = offsets;
  graph.jumpTargets = targets;
  graph.jumpRules = rules;
}

/**
 * The flat jump arrays after a few jumps taken out and put in, each at its place in its
 * chain's range (in line order, as the outgoing lists have it), instead of made again from
 * every node's list; false, having changed nothing, when a jump taken out is not where the
 * arrays say.
 */
function patchedJumpArrays(graph: TableGraph, edit: GraphEdit): boolean {
  let arrays: JumpArrays = { offsets: graph.jumpOffsets, targets: graph.jumpTargets, rules: graph.jumpRules };
  const n = arrays.offsets.length - 1;
  for (const { from, rule } of edit.removed) {
    if (from >= n) return false;
    const { offsets, rules } = arrays;
    let k = offsets[from]!;
    while (k < offsets[from + 1]! && rules[k] !== rule) k++;
    if (k === offsets[from + 1]) return false;
    arrays = withJumpAt(arrays, from, k);
  }
  for (const added of edit.added) {
    if (added.from >= n) return false;
    const { offsets, rules } = arrays;
    let k = offsets[added.from]!;
    while (k < offsets[added.from + 1]! && rules[k]!.line < added.rule.line) k++;
    arrays = withJumpAt(arrays, added.from, k, added);
  }
  graph.jumpOffsets = arrays.offsets;
  graph.jumpTargets = arrays.targets;
  graph.jumpRules = arrays.rules;
  return true;
}

interface JumpArrays {
  offsets: Int32Array;
  targets: Int32Array;
  rules: Rule[];
}

/**
 * New arrays with the jump at index k (in node `from`'s range) taken out, or with `added` put
 * in there: each step makes new arrays, as a model being rebuilt still reads the ones before.
 */
function withJumpAt({ offsets, targets, rules }: JumpArrays, from: number, k: number, added?: JumpEdit): JumpArrays {
  const step = added ? 1 : -1;
  const newTargets = new Int32Array(targets.length + step);
  newTargets.set(targets.subarray(0, k));
  if (added) newTargets[k] = added.to;
  newTargets.set(targets.subarray(added ? k : k + 1), added ? k + 1 : k);
  const newRules = rules.slice();
  if (added) newRules.splice(k, 0, added.rule);
  else newRules.splice(k, 1);
  const newOffsets = offsets.slice();
  for (let id = from + 1; id < newOffsets.length; id++) newOffsets[id] += step;
  return { offsets: newOffsets, targets: newTargets, rules: newRules };
}

/** Past this many chains, a search for a loop that a new jump would close gives up (and the table is analysed in full). */
const LOOP_SEARCH_LIMIT = 4096;

/**
 * Revises the incoming counts, reachability and unused-chain diagnostics of a table after a
 * small edit (at most REVISED_JUMPS jumps changed, between declared chains), from the arrays already
 * made again; false, having changed nothing, when it cannot be sure of the result:
 *   - a jump taken out between two chains of one loop may break the loop;
 *   - a jump put in may close a loop (its target leads back to its source);
 *   - a reachable chain that loses a jump is reachable still only if another reachable chain
 *     jumps to it (and it is in no loop, so that chain's path does not pass through it).
 * Loops, and the diagnostics of undeclared chains, are as they were in every other case.
 */
function revisedTableGraph(graph: TableGraph, ruleset: Ruleset, edit: GraphEdit): boolean {
  const { list, jumpOffsets: offsets, jumpTargets: targets } = graph;
  if (graph.incomingCounts.length !== list.length) return false;
  const declared = (id: number) => list[id]?.declared === true;
  for (const { from, to } of [...edit.removed, ...edit.added]) if (!declared(from) || !declared(to)) return false;
  if (!edit.resized.every(declared)) return false;
  for (const { from, to } of edit.removed) {
    const target = list[to]!;
    if (list[from]!.inCycle && target.inCycle) return false;
    if (list[from]!.reachable && target.reachable && !target.chain.builtin && (target.inCycle || !hasReachableCaller(graph, to))) return false;
  }
  for (const { from, to } of edit.added) if (leadsTo(to, from, offsets, targets) !== false) return false;

  const incomingCounts = graph.incomingCounts.slice();
  for (const { to } of edit.removed) incomingCounts[to]--;
  for (const { to } of edit.added) incomingCounts[to]++;
  // A jump put in from a reachable chain makes what it leads to reachable.
  markReachable(list, { offsets, targets }, edit.added.filter(({ from }) => list[from]!.reachable).map(({ to }) => to));
  graph.incomingCounts = incomingCounts;
  // The unused-chain diagnostics of the chains whose callers or rules changed.
  const ids = new Set([...edit.removed.map((jump) => jump.to), ...edit.added.map((jump) => jump.to), ...edit.resized]);
  const spans = new Set([...ids].map((id) => list[id]!.chain.declaration));
  const diagnostics = graph.diagnostics.filter((d) => d.code !== 'unused-chain' || !spans.has(d.span));
  for (const id of ids) {
    const unused = unusedChainDiagnostic(list[id]!, incomingCounts[id]!, ruleset.form === 'save');
    if (unused) diagnostics.push(unused);
  }
  graph.diagnostics = diagnostics;
  return true;
}

/** Whether a reachable chain jumps to node `id`. */
function hasReachableCaller(graph: TableGraph, id: number): boolean {
  const { list, jumpOffsets, jumpTargets } = graph;
  for (let k = 0; k < jumpTargets.length; k++) {
    if (jumpTargets[k] === id && list[jumpSource(jumpOffsets, k)]!.reachable) return true;
  }
  return false;
}

/** Whether jumps lead from node `from` to node `to`; undefined when the search gave up (LOOP_SEARCH_LIMIT). */
function leadsTo(from: number, to: number, offsets: Int32Array, targets: Int32Array): boolean | undefined {
  if (from === to) return true;
  const seen = new Set([from]);
  const stack = [from];
  while (stack.length > 0) {
    const id = stack.pop()!;
    for (let k = offsets[id]!; k < offsets[id + 1]!; k++) {
      const next = targets[k]!;
      if (next === to) return true;
      if (seen.has(next)) continue;
      if (seen.size >= LOOP_SEARCH_LIMIT) return undefined;
      seen.add(next);
      stack.push(next);
    }
  }
  return false;
}

/** The hint that nothing jumps to a declared user chain (a full dump only; marker chains are empty on purpose). */
function unusedChainDiagnostic(node: ChainNode, incoming: number, full: boolean): Diagnostic | undefined {
  const { chain } = node;
  if (!full || !node.declared || chain.builtin || incoming !== 0 || isMarkerChain(chain.name) || !chain.declaration) return undefined;
  return {
    span: chain.declaration,
    severity: 'hint',
    code: 'unused-chain',
    unnecessary: true,
    message: `Nothing jumps to chain '${chain.name}'${chain.rules.length > 0 ? `, so ${chain.rules.length === 1 ? 'its rule never sees' : `its ${chain.rules.length} rules never see`} a packet` : ''}.`,
  };
}

/** What follows from a table's jumps: the incoming counts, reachability, loops and the diagnostics. */
function analyseTableGraph(graph: TableGraph, ruleset: Ruleset): void {
  const { table, list, nodes } = graph;
  const diagnostics: Diagnostic[] = [];
  const full = ruleset.form === 'save';
  const adjacency: Adjacency = { offsets: graph.jumpOffsets, targets: graph.jumpTargets };
  const incomingCounts = new Int32Array(list.length);
  for (const to of adjacency.targets) incomingCounts[to]++;
  const undeclaredJumps = jumpsToUndeclared(graph);
  for (const node of list) {
    const { chain } = node;
    node.reachable = false;
    node.inCycle = false;
    if (!node.declared) {
      const elsewhere = ruleset.tables.filter((t) => t !== table && t.chains.has(chain.name)).map((t) => t.name);
      const hint = elsewhere.length > 0 ? ` A chain of that name exists in table '${elsewhere[0]}', but jumps stay inside one table.` : '';
      for (const t of undeclaredJumps.get(node.id) ?? []) {
        diagnostics.push(
          full
            ? {
                span: { line: t.line, start: t.targetStart, end: t.targetEnd },
                severity: 'error',
                code: 'undeclared-target',
                message: `Jump to '${chain.name}', which table '${table.name}' does not declare: iptables-restore fails on this rule. Declare it with ':${chain.name} - [0:0]' or correct the name.${hint}`,
              }
            : {
                span: { line: t.line, start: t.targetStart, end: t.targetEnd },
                severity: 'information',
                code: 'undeclared-target',
                message: `'${chain.name}' is not declared in this file. In a kube-proxy partial restore that is expected: an earlier sync created it.${hint}`,
              },
        );
      }
      for (const rule of chain.rules) {
        diagnostics.push({
          span: chainSpanOf(rule),
          severity: full ? 'error' : 'warning',
          code: 'undeclared-chain',
          message: `Rule for chain '${chain.name}', which table '${table.name}' does not declare: add ':${chain.name} - [0:0]' among the declarations at the top of the table.`,
        });
      }
    } else {
      const unused = unusedChainDiagnostic(node, incomingCounts[node.id]!, full);
      if (unused) diagnostics.push(unused);
    }
  }

  markReachable(list, adjacency, list.filter((node) => node.chain.builtin).map((node) => node.id));
  const cycles = findCycles(list, adjacency);
  for (const cycle of cycles) {
    const members = new Set(cycle);
    const shown = cycle.length > CYCLE_NAMES_SHOWN + 1 ? [...cycle.slice(0, CYCLE_NAMES_SHOWN), '…', cycle[cycle.length - 1]!] : cycle;
    const message = `Jump loop: ${shown.join(' -> ')}. The kernel rejects a ruleset with a loop (iptables-restore: 'Too many levels of symbolic links'); break the loop by removing one of these jumps.`;
    for (const name of members) {
      for (const jump of nodes.get(name)!.outgoing) {
        if (!members.has(jump.to.chain.name)) continue;
        const t = jump.rule;
        diagnostics.push({ span: { line: jump.rule.line, start: t.targetStart, end: t.targetEnd }, severity: 'error', code: 'jump-cycle', message });
      }
    }
  }
  graph.cycles = cycles;
  graph.incomingCounts = incomingCounts;
  graph.diagnostics = diagnostics;
}

/** The rules that jump to each name no line declares, by node id, in line order. */
function jumpsToUndeclared(graph: TableGraph): Map<number, Rule[]> {
  const { list, jumpTargets, jumpRules } = graph;
  const found = new Map<number, Rule[]>();
  if (list.every((node) => node.declared)) return found;
  for (let k = 0; k < jumpTargets.length; k++) {
    const to = jumpTargets[k]!;
    if (list[to]!.declared) continue;
    let rules = found.get(to);
    if (!rules) found.set(to, (rules = []));
    rules.push(jumpRules[k]!);
  }
  for (const rules of found.values()) rules.sort((a, b) => a.line - b.line);
  return found;
}

/** The jumps of a table as flat arrays: the targets of node i are targets[offsets[i] .. offsets[i + 1]). */
interface Adjacency {
  offsets: Int32Array;
  targets: Int32Array;
}

/** Marks reachable the chains `starts` and those jumps lead to from them, past the chains reachable already. */
function markReachable(list: ChainNode[], { offsets, targets }: Adjacency, starts: number[]): void {
  const reached = new Uint8Array(list.length);
  for (let id = 0; id < list.length; id++) if (list[id]!.reachable) reached[id] = 1;
  const stack: number[] = [];
  for (const id of starts) {
    if (reached[id]) continue;
    reached[id] = 1;
    stack.push(id);
  }
  while (stack.length > 0) {
    const id = stack.pop()!;
    for (let k = offsets[id]!; k < offsets[id + 1]!; k++) {
      const next = targets[k]!;
      if (!reached[next]) {
        reached[next] = 1;
        stack.push(next);
      }
    }
  }
  for (let id = 0; id < list.length; id++) if (reached[id]) list[id]!.reachable = true;
}

/** Tarjan's strongly connected components over node ids, iterative so a chain 100,000 jumps deep cannot overflow the stack. */
function findCycles(list: ChainNode[], { offsets, targets }: Adjacency): string[][] {
  const n = list.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const edge = new Int32Array(n);
  const stack = new Int32Array(n);
  const work = new Int32Array(n);
  let stackTop = 0;
  let workTop = 0;
  const cycles: string[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1 || offsets[root] === offsets[root + 1]) continue;
    index[root] = low[root] = counter++;
    edge[root] = offsets[root]!;
    stack[stackTop++] = root;
    onStack[root] = 1;
    work[workTop++] = root;
    while (workTop > 0) {
      const id = work[workTop - 1]!;
      if (edge[id]! < offsets[id + 1]!) {
        const next = targets[edge[id]!++]!;
        if (index[next] === -1) {
          index[next] = low[next] = counter++;
          edge[next] = offsets[next]!;
          stack[stackTop++] = next;
          onStack[next] = 1;
          work[workTop++] = next;
        } else if (onStack[next] && index[next]! < low[id]!) {
          low[id] = index[next]!;
        }
        continue;
      }
      workTop--;
      if (workTop > 0) {
        const parent = work[workTop - 1]!;
        if (low[id]! < low[parent]!) low[parent] = low[id]!;
      }
      if (low[id] !== index[id]) continue;
      if (stack[stackTop - 1] === id) {
        // A component of one chain, as nearly every chain is: a loop only if it jumps to itself. No list made for it.
        stackTop--;
        onStack[id] = 0;
        for (let k = offsets[id]!; k < offsets[id + 1]!; k++) {
          if (targets[k] !== id) continue;
          const node = list[id]!;
          node.inCycle = true;
          cycles.push(cyclePath(node, new Set([node])));
          break;
        }
        continue;
      }
      const component: ChainNode[] = [];
      let member: number;
      do {
        member = stack[--stackTop]!;
        onStack[member] = 0;
        component.push(list[member]!);
      } while (member !== id);
      for (const m of component) m.inCycle = true;
      cycles.push(cyclePath(list[id]!, new Set(component)));
    }
  }
  return cycles;
}

/** A loop through `start` inside its component, found breadth-first: start -> ... -> start. */
function cyclePath(start: ChainNode, component: Set<ChainNode>): string[] {
  const previous = new Map<ChainNode, ChainNode>();
  const queue: ChainNode[] = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const jump of node.outgoing) {
      const next = jump.to;
      if (!component.has(next)) continue;
      if (next === start) {
        const back = [start.chain.name];
        for (let n: ChainNode | undefined = node; n && n !== start; n = previous.get(n)) back.push(n.chain.name);
        back.push(start.chain.name);
        return back.reverse();
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start.chain.name, start.chain.name];
}
