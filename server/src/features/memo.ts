import type { Analysis } from '../core/analysis';

/**
 * Answers and indexes kept per analysed version of a document. An analysis is made once per
 * version (analysisCache.ts) and dropped with it, so whatever is kept here is dropped too, and a
 * new version starts afresh. VS Code asks the same version the same question many times (the
 * outline, breadcrumbs and sticky scroll each ask for document symbols; every cursor move on a
 * chain name asks for highlights), so the first answer is kept.
 */
const store = new WeakMap<Analysis, Map<string, unknown>>();

/** The value of `key` for this analysis, made by `make` on first use. */
export function memo<T>(analysis: Analysis, key: string, make: () => T): T {
  let values = store.get(analysis);
  if (!values) store.set(analysis, (values = new Map()));
  if (values.has(key)) return values.get(key) as T;
  const value = make();
  values.set(key, value);
  return value;
}

/**
 * Like memo, for values that also depend on another object (the pod inventory, which is replaced
 * as a whole when it changes): made again when that object is another one.
 */
export function memoWith<D extends object | undefined, T>(analysis: Analysis, key: string, dependency: D, make: () => T): T {
  const slot = memo(analysis, key, () => ({ dependency, value: make() }));
  if (slot.dependency !== dependency) {
    slot.value = make();
    slot.dependency = dependency;
  }
  return slot.value;
}

/** The value of `key` for one object of an analysis (a chain node), made by `make` on first use. */
export function memoFor<K extends object, V>(analysis: Analysis, key: string, object: K, make: () => V): V {
  const values = memo(analysis, key, () => new Map<K, V>());
  let value = values.get(object);
  if (value === undefined) values.set(object, (value = make()));
  return value;
}
