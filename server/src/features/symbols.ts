import { type DocumentSymbol, type SymbolInformation, SymbolKind } from 'vscode-languageserver';
import type { Analysis } from '../core/analysis';
import type { Chain, Table } from '../core/ruleset';
import { lineRange, toRange } from './ranges';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function chainDetail(chain: Chain): string {
  const parts = [plural(chain.rules.length, 'rule')];
  if (chain.builtin && chain.policy && chain.policy !== '-') parts.unshift(`policy ${chain.policy}`);
  return parts.join(' · ');
}

/** Whether the chain has a place in the file: declared, or given rules. Jump-only names do not. */
function isWritten(chain: Chain): boolean {
  return chain.declaration !== undefined || chain.rules.length > 0;
}

function chainSymbol(chain: Chain): DocumentSymbol {
  const first = chain.rules[0];
  const last = chain.rules[chain.rules.length - 1];
  // The outline's range covers the chain's rules, so breadcrumbs name the chain while reading them.
  const selection = first ? toRange(first.chainSpan) : toRange(chain.declaration!);
  const range = first && last ? lineRange(first.line, 0, last.end) : selection;
  if (first && last) range.end = { line: last.line, character: last.end };
  return { name: chain.name, detail: chainDetail(chain), kind: chain.builtin ? SymbolKind.Event : SymbolKind.Function, range, selectionRange: selection };
}

function tableSymbol(table: Table): DocumentSymbol {
  const chains = [...table.chains.values()].filter(isWritten);
  const children = chains.map(chainSymbol);
  const range = lineRange(table.headerLine, 0, 0);
  range.end = { line: table.endLine, character: table.committed ? 'COMMIT'.length : 0 };
  return {
    name: table.name,
    detail: `${plural(chains.length, 'chain')} · ${plural(table.rules.length, 'rule')}`,
    kind: SymbolKind.Namespace,
    range,
    selectionRange: { start: { line: table.nameSpan.line, character: table.nameSpan.start }, end: { line: table.nameSpan.line, character: table.nameSpan.end } },
    children,
  };
}

export function documentSymbols(analysis: Analysis): DocumentSymbol[] {
  return analysis.ruleset.tables.map(tableSymbol);
}

/** True when every character of the query appears in the name in order (VS Code's own matching is looser still). */
function matchesQuery(name: string, query: string): boolean {
  if (query === '') return true;
  const lower = name.toLowerCase();
  let at = 0;
  for (const c of query.toLowerCase()) {
    at = lower.indexOf(c, at);
    if (at === -1) return false;
    at++;
  }
  return true;
}

export const WORKSPACE_SYMBOL_LIMIT = 2000;

export function workspaceSymbols(documents: Iterable<[string, Analysis]>, query: string): SymbolInformation[] {
  const result: SymbolInformation[] = [];
  for (const [uri, analysis] of documents) {
    for (const table of analysis.ruleset.tables) {
      for (const chain of table.chains.values()) {
        if (!isWritten(chain) || !matchesQuery(chain.name, query)) continue;
        const span = chain.declaration ?? chain.rules[0]!.chainSpan;
        result.push({ name: chain.name, kind: chain.builtin ? SymbolKind.Event : SymbolKind.Function, containerName: table.name, location: { uri, range: toRange(span) } });
        if (result.length >= WORKSPACE_SYMBOL_LIMIT) return result;
      }
    }
  }
  return result;
}
