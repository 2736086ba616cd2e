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
