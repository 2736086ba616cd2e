import { type DocumentHighlight, DocumentHighlightKind, type Location, type Position } from 'vscode-languageserver';
import { type Analysis, type ChainOccurrence, definitionOf, occurrenceAt, occurrencesOf } from '../core/analysis';
import type { ChainNode } from '../core/graph';
import { lowerBound } from '../core/sorted';
import { memoFor } from './memo';
import { toRange } from './ranges';

/**
 * Find All References lists at most this many places. KUBE-MARK-MASQ of a 10,000-service dump is
 * named in 100,000 places: 16 MB of locations that take VS Code seconds to show and nobody
 * reads. Above it, the places nearest the cursor are listed and the user is told how many there are.
 */
export const MAX_REFERENCES = 2_000;
/** Highlights of the name under the cursor: at most this many, nearest the cursor (VS Code asks on every cursor move). */
export const MAX_HIGHLIGHTS = 1_000;

/** From any place a chain is named to the line that declares it. */
export function definition(analysis: Analysis, uri: string, position: Position): Location | null {
  const occurrence = occurrenceAt(analysis, position.line, position.character);
  if (!occurrence) return null;
  const target = definitionOf(occurrence.node);
  return target ? { uri, range: toRange(target.span) } : null;
}

/** Every place a chain is named, declaration first, the rest in document order; made once per chain and version. */
export function occurrencesOfChain(analysis: Analysis, node: ChainNode): ChainOccurrence[] {
  return memoFor(analysis, 'occurrences', node, () => occurrencesOf(analysis, node));
}

/** Where views and items point for a chain: its declaration, else the first place it is named. */
export function chainPlace(analysis: Analysis, node: ChainNode): ChainOccurrence | undefined {
  return definitionOf(node) ?? occurrencesOfChain(analysis, node)[0];
}

/** At most `max` of `sorted[from..]` (in document order), a run centred on `line`. */
function nearest<T extends { span: { line: number } }>(sorted: readonly T[], from: number, line: number, max: number): readonly T[] {
  const low = lowerBound(sorted, line, (place) => place.span.line, from);
  const start = Math.max(from, Math.min(low - (max >> 1), sorted.length - max));
  return sorted.slice(start, start + max);
}

/** The places a request may answer with: the declaration (when wanted) and at most `max` places nearest the cursor. */
function placesNear(analysis: Analysis, node: ChainNode, line: number, includeDeclaration: boolean, max: number): { places: readonly ChainOccurrence[]; total: number; lines: [number, number] | undefined } {
  const all = occurrencesOfChain(analysis, node);
  // all[0] is the declaration when there is one; from `from` on, the places are in document order.
  const from = all[0]?.role === 'declaration' ? 1 : 0;
  const head = from === 1 && includeDeclaration ? [all[0]!] : [];
  const total = head.length + all.length - from;
  if (total <= max) return { places: includeDeclaration ? all : all.slice(from), total, lines: undefined };
  const near = nearest(all, from, line, max - head.length);
  return { places: [...head, ...near], total, lines: near.length > 0 ? [near[0]!.span.line, near[near.length - 1]!.span.line] : undefined };
}

export interface ReferencesAnswer {
  locations: Location[];
  /** How many places name the chain; more than `locations` holds when the list was cut. */
  total: number;
  chain: string;
  /** When the list was cut: the first and last line of the places listed near the cursor (besides the declaration). */
  lines: [number, number] | undefined;
}

/** Places the chain under the cursor is named, in its table: all of them, or the MAX_REFERENCES nearest the cursor. */
export function references(analysis: Analysis, uri: string, position: Position, includeDeclaration: boolean, max = MAX_REFERENCES): ReferencesAnswer | null {
  const occurrence = occurrenceAt(analysis, position.line, position.character);
  if (!occurrence) return null;
  const { places, total, lines } = placesNear(analysis, occurrence.node, position.line, includeDeclaration, max);
  return { locations: places.map((o) => ({ uri, range: toRange(o.span) })), total, chain: occurrence.node.chain.name, lines };
}

/** What the user is told when Find All References lists only some of the places. */
export function referencesCutMessage(answer: ReferencesAnswer): string | undefined {
  if (answer.total <= answer.locations.length) return undefined;
  const where = answer.lines ? ` (lines ${(answer.lines[0] + 1).toLocaleString('en-US')}–${(answer.lines[1] + 1).toLocaleString('en-US')})` : '';
  return `${answer.chain} is named in ${answer.total.toLocaleString('en-US')} places; Find All References lists the ${answer.locations.length.toLocaleString('en-US')} nearest the cursor${where}. Its hover names the chains that jump to it.`;
}

/** The chain name under the cursor wherever it appears: at most MAX_HIGHLIGHTS places, nearest the cursor. */
export function documentHighlights(analysis: Analysis, position: Position, max = MAX_HIGHLIGHTS): DocumentHighlight[] | null {
  const occurrence = occurrenceAt(analysis, position.line, position.character);
  if (!occurrence) return null;
  return placesNear(analysis, occurrence.node, position.line, true, max).places.map((o) => ({
    range: toRange(o.span),
    kind: o.role === 'declaration' || o.role === 'rule' ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
  }));
}
