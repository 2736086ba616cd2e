import { buildChainGraph, type ChainGraph, type ChainNode } from './graph';
import { parseRuleset, type ParseOptions } from './parser';
import type { Diagnostic, Rule, Ruleset, Span, Table } from './ruleset';

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

export interface RuleLocation {
  table: Table;
  rule: Rule;
}

/** Everything the language features need about one version of a dump, computed once. */
export interface Analysis {
  ruleset: Ruleset;
  graph: ChainGraph;
  diagnostics: Diagnostic[];
  /** Chain names on each line, left to right. */
  occurrencesByLine: Array<ChainOccurrence[] | undefined>;
  occurrencesByNode: Map<ChainNode, ChainOccurrence[]>;
  rulesByLine: Array<RuleLocation | undefined>;
}

const MENTION_RE = /[A-Za-z0-9][A-Za-z0-9_.:-]*/g;

export function analyze(text: string, options: ParseOptions = {}): Analysis {
  const ruleset = parseRuleset(text, options);
  const graph = buildChainGraph(ruleset);
  const occurrencesByLine: Array<ChainOccurrence[] | undefined> = new Array(ruleset.lineCount);
  const occurrencesByNode = new Map<ChainNode, ChainOccurrence[]>();
  const rulesByLine: Array<RuleLocation | undefined> = new Array(ruleset.lineCount);

  const add = (node: ChainNode | undefined, span: Span, role: OccurrenceRole): void => {
    if (!node) return;
    const occurrence: ChainOccurrence = { span, role, node };
    const onLine = occurrencesByLine[span.line];
    if (onLine) onLine.push(occurrence);
    else occurrencesByLine[span.line] = [occurrence];
    const ofNode = occurrencesByNode.get(node);
    if (ofNode) ofNode.push(occurrence);
    else occurrencesByNode.set(node, [occurrence]);
  };

  for (const tableGraph of graph.tables) {
    const { table, nodes } = tableGraph;
    // Declarations first so that a chain's first occurrence is its definition.
    for (const node of nodes.values()) {
      if (node.chain.declaration) add(node, node.chain.declaration, 'declaration');
    }
    for (const command of table.chainCommands) {
      if (command.chainSpan && command.chainName !== undefined && command.command !== 'new-chain') {
        add(nodes.get(command.chainName), command.chainSpan, 'command');
      }
    }
    for (const rule of table.rules) {
      rulesByLine[rule.line] = { table, rule };
      add(nodes.get(rule.chainName), rule.chainSpan, 'rule');
      for (const match of rule.matches) {
        if (match.module !== 'recent') continue;
        for (const option of match.options) {
          const value = option.values[0];
          if (option.key === 'name' && value && !value.quoted) add(nodes.get(value.text), { line: rule.line, start: value.start, end: value.end }, 'mention');
        }
      }
      const commentArg = rule.commentArg;
      if (commentArg && rule.comment !== undefined && rule.comment.includes('KUBE-')) {
        addCommentMentions(rule, commentArg.start, commentArg.end, tableGraph.nodes, add, text, ruleset);
      }
      const target = rule.target;
      if (target) add(nodes.get(target.name), { line: rule.line, start: target.start, end: target.end }, target.kind);
    }
  }
  for (const onLine of occurrencesByLine) onLine?.sort((a, b) => a.span.start - b.span.start);

  return {
    ruleset,
    graph,
    diagnostics: [...ruleset.diagnostics, ...graph.diagnostics].sort((a, b) => a.span.line - b.span.line || a.span.start - b.span.start),
    occurrencesByLine,
    occurrencesByNode,
    rulesByLine,
  };
}

/** Chain names written in a comment (`... not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C`) become references too. */
function addCommentMentions(
  rule: Rule,
  start: number,
  end: number,
  nodes: Map<string, ChainNode>,
  add: (node: ChainNode | undefined, span: Span, role: OccurrenceRole) => void,
  text: string,
  ruleset: Ruleset,
): void {
  const lineText = lineOf(text, rule.line, ruleset);
  if (lineText === undefined) return;
  const raw = lineText.slice(start, end);
  MENTION_RE.lastIndex = 0;
  for (let m = MENTION_RE.exec(raw); m; m = MENTION_RE.exec(raw)) {
    const node = nodes.get(m[0]);
    if (node) add(node, { line: rule.line, start: start + m.index, end: start + m.index + m[0].length }, 'mention');
  }
}

/** The text of one line, found through an offset table built once per text. */
const lineStartsCache = new WeakMap<Ruleset, number[]>();
function lineOf(text: string, line: number, ruleset: Ruleset): string | undefined {
  let starts = lineStartsCache.get(ruleset);
  if (!starts) {
    starts = [0];
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    lineStartsCache.set(ruleset, starts);
  }
  const from = starts[line];
  if (from === undefined) return undefined;
  const to = starts[line + 1];
  return text.slice(from, to === undefined ? text.length : to - 1);
}

/** The chain name under a cursor, if any. */
export function occurrenceAt(analysis: Analysis, line: number, character: number): ChainOccurrence | undefined {
  const onLine = analysis.occurrencesByLine[line];
  if (!onLine) return undefined;
  for (const occurrence of onLine) {
    if (character >= occurrence.span.start && character <= occurrence.span.end) return occurrence;
  }
  return undefined;
}

/** The declaration of a chain, or its first use when no line declares it. */
export function definitionOf(analysis: Analysis, node: ChainNode): ChainOccurrence | undefined {
  const occurrences = analysis.occurrencesByNode.get(node);
  if (!occurrences) return undefined;
  return occurrences.find((o) => o.role === 'declaration');
}
