import type { TextDocumentContentChangeEvent, TextDocumentsConfiguration } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze, type Analysis } from './core/analysis';
import { type LineEdit, patchAnalysis } from './core/incremental';
import type { DumpForm } from './core/ruleset';
import { reviseServiceModel } from './kube';

interface Entry {
  version: number;
  analysis: Analysis | undefined;
}

export interface AnalysisSource {
  uri: string;
  version: number;
  getText(): string;
  /** Present on editor documents: lets an analysis be patched after small edits. */
  lineCount?: number;
}

/** Lines edited since the version of a document's last analysis: their text then, by line; undefined once an edit added or removed lines. */
interface PendingEdits {
  since: number;
  oldLines: Map<number, string> | undefined;
}

/** The text of line `line` without its line break. */
function lineText(document: TextDocument, line: number): string {
  const text = document.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
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
  /** How the last analysis was made, for logs and tests. */
  lastWay: 'full' | 'patched' | undefined;

  /** For TextDocuments: applies the editor's changes as usual and notes the lines they touch. */
  documentsConfiguration(): TextDocumentsConfiguration<TextDocument> {
    return {
      create: (uri, languageId, version, content) => TextDocument.create(uri, languageId, version, content),
      update: (document, changes, version) => {
        this.note(document, changes);
        return TextDocument.update(document, changes, version);
      },
    };
  }

  private note(document: TextDocument, changes: readonly TextDocumentContentChangeEvent[]): void {
    const pending = this.pending.get(document.uri);
    if (!pending || pending.since !== this.entries.get(document.uri)?.version) {
      // Edits count from the version last analysed; without one there is nothing to patch.
      const entry = this.entries.get(document.uri);
      if (!entry?.analysis) return;
      this.pending.set(document.uri, { since: entry.version, oldLines: new Map() });
      return this.note(document, changes);
    }
    const oldLines = pending.oldLines;
    if (!oldLines) return;
    for (const change of changes) {
      if (!('range' in change) || change.range.start.line !== change.range.end.line || /[\r\n]/.test(change.text) || oldLines.size > 64) {
        pending.oldLines = undefined;
        return;
      }
      const line = change.range.start.line;
      if (line >= document.lineCount) {
        pending.oldLines = undefined;
        return;
      }
      if (!oldLines.has(line)) oldLines.set(line, lineText(document, line));
    }
  }

  get(document: AnalysisSource): Analysis {
    let entry = this.entries.get(document.uri);
    if (!entry || entry.version !== document.version) {
      const patched = entry?.analysis ? this.patch(document, entry) : undefined;
      entry = { version: document.version, analysis: patched };
      this.entries.set(document.uri, entry);
      this.pending.delete(document.uri);
    }
    if (!entry.analysis) {
      entry.analysis = analyze(document.getText(), this.form ? { form: this.form } : {});
      this.lastWay = 'full';
    }
    return entry.analysis;
  }

  /** The analysis of `document` made from the one of an earlier version, when its edits allow. */
  private patch(document: AnalysisSource, entry: Entry): Analysis | undefined {
    const pending = this.pending.get(document.uri);
    if (!pending?.oldLines || pending.since !== entry.version || !isTextDocument(document)) return undefined;
    const edits: LineEdit[] = [];
    for (const [line, oldText] of pending.oldLines) edits.push({ line, oldText, newText: lineText(document, line) });
    const patch = patchAnalysis(entry.analysis!, edits);
    if (!patch) return undefined;
    reviseServiceModel(entry.analysis!, patch);
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

function isTextDocument(document: AnalysisSource): document is AnalysisSource & TextDocument {
  return typeof (document as Partial<TextDocument>).positionAt === 'function' && typeof document.lineCount === 'number';
}
