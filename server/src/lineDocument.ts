// The text of a dump open in the editor, kept so that typing in a line of a 34 MB dump does
// not copy the 34 MB. vscode-languageserver-textdocument replaces its whole text on every
// change (cut, join, and a copy of everything on the next change), which costs ~20 ms and
// leaves 34 MB of garbage per keystroke: a burst of typing took the server's memory from 0.4
// to 0.8 GB. Here an edit within a line only replaces that line; the whole text is joined
// again when it is asked for (a full analysis, after an edit that adds or removes lines).
import type { Position, Range, TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';

export class LineDocument implements TextDocument {
  /** The text as of the last join; lines in `edited` differ from it. */
  private base: TextDocument;
  /** Lines changed since the last join, with their text now (no line break). */
  private readonly edited = new Map<number, string>();

  constructor(
    readonly uri: string,
    readonly languageId: string,
    private currentVersion: number,
    content: string,
  ) {
    this.base = TextDocument.create(uri, languageId, currentVersion, content);
  }

  get version(): number {
    return this.currentVersion;
  }

  get lineCount(): number {
    return this.base.lineCount;
  }

  /** The text of a line without its line break (a CR of a CRLF line stays out as well). */
  lineText(line: number): string {
    const edited = this.edited.get(line);
    if (edited !== undefined) return edited;
    const text = this.base.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
    return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
  }

  getText(range?: Range): string {
    if (range && range.start.line === range.end.line && this.edited.has(range.start.line)) {
      return this.lineText(range.start.line).slice(range.start.character, range.end.character);
    }
    if (range && !this.touches(range)) return this.base.getText(range);
    return this.joined().getText(range);
  }

  getLineRange(line: number): Range {
    const edited = this.edited.get(line);
    return edited === undefined ? this.base.getLineRange(line) : { start: { line, character: 0 }, end: { line, character: edited.length } };
  }

  getEOLCharacters(line: number): string {
    // Edits within a line leave its line break as it was.
    return this.base.getEOLCharacters(line);
  }

  positionAt(offset: number): Position {
    return this.joined().positionAt(offset);
  }

  offsetAt(position: Position): number {
    return this.joined().offsetAt(position);
  }

  /** Applies the editor's changes; those within one line only change that line. */
  update(changes: readonly TextDocumentContentChangeEvent[], version: number): void {
    for (const change of changes) {
      if ('range' in change && change.range.start.line === change.range.end.line && !/[\r\n]/.test(change.text) && change.range.start.line < this.base.lineCount) {
        const { start, end } = change.range;
        const text = this.lineText(start.line);
        this.edited.set(start.line, text.slice(0, start.character) + change.text + text.slice(end.character));
      } else {
        TextDocument.update(this.joined(), [change], version);
      }
    }
    this.currentVersion = version;
  }

  private touches(range: Range): boolean {
    for (const line of this.edited.keys()) if (line >= range.start.line && line <= range.end.line) return true;
    return false;
  }

  /** The base with the edited lines put in: one copy of the text. */
  private joined(): TextDocument {
    if (this.edited.size === 0) return this.base;
    const text = this.base.getText();
    const pieces: string[] = [];
    let from = 0;
    for (const line of [...this.edited.keys()].sort((a, b) => a - b)) {
      const start = this.base.offsetAt({ line, character: 0 });
      const old = this.base.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
      const lineEnd = start + old.length - (old.endsWith('\r\n') ? 2 : old.endsWith('\n') ? 1 : 0);
      pieces.push(text.slice(from, start), this.edited.get(line)!);
      from = lineEnd;
    }
    pieces.push(text.slice(from));
    this.edited.clear();
    this.base = TextDocument.create(this.uri, this.languageId, this.currentVersion, pieces.join(''));
    return this.base;
  }
}
