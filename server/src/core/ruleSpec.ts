// The options of a rule (`-s`, `-m statistic --probability`, `-j DNAT --to-destination`).
// The parser reads them once to check them and keeps only a rule's facts; the full
// structure is read again from the rule's line when a feature asks for it, so a dump of
// 400,000 rules does not keep millions of small objects alive.
import { ownValue } from './lookup';
import { splitArgs } from './scanner';
import { type Arg, type DiagnosticCode, lineTextOf, type Match, type Rule, type RuleFacts, type RuleOption, type Severity } from './ruleset';

export type Reporter = (start: number, end: number, severity: Severity, code: DiagnosticCode, message: string) => void;

const SHORT_OPTIONS: Readonly<Record<string, string>> = {
  '-s': 'source', '-d': 'destination', '-p': 'protocol', '-i': 'in-interface', '-o': 'out-interface',
  '-j': 'jump', '-g': 'goto', '-m': 'match', '-f': 'fragment', '-c': 'set-counters', '-4': 'ipv4', '-6': 'ipv6',
};

/** Options of the rule itself, wherever they stand among the matches. */
const CORE_OPTIONS = new Set(['source', 'destination', 'protocol', 'in-interface', 'out-interface', 'fragment', 'set-counters', 'ipv4', 'ipv6']);
const CORE_LONG_OPTIONS = new Set(['--source', '--destination', '--protocol', '--in-interface', '--out-interface', '--fragment', '--set-counters', '--ipv4', '--ipv6', '--src', '--dst', '--proto']);

const LONG_ALIASES: Readonly<Record<string, string>> = {
  src: 'source', dst: 'destination', proto: 'protocol', 'destination-port': 'dport', 'source-port': 'sport',
  'destination-ports': 'dports', 'source-ports': 'sports',
};

/** Options that make no sense without a value; an empty one is reported. */
const NEEDS_VALUE = new Set([
  'source', 'destination', 'protocol', 'in-interface', 'out-interface', 'jump', 'goto', 'match', 'set-counters',
  'dport', 'sport', 'dports', 'sports', 'comment', 'to-destination', 'to-source', 'to-ports', 'to',
  'probability', 'mode', 'every', 'packet', 'set-xmark', 'set-mark', 'mark', 'or-mark', 'xor-mark', 'and-mark',
  'ctstate', 'state', 'match-set', 'dst-type', 'src-type', 'name', 'seconds', 'reject-with', 'nfacct-name',
  'nflog-group', 'log-prefix', 'log-level', 'uid-owner', 'gid-owner', 'icmp-type', 'tcp-flags', 'physdev-in',
  'physdev-out', 'limit', 'limit-burst', 'hitcount', 'mask', 'ctstatus',
]);

/** Options that never take a value, so a following word is not theirs. */
const FLAGS = new Set([
  'fragment', 'ipv4', 'ipv6', 'rsource', 'rdest', 'rcheck', 'set', 'update', 'remove', 'reap', 'rttl', 'syn',
  'random', 'random-fully', 'persistent', 'log-uid', 'log-tcp-sequence', 'log-tcp-options', 'log-ip-options',
  'log-macdecode', 'physdev-is-in', 'physdev-is-out', 'physdev-is-bridged', 'limit-iface-in', 'limit-iface-out',
  'clamp-mss-to-pmtu', 'notrack', 'checksum-fill', 'restore-mark', 'save-mark', 'return-nomatch',
]);

/** Modules whose options do not narrow which packets of a service entry reach the rule. */
const NEUTRAL_MODULES = new Set(['comment', 'statistic', 'tcp', 'udp', 'sctp']);
const NEUTRAL_CORE = new Set(['protocol', 'set-counters', 'ipv4', 'ipv6']);

export function isOptionWord(arg: Arg): boolean {
  if (arg.quoted || arg.text.length < 2 || arg.text.charCodeAt(0) !== 45 /* - */) return false;
  const second = arg.text.charCodeAt(1);
  // `-1` or `-.5` is a value; `-s`, `--dport`, `-4` are options.
  return second === 45 || (second >= 65 && second <= 90) || (second >= 97 && second <= 122) || arg.text === '-4' || arg.text === '-6';
}

function optionKey(name: string): string {
  const short = ownValue(SHORT_OPTIONS, name);
  if (short !== undefined) return short;
  const bare = name.startsWith('--') ? name.slice(2) : name.slice(1);
  return ownValue(LONG_ALIASES, bare) ?? bare;
}

const keys = new Map<string, string>();

/** The canonical key of an option name (`-d` -> `destination`, `--dport` -> `dport`), remembered. */
export function optionKeyOf(name: string): string {
  let key = keys.get(name);
  if (key === undefined) {
    key = optionKey(name);
    // Names come from the dump; remember a bounded number of distinct ones.
    if (keys.size < 10_000) keys.set(name, key);
  }
  return key;
}

/** An option of the rule itself (`-d`, `--protocol`), wherever it stands among the matches. */
export function isRuleOption(name: string, key: string): boolean {
  return (CORE_OPTIONS.has(key) && !name.startsWith('--')) || CORE_LONG_OPTIONS.has(name);
}

/** Whether an option of a module ('' for the rule's own) selects only some of the traffic reaching the rule. */
export function narrowsTraffic(module: string, key: string): boolean {
  return !NEUTRAL_MODULES.has(module) && !(module === '' && NEUTRAL_CORE.has(key));
}

export function needsValue(key: string): boolean {
  return NEEDS_VALUE.has(key);
}

export function flagOption(key: string): boolean {
  return FLAGS.has(key);
}

/** A rule's options in full: matches (module '' first, for -s/-d/-p...), target and its options. */
export interface RuleSpec {
  matches: Match[];
  target: { name: string; start: number; end: number; kind: 'jump' | 'goto' } | undefined;
  targetOptions: RuleOption[];
}

const ignore: Reporter = () => undefined;

/** Reads the rule specification in `args` from index `from`, reporting mistakes. */
export function parseRuleSpec(args: Arg[], from: number, report: Reporter = ignore): RuleSpec {
  const matches: Match[] = [];
  let match: Match = { module: '', options: [] };
  matches.push(match);
  let target: RuleSpec['target'];
  const targetOptions: RuleOption[] = [];
  let negateNext = false;
  let optionsBelongToTarget = false;
  let current: RuleOption | undefined;
  const checkValue = (option: RuleOption) => {
    if (option.values.length === 0 && NEEDS_VALUE.has(option.key)) report(option.start, option.end, 'error', 'missing-value', `Option '${option.name}' needs a value.`);
  };
  for (let i = from; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.text === '!' && !arg.quoted) {
      if (current && current.values.length === 0 && !current.negated && !FLAGS.has(current.key)) {
        current.negated = true; // old style: `-s ! 10.0.0.0/8`
      } else {
        negateNext = true;
        current = undefined;
      }
      continue;
    }
    if (!isOptionWord(arg)) {
      if (current && !FLAGS.has(current.key)) current.values.push(arg);
      else report(arg.start, arg.end, 'error', 'syntax', `Unexpected argument '${arg.text}': it does not follow an option that takes a value.`);
      continue;
    }
    if (current) checkValue(current);
    const key = optionKey(arg.text);
    const option: RuleOption = { name: arg.text, key, start: arg.start, end: arg.end, negated: negateNext, values: [] };
    negateNext = false;
    if (key === 'match' || key === 'jump' || key === 'goto') {
      const value = args[i + 1];
      if (!value || isOptionWord(value) || (value.text === '!' && !value.quoted)) {
        const what = key === 'match' ? 'a match module, as in -m comment' : key === 'jump' ? 'a target, as in -j ACCEPT or -j KUBE-SERVICES' : 'a chain, as in -g KUBE-SVC-...';
        report(arg.start, arg.end, 'error', 'missing-value', `'${arg.text}' needs ${what}.`);
        current = undefined;
        continue;
      }
      i++;
      if (key === 'match') {
        match = { module: value.text, moduleArg: value, options: [] };
        matches.push(match);
        optionsBelongToTarget = false;
      } else {
        if (target) report(arg.start, value.end, 'error', 'syntax', `A rule has one target; '${target.name}' is already given. Remove one of them.`);
        target = { name: value.text, start: value.start, end: value.end, kind: key === 'jump' ? 'jump' : 'goto' };
        targetOptions.length = 0;
        optionsBelongToTarget = true;
      }
      current = undefined;
      continue;
    }
    if (isRuleOption(arg.text, key)) {
      // kube-proxy writes `-m tcp -p tcp -d 10.0.0.1`: -p and -d still belong to the rule itself.
      matches[0]!.options.push(option);
    } else if (optionsBelongToTarget && target) {
      targetOptions.push(option);
    } else {
      match.options.push(option);
    }
    current = option;
  }
  if (negateNext) {
    const last = args[args.length - 1]!;
    report(last.start, last.end, 'error', 'syntax', "'!' at the end of the rule negates nothing: put it before the option it negates, as in '! -s 10.0.0.0/8'.");
  }
  if (current) checkValue(current);
  return { matches, target, targetOptions };
}

/** The facts of a rule that the analysis reads for every rule, kept instead of the full structure. */
export function factsOf(spec: RuleSpec): RuleFacts {
  const facts: RuleFacts = { conditional: false };
  for (const match of spec.matches) {
    for (const option of match.options) {
      const value = option.values[0];
      switch (option.key) {
        case 'source':
          if (match.module === '' && value) facts.source = value.text;
          break;
        case 'destination':
          if (match.module === '' && value) {
            facts.destination = value.text;
            if (option.negated) facts.destinationNegated = true;
          }
          break;
        case 'protocol':
          if (match.module === '' && value) facts.protocol = value.text;
          break;
        case 'dport':
          if (value) facts.dport = value.text;
          break;
        case 'dst-type':
          if (value) facts.dstType = value.text;
          break;
        case 'probability':
        case 'every':
          if (match.module === 'statistic' && value) {
            facts.statistic = { probability: option.key === 'probability' ? value.text : undefined, every: option.key === 'every' ? value.text : undefined, negated: option.negated };
          }
          break;
        default:
          break;
      }
      if (match.module === 'recent') {
        const recent = (facts.recent ??= { check: false, set: false });
        if (option.key === 'rcheck' || option.key === 'update') recent.check = true;
        else if (option.key === 'set') recent.set = true;
        else if (option.key === 'seconds' && value) recent.seconds = Number(value.text);
        else if (option.key === 'name' && value) recent.name = value;
        continue;
      }
      if (narrowsTraffic(match.module, option.key)) facts.conditional = true;
    }
  }
  for (const option of spec.targetOptions) {
    if (option.key === 'to-destination' && option.values[0]) {
      facts.toDestination = option.values[0].text;
      facts.toDestinationArg = option.values[0];
    }
  }
  const setCounters = spec.matches[0]!.options.find((o) => o.key === 'set-counters');
  if (setCounters && setCounters.values.length === 2) facts.setCounters = { packets: Number(setCounters.values[0]!.text), bytes: Number(setCounters.values[1]!.text) };
  return facts;
}

/** The text of `-m comment --comment`, when the rule has one. */
export function commentOf(spec: RuleSpec): { text: string; arg: Arg } | undefined {
  for (const match of spec.matches) {
    if (match.module !== 'comment') continue;
    const comment = match.options.find((o) => o.key === 'comment');
    if (comment && comment.values.length > 0) return { text: comment.values.map((v) => v.text).join(' '), arg: comment.values[0]! };
  }
  return undefined;
}

/** The full options of a rule, read again from its line. */
export function ruleSpec(rule: Rule): RuleSpec {
  const { args } = splitArgs(lineTextOf(rule), rule.start, rule.end);
  // args[0] is the command, args[1] the chain, then an optional rule number.
  const from = rule.ruleNumber !== undefined ? 3 : 2;
  return parseRuleSpec(args, from);
}

/** Where the value of the rule's statistic match stands (quotes included): the `--probability` or `--every` its facts come from (factsOf), read again from its line. */
export function statisticValueOf(rule: Rule): Arg | undefined {
  let found: Arg | undefined;
  for (const match of ruleSpec(rule).matches) {
    if (match.module !== 'statistic') continue;
    for (const option of match.options) if ((option.key === 'probability' || option.key === 'every') && option.values[0]) found = option.values[0];
  }
  return found;
}

/** The first option of a rule with this canonical key (`destination`, `dport`, `to-destination`, ...). */
export function ruleOption(rule: Rule, key: string): RuleOption | undefined {
  const spec = ruleSpec(rule);
  for (const match of spec.matches) for (const option of match.options) if (option.key === key) return option;
  return spec.targetOptions.find((o) => o.key === key);
}
