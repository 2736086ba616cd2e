import {
  type Chain,
  type Diagnostic,
  type JumpKind,
  type Rule,
  type Ruleset,
  type Table,
  isBuiltinTarget,
} from './ruleset';

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
  incoming: Jump[];
  outgoing: Jump[];
  /** Reached from a built-in chain by following jumps. */
  reachable: boolean;
  /** Part of a jump loop. */
  inCycle: boolean;
}

export interface TableGraph {
  table: Table;
  nodes: Map<string, ChainNode>;
  /** The same nodes by id. */
  list: ChainNode[];
  /** Loops of chains, each as a path that returns to its first chain. */
  cycles: string[][];
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
  const diagnostics: Diagnostic[] = [];
  const tables: TableGraph[] = [];
  const byTable = new Map<Table, TableGraph>();
  const full = ruleset.form === 'save';
  /** Tables other than this one that have a chain of that name, for the hint on an undeclared jump. */
  const otherTablesWith = (name: string, table: Table) => ruleset.tables.filter((t) => t !== table && t.chains.has(name)).map((t) => t.name);

  for (const table of ruleset.tables) {
    const nodes = new Map<string, ChainNode>();
    const list: ChainNode[] = [];
    const addNode = (chain: Chain, declared: boolean): ChainNode => {
      const node: ChainNode = { id: list.length, table, chain, declared, incoming: [], outgoing: [], reachable: false, inCycle: false };
      nodes.set(chain.name, node);
      list.push(node);
      return node;
    };
    for (const chain of table.chains.values()) addNode(chain, chain.builtin || chain.declaration !== undefined);
    for (const rule of table.rules) {
      const from = nodes.get(rule.chainName)!;
      const target = rule.target;
      if (!target || target.name === '') continue;
      let to = nodes.get(target.name);
      if (!to) {
        if (target.kind === 'jump' && isBuiltinTarget(target.name)) continue;
        to = addNode({ name: target.name, builtin: false, rules: [] }, false);
      }
      const jump: Jump = { from, to, rule, kind: target.kind };
      from.outgoing.push(jump);
      to.incoming.push(jump);
    }

    for (const node of nodes.values()) {
      const { chain } = node;
      if (!node.declared) {
        const elsewhere = otherTablesWith(chain.name, table);
        const hint = elsewhere.length > 0 ? ` A chain of that name exists in table '${elsewhere[0]}', but jumps stay inside one table.` : '';
        for (const jump of node.incoming) {
          const t = jump.rule.target!;
          diagnostics.push(
            full
              ? {
                  span: { line: jump.rule.line, start: t.start, end: t.end },
                  severity: 'error',
                  code: 'undeclared-target',
                  message: `Jump to '${chain.name}', which table '${table.name}' does not declare: iptables-restore fails on this rule. Declare it with ':${chain.name} - [0:0]' or correct the name.${hint}`,
                }
              : {
                  span: { line: jump.rule.line, start: t.start, end: t.end },
                  severity: 'information',
                  code: 'undeclared-target',
                  message: `'${chain.name}' is not declared in this file. In a kube-proxy partial restore that is expected: an earlier sync created it.${hint}`,
                },
          );
        }
        for (const rule of chain.rules) {
          diagnostics.push({
            span: rule.chainSpan,
            severity: full ? 'error' : 'warning',
            code: 'undeclared-chain',
            message: `Rule for chain '${chain.name}', which table '${table.name}' does not declare: add ':${chain.name} - [0:0]' among the declarations at the top of the table.`,
          });
        }
      } else if (full && !chain.builtin && node.incoming.length === 0 && !isMarkerChain(chain.name) && chain.declaration) {
        diagnostics.push({
          span: chain.declaration,
          severity: 'hint',
          code: 'unused-chain',
          unnecessary: true,
          message: `Nothing jumps to chain '${chain.name}'${chain.rules.length > 0 ? `, so ${chain.rules.length === 1 ? 'its rule never sees' : `its ${chain.rules.length} rules never see`} a packet` : ''}.`,
        });
      }
    }

    markReachable(list);
    const cycles = findCycles(list);
    for (const cycle of cycles) {
      const members = new Set(cycle);
      const shown = cycle.length > CYCLE_NAMES_SHOWN + 1 ? [...cycle.slice(0, CYCLE_NAMES_SHOWN), '…', cycle[cycle.length - 1]!] : cycle;
      const message = `Jump loop: ${shown.join(' -> ')}. The kernel rejects a ruleset with a loop (iptables-restore: 'Too many levels of symbolic links'); break the loop by removing one of these jumps.`;
      for (const name of members) {
        for (const jump of nodes.get(name)!.outgoing) {
          if (!members.has(jump.to.chain.name)) continue;
          const t = jump.rule.target!;
          diagnostics.push({ span: { line: jump.rule.line, start: t.start, end: t.end }, severity: 'error', code: 'jump-cycle', message });
        }
      }
    }
    const graph: TableGraph = { table, nodes, list, cycles };
    tables.push(graph);
    byTable.set(table, graph);
  }
  return { tables, byTable, diagnostics };
}

function markReachable(list: ChainNode[]): void {
  const stack: ChainNode[] = [];
  for (const node of list) {
    if (node.chain.builtin) {
      node.reachable = true;
      stack.push(node);
    }
  }
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const jump of node.outgoing) {
      if (!jump.to.reachable) {
        jump.to.reachable = true;
        stack.push(jump.to);
      }
    }
  }
}

/** Tarjan's strongly connected components, iterative so a chain 100,000 jumps deep cannot overflow the stack. */
function findCycles(list: ChainNode[]): string[][] {
  const n = list.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const edge = new Int32Array(n);
  const stack: ChainNode[] = [];
  const work: ChainNode[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  for (const root of list) {
    if (index[root.id] !== -1 || root.outgoing.length === 0) continue;
    index[root.id] = low[root.id] = counter++;
    stack.push(root);
    onStack[root.id] = 1;
    work.push(root);
    while (work.length > 0) {
      const node = work[work.length - 1]!;
      const id = node.id;
      if (edge[id]! < node.outgoing.length) {
        const next = node.outgoing[edge[id]!++]!.to;
        if (index[next.id] === -1) {
          index[next.id] = low[next.id] = counter++;
          stack.push(next);
          onStack[next.id] = 1;
          work.push(next);
        } else if (onStack[next.id]) {
          low[id] = Math.min(low[id]!, index[next.id]!);
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent.id] = Math.min(low[parent.id]!, low[id]!);
      if (low[id] !== index[id]) continue;
      const component: ChainNode[] = [];
      let member: ChainNode;
      do {
        member = stack.pop()!;
        onStack[member.id] = 0;
        component.push(member);
      } while (member !== node);
      const selfLoop = component.length === 1 && node.outgoing.some((j) => j.to === node);
      if (component.length > 1 || selfLoop) {
        for (const m of component) m.inCycle = true;
        cycles.push(cyclePath(node, new Set(component)));
      }
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
