import { type CompletionItem, CompletionItemKind, type Position } from 'vscode-languageserver';
import { type Analysis, tableAtLine } from '../core/analysis';
import { KNOWN_TABLES, STANDARD_TARGETS, TARGET_EXTENSIONS, type Table } from '../core/ruleset';
import { splitArgs } from '../core/scanner';
import { chainDetail, isWritten } from './symbols';

/** Match modules of iptables-extensions most often seen in Kubernetes nodes' dumps. */
const MATCH_MODULES: Readonly<Record<string, string>> = {
  addrtype: 'address type (LOCAL, UNICAST, ...)',
  comment: 'a comment on the rule',
  conntrack: 'connection tracking state',
  state: 'connection state (older form of conntrack)',
  statistic: 'random or nth-packet selection',
  recent: 'recently seen addresses (session affinity)',
  mark: 'the packet mark',
  connmark: 'the connection mark',
  tcp: 'TCP ports and flags',
  udp: 'UDP ports',
  sctp: 'SCTP ports',
  icmp: 'ICMP type',
  icmp6: 'ICMPv6 type',
  multiport: 'several ports at once',
  set: 'an ipset',
  physdev: 'bridge ports',
  nfacct: 'extended accounting object',
  limit: 'rate limit',
  hashlimit: 'rate limit per address',
  owner: 'local socket owner',
  iprange: 'a range of addresses',
  mac: 'source MAC address',
  pkttype: 'packet type',
  socket: 'an existing socket',
  rpfilter: 'reverse path filter',
  policy: 'IPsec policy',
  length: 'packet length',
  string: 'packet content',
  time: 'time of day',
  connlimit: 'connections per address',
  cgroup: 'control group',
};

const RULE_COMMANDS = new Set(['-A', '--append', '-I', '--insert', '-D', '--delete', '-R', '--replace', '-F', '--flush', '-X', '--delete-chain', '-Z', '--zero', '-P', '--policy']);

function chainItems(table: Table, includeBuiltins: boolean): CompletionItem[] {
  const items: CompletionItem[] = [];
  for (const chain of table.chains.values()) {
    if (chain.builtin && !includeBuiltins) continue;
    if (!chain.builtin && !isWritten(chain)) continue;
    items.push({ label: chain.name, kind: CompletionItemKind.Function, detail: `${chain.builtin ? 'built-in' : 'user'} chain · ${chainDetail(chain)}`, sortText: `0${chain.name}` });
  }
  return items;
}

function targetItems(): CompletionItem[] {
  const items: CompletionItem[] = STANDARD_TARGETS.map((name) => ({ label: name, kind: CompletionItemKind.Keyword, detail: 'verdict', sortText: `1${name}` }));
  for (const [name, description] of Object.entries(TARGET_EXTENSIONS)) {
    items.push({ label: name, kind: CompletionItemKind.Constant, detail: `target extension: ${description}`, sortText: `2${name}` });
  }
  return items;
}

/** Completes after -j / -g (chains and targets), after -A and the other commands (chains), after -m (modules), after '*' (tables). */
export function completion(analysis: Analysis, position: Position, lineText: string): CompletionItem[] {
  const before = lineText.slice(0, position.character);
  if (/^\s*\*\w*$/.test(before)) return KNOWN_TABLES.map((name) => ({ label: name, kind: CompletionItemKind.Module }));
  const { args } = splitArgs(before);
  const typing = before.length > 0 && !/\s$/.test(before);
  const previous = args[args.length - (typing ? 2 : 1)];
  if (!previous) return [];
  const table = tableAtLine(analysis, position.line);
  switch (previous.text) {
    case '-j':
    case '--jump':
      return table ? [...chainItems(table, false), ...targetItems()] : targetItems();
    case '-g':
    case '--goto':
      return table ? chainItems(table, false) : [];
    case '-m':
    case '--match':
      return Object.entries(MATCH_MODULES).map(([name, description]) => ({ label: name, kind: CompletionItemKind.Module, detail: description }));
    default:
      if (RULE_COMMANDS.has(previous.text) && args.length <= (typing ? 3 : 2)) return table ? chainItems(table, true) : [];
      return [];
  }
}
