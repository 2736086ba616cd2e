// The Node options the language server runs with: the client starts it with them, and the
// benchmark starts its processes with them, so that its figures are the server's.

/**
 * V8 starts with a small heap limit and, as a large dump's analysis fills the heap, collects it
 * in full at each step of its growth: on the 10k dump a full collection of 80-110 ms during the
 * first analysis. With the old generation's limit starting at 512 MB, the first analysis of a
 * dump of up to about 10,000 services runs without one (in fresh processes: 836-891 ms
 * without, 734-762 ms with). The limit is how far V8 lets the heap grow before a full
 * collection, not memory taken: a small dump stays small.
 */
export const SERVER_NODE_OPTIONS: readonly string[] = ['--initial-old-space-size=512'];
