// The Node options the language server runs with: the client starts it with them, and the
// benchmark starts its processes with them, so that its figures are the server's.

/**
 * V8 starts with a heap limit of a few MB and, when a large dump's analysis fills the heap,
 * collects it in full at each step as it grows it: on the 10k dump a full collection of about
 * 100 ms during the first analysis, and the optimized code compiled again after it. Starting the
 * old generation's limit at 512 MB, the first analysis of a dump of up to about 10,000 services
 * runs without one (measured in fresh processes: 836-891 ms without, 734-762 ms with). The
 * limit is what V8 lets the heap reach before collecting in full, not memory taken: a small dump
 * stays small.
 */
export const SERVER_NODE_OPTIONS: readonly string[] = ['--initial-old-space-size=512'];
