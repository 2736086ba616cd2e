import type { Analysis } from '../core/analysis';
import type { Patch } from '../core/incremental';
import type { Span } from '../core/ruleset';
import { buildServiceModel, type ModelReuse, type ServiceModel } from './model';

const models = new WeakMap<Analysis, ServiceModel>();
/** For an analysis patched from another: the other's model, to take over what still holds when this one's is built. */
const predecessors = new WeakMap<Analysis, ModelReuse>();

/** The service model of an analysed dump, built on first use and kept as long as the analysis. */
export function serviceModelOf(analysis: Analysis): ServiceModel {
  let model = models.get(analysis);
  if (!model) {
    model = buildServiceModel(analysis, predecessors.get(analysis));
    predecessors.delete(analysis);
    models.set(analysis, model);
  }
  return model;
}

/**
 * Hands the model of the analysis before an edit to the one after it: kept as it is when every
 * rule still means the same (see carryServiceModel), else built again on first use from what
 * the old one read that the edit left alone.
 */
export function reviseServiceModel(from: Analysis, patch: Patch): void {
  const model = models.get(from);
  if (!model) return;
  if (patch.sameMeaning) carryServiceModel(from, patch.analysis, patch.lines);
  if (!models.has(patch.analysis)) predecessors.set(patch.analysis, { model, changed: patch.rules, chains: patch.chains, lines: patch.lines, jumps: patch.jumps });
}

/**
 * After an edit that left every rule meaning what it meant (see patchAnalysis), the model of
 * the analysis before it holds for the one after it, unless one of its diagnostics stands on
 * an edited line (its columns may have moved): then the model is built again when asked for.
 */
export function carryServiceModel(from: Analysis, to: Analysis, lines: readonly number[]): void {
  const model = models.get(from);
  if (!model) return;
  const edited = new Set(lines);
  if (model.diagnostics.some((d) => edited.has(d.span.line))) return;
  models.set(to, model);
}

/** The spans of the diagnostics of the model of an analysis, when it has been built: they move with the lines. */
export function modelDiagnosticSpans(analysis: Analysis): Span[] {
  return models.get(analysis)?.diagnostics.map((d) => d.span) ?? [];
}
