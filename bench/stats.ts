// Figures over repeated timings, for bench/run.ts and bench/activation.ts.

/** The middle value (the lower middle one of an even count). */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
}

/** The `p`th percentile, by nearest rank. */
export function percentile(xs: number[], p: number): number {
  return [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
}
