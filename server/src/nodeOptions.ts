// The Node options the language server runs with: the client starts it with them, and the
// benchmark starts its processes with them, so that its figures are the server's.

/**
 * V8 starts with a small heap limit and, as a large dump's analysis fills the heap, collects it
 * in full at each step of its growth: on the 10k dump a full collection of 80-110 ms during the
 * first analysis. With the old generation's limit starting at 1 GB, the analysis and service
 * model of a dump of up to about 30,000 services (a 700 MB heap) runs without one: at 512 MB the
 * 30k dump was collected in full during its parse (240-300 ms, the marking of 500 MB that is
 * all kept), and its time grew faster than the dump. The limit is how far V8 lets the heap grow
 * before a full collection, not memory taken: a small dump stays small, and the server's peak
 * on the 10k dump is the same at 512 MB, 768 MB and 1 GB (721-728 MB).
 */
export const SERVER_NODE_OPTIONS: readonly string[] = ['--initial-old-space-size=1024'];
