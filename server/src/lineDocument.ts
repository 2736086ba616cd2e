// The text of a dump open in the editor, kept so that typing in a line of a 34 MB dump does
// not copy the 34 MB. vscode-languageserver-textdocument replaces its whole text on every
// change (cut, join, and a copy of everything on the next change), which costs ~20 ms and
// leaves 34 MB of garbage per keystroke: a burst of typing took the server's memory from 0.4
// to 0.8 GB. Here an edit within a line only replaces that line; the whole text is joined
// again when it is asked for (a full analysis, after an edit that adds or removes lines), and
// its line offsets are moved rather than counted again (counting 430,000 lines character by
// character took ~100 ms of each line break typed after a keystroke).
import type { Position, Range, TextDocumentContentChangeEvent } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { itself, lowerBound } from './core/sorted';

const LF = 10;
const CR = 13;

export class LineDocument implements TextDocument {
  /** The text as of the last join; lines in `edited` differ from it. */
  private text: string;
  /** Where each line of `text` starts; counted when first needed. */
  private offsets: number[] | undefined;
  /** Lines changed since the last join, with their text now (no line break). */
  private readonly edited = new Map<number, string>();

  constructor(
    readonly uri: string,
    readonly languageId: string,
    private currentVersion: number,
    content: string,
  ) {
    this.text = content;
  }

  get version(): number {
    return this.currentVersion;
  }

  get lineCount(): number {
    return this.lineOffsets().length;
  }

  /** The text of a line without its line break (a CR of a CRLF line stays out as well). */
  lineText(line: number): string {
    const edited = this.edited.get(line);
    if (edited !== undefined) return edited;
    const offsets = this.lineOffsets();
    if (line < 0 || line >= offsets.length) return '';
    return this.text.slice(offsets[line]!, this.contentEnd(line));
  }

  getText(range?: Range): string {
    if (!range) return this.joined();
    if (range.start.line === range.end.line && this.edited.has(range.start.line)) {
      return this.lineText(range.start.line).substring(range.start.character, range.end.character);
    }
    if (this.touches(wellFormed(range))) this.joined();
    // Lines outside the range are as they were: the text of the last join holds the range's.
    return this.text.substring(this.offsetIn(range.start), this.offsetIn(range.end));
  }

  getLineRange(line: number): Range {
    const edited = this.edited.get(line);
    if (edited !== undefined) return { start: { line, character: 0 }, end: { line, character: edited.length } };
    const offsets = this.lineOffsets();
    if (line >= offsets.length) {
      const last = offsets.length - 1;
      return { start: { line: last, character: 0 }, end: { line: last, character: this.lineText(last).length } };
    }
    if (line < 0) return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    return { start: { line, character: 0 }, end: { line, character: this.contentEnd(line) - offsets[line]! } };
  }

  getEOLCharacters(line: number): string {
    // Edits within a line leave its line break as it was.
    const offsets = this.lineOffsets();
    if (line < 0 || line >= offsets.length) return '';
    return this.text.substring(this.contentEnd(line), this.nextLineOffset(line));
  }

  positionAt(offset: number): Position {
    this.joined();
    const offsets = this.lineOffsets();
    offset = Math.max(Math.min(offset, this.text.length), 0);
    // The last line starting at or before the offset.
    const line = lowerBound(offsets, offset + 1, itself) - 1;
    return { line, character: this.beforeEol(offset, offsets[line]!) - offsets[line]! };
  }

  offsetAt(position: Position): number {
    this.joined();
    return this.offsetIn(position);
  }

  /** The offset of a position in the text of the last join. */
  private offsetIn(position: Position): number {
    const offsets = this.lineOffsets();
    if (position.line >= offsets.length) return this.text.length;
    if (position.line < 0) return 0;
    const start = offsets[position.line]!;
    if (position.character <= 0) return start;
    return this.beforeEol(Math.min(start + position.character, this.nextLineOffset(position.line)), start);
  }

  /** Applies the editor's changes; those within one line only change that line. */
  update(changes: readonly TextDocumentContentChangeEvent[], version: number): void {
    for (const change of changes) {
      if (!('range' in change)) {
        this.edited.clear();
        this.text = change.text;
        this.offsets = undefined;
      } else if (withinOneLine(change.range, change.text) && change.range.start.line < this.lineCount && change.range.start.line >= 0) {
        const now = this.lineAfter(change.range, change.text);
        if (this.mergesLines(change.range.start.line, now)) this.replace(change.range, change.text);
        else this.edited.set(change.range.start.line, now);
      } else {
        this.replace(change.range, change.text);
      }
    }
    this.currentVersion = version;
  }

  /** The text of a line after a change within it. */
  private lineAfter(range: Range, inserted: string): string {
    const text = this.lineText(range.start.line);
    return text.slice(0, range.start.character) + inserted + text.slice(range.end.character);
  }

  /** Whether emptying a line leaves a lone CR before it next to its LF, one CRLF: a line less. */
  mergesLines(line: number, now: string): boolean {
    return now === '' && this.getEOLCharacters(line - 1) === '\r' && this.getEOLCharacters(line).startsWith('\n');
  }

  /** A change across lines or with line breaks: into the joined text, its line offsets moved as vscode-languageserver-textdocument moves them. */
  private replace(range: Range, inserted: string): void {
    const { start, end } = wellFormed(range);
    const startOffset = this.offsetAt(start);
    const endOffset = this.offsetAt(end);
    this.text = this.text.substring(0, startOffset) + inserted + this.text.substring(endOffset);
    const offsets = this.offsets;
    if (!offsets) return;
    const text = this.text;
    const insertedEnd = startOffset + inserted.length;
    if ((text.charCodeAt(startOffset - 1) === CR && text.charCodeAt(startOffset) === LF) || (text.charCodeAt(insertedEnd - 1) === CR && text.charCodeAt(insertedEnd) === LF)) {
      // A CRLF pair made across the edit's edges: count again.
      this.offsets = undefined;
      return;
    }
    const startLine = Math.max(start.line, 0);
    const endLine = Math.max(end.line, 0);
    const added = lineStarts(inserted, startOffset, false);
    let moved = offsets;
    if (endLine - startLine === added.length) {
      for (let i = 0; i < added.length; i++) moved[i + startLine + 1] = added[i]!;
    } else if (added.length < 10_000) {
      offsets.splice(startLine + 1, endLine - startLine, ...added);
    } else {
      moved = offsets.slice(0, startLine + 1).concat(added, offsets.slice(endLine + 1));
      this.offsets = moved;
    }
    const diff = inserted.length - (endOffset - startOffset);
    if (diff !== 0) for (let i = startLine + 1 + added.length; i < moved.length; i++) moved[i] = moved[i]! + diff;
  }

  private lineOffsets(): number[] {
    return (this.offsets ??= lineStarts(this.text, 0, true));
  }

  private nextLineOffset(line: number): number {
    const offsets = this.lineOffsets();
    return line + 1 < offsets.length ? offsets[line + 1]! : this.text.length;
  }

  /** Where a line of the text of the last join ends, before its line break. */
  private contentEnd(line: number): number {
    return this.beforeEol(this.nextLineOffset(line), this.lineOffsets()[line]!);
  }

  private beforeEol(offset: number, lineStart: number): number {
    const text = this.text;
    let c = 0;
    while (offset > lineStart && ((c = text.charCodeAt(offset - 1)) === LF || c === CR)) offset--;
    return offset;
  }

  private touches(range: Range): boolean {
    for (const line of this.edited.keys()) if (line >= range.start.line && line <= range.end.line) return true;
    return false;
  }

  /** The text with the edited lines put in (one copy of it); the line offsets after each edited line move by its change in length. */
  private joined(): string {
    if (this.edited.size === 0) return this.text;
    const offsets = this.lineOffsets();
    const text = this.text;
    const pieces: string[] = [];
    const lines = [...this.edited.keys()].sort((a, b) => a - b);
    let from = 0;
    let shift = 0;
    let moveFrom = 0;
    for (const line of lines) {
      const start = offsets[line]!;
      const end = this.contentEnd(line);
      const now = this.edited.get(line)!;
      pieces.push(text.slice(from, start), now);
      from = end;
      for (let i = moveFrom; i <= line; i++) offsets[i] = offsets[i]! + shift;
      moveFrom = line + 1;
      shift += now.length - (end - start);
    }
    pieces.push(text.slice(from));
    if (shift !== 0) for (let i = moveFrom; i < offsets.length; i++) offsets[i] = offsets[i]! + shift;
    this.edited.clear();
    this.text = pieces.join('');
    return this.text;
  }
}

/** A change that stays within one line: it spans no line break and puts none in. */
export function withinOneLine(range: Range, inserted: string): boolean {
  return range.start.line === range.end.line && !/[\r\n]/.test(inserted);
}

function wellFormed(range: Range): Range {
  const { start, end } = range;
  return start.line > end.line || (start.line === end.line && start.character > end.character) ? { start: end, end: start } : range;
}

/**
 * Where the lines of `text` start (after LF, CR or CRLF), offset by `base`; with the first line's
 * start when `atLineStart`. A text without CR is searched with indexOf, ten times faster than
 * looking at each character.
 */
function lineStarts(text: string, base: number, atLineStart: boolean): number[] {
  const starts = atLineStart ? [base] : [];
  if (!text.includes('\r')) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(base + i + 1);
    return starts;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === LF || c === CR) {
      if (c === CR && i + 1 < text.length && text.charCodeAt(i + 1) === LF) i++;
      starts.push(base + i + 1);
    }
  }
  return starts;
}
