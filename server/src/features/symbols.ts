import { type DocumentSymbol, type Range, type SymbolInformation, SymbolKind } from 'vscode-languageserver';
import type { Analysis } from '../core/analysis';
import { type Chain, chainSpanOf, type Table } from '../core/ruleset';
import { memo } from './memo';
import { toRange } from './ranges';

/** `1 rule`, `12,345 chains`. */
export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

export function chainDetail(chain: Chain): string {
  const parts = [plural(chain.rules.length, 'rule')];
  if (chain.builtin && chain.policy && chain.policy !== '-') parts.unshift(`policy ${chain.policy}`);
  return parts.join(' · ');
}

/** Whether the chain has a place in the file: declared, or given rules. Jump-only names do not. */
export function isWritten(chain: Chain): boolean {
  return chain.declaration !== undefined || chain.rules.length > 0;
}

/** Each table's written chains, in the order of its chains; once per version. */
export function writtenChains(analysis: Analysis): Array<{ table: Table; chains: Chain[] }> {
  return memo(analysis, 'writtenChains', () =>
    analysis.ruleset.tables.map((table) => {
      const chains: Chain[] = [];
      for (const chain of table.chains.values()) if (isWritten(chain)) chains.push(chain);
      return { table, chains };
    }),
  );
}

/**
 * Up to this many chains in a document, the outline lists every chain under its table. VS Code's
 * outline, breadcrumbs and Go to Symbol in Editor slow down long before 100,000 symbols (the
 * outline of a 10,000-service dump would be 26 MB), so above it chains are grouped (see below).
 */
export const OUTLINE_MAX_CHAINS = 5_000;
/** In a grouped outline, a group holds at most this many chains; longer runs are cut into pages (as in the Chains view). */
export const OUTLINE_PAGE_SIZE = 500;
/** In a grouped outline, runs of fewer chains with one name prefix are listed chain by chain. */
const OUTLINE_MIN_GROUP = 10;
/** A grouped outline has at most this many symbols: chains are listed inside the smaller groups while they fit. */
export const OUTLINE_MAX_SYMBOLS = 5_000;
/** A table whose chains make more runs than this (names interleaved) is cut into pages in document order instead. */
const OUTLINE_MAX_RUNS = 1_000;

/** A chain's symbol, with the range of its rules (so that breadcrumbs name the chain while reading them). */
function chainSymbol(chain: Chain): DocumentSymbol {
  const first = chain.rules[0];
  const selection = toRange(first ? chainSpanOf(first) : chain.declaration!);
  const range = first ? { start: { line: first.line, character: 0 }, end: endOf(chain) } : selection;
  return { name: chain.name, detail: chainDetail(chain), kind: chain.builtin ? SymbolKind.Event : SymbolKind.Function, range, selectionRange: selection };
}

function tableSymbol(table: Table, chainCount: number, children: DocumentSymbol[]): DocumentSymbol {
  return {
    name: table.name,
    detail: `${plural(chainCount, 'chain')} · ${plural(table.rules.length, 'rule')}`,
    kind: SymbolKind.Namespace,
    range: { start: { line: table.headerLine, character: 0 }, end: { line: table.endLine, character: table.committed ? 'COMMIT'.length : 0 } },
    selectionRange: toRange(table.nameSpan),
    children,
  };
}

/** `KUBE-SEP-` for `KUBE-SEP-ABC`: the name up to its last `-`, as the outline and the Chains view group; none for `PREROUTING`. */
export function prefixOf(name: string): string | undefined {
  const i = name.lastIndexOf('-');
  return i > 0 ? name.slice(0, i + 1) : undefined;
}

/** The line a chain's symbol starts on: its first rule, else its declaration. Distinct for each written chain. */
function placeOf(chain: Chain): number {
  return chain.rules[0]?.line ?? chain.declaration!.line;
}

/** Where a chain's symbol ends: the end of its last rule, else of its declaration. */
function endOf(chain: Chain): Range['end'] {
  const last = chain.rules[chain.rules.length - 1];
  return last ? { line: last.line, character: last.end } : { line: chain.declaration!.line, character: chain.declaration!.end };
}

/** A run of chains in document order shown as one symbol: its range spans theirs. */
interface Group {
  name: string;
  detail: string;
  chains: Chain[];
  /** A page of a longer run (or of a table in document order): its chains are never listed inside it. */
  page: boolean;
  /** Whether the chains are listed inside it. */
  listed: boolean;
}

function groupSymbol(group: Group): DocumentSymbol {
  const first = chainSymbol(group.chains[0]!);
  let end = first.range.end;
  for (const chain of group.chains) {
    const e = endOf(chain);
    if (e.line > end.line || (e.line === end.line && e.character > end.character)) end = e;
  }
  return {
    name: group.name,
    detail: group.detail,
    kind: SymbolKind.Package,
    range: { start: first.range.start, end },
    selectionRange: first.selectionRange,
    ...(group.listed ? { children: group.chains.map(chainSymbol) } : {}),
  };
}

/** `KUBE-SEP-` pages: `KUBE-SEP-* (3 of 200)`, detail `2CL4… – 4FXA… · 500 chains`. */
function pagesOf(label: string, prefix: string, chains: Chain[]): Group[] {
  const count = Math.ceil(chains.length / OUTLINE_PAGE_SIZE);
  const short = (name: string) => (prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name);
  const groups: Group[] = [];
  for (let i = 0; i < chains.length; i += OUTLINE_PAGE_SIZE) {
    const page = chains.slice(i, i + OUTLINE_PAGE_SIZE);
    const name = count === 1 ? label : `${label} (${i / OUTLINE_PAGE_SIZE + 1} of ${count})`;
    const detail = `${short(page[0]!.name)} – ${short(page[page.length - 1]!.name)} · ${plural(page.length, 'chain')}`;
    groups.push({ name, detail, chains: page, page: true, listed: false });
  }
  return groups;
}

/**
 * The children of a table in a grouped outline. Its chains, in document order, form runs of one
 * name prefix (`KUBE-SEP-`): a short run stays chain by chain, a longer one becomes a group
 * `KUBE-SEP-*`, cut into pages of OUTLINE_PAGE_SIZE. When names interleave too much for that
 * (one run per chain), the table is cut into pages in document order. Groups never overlap, so
 * breadcrumbs name the group (or the chain) the cursor is in.
 */
function groupedChildren(chains: Chain[]): Array<Chain | Group> {
  const runs: Array<{ prefix: string | undefined; chains: Chain[] }> = [];
  let last: { prefix: string | undefined; chains: Chain[] } | undefined;
  for (const chain of chains) {
    // Same run when the name has the last run's prefix and no '-' after it.
    const name = chain.name;
    if (last?.prefix !== undefined && name.startsWith(last.prefix) && name.indexOf('-', last.prefix.length) === -1 && name.length > last.prefix.length) {
      last.chains.push(chain);
      continue;
    }
    last = { prefix: prefixOf(name), chains: [chain] };
    runs.push(last);
  }
  if (runs.length > OUTLINE_MAX_RUNS) {
    const pages = pagesOf('chains', '', chains);
    return pages.map((p, i) => ({ ...p, name: `chains ${(i * OUTLINE_PAGE_SIZE + 1).toLocaleString('en-US')}–${(i * OUTLINE_PAGE_SIZE + p.chains.length).toLocaleString('en-US')}` }));
  }
  const out: Array<Chain | Group> = [];
  for (const run of runs) {
    if (run.prefix === undefined || run.chains.length < OUTLINE_MIN_GROUP) out.push(...run.chains);
    else if (run.chains.length <= OUTLINE_PAGE_SIZE) out.push({ name: `${run.prefix}*`, detail: plural(run.chains.length, 'chain'), chains: run.chains, page: false, listed: false });
    else out.push(...pagesOf(`${run.prefix}*`, run.prefix, run.chains));
  }
  return out;
}

/** Chains in the order their symbols start in the document. */
function inDocumentOrder(chains: Chain[]): Chain[] {
  return [...chains].sort((a, b) => placeOf(a) - placeOf(b));
}

function isGroup(item: Chain | Group): item is Group {
  return 'page' in item;
}

function buildOutline(analysis: Analysis): DocumentSymbol[] {
  const tables = writtenChains(analysis);
  const total = tables.reduce((n, t) => n + t.chains.length, 0);
  if (total <= OUTLINE_MAX_CHAINS) return tables.map(({ table, chains }) => tableSymbol(table, chains.length, chains.map(chainSymbol)));

  // Grouped: tables of up to a page of chains stay as they are; the others get groups and pages.
  const children = tables.map(({ chains }) => (chains.length <= OUTLINE_PAGE_SIZE ? chains : groupedChildren(inDocumentOrder(chains))));
  let budget = OUTLINE_MAX_SYMBOLS - tables.length;
  for (const list of children) budget -= list.length;
  // Chains are listed inside the smallest groups first, while the outline stays within its budget.
  const groups = children.flat().filter((c): c is Group => isGroup(c) && !c.page);
  for (const group of groups.sort((a, b) => a.chains.length - b.chains.length)) {
    if (group.chains.length > budget) break;
    group.listed = true;
    budget -= group.chains.length;
  }
  for (const list of children) {
    for (const c of list) if (isGroup(c) && !c.listed) c.detail = `${c.detail}, each in Go to Symbol in Workspace`;
  }
  return tables.map(({ table, chains }, i) => tableSymbol(table, chains.length, children[i]!.map((c) => (isGroup(c) ? groupSymbol(c) : chainSymbol(c)))));
}

/**
 * The outline: table → chain, with policies and rule counts. A document with more than
 * OUTLINE_MAX_CHAINS chains gets a grouped outline (see groupedChildren); Go to Symbol in
 * Workspace and Go to Chain… still reach every chain. Made once per version.
 */
export function documentSymbols(analysis: Analysis): DocumentSymbol[] {
  return memo(analysis, 'documentSymbols', () => buildOutline(analysis));
}

/** True when every character of the query appears in the name in order (VS Code's own matching is looser still). */
function matchesQuery(name: string, query: string): boolean {
  if (query === '') return true;
  let at = 0;
  for (const c of query) {
    at = name.indexOf(c, at);
    if (at === -1) return false;
    at++;
  }
  return true;
}

const WORKSPACE_SYMBOL_LIMIT = 2000;

/** Written chains with their lower-cased names, once per version. */
function chainNames(analysis: Analysis): Array<{ chain: Chain; table: Table; lower: string }> {
  return memo(analysis, 'chainNames', () => {
    const list: Array<{ chain: Chain; table: Table; lower: string }> = [];
    for (const { table, chains } of writtenChains(analysis)) for (const chain of chains) list.push({ chain, table, lower: chain.name.toLowerCase() });
    return list;
  });
}

export function workspaceSymbols(documents: Iterable<[string, Analysis]>, query: string): SymbolInformation[] {
  const result: SymbolInformation[] = [];
  const lowerQuery = query.toLowerCase();
  for (const [uri, analysis] of documents) {
    for (const { chain, table, lower } of chainNames(analysis)) {
      if (!matchesQuery(lower, lowerQuery)) continue;
      const span = chain.declaration ?? chainSpanOf(chain.rules[0]!);
      result.push({ name: chain.name, kind: chain.builtin ? SymbolKind.Event : SymbolKind.Function, containerName: table.name, location: { uri, range: toRange(span) } });
      if (result.length >= WORKSPACE_SYMBOL_LIMIT) return result;
    }
  }
  return result;
}
