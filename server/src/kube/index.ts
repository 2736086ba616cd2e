import type { Analysis } from '../core/analysis';
import { buildServiceModel, type ServiceModel } from './model';

const models = new WeakMap<Analysis, ServiceModel>();

/** The service model of an analysed dump, built on first use and kept as long as the analysis. */
export function serviceModelOf(analysis: Analysis): ServiceModel {
  let model = models.get(analysis);
  if (!model) {
    model = buildServiceModel(analysis);
    models.set(analysis, model);
  }
  return model;
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
