import { analyze, type Analysis } from './core/analysis';
import type { DumpForm } from './core/ruleset';

interface Entry {
  version: number;
  analysis: Analysis | undefined;
}

export interface AnalysisSource {
  uri: string;
  version: number;
  getText(): string;
}

/** One analysis per document version, computed on first use and forgotten when the document closes. */
export class AnalysisCache {
  private readonly entries = new Map<string, Entry>();
  form: DumpForm | undefined;

  get(document: AnalysisSource): Analysis {
    let entry = this.entries.get(document.uri);
    if (!entry || entry.version !== document.version) {
      entry = { version: document.version, analysis: undefined };
      this.entries.set(document.uri, entry);
    }
    if (!entry.analysis) entry.analysis = analyze(document.getText(), this.form ? { form: this.form } : {});
    return entry.analysis;
  }

  /** The analysis already computed for this version, without computing one. */
  peek(uri: string, version: number): Analysis | undefined {
    const entry = this.entries.get(uri);
    return entry && entry.version === version ? entry.analysis : undefined;
  }

  forget(uri: string): void {
    this.entries.delete(uri);
  }

  clear(): void {
    this.entries.clear();
  }
}
