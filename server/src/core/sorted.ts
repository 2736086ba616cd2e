/** The first index at or after `from` whose item's key is not below `value`, in a list sorted by that key. */
export function lowerBound<T>(sorted: ArrayLike<T>, value: number, keyOf: (item: T) => number, from = 0): number {
  let low = from;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (keyOf(sorted[mid]!) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The key of a list of numbers: the number. */
export const itself = (n: number): number => n;
