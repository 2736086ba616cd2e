import { type Diagnostic as LspDiagnostic, DiagnosticSeverity, DiagnosticTag } from 'vscode-languageserver';
import type { Analysis } from '../core/analysis';
import type { Severity } from '../core/ruleset';
import { serviceModelOf } from '../kube';
import { toRange } from './ranges';

export interface DiagnosticSettings {
  unusedChains: boolean;
}

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function diagnostics(analysis: Analysis, settings: DiagnosticSettings): LspDiagnostic[] {
  const result: LspDiagnostic[] = [];
  for (const d of [...analysis.diagnostics, ...serviceModelOf(analysis).diagnostics]) {
    if (d.code === 'unused-chain' && !settings.unusedChains) continue;
    const diagnostic: LspDiagnostic = { range: toRange(d.span), severity: SEVERITY[d.severity], code: d.code, source: 'netfilter', message: d.message };
    if (d.unnecessary) diagnostic.tags = [DiagnosticTag.Unnecessary];
    result.push(diagnostic);
  }
  return result;
}
