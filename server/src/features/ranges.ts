import type { Position, Range } from 'vscode-languageserver';
import type { Span } from '../core/ruleset';

export function toRange(span: Span): Range {
  return { start: { line: span.line, character: span.start }, end: { line: span.line, character: span.end } };
}

export function lineRange(line: number, start: number, end: number): Range {
  return { start: { line, character: start }, end: { line, character: end } };
}

export function isInside(position: Position, span: Span): boolean {
  return position.line === span.line && position.character >= span.start && position.character <= span.end;
}
