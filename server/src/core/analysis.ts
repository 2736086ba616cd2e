import { buildChainGraph, type ChainGraph, type ChainNode, type NodeMap, type TableGraph } from './graph';
import { parseRuleset, type ParseOptions } from './parser';
import { lowerBound } from './sorted';
import { chainNameOf, chainSpanOf, type Diagnostic, lineTextAt, type Rule, type Ruleset, type Span, type Table, targetOf } from './ruleset';

/** How a chain name appears at a place in the text. */
export type OccurrenceRole =
  /** `:NAME POLICY [p:b]` or `-N NAME` */
  | 'declaration'
  /** the chain a rule belongs to: `-A NAME ...` */
  | 'rule'
  /** `-j NAME` */
  | 'jump'
  /** `-g NAME` */
  | 'goto'
  /** `-X NAME`, `-F NAME`, `-P NAME`, `-Z NAME` */
  | 'command'
  /** the name inside a comment or a `-m recent --name` */
  | 'mention';

export interface ChainOccurrence {
  span: Span;
  role: OccurrenceRole;
  node: ChainNode;
}

/**
 * Everything the language features need about one version of a dump, computed once. Kept
 * compact for dumps of a million lines: places where chains are named are found from the
 * rules on demand rather than stored one object per name.
 */
export interface Analysis {
  ruleset: Ruleset;
  graph: ChainGraph;
  diagnostics: Diagnostic[];
  /** The rule on each line, if any; made on first use (indexLines). */
  readonly rulesByLine: Array<Rule | undefined>;
  /** The chain each `:NAME` or `-N NAME` line declares; made on first use (indexLines). */
  readonly declarationsByLine: DeclarationIndex;
  /** Comment and `--name` mentions of chains, by chain; built on first use. */
  mentions: Map<ChainNode, ChainOccurrence[]> | undefined;
}

/** Diagnostics in document order. */
export function diagnosticOrder(a: Diagnostic, b: Diagnostic): number {
  return a.span.line - b.span.line || a.span.start - b.span.start;
}

const MENTION_RE = /[A-Za-z0-9][A-Za-z0-9_.:-]*/g;

export function analyze(text: string, options: ParseOptions = {}): Analysis {
  const ruleset = parseRuleset(text, options);
  return analysisOf(ruleset, buildChainGraph(ruleset));
}

/**
 * An analysis of these parts, its diagnostics gathered in document order. The indexes by line
 * are the ones given, or made when first asked for: neither the diagnostics nor the service
 * model need them, and on a large dump they take about 30 ms the server spends after
 * publishing the diagnostics (indexLines) instead of before.
 */
export function analysisOf(ruleset: Ruleset, graph: ChainGraph, rulesByLine?: Array<Rule | undefined>, declarationsByLine?: DeclarationIndex): Analysis {
  let byLine = rulesByLine;
  let declarations = declarationsByLine;
  return {
    ruleset,
    graph,
    diagnostics: [...ruleset.diagnostics, ...graph.diagnostics].sort(diagnosticOrder),
    get rulesByLine(): Array<Rule | undefined> {
      if (byLine === undefined) {
        byLine = new Array<Rule | undefined>(ruleset.lineCount);
        for (const table of ruleset.tables) for (const rule of table.rules) byLine[rule.line] = rule;
      }
      return byLine;
    },
    get declarationsByLine(): DeclarationIndex {
      return (declarations ??= DeclarationIndex.of(graph));
    },
    mentions: undefined,
  };
}

const declarationLine = (node: ChainNode) => node.chain.declaration!.line;

/**
 * The chains declared in a dump, found by the line of their declaration: the nodes in the order
 * of those lines. Moving lines (shiftLines) moves the declarations' spans in place and keeps
 * that order, so the index holds after a line break without being made again.
 */
export class DeclarationIndex {
  private constructor(private readonly nodes: readonly ChainNode[]) {}

  static of(graph: ChainGraph): DeclarationIndex {
    const nodes: ChainNode[] = [];
    for (const table of graph.tables) for (const node of table.nodes.values()) if (node.chain.declaration) nodes.push(node);
    // In line order already when each table declares its chains before its rules, as iptables-save writes them.
    for (let i = 1; i < nodes.length; i++) {
      if (declarationLine(nodes[i - 1]!) > declarationLine(nodes[i]!)) {
        nodes.sort((a, b) => declarationLine(a) - declarationLine(b));
        break;
      }
    }
    return new DeclarationIndex(nodes);
  }

  /** The chain declared on the line. */
  get(line: number): ChainNode | undefined {
    const node = this.nodes[lowerBound(this.nodes, line, declarationLine)];
    return node !== undefined && declarationLine(node) === line ? node : undefined;
  }

  has(line: number): boolean {
    return this.get(line) !== undefined;
  }
}

/** Makes the analysis's indexes by line now, so that the first request or edit does not wait for them. */
export function indexLines(analysis: Analysis): void {
  // Reading them makes them.
  void analysis.rulesByLine;
  void analysis.declarationsByLine;
}

/** The table a line belongs to: the last one whose header is at or above it. */
export function tableAtLine(analysis: Analysis, line: number): Table | undefined {
  const tables = analysis.ruleset.tables;
  let low = 0;
  let high = tables.length - 1;
  let found: Table | undefined;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (tables[mid]!.headerLine <= line) {
      found = tables[mid];
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found;
}

export function tableGraphAtLine(analysis: Analysis, line: number): TableGraph | undefined {
  const table = tableAtLine(analysis, line);
  return table ? analysis.graph.byTable.get(table) : undefined;
}

/** Chain names in a rule's comment (`... not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C`) and its `-m recent --name`. */
function ruleMentions(rule: Rule, nodes: NodeMap): ChainOccurrence[] {
  const found: ChainOccurrence[] = [];
  const name = rule.recent?.name;
  if (name && !name.quoted) {
    const node = nodes.get(name.text);
    if (node) found.push({ span: { line: rule.line, start: name.start, end: name.end }, role: 'mention', node });
  }
  if (rule.comment !== undefined && rule.comment.includes('KUBE-')) {
    const start = rule.commentStart;
    const raw = lineTextAt(rule, start, rule.commentEnd);
    MENTION_RE.lastIndex = 0;
    for (let m = MENTION_RE.exec(raw); m; m = MENTION_RE.exec(raw)) {
      const node = nodes.get(m[0]);
      if (node) found.push({ span: { line: rule.line, start: start + m.index, end: start + m.index + m[0].length }, role: 'mention', node });
    }
  }
  return found;
}

/** Every chain name on a line, left to right. */
export function occurrencesOnLine(analysis: Analysis, line: number): ChainOccurrence[] {
  const found: ChainOccurrence[] = [];
  const declared = analysis.declarationsByLine.get(line);
  if (declared) found.push({ span: declared.chain.declaration!, role: 'declaration', node: declared });
  const graph = tableGraphAtLine(analysis, line);
  if (!graph) return found;
  const rule = analysis.rulesByLine[line];
  if (rule) {
    const own = graph.nodes.get(chainNameOf(rule));
    if (own) found.push({ span: chainSpanOf(rule), role: 'rule', node: own });
    found.push(...ruleMentions(rule, graph.nodes));
    const target = rule.targetName !== undefined ? graph.nodes.get(rule.targetName) : undefined;
    if (target) found.push({ span: targetOf(rule)!, role: rule.targetKind, node: target });
  } else if (!declared) {
    for (const command of graph.table.chainCommands) {
      if (command.line !== line || !command.chainSpan || command.chainName === undefined || command.command === 'new-chain') continue;
      const node = graph.nodes.get(command.chainName);
      if (node) found.push({ span: command.chainSpan, role: 'command', node });
    }
  }
  return found.sort((a, b) => a.span.start - b.span.start);
}

/** The chain name under a cursor, if any. */
export function occurrenceAt(analysis: Analysis, line: number, character: number): ChainOccurrence | undefined {
  return occurrencesOnLine(analysis, line).find((o) => character >= o.span.start && character <= o.span.end);
}

/** Whether a rule may name chains in its comment or `--name` (ruleMentions). */
export function mayMention(rule: Rule): boolean {
  return rule.recent?.name !== undefined || (rule.comment !== undefined && rule.comment.includes('KUBE-'));
}

function mentionsOf(analysis: Analysis, node: ChainNode): ChainOccurrence[] {
  if (!analysis.mentions) {
    const mentions = new Map<ChainNode, ChainOccurrence[]>();
    for (const { table, nodes } of analysis.graph.tables) {
      for (const rule of table.rules) {
        if (!mayMention(rule)) continue;
        for (const occurrence of ruleMentions(rule, nodes)) {
          const list = mentions.get(occurrence.node);
          if (list) list.push(occurrence);
          else mentions.set(occurrence.node, [occurrence]);
        }
      }
    }
    analysis.mentions = mentions;
  }
  return analysis.mentions.get(node) ?? [];
}

/** Every place a chain is named in its table, in document order: declaration first. */
export function occurrencesOf(analysis: Analysis, node: ChainNode): ChainOccurrence[] {
  const found: ChainOccurrence[] = [];
  const declaration = node.chain.declaration;
  for (const command of node.table.chainCommands) {
    if (command.chainName === node.chain.name && command.chainSpan && command.command !== 'new-chain') found.push({ span: command.chainSpan, role: 'command', node });
  }
  for (const rule of node.chain.rules) found.push({ span: chainSpanOf(rule), role: 'rule', node });
  for (const jump of node.incoming) found.push({ span: targetOf(jump.rule)!, role: jump.kind, node });
  found.push(...mentionsOf(analysis, node));
  found.sort((a, b) => a.span.line - b.span.line || a.span.start - b.span.start);
  return declaration ? [{ span: declaration, role: 'declaration', node }, ...found] : found;
}

/** The declaration of a chain, when a line declares it. */
export function definitionOf(node: ChainNode): ChainOccurrence | undefined {
  const declaration = node.chain.declaration;
  return declaration ? { span: declaration, role: 'declaration', node } : undefined;
}
