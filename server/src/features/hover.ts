import { type Hover, MarkupKind, type Position } from 'vscode-languageserver';
import { type Analysis, occurrenceAt } from '../core/analysis';
import type { ChainNode, Jump } from '../core/graph';
import { STANDARD_TARGETS, TARGET_EXTENSIONS, type Counters, targetOf } from '../core/ruleset';
import type { PodInventory } from '../kube/inventory';
import { memoFor } from './memo';
import { isInside, toRange } from './ranges';
import { addressHover, kubeChainMarkdown } from './services';
import { plural, writtenChains } from './symbols';

const NAMES_SHOWN = 10;

const VERDICTS: Record<(typeof STANDARD_TARGETS)[number], string> = {
  ACCEPT: 'verdict: let the packet through; it leaves this table',
  DROP: 'verdict: discard the packet silently',
  RETURN: 'verdict: go back to the calling chain (or apply the policy of a built-in chain)',
  QUEUE: 'verdict: hand the packet to userspace',
};

function counters(c: Counters): string {
  return `${plural(c.packets, 'packet')}, ${plural(c.bytes, 'byte')}`;
}

/**
 * Names of the chains at the other end of some jumps, each once, with how many rules jump. The
 * first NAMES_SHOWN are counted by name; the rest only as a number of chains (KUBE-MARK-MASQ of a
 * large cluster is jumped to from 100,000 chains).
 */
function chainList(jumps: Jump[], end: (j: Jump) => ChainNode): string {
  const shown = new Map<ChainNode, number>();
  // The others are counted once each by marking their node ids: a set of 100,000 chains took
  // most of the first hover of KUBE-MARK-MASQ after each edit.
  let size = 0;
  for (const jump of jumps) size = Math.max(size, end(jump).id + 1);
  const marked = new Uint8Array(size);
  let others = 0;
  for (const jump of jumps) {
    const node = end(jump);
    const n = shown.get(node);
    if (n !== undefined) shown.set(node, n + 1);
    else if (shown.size < NAMES_SHOWN) shown.set(node, 1);
    else if (marked[node.id] === 0) {
      marked[node.id] = 1;
      others++;
    }
  }
  const names = [...shown].map(([node, n]) => (n > 1 ? `\`${node.chain.name}\` (${n} rules)` : `\`${node.chain.name}\``));
  if (others > 0) names.push(`and ${others.toLocaleString('en-US')} more`);
  return names.join(', ');
}

/** The chain part of a hover: made once per chain and version (a large chain's jumps take a while to count). */
function chainHoverMarkdown(analysis: Analysis, node: ChainNode): string {
  return memoFor(analysis, 'chainHover', node, () => chainMarkdown(analysis, node));
}

function chainMarkdown(analysis: Analysis, node: ChainNode): string {
  const { chain, table } = node;
  const kind = chain.builtin ? 'built-in chain' : node.declared ? 'user chain' : 'undeclared chain';
  const lines = [`**${chain.name}** — ${kind} in table \`${table.name}\``, ''];
  const facts: string[] = [];
  if (chain.builtin && chain.policy && chain.policy !== '-') facts.push(`policy ${chain.policy}`);
  facts.push(plural(chain.rules.length, 'rule'));
  if (chain.declaration) facts.push(`declared on line ${chain.declaration.line + 1}`);
  lines.push(facts.join(' · '));
  if (!node.declared) {
    lines.push('', analysis.ruleset.form === 'save'
      ? 'No line of this dump declares it: iptables-restore would fail.'
      : 'Not declared in this file: a partial restore jumps to chains an earlier sync created.');
  }
  if (chain.counters && (chain.builtin || chain.counters.packets > 0)) lines.push('', `Policy counters: ${counters(chain.counters)}`);
  const ruleCounters = chain.rules.filter((r) => r.counters);
  if (ruleCounters.length > 0) {
    const total = ruleCounters.reduce((sum, r) => ({ packets: sum.packets + r.counters!.packets, bytes: sum.bytes + r.counters!.bytes }), { packets: 0, bytes: 0 });
    lines.push('', `Rule counters: ${counters(total)}`);
  }
  lines.push('');
  lines.push(node.incoming.length > 0 ? `Jumped to from: ${chainList(node.incoming, (j) => j.from)}` : chain.builtin ? 'Entered by the kernel hook.' : 'Nothing jumps here.');
  if (node.outgoing.length > 0) lines.push('', `Jumps to: ${chainList(node.outgoing, (j) => j.to)}`);
  if (!chain.builtin && node.declared && analysis.ruleset.form === 'save' && !node.reachable) lines.push('', 'Not reached from any built-in chain.');
  if (node.inCycle) lines.push('', 'Part of a jump loop.');
  if (chain.deletedAt !== undefined) lines.push('', `Deleted by '-X' on line ${chain.deletedAt + 1}.`);
  return lines.join('\n');
}

export function hover(analysis: Analysis, position: Position, pods: PodInventory | undefined): Hover | null {
  const occurrence = occurrenceAt(analysis, position.line, position.character);
  if (occurrence) {
    const kube = kubeChainMarkdown(analysis, occurrence.node, pods);
    const chain = chainHoverMarkdown(analysis, occurrence.node);
    return { contents: { kind: MarkupKind.Markdown, value: kube ? `${kube}\n\n---\n\n${chain}` : chain }, range: toRange(occurrence.span) };
  }
  const address = addressHover(analysis, position, pods);
  if (address) return { contents: { kind: MarkupKind.Markdown, value: address.markdown }, range: address.range };
  const rule = analysis.rulesByLine[position.line];
  const target = rule && targetOf(rule);
  if (target && isInside(position, { line: position.line, start: target.start, end: target.end })) {
    const verdict = VERDICTS[target.name as keyof typeof VERDICTS];
    const extension = TARGET_EXTENSIONS[target.name];
    const what = verdict ?? (extension !== undefined ? `target extension: ${extension}` : undefined);
    if (what) return { contents: { kind: MarkupKind.Markdown, value: `**${target.name}** — ${what}` }, range: toRange({ line: position.line, start: target.start, end: target.end }) };
  }
  for (const table of analysis.ruleset.tables) {
    if (isInside(position, table.nameSpan)) {
      const graph = analysis.graph.byTable.get(table);
      // The outline's count, kept per version.
      const chains = writtenChains(analysis).find((t) => t.table === table)!.chains.length;
      const value = [`**${table.name}** table`, '', `${plural(chains, 'chain')} · ${plural(table.rules.length, 'rule')}${table.committed ? '' : ' · no COMMIT'}`];
      if (graph && graph.cycles.length > 0) value.push('', `${plural(graph.cycles.length, 'jump loop')}`);
      return { contents: { kind: MarkupKind.Markdown, value: value.join('\n') }, range: toRange(table.nameSpan) };
    }
  }
  return null;
}
