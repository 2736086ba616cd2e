// The parsed form of an iptables-save dump or an iptables-restore input file.
// Pure data: no VS Code or LSP imports, so the CLI and tests use it as is.
import { ownValue } from './lookup';

/** Zero-based line and UTF-16 column range of one token; a token never spans lines. */
export interface Span {
  line: number;
  start: number;
  end: number;
}

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export type DiagnosticCode =
  | 'syntax'
  | 'unterminated-quote'
  | 'outside-table'
  | 'after-commit'
  | 'missing-commit'
  | 'unknown-table'
  | 'duplicate-table'
  | 'duplicate-chain'
  | 'bad-policy'
  | 'undeclared-chain'
  | 'undeclared-target'
  | 'missing-value'
  | 'missing-chain-name'
  | 'unused-chain'
  | 'jump-cycle'
  | 'builtin-target-option'
  | 'not-iptables'
  | 'sep-without-dnat'
  | 'orphan-endpoint'
  | 'no-endpoints'
  | 'skewed-probability'
  | 'bad-probability'
  | 'bad-address';

export interface Diagnostic {
  span: Span;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  /** Marks a diagnostic the editor may show faded (an unused chain). */
  unnecessary?: boolean;
}

/** One shell-style argument of a rule line, as iptables-restore splits it. */
export interface Arg {
  /** The value with quotes removed and escapes resolved. */
  text: string;
  /** Column range of the raw argument, quotes included. */
  start: number;
  end: number;
  quoted: boolean;
}

export interface Counters {
  packets: number;
  bytes: number;
}

/** One option of a rule: `-s 10.0.0.0/8`, `! --dport 53`, `--to-destination 10.32.0.3:53`. */
export interface RuleOption {
  /** As written: `-s`, `--source`, `--dport`. */
  name: string;
  /** Canonical long name without dashes: `source`, `dport`. */
  key: string;
  start: number;
  end: number;
  negated: boolean;
  values: Arg[];
}

/** `-m module` and the options that follow it; options before any `-m` are in a match with module ''. */
export interface Match {
  module: string;
  moduleArg?: Arg;
  options: RuleOption[];
}

export type JumpKind = 'jump' | 'goto';

/** `-j TARGET` or `-g CHAIN`; also the span of the target's name. */
export interface Target {
  name: string;
  line: number;
  start: number;
  end: number;
  kind: JumpKind;
}

/**
 * `-m statistic`: the probability or every-n text as written. The fast reader gives all rules
 * with the same one the same object (a large dump has 90,000 of them and a handful of
 * values), so it is never changed; where the value stands is read from the line when wanted
 * (statisticValueOf).
 */
export interface Statistic {
  readonly probability: string | undefined;
  readonly every: string | undefined;
  readonly negated: boolean;
}

/** `-m recent`: --rcheck/--update (check), --set, --seconds, --name. */
export interface Recent {
  check: boolean;
  set: boolean;
  seconds?: number;
  name?: Arg;
}

/** What the analysis reads from every rule, kept as plain values (the full options are read again on demand). */
export interface RuleFacts {
  /** `-s` of the rule itself. */
  source?: string | undefined;
  /** `-d` of the rule itself. */
  destination?: string | undefined;
  destinationNegated?: boolean | undefined;
  protocol?: string | undefined;
  dport?: string | undefined;
  /** `-m addrtype --dst-type`. */
  dstType?: string | undefined;
  statistic?: Statistic | undefined;
  recent?: Recent | undefined;
  /** `-j DNAT --to-destination`. */
  toDestination?: string | undefined;
  /** Where that value stands (quotes included). */
  toDestinationArg?: Arg | undefined;
  /** `-c packets bytes` in restore input. */
  setCounters?: Counters | undefined;
  /** Matches beyond protocol, ports, comment, statistic and recent: the rule selects some traffic (a source, an address type, a mark). */
  conditional: boolean;
}

export type RuleCommand = 'append' | 'insert' | 'delete' | 'replace';
export type ChainCommand = 'new-chain' | 'delete-chain' | 'flush' | 'policy' | 'zero';

/**
 * One rule line. A dump of a large cluster has 400,000 of them, so a rule is one flat object:
 * its facts are its own fields and the spans of its chain,
 * target, comment and --to-destination are made on demand from plain numbers (chainSpanOf,
 * targetOf, toDestinationArgOf).
 *
 * Rules are made by newRule, as plain object literals: V8 learns that rules made there live long
 * and allocates them straight in the old generation, instead of copying 400,000 of them
 * through the young one (which took a third of the parse). A literal with `__proto__` goes
 * through V8's slow path for object literals (133-187 ms instead of 73 ms for 427,542 rules),
 * and a class constructor was slower still (161 ms): so a rule is a plain literal, without a
 * prototype of its own or methods; what were getters are the functions below newRule.
 */
export interface Rule extends Omit<RuleFacts, 'toDestinationArg'> {
  command: RuleCommand;
  /** The chain the rule belongs to; set when the rule is added to its table. */
  chain: Chain | undefined;
  chainStart: number;
  chainEnd: number;
  /** Rule number given to -I / -D / -R. */
  ruleNumber: number | undefined;
  counters: Counters | undefined;
  /** `-j TARGET` or `-g CHAIN`: the name as written and where it stands. Its options: ruleSpec(rule).targetOptions. */
  targetName: string | undefined;
  targetStart: number;
  targetEnd: number;
  targetKind: JumpKind;
  /** The chain of the target's table with that name, when it was known as the rule was read. */
  targetChain: Chain | undefined;
  /** The value of `-m comment --comment`, when present, and where its first word stands (quotes included). */
  comment: string | undefined;
  commentStart: number;
  commentEnd: number;
  commentQuoted: boolean;
  // Facts.
  source: string | undefined;
  destination: string | undefined;
  destinationNegated: boolean | undefined;
  protocol: string | undefined;
  dport: string | undefined;
  dstType: string | undefined;
  statistic: Statistic | undefined;
  recent: Recent | undefined;
  /** `-j DNAT --to-destination`; where it stands is in the three numbers after it (toDestinationArgOf). */
  toDestination: string | undefined;
  toDestinationStart: number;
  toDestinationEnd: number;
  toDestinationQuoted: boolean;
  setCounters: Counters | undefined;
  conditional: boolean;

  line: number;
  /**
   * The text parsed (the whole dump, or the piece an edit parsed again) and where the rule's
   * line starts in it: a rule keeps no string of its own line. ruleSpec() reads the full
   * options from there; lineTextOf() gives the line.
   */
  chars: string;
  lineAt: number;
  /** Column range of the whole rule text (after a counters prefix). */
  start: number;
  end: number;
}

/** A rule with every field present, the facts empty; see Rule for why it is a plain literal. */
export function newRule(line: number, chars: string, lineAt: number, start: number, end: number): Rule {
  return {
    command: 'append',
    chain: undefined,
    chainStart: 0,
    chainEnd: 0,
    ruleNumber: undefined,
    counters: undefined,
    targetName: undefined,
    targetStart: 0,
    targetEnd: 0,
    targetKind: 'jump',
    targetChain: undefined,
    comment: undefined,
    commentStart: 0,
    commentEnd: 0,
    commentQuoted: false,
    source: undefined,
    destination: undefined,
    destinationNegated: undefined,
    protocol: undefined,
    dport: undefined,
    dstType: undefined,
    statistic: undefined,
    recent: undefined,
    toDestination: undefined,
    toDestinationStart: 0,
    toDestinationEnd: 0,
    toDestinationQuoted: false,
    setCounters: undefined,
    conditional: false,
    line,
    chars,
    lineAt,
    start,
    end,
  };
}

/** The text between two columns of the rule's line. */
export function lineTextAt(rule: Rule, start: number, end: number): string {
  return rule.chars.slice(rule.lineAt + start, rule.lineAt + end);
}

/** The rule's line as it stands in the dump (with a CR before its newline, if it has one). */
export function lineTextOf(rule: Rule): string {
  const { chars, lineAt } = rule;
  const newline = chars.indexOf('\n', lineAt + rule.end);
  if (newline === -1) return lineAt === 0 ? chars : chars.slice(lineAt);
  return chars.slice(lineAt, newline);
}

/** The name of the rule's chain; '' before the rule is added to its table. */
export function chainNameOf(rule: Rule): string {
  return rule.chain?.name ?? '';
}

/** Where the rule names its chain. */
export function chainSpanOf(rule: Rule): Span {
  return { line: rule.line, start: rule.chainStart, end: rule.chainEnd };
}

/** `-j TARGET` or `-g CHAIN`, when the rule has one. */
export function targetOf(rule: Rule): Target | undefined {
  return rule.targetName === undefined ? undefined : { name: rule.targetName, line: rule.line, start: rule.targetStart, end: rule.targetEnd, kind: rule.targetKind };
}

/** The value of `--to-destination` as an argument, when the rule has one. */
export function toDestinationArgOf(rule: Rule): Arg | undefined {
  return rule.toDestination === undefined
    ? undefined
    : { text: rule.toDestination, start: rule.toDestinationStart, end: rule.toDestinationEnd, quoted: rule.toDestinationQuoted };
}

/** `into` takes over what `from`, a reading of its line after an edit, says (its chain and line stay). */
export function copyRule(into: Rule, from: Rule): void {
  const { chain, line } = into;
  Object.assign(into, from);
  into.chain = chain;
  into.line = line;
}

/** Links the rule's jump to the chain of that name among `chains` (sharing its name string); false when there is none. */
export function linkTarget(rule: Rule, chains: ReadonlyMap<string, Chain>): boolean {
  const known = rule.targetName === undefined ? undefined : chains.get(rule.targetName);
  rule.targetChain = known;
  if (!known) return false;
  rule.targetName = known.name;
  return true;
}

/** Copies facts read by the general reader into the rule. */
export function assignFacts(rule: Rule, facts: RuleFacts): void {
  rule.source = facts.source;
  rule.destination = facts.destination;
  rule.destinationNegated = facts.destinationNegated;
  rule.protocol = facts.protocol;
  rule.dport = facts.dport;
  rule.dstType = facts.dstType;
  rule.statistic = facts.statistic;
  rule.recent = facts.recent;
  rule.setCounters = facts.setCounters;
  rule.conditional = facts.conditional;
  rule.toDestination = facts.toDestination;
  const to = facts.toDestinationArg;
  if (facts.toDestination !== undefined && to) {
    rule.toDestinationStart = to.start;
    rule.toDestinationEnd = to.end;
    rule.toDestinationQuoted = to.quoted;
  }
}

/** `-N`, `-X`, `-F`, `-P`, `-Z` lines found in kube-proxy's partial restore files. */
export interface ChainCommandLine {
  line: number;
  command: ChainCommand;
  chainName?: string;
  chainSpan?: Span;
  policy?: string;
}

export interface Chain {
  /** Position in its table's `chains`, in order of first appearance: a key for per-chain arrays. */
  id: number;
  name: string;
  builtin: boolean;
  /** ACCEPT / DROP for built-in chains, '-' for user chains. */
  policy?: string;
  counters?: Counters;
  /** The name in `:NAME POLICY [p:b]` or `-N NAME`; absent when only used. */
  declaration?: Span;
  rules: Rule[];
  /** Line of `-X NAME`, when the file deletes the chain. */
  deletedAt?: number;
}

/** A chain with every field present, so all chains share one shape. */
export function newChain(id: number, name: string, builtin: boolean): Chain {
  return { id, name, builtin, policy: undefined, counters: undefined, declaration: undefined, rules: [], deletedAt: undefined };
}

export interface Table {
  name: string;
  nameSpan: Span;
  /** Line of `*name`. */
  headerLine: number;
  /** Line of COMMIT, or the last line that belongs to the table when COMMIT is missing. */
  endLine: number;
  committed: boolean;
  /** Declared, built-in or used chains, in order of first declaration. */
  chains: Map<string, Chain>;
  rules: Rule[];
  chainCommands: ChainCommandLine[];
}

export type DumpForm =
  /** `iptables-save` output: built-in chains declared, a complete picture of the node. */
  | 'save'
  /** kube-proxy's iptables-restore input: may jump to chains an earlier sync created. */
  | 'restore';

export interface Ruleset {
  tables: Table[];
  diagnostics: Diagnostic[];
  lineCount: number;
  /** `iptables-nft-save v1.8.9 (nf_tables)` from the `# Generated by` line. */
  generatedBy?: string;
  form: DumpForm;
  hasCounters: boolean;
  family: 'ipv4' | 'ipv6' | 'unknown';
}

export const BUILTIN_CHAINS: Readonly<Record<string, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

export const KNOWN_TABLES = Object.keys(BUILTIN_CHAINS);

export function isBuiltinChain(table: string, chain: string): boolean {
  return ownValue(BUILTIN_CHAINS, table)?.includes(chain) ?? false;
}

/** Verdicts handled by the kernel itself. */
export const STANDARD_TARGETS = ['ACCEPT', 'DROP', 'RETURN', 'QUEUE'] as const;

/** Target extensions of iptables (man iptables-extensions), with a short description for hovers. */
export const TARGET_EXTENSIONS: Readonly<Record<string, string>> = {
  AUDIT: 'record an audit event',
  CHECKSUM: 'fill in a missing checksum',
  CLASSIFY: 'set the traffic-control class',
  CLUSTERIP: 'cluster IP load sharing (deprecated)',
  CONNMARK: 'set or restore the connection mark',
  CONNSECMARK: 'copy security marks between packet and connection',
  CT: 'set conntrack parameters (zone, helper, notrack)',
  DNAT: 'rewrite the destination address (and port)',
  DNPT: 'IPv6 destination prefix translation',
  DSCP: 'set the DSCP field',
  ECN: 'clear ECN bits',
  HL: 'change the IPv6 hop limit',
  HMARK: 'set a mark from a hash of the packet',
  IDLETIMER: 'notify when a rule has been idle',
  LED: 'blink an LED',
  LOG: 'log the packet to the kernel log',
  MARK: 'set the packet mark',
  MASQUERADE: 'source NAT to the outgoing interface address',
  MIRROR: 'send the packet back (obsolete)',
  NETMAP: 'map a whole network to another',
  NFLOG: 'log the packet through nfnetlink',
  NFQUEUE: 'hand the packet to a userspace queue',
  NOTRACK: 'skip connection tracking',
  RATEEST: 'rate estimator',
  REDIRECT: 'redirect to a local port',
  REJECT: 'drop the packet and send an error back',
  SECMARK: 'set the security mark',
  SET: 'add to or delete from an ipset',
  SNAT: 'rewrite the source address',
  SNPT: 'IPv6 source prefix translation',
  SYNPROXY: 'SYN proxy',
  TCPMSS: 'change the TCP MSS',
  TCPOPTSTRIP: 'strip TCP options',
  TEE: 'clone the packet to another gateway',
  TOS: 'set the TOS field',
  TPROXY: 'transparent proxying',
  TRACE: 'trace the packet through the rules',
  TTL: 'change the IPv4 TTL',
  ULOG: 'userspace logging (obsolete)',
};

/** True when `name` after -j is a kernel verdict or target extension rather than a chain. */
export function isBuiltinTarget(name: string): boolean {
  return (STANDARD_TARGETS as readonly string[]).includes(name) || Object.hasOwn(TARGET_EXTENSIONS, name);
}
