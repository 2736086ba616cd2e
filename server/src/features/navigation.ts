import { type DocumentHighlight, DocumentHighlightKind, type Location, type Position } from 'vscode-languageserver';
import { type Analysis, definitionOf, occurrenceAt, occurrencesOf } from '../core/analysis';
import { toRange } from './ranges';

/** From any place a chain is named to the line that declares it. */
export function definition(analysis: Analysis, uri: string, position: Position): Location | null {
  const occurrence = occurrenceAt(analysis, position.line, position.character);
  if (!occurrence) return null;
  const target = definitionOf(occurrence.node);
  return target ? { uri, range: toRange(target.span) } : null;
}

/** Every place the chain under the cursor is named, in its table. */
export function references(analysis: Analysis, uri: string, position: Position, includeDeclaration: boolean): Location[] | null {
  const occurrence = occurrenceAt(analysis, position.line, position.character);
  if (!occurrence) return null;
  const all = occurrencesOf(analysis, occurrence.node);
  return all.filter((o) => includeDeclaration || o.role !== 'declaration').map((o) => ({ uri, range: toRange(o.span) }));
}

export function documentHighlights(analysis: Analysis, position: Position): DocumentHighlight[] | null {
  const occurrence = occurrenceAt(analysis, position.line, position.character);
  if (!occurrence) return null;
  return occurrencesOf(analysis, occurrence.node).map((o) => ({
    range: toRange(o.span),
    kind: o.role === 'declaration' || o.role === 'rule' ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
  }));
}
