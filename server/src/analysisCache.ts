import type { Range, TextDocumentContentChangeEvent, TextDocumentsConfiguration } from 'vscode-languageserver';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { analyze, type Analysis } from './core/analysis';
import { type LineEdit, patchAnalysis, shiftLines } from './core/incremental';
import { LineDocument, withinOneLine } from './lineDocument';
import type { ParseOptions } from './core/parser';
import type { RowSource } from './core/rowScan';
import { type DumpForm, lineTextOf } from './core/ruleset';
import { carryServiceModel, modelDiagnosticSpans, reviseServiceModel } from './kube';
import { keepShapes } from './shapes';

interface Entry {
  version: number;
  analysis: Analysis | undefined;
}

/** A document to analyse: an editor's (a LineDocument, patched after edits) or a dump read from disk. */
export interface AnalysisSource {
  uri: string;
  version: number;
  getText(): string;
}

/**
 * Lines edited since the version of a document's last analysis: their text then and now, by
 * line; undefined once an edit added or removed lines.
 */
interface PendingEdits {
  since: number;
  lines: Map<number, { oldText: string; newText: string }> | undefined;
  /**
   * Lines inserted after `line` (`count` > 0: the edited `line` is followed by the texts of
   * `inserted`) or the lines from `line` on removed (`count` < 0, their texts then in
   * `removed`): one such change, alone since the last analysis, is patched too.
   */
  moved?: { line: number; count: number; inserted: string[]; removed: string[] };
}

/**
 * One analysis per document version, computed on first use and forgotten when the document
 * closes. After edits within lines (typing), the analysis of the version before is patched
 * instead of made again; that is what keeps diagnostics fresh on a dump of 400,000 lines.
 */
export class AnalysisCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, PendingEdits>();
  form: DumpForm | undefined;
  /** Reads a large dump's lines ahead of the parser on another thread (ParseThread). */
  rows: RowSource | undefined;
  /** How the last analysis was made, for logs and tests. */
  lastWay: 'full' | 'patched' | undefined;

  /** For TextDocuments: keeps the editor's documents line by line and notes the lines each change touches. */
  documentsConfiguration(): TextDocumentsConfiguration<LineDocument> {
    return {
      create: (uri, languageId, version, content) => new LineDocument(uri, languageId, version, content),
      update: (document, changes, version) => {
        this.note(document, changes);
        document.update(changes, version);
        return document;
      },
    };
  }

  /** Keeps the old and new text of each line an edit touches, as the edit is applied to it here. */
  private note(document: LineDocument, changes: readonly TextDocumentContentChangeEvent[]): void {
    const entry = this.entries.get(document.uri);
    let pending = this.pending.get(document.uri);
    if (!pending || pending.since !== entry?.version) {
      // Edits count from the version last analysed; without one there is nothing to patch.
      if (!entry?.analysis) return;
      pending = { since: entry.version, lines: new Map() };
      this.pending.set(document.uri, pending);
    }
    const lines = pending.lines;
    if (!lines) return;
    for (const change of changes) {
      if (pending.moved || !('range' in change) || lines.size > 64) {
        pending.lines = undefined;
        return;
      }
      const { start, end } = change.range;
      if (!withinOneLine(change.range, change.text)) {
        // A line break typed or pasted, or whole lines deleted: patched when it is the only change.
        if (lines.size > 0 || changes.length > 1 || !this.noteMove(pending, document, entry!.analysis!, change)) pending.lines = undefined;
        return;
      }
      const line = start.line;
      if (line >= document.lineCount) {
        pending.lines = undefined;
        return;
      }
      let known = lines.get(line);
      if (!known) {
        const text = lineBefore(entry!.analysis!, document, line);
        known = { oldText: text, newText: text };
        lines.set(line, known);
      }
      known.newText = known.newText.slice(0, start.character) + change.text + known.newText.slice(end.character);
      if (document.mergesLines(line, known.newText)) {
        pending.lines = undefined;
        return;
      }
    }
  }

  /** Notes lines inserted at a point (text with line breaks, nothing replaced) or whole lines removed; false for any other change. */
  private noteMove(pending: PendingEdits, document: LineDocument, analysis: Analysis, change: TextDocumentContentChangeEvent & { range: Range }): boolean {
    const { start, end } = change.range;
    if (start.line === end.line && start.character === end.character && !change.text.includes('\r')) {
      const pieces = change.text.split('\n');
      if (pieces.length > 65 || start.line >= document.lineCount) return false;
      const last = pieces.length - 1;
      if (start.character === 0 && pieces[last] === '') {
        // Whole lines put before a line (Enter at its start, a paste of lines): it only moves down.
        pending.moved = { line: start.line - 1, count: last, inserted: pieces.slice(0, last), removed: [] };
        return true;
      }
      const old = lineBefore(analysis, document, start.line);
      pending.lines!.set(start.line, { oldText: old, newText: old.slice(0, start.character) + pieces[0]! });
      pieces[last] = pieces[last]! + old.slice(start.character);
      pending.moved = { line: start.line, count: last, inserted: pieces.slice(1), removed: [] };
      return true;
    }
    const count = end.line - start.line;
    if (change.text === '' && start.character === 0 && end.character === 0 && count > 0 && count <= 64 && end.line < document.lineCount) {
      const removed: string[] = [];
      for (let line = start.line; line < end.line; line++) removed.push(lineBefore(analysis, document, line));
      pending.moved = { line: start.line, count: -count, inserted: [], removed };
      return true;
    }
    return false;
  }

  get(document: AnalysisSource): Analysis {
    let entry = this.entries.get(document.uri);
    let replaced = false;
    if (!entry || entry.version !== document.version) {
      const patched = entry?.analysis ? this.patch(document, entry) : undefined;
      replaced = entry?.analysis !== undefined && patched === undefined;
      entry = { version: document.version, analysis: patched };
      this.entries.set(document.uri, entry);
      this.pending.delete(document.uri);
    }
    if (!entry.analysis) {
      const text = document.getText();
      if (replaced && text.length > LARGE_TEXT) {
        // Letting the old analysis go would also let V8 throw away the code compiled for it (shapes.ts): a small analysis kept first keeps that code.
        keepShapes();
        // The analysis of a large dump is hundreds of megabytes: let the old one go before the new one is made.
        collectGarbage();
      }
      const options: ParseOptions = {};
      if (this.form) options.form = this.form;
      if (this.rows) options.rows = this.rows;
      entry.analysis = analyze(text, options);
      this.lastWay = 'full';
    }
    return entry.analysis;
  }

  /** The analysis of `document` made from the one of an earlier version, when its edits allow. */
  private patch(document: AnalysisSource, entry: Entry): Analysis | undefined {
    const pending = this.pending.get(document.uri);
    if (!pending?.lines || pending.since !== entry.version) return undefined;
    const edits: LineEdit[] = [];
    for (const [line, { oldText, newText }] of pending.lines) edits.push({ line, oldText, newText });
    const previous = entry.analysis!;
    const moved = pending.moved;
    let start = previous;
    if (moved && moved.count < 0) {
      // Lines removed: empty them, then close the gap.
      moved.removed.forEach((oldText, i) => edits.push({ line: moved.line + i, oldText, newText: '' }));
    } else if (moved) {
      // Lines inserted: open a gap of blank lines after the edited line, then fill it.
      const opened = shiftLines(previous, moved.line + 1, moved.count, modelDiagnosticSpans(previous));
      if (!opened) return undefined;
      moved.inserted.forEach((newText, i) => edits.push({ line: moved.line + 1 + i, oldText: '', newText }));
      carryServiceModel(previous, opened, []);
      start = opened;
    }
    let patch = patchAnalysis(start, edits);
    if (!patch) return undefined;
    if (moved && moved.count < 0) {
      // The emptied lines are gone: no edited line is left to look at.
      const closed = shiftLines(patch.analysis, moved.line, moved.count, patch.sameMeaning ? modelDiagnosticSpans(start) : []);
      if (!closed) return undefined;
      patch = { ...patch, analysis: closed, lines: [] };
    }
    reviseServiceModel(start, patch);
    this.lastWay = 'patched';
    return patch.analysis;
  }

  /** The analysis already computed for this version, without computing one. */
  peek(uri: string, version: number): Analysis | undefined {
    const entry = this.entries.get(uri);
    return entry && entry.version === version ? entry.analysis : undefined;
  }

  forget(uri: string): void {
    this.entries.delete(uri);
    this.pending.delete(uri);
  }

  clear(): void {
    this.entries.clear();
    this.pending.clear();
  }
}

/**
 * A line as the analysis read it, before the edit being noted: a rule's line as the parser
 * split it (a CRLF line keeps its CR, so that its reading after the edit matches a full one),
 * any other from the document.
 */
function lineBefore(analysis: Analysis, document: LineDocument, line: number): string {
  const rule = analysis.rulesByLine[line];
  return rule ? lineTextOf(rule) : document.lineText(line);
}

/** Above this many characters a document's analysis is large enough to collect the old one first. */
export const LARGE_TEXT = 8 * 1024 * 1024;

let gc: (() => void) | null | undefined;

/**
 * A full garbage collection, when V8 allows one. Without it the heap holds the old and the new
 * analysis of a large dump at once for a while (V8 grows the heap rather than collect), and the
 * server's peak memory doubles.
 */
function collectGarbage(): void {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
