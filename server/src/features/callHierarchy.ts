import {
  type CallHierarchyIncomingCall,
  type CallHierarchyItem,
  type CallHierarchyOutgoingCall,
  type Position,
  type Range,
  SymbolKind,
} from 'vscode-languageserver';
import { type Analysis, definitionOf, occurrenceAt, occurrencesOf } from '../core/analysis';
import type { ChainNode, Jump } from '../core/graph';
import { toRange } from './ranges';

/** Identifies a chain across versions of the document: the table's position and the chain's name. */
interface ChainItemData {
  table: number;
  chain: string;
}

function item(analysis: Analysis, uri: string, node: ChainNode): CallHierarchyItem {
  const place = definitionOf(node) ?? occurrencesOf(analysis, node)[0];
  const range = place ? toRange(place.span) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const data: ChainItemData = { table: analysis.ruleset.tables.indexOf(node.table), chain: node.chain.name };
  return { name: node.chain.name, kind: node.chain.builtin ? SymbolKind.Event : SymbolKind.Function, detail: `table ${node.table.name}`, uri, range, selectionRange: range, data };
}

function nodeOf(analysis: Analysis, target: CallHierarchyItem): ChainNode | undefined {
  const data = target.data as Partial<ChainItemData> | undefined;
  if (!data || typeof data.table !== 'number' || typeof data.chain !== 'string') return undefined;
  const table = analysis.ruleset.tables[data.table];
  return table ? analysis.graph.byTable.get(table)?.nodes.get(data.chain) : undefined;
}

function jumpRange(jump: Jump): Range {
  const t = jump.rule.target!;
  return toRange({ line: jump.rule.line, start: t.start, end: t.end });
}

/** Jumps grouped by the chain at their other end, in order of first appearance. */
function groupBy(jumps: Jump[], end: (j: Jump) => ChainNode): Map<ChainNode, Range[]> {
  const groups = new Map<ChainNode, Range[]>();
  for (const jump of jumps) {
    const key = end(jump);
    const ranges = groups.get(key);
    if (ranges) ranges.push(jumpRange(jump));
    else groups.set(key, [jumpRange(jump)]);
  }
  return groups;
}

export function prepareCallHierarchy(analysis: Analysis, uri: string, position: Position): CallHierarchyItem[] | null {
  const occurrence = occurrenceAt(analysis, position.line, position.character);
  return occurrence ? [item(analysis, uri, occurrence.node)] : null;
}

export function incomingCalls(analysis: Analysis, uri: string, target: CallHierarchyItem): CallHierarchyIncomingCall[] | null {
  const node = nodeOf(analysis, target);
  if (!node) return null;
  return [...groupBy(node.incoming, (j) => j.from)].map(([from, fromRanges]) => ({ from: item(analysis, uri, from), fromRanges }));
}

export function outgoingCalls(analysis: Analysis, uri: string, target: CallHierarchyItem): CallHierarchyOutgoingCall[] | null {
  const node = nodeOf(analysis, target);
  if (!node) return null;
  return [...groupBy(node.outgoing, (j) => j.to)].map(([to, fromRanges]) => ({ to: item(analysis, uri, to), fromRanges }));
}
