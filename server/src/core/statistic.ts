/**
 * The statistic match keeps its probability as an integer: lround(p * 2^31) (libxt_statistic),
 * and matches when (random & 0x7FFFFFFF) < that integer. iptables-save prints it back as
 * %.11f of integer / 2^31, so kube-proxy's 0.3333333333 is stored, printed and used as
 * 715827883 / 2^31 = 0.33333333349 (rounded).
 */
export const STATISTIC_SCALE = 0x80000000;

/** The probability the kernel really uses for `--probability text`, or undefined when the text is not a number in [0, 1]. */
export function kernelProbability(text: string): number | undefined {
  if (!/^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1) return undefined;
  return Math.round(value * STATISTIC_SCALE) / STATISTIC_SCALE;
}

/** What kube-proxy writes for endpoint i (0-based) of n: 1/(n-i) with %0.10f, as the kernel then stores it. */
export function kubeProxyProbability(index: number, count: number): number {
  return kernelProbability((1 / (count - index)).toFixed(10))!;
}

/** A share as a percentage for people: 50 %, 33.3 %, 8.33 %, 0.012 %. */
export function formatShare(share: number): string {
  const percent = share * 100;
  const text = percent >= 10 ? percent.toFixed(1) : percent >= 1 ? percent.toFixed(2) : percent === 0 ? '0' : percent.toPrecision(2);
  return `${text.includes('.') ? text.replace(/\.?0+$/, '') : text} %`;
}
