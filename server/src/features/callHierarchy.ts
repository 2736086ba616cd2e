import {
  type CallHierarchyIncomingCall,
  type CallHierarchyItem,
  type CallHierarchyOutgoingCall,
  type Position,
  type Range,
  SymbolKind,
} from 'vscode-languageserver';
import { type Analysis, occurrenceAt } from '../core/analysis';
import type { ChainNode, Jump } from '../core/graph';
import { chainPlace } from './navigation';
import { lineRange, toRange } from './ranges';

/**
 * Incoming calls list at most this many calling chains: KUBE-MARK-MASQ of a 10,000-service dump
 * is jumped to from 110,000 chains (tens of megabytes of items). The user is told when the list is cut.
 */
export const MAX_CALLERS = 2_000;

/** Identifies a chain across versions of the document: the table's position and the chain's name. */
interface ChainItemData {
  table: number;
  chain: string;
}

function item(analysis: Analysis, uri: string, node: ChainNode): CallHierarchyItem {
  const place = chainPlace(analysis, node);
  const range = place ? toRange(place.span) : lineRange(0, 0, 0);
  const data: ChainItemData = { table: analysis.ruleset.tables.indexOf(node.table), chain: node.chain.name };
  return { name: node.chain.name, kind: node.chain.builtin ? SymbolKind.Event : SymbolKind.Function, detail: `table ${node.table.name}`, uri, range, selectionRange: range, data };
}

function nodeOf(analysis: Analysis, target: CallHierarchyItem): ChainNode | undefined {
  const data = target.data as Partial<ChainItemData> | undefined;
  if (!data || typeof data.table !== 'number' || typeof data.chain !== 'string') return undefined;
  const table = analysis.ruleset.tables[data.table];
  return table ? analysis.graph.byTable.get(table)?.nodes.get(data.chain) : undefined;
}

/** The ranges of some jumps' targets. */
function jumpRanges(jumps: Jump[]): Range[] {
  return jumps.map((jump) => lineRange(jump.rule.line, jump.rule.targetStart, jump.rule.targetEnd));
}

/** Jumps grouped by the chain at their other end, in order of first appearance. */
function groupBy(jumps: Jump[], end: (j: Jump) => ChainNode): Array<[ChainNode, Jump[]]> {
  const groups = new Map<ChainNode, Jump[]>();
  for (const jump of jumps) {
    const key = end(jump);
    const list = groups.get(key);
    if (list) list.push(jump);
    else groups.set(key, [jump]);
  }
  return [...groups];
}

export function prepareCallHierarchy(analysis: Analysis, uri: string, position: Position): CallHierarchyItem[] | null {
  const occurrence = occurrenceAt(analysis, position.line, position.character);
  return occurrence ? [item(analysis, uri, occurrence.node)] : null;
}

/** The chains that jump to the item's chain (the first MAX_CALLERS of them, in order of first jump), and how many there are. */
export function incomingCalls(analysis: Analysis, uri: string, target: CallHierarchyItem, max = MAX_CALLERS): { calls: CallHierarchyIncomingCall[]; total: number; chain: string } | null {
  const node = nodeOf(analysis, target);
  if (!node) return null;
  // Ranges only for the callers listed: KUBE-MARK-MASQ has 100,000 jumps.
  const groups = groupBy(node.incoming, (j) => j.from);
  return { calls: groups.slice(0, max).map(([from, jumps]) => ({ from: item(analysis, uri, from), fromRanges: jumpRanges(jumps) })), total: groups.length, chain: node.chain.name };
}

/** What the user is told when incoming calls list only some of the calling chains. */
export function callersCutMessage(answer: { calls: unknown[]; total: number; chain: string }): string | undefined {
  if (answer.total <= answer.calls.length) return undefined;
  return `${answer.total.toLocaleString('en-US')} chains jump to ${answer.chain}; the call hierarchy lists the first ${answer.calls.length.toLocaleString('en-US')}. Find All References lists the jumps near the cursor.`;
}

export function outgoingCalls(analysis: Analysis, uri: string, target: CallHierarchyItem): CallHierarchyOutgoingCall[] | null {
  const node = nodeOf(analysis, target);
  if (!node) return null;
  return groupBy(node.outgoing, (j) => j.to).map(([to, jumps]) => ({ to: item(analysis, uri, to), fromRanges: jumpRanges(jumps) }));
}
