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
  const kube = serviceModelOf(analysis).diagnostics;
  // An endpoint chain nothing jumps to gets the service-aware warning, not also the generic hint.
  const orphans = new Set(kube.filter((d) => d.code === 'orphan-endpoint').map((d) => `${d.span.line}:${d.span.start}`));
  for (const d of [...analysis.diagnostics, ...kube]) {
    if (d.code === 'unused-chain' && (!settings.unusedChains || orphans.has(`${d.span.line}:${d.span.start}`))) continue;
    const diagnostic: LspDiagnostic = { range: toRange(d.span), severity: SEVERITY[d.severity], code: d.code, source: 'netfilter', message: d.message };
    if (d.unnecessary) diagnostic.tags = [DiagnosticTag.Unnecessary];
    result.push(diagnostic);
  }
  return result;
}
