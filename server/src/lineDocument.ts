// The text of a dump open in the editor, kept so that typing in a 34 MB dump does not copy
// the 34 MB. vscode-languageserver-textdocument replaces its whole text on every change (cut,
// join, and a copy of everything on the next change), which costs ~20 ms and leaves 34 MB of
// garbage per keystroke: a burst of typing took the server's memory from 0.4 to 0.8 GB. Here
// the document is a list of lines, each a line of the text last given whole (the base) or a
// line of its own: an edit within a line replaces that line, a line break splits it in two,
// and neither copies the rest (joining the text and flattening the rope took ~40 ms of each
// line break typed on the 10k dump, ~105 ms on the 30k one). The whole text is joined again
// only when it is asked for (a full analysis).
import type { Position, Range, TextDocumentContentChangeEvent } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { itself, lowerBound } from './core/sorted';

const LF = 10;
const CR = 13;

/** How many lines of its own a document keeps before it drops those edits replaced since. */
const OWN_LINES_KEPT = 4096;

/** A line that is not one of the base's: its text and the line break after it ('' for the last line). */
interface OwnLine {
  text: string;
  eol: string;
}

export class LineDocument implements TextDocument {
  /** The text as last given whole, or as last joined. */
  private base: string;
  /** Where each line of `base` starts; counted when first needed. */
  private baseStarts: number[] | undefined;
  /** Undefined while the lines are the base's; else, for each line, the base line it is (>= 0) or -1 - k for own[k]. */
  private refs: number[] | undefined;
  private own: OwnLine[] = [];

  constructor(
    readonly uri: string,
    readonly languageId: string,
    private currentVersion: number,
    content: string,
  ) {
    this.base = content;
  }

  get version(): number {
    return this.currentVersion;
  }

  get lineCount(): number {
    return this.refs ? this.refs.length : this.starts().length;
  }

  /** The text of a line without its line break. */
  lineText(line: number): string {
    if (line < 0 || line >= this.lineCount) return '';
    const ref = this.refs ? this.refs[line]! : line;
    return ref >= 0 ? this.base.slice(this.starts()[ref]!, this.baseContentEnd(ref)) : this.own[-1 - ref]!.text;
  }

  getEOLCharacters(line: number): string {
    if (line < 0 || line >= this.lineCount) return '';
    const ref = this.refs ? this.refs[line]! : line;
    return ref >= 0 ? this.base.substring(this.baseContentEnd(ref), this.baseNextStart(ref)) : this.own[-1 - ref]!.eol;
  }

  getText(range?: Range): string {
    if (!range) return this.joined();
    const [startLine, startCharacter, endLine, endCharacter] = this.places(range);
    if (startLine === endLine) return this.lineText(startLine).slice(startCharacter, endCharacter);
    const pieces = [this.lineText(startLine).slice(startCharacter), this.getEOLCharacters(startLine)];
    for (let line = startLine + 1; line < endLine; line++) pieces.push(this.lineText(line), this.getEOLCharacters(line));
    pieces.push(this.lineText(endLine).slice(0, endCharacter));
    return pieces.join('');
  }

  getLineRange(line: number): Range {
    const count = this.lineCount;
    if (line < 0) return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    if (line >= count) line = count - 1;
    return { start: { line, character: 0 }, end: { line, character: this.lineText(line).length } };
  }

  positionAt(offset: number): Position {
    const text = this.joined();
    const offsets = this.starts();
    offset = Math.max(Math.min(offset, text.length), 0);
    // The last line starting at or before the offset.
    const line = lowerBound(offsets, offset + 1, itself) - 1;
    return { line, character: contentEnd(text, offsets[line]!, offset) - offsets[line]! };
  }

  offsetAt(position: Position): number {
    this.joined();
    const [line, character] = this.place(position);
    return this.starts()[line]! + character;
  }

  /**
   * A position as a line and a column inside that line's text, as vscode-languageserver-textdocument
   * places it: past the last line is the end of the text, before the first its start, and a
   * column past the line's text (or on its line break) is the end of the text.
   */
  private place(position: Position): [number, number] {
    const count = this.lineCount;
    if (position.line >= count) return [count - 1, this.lineText(count - 1).length];
    if (position.line < 0) return [0, 0];
    return [position.line, Math.min(Math.max(position.character, 0), this.lineText(position.line).length)];
  }

  /** Both ends of a range placed (place), the earlier first. */
  private places(range: Range): [number, number, number, number] {
    const [startLine, startCharacter] = this.place(range.start);
    const [endLine, endCharacter] = this.place(range.end);
    return startLine > endLine || (startLine === endLine && startCharacter > endCharacter)
      ? [endLine, endCharacter, startLine, startCharacter]
      : [startLine, startCharacter, endLine, endCharacter];
  }

  /** Applies the editor's changes; one within a line only changes that line. */
  update(changes: readonly TextDocumentContentChangeEvent[], version: number): void {
    for (const change of changes) {
      if (!('range' in change)) {
        this.base = change.text;
        this.baseStarts = undefined;
        this.refs = undefined;
        this.own = [];
        continue;
      }
      const line = change.range.start.line;
      if (withinOneLine(change.range, change.text) && line < this.lineCount && line >= 0) {
        const text = this.lineText(line);
        const { start, end } = change.range;
        const now = text.slice(0, Math.max(Math.min(start.character, end.character), 0)) + change.text + text.slice(Math.max(start.character, end.character, 0));
        if (!this.mergesLines(line, now)) {
          this.setLines(line, line, [{ text: now, eol: this.getEOLCharacters(line) }]);
          continue;
        }
      }
      this.replace(change.range, change.text);
    }
    this.currentVersion = version;
  }

  /** Whether emptying a line leaves a lone CR before it next to its LF, one CRLF: a line less. */
  mergesLines(line: number, now: string): boolean {
    return now === '' && this.getEOLCharacters(line - 1) === '\r' && this.getEOLCharacters(line).startsWith('\n');
  }

  /**
   * Any change: the lines it touches, with one line more on each side (a line break may join a
   * CR before it or an LF after it), are cut again into lines after the change.
   */
  private replace(range: Range, inserted: string): void {
    const [startLine, startCharacter, endLine, endCharacter] = this.places(range);
    const last = this.lineCount - 1;
    const from = Math.max(startLine - 1, 0);
    const to = Math.min(endLine + 1, last);
    const pieces: string[] = [];
    let startOffset = 0;
    let endOffset = 0;
    let length = 0;
    for (let line = from; line <= to; line++) {
      if (line === startLine) startOffset = length + startCharacter;
      if (line === endLine) endOffset = length + endCharacter;
      const text = this.lineText(line);
      const eol = this.getEOLCharacters(line);
      pieces.push(text, eol);
      length += text.length + eol.length;
    }
    const local = pieces.join('');
    const lines = splitLines(local.slice(0, startOffset) + inserted + local.slice(endOffset));
    // Unless the region ends the document, its text ends with a line break: the empty piece after it is the next line's start.
    if (to < last) lines.pop();
    this.setLines(from, to, lines);
  }

  /** Lines `from` to `to` become `lines`. */
  private setLines(from: number, to: number, lines: OwnLine[]): void {
    const refs = (this.refs ??= identity(this.starts().length));
    // Every keystroke makes a line of its own: keep only those still in the document once many are not.
    if (this.own.length >= OWN_LINES_KEPT) this.dropReplacedLines(refs);
    const made = lines.map((line) => -1 - (this.own.push(line) - 1));
    if (made.length === to - from + 1) {
      for (let i = 0; i < made.length; i++) refs[from + i] = made[i]!;
    } else if (made.length < 10_000) {
      refs.splice(from, to - from + 1, ...made);
    } else {
      this.refs = refs.slice(0, from).concat(made, refs.slice(to + 1));
    }
  }

  private dropReplacedLines(refs: number[]): void {
    const kept: OwnLine[] = [];
    for (let line = 0; line < refs.length; line++) {
      const ref = refs[line]!;
      if (ref < 0) refs[line] = -1 - (kept.push(this.own[-1 - ref]!) - 1);
    }
    this.own = kept;
  }

  private starts(): number[] {
    return (this.baseStarts ??= lineStarts(this.base));
  }

  private baseNextStart(ref: number): number {
    const starts = this.starts();
    return ref + 1 < starts.length ? starts[ref + 1]! : this.base.length;
  }

  /** Where line `ref` of the base ends, before its line break. */
  private baseContentEnd(ref: number): number {
    return contentEnd(this.base, this.starts()[ref]!, this.baseNextStart(ref));
  }

  /** The whole text (one copy of it when lines changed), which becomes the base; its line starts are worked out as it is put together. */
  private joined(): string {
    const refs = this.refs;
    if (!refs) return this.base;
    const starts = this.starts();
    const base = this.base;
    const pieces: string[] = [];
    const joinedStarts = new Array<number>(refs.length);
    let length = 0;
    for (let line = 0; line < refs.length; ) {
      const ref = refs[line]!;
      if (ref < 0) {
        const own = this.own[-1 - ref]!;
        joinedStarts[line++] = length;
        pieces.push(own.text, own.eol);
        length += own.text.length + own.eol.length;
        continue;
      }
      // A run of base lines in order: one slice.
      let end = line + 1;
      while (end < refs.length && refs[end] === refs[end - 1]! + 1) end++;
      const shift = length - starts[ref]!;
      for (let k = line; k < end; k++) joinedStarts[k] = starts[refs[k]!]! + shift;
      const runEnd = this.baseNextStart(refs[end - 1]!);
      pieces.push(base.slice(starts[ref]!, runEnd));
      length += runEnd - starts[ref]!;
      line = end;
    }
    this.base = pieces.join('');
    this.baseStarts = joinedStarts;
    this.refs = undefined;
    this.own = [];
    return this.base;
  }
}

/** 0, 1, ... n - 1: each line the base's line of the same number. */
function identity(n: number): number[] {
  const refs = new Array<number>(n);
  for (let i = 0; i < n; i++) refs[i] = i;
  return refs;
}

/** A text cut into lines after LF, CR or CRLF (lineStarts), each with its line break; the last one has none. */
function splitLines(text: string): OwnLine[] {
  const starts = lineStarts(text);
  return starts.map((start, i) => {
    const next = i + 1 < starts.length ? starts[i + 1]! : text.length;
    const end = contentEnd(text, start, next);
    return { text: text.slice(start, end), eol: text.slice(end, next) };
  });
}

/** Where the line of `text` starting at `lineStart` ends before its line break, given an offset at or after its end (up to the next line's start). */
function contentEnd(text: string, lineStart: number, offset: number): number {
  let c = 0;
  while (offset > lineStart && ((c = text.charCodeAt(offset - 1)) === LF || c === CR)) offset--;
  return offset;
}

/** A change that stays within one line: it spans no line break and puts none in. */
export function withinOneLine(range: Range, inserted: string): boolean {
  return range.start.line === range.end.line && !/[\r\n]/.test(inserted);
}

/** Where the lines of `text` start (after LF, CR or CRLF). A text without CR is searched with indexOf, ten times faster than looking at each character. */
function lineStarts(text: string): number[] {
  const starts = [0];
  if (!text.includes('\r')) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    return starts;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === LF || c === CR) {
      if (c === CR && i + 1 < text.length && text.charCodeAt(i + 1) === LF) i++;
      starts.push(i + 1);
    }
  }
  return starts;
}
