import { type FoldingRange, FoldingRangeKind } from 'vscode-languageserver';
import type { Analysis } from '../core/analysis';

/** Folds each table, its block of chain declarations, and each run of rules of one chain. */
export function foldingRanges(analysis: Analysis): FoldingRange[] {
  const ranges: FoldingRange[] = [];
  for (const table of analysis.ruleset.tables) {
    if (table.endLine > table.headerLine) ranges.push({ startLine: table.headerLine, endLine: table.endLine, kind: FoldingRangeKind.Region });
    const declarationLines = [...table.chains.values()].flatMap((c) => (c.declaration ? [c.declaration.line] : [])).sort((a, b) => a - b);
    let runStart = 0;
    for (let i = 1; i <= declarationLines.length; i++) {
      if (i < declarationLines.length && declarationLines[i] === declarationLines[i - 1]! + 1) continue;
      if (i - 1 > runStart) ranges.push({ startLine: declarationLines[runStart]!, endLine: declarationLines[i - 1]! });
      runStart = i;
    }
    let first = table.rules[0];
    for (let i = 1; i <= table.rules.length; i++) {
      const rule = table.rules[i];
      const previous = table.rules[i - 1]!;
      if (rule && first && rule.chain === first.chain && rule.line === previous.line + 1) continue;
      if (first && previous.line > first.line) ranges.push({ startLine: first.line, endLine: previous.line });
      first = rule;
    }
  }
  return ranges;
}
