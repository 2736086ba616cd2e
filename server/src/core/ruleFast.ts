// The parser's fast path for a rule's specification. A dump of 400,000 rules is almost all
// well-formed kube-proxy lines; reading them without an object per argument is what keeps a
// large dump's analysis under a second. This reader accepts only lines it is sure of: on
// anything that could be a mistake (a missing value, a stray word, an escaped quote) it
// gives up and the general reader (parseRuleSpec), which reports problems, reads the line.
// A test holds both readers to the same answers.
import { type JumpKind, newRule, type Rule, type Statistic } from './ruleset';
import { flagOption, isRuleOption, narrowsTraffic, needsValue, optionKeyOf } from './ruleSpec';

const SPACE = 32;
const TAB = 9;
const CR = 13;
const QUOTE = 34;
const BACKSLASH = 92;
const DASH = 45;
const BANG = 33;


/** Short strings that recur on every line (protocols, ports, probabilities, modules): one copy each. */
export class Interner {
  private readonly strings = new Map<string, string>();
  /** The words seen last, by a hash of their length and a few letters: most lookups end here. */
  private readonly lately = new RecentWords();

  get(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.strings.size < 100_000) this.strings.set(text, text);
    return text;
  }

  /** Shared statistic matches by form (every-n, negated) and value. */
  private readonly statistics = [new Map<string, Statistic>(), new Map<string, Statistic>(), new Map<string, Statistic>(), new Map<string, Statistic>()];

  /** The statistic match of this value (a shared copy: get) and form, as one object for every rule that has it. */
  statistic(text: string, every: boolean, negated: boolean): Statistic {
    const forms = this.statistics[(every ? 2 : 0) + (negated ? 1 : 0)]!;
    let known = forms.get(text);
    if (known === undefined) {
      known = { probability: every ? undefined : text, every: every ? text : undefined, negated };
      if (forms.size < 100_000) forms.set(text, known);
    }
    return known;
  }

  /** `text[start, end)`, as the copy kept from before when there is one. */
  range(text: string, start: number, end: number): string {
    const cached = this.lately.find(text, start, end);
    if (cached !== undefined) return cached;
    const word = this.get(text.slice(start, end));
    this.lately.remember(text, start, end, word);
    return word;
  }
}

/**
 * A small direct-mapped cache of words, probed with a range of a line: a rule's protocol,
 * port or probability is usually one of a few recent ones, and comparing a few letters is
 * cheaper than slicing the word and hashing it into a large map.
 */
class RecentWords {
  private readonly slots: Array<string | undefined> = new Array<string | undefined>(RECENT_SLOTS).fill(undefined);

  find(text: string, start: number, end: number): string | undefined {
    const word = this.slots[slotOf(text, start, end)];
    if (word === undefined) return undefined;
    const length = end - start;
    if (word.length !== length) return undefined;
    for (let i = 0; i < length; i++) if (word.charCodeAt(i) !== text.charCodeAt(start + i)) return undefined;
    return word;
  }

  remember(text: string, start: number, end: number, word: string): void {
    this.slots[slotOf(text, start, end)] = word;
  }
}

const RECENT_SLOTS = 256;

function slotOf(text: string, start: number, end: number): number {
  const length = end - start;
  if (length === 0) return 0;
  return (length * 31 + text.charCodeAt(start) * 7 + text.charCodeAt(end - 1) * 3 + text.charCodeAt(end - 2 > start ? end - 2 : start) * 5) & (RECENT_SLOTS - 1);
}

/** What the reader needs to know of an option name, worked out once per distinct name. */
interface OptionInfo {
  /** The canonical key: `destination` for `-d`. */
  key: string;
  /** -d, --protocol...: the rule's own option wherever it stands. */
  core: boolean;
  needsValue: boolean;
  flag: boolean;
  /** protocol, -c, -4, -6: the rule's own options that select no traffic. */
  neutralCore: boolean;
}

const optionInfos = new Map<string, OptionInfo>();

function optionInfo(name: string): OptionInfo {
  let info = optionInfos.get(name);
  if (!info) {
    const key = optionKeyOf(name);
    info = { key, core: isRuleOption(name, key), needsValue: needsValue(key), flag: flagOption(key), neutralCore: !narrowsTraffic('', key) };
    // Names come from the dump; remember a bounded number of distinct ones.
    if (optionInfos.size < 10_000) optionInfos.set(name, info);
  }
  return info;
}

const MATCH = optionInfo('-m');
const JUMP = optionInfo('-j');
const PROTOCOL = optionInfo('-p');
const DESTINATION = optionInfo('-d');
const SOURCE = optionInfo('-s');
const GOTO = optionInfo('-g');
const COMMENT = optionInfo('--comment');
const DPORT = optionInfo('--dport');
const PROBABILITY = optionInfo('--probability');
const MODE = optionInfo('--mode');
const TO_DESTINATION = optionInfo('--to-destination');

/** Modules whose options never narrow the traffic, by name; looked up once per `-m`. */
const neutralModules = new Map<string, boolean>();

function isNeutralModule(module: string): boolean {
  let neutral = neutralModules.get(module);
  if (neutral === undefined) {
    neutral = !narrowsTraffic(module, '');
    if (neutralModules.size < 10_000) neutralModules.set(module, neutral);
  }
  return neutral;
}

const STATISTIC_NEUTRAL = isNeutralModule('statistic');
/** The fixed words of two of the shapes readShape reads. */
const DNAT_TO = ' -j DNAT --to-destination ';
/** Where the target's name stands within DNAT_TO. */
const DNAT_NAME_START = DNAT_TO.indexOf('DNAT');
const DNAT_NAME_END = DNAT_NAME_START + 'DNAT'.length;
const RANDOM_PICK = ' -m statistic --mode random --probability ';

/**
 * Where a word at `start` ends (at a space or `to`): a value as the option reader takes it, not
 * empty, not an option or '!', without quotes or backslashes; -1 when it is not one.
 */
function plainWordEnd(raw: string, start: number, to: number): number {
  let i = start;
  let c = 0;
  while (i < to && (c = raw.charCodeAt(i)) !== SPACE) {
    if (c === TAB || c === CR || c === QUOTE || c === BACKSLASH || c === 39 /* ' */) return -1;
    i++;
  }
  if (i === start) return -1;
  const first = raw.charCodeAt(start);
  return first === DASH || first === BANG ? -1 : i;
}

/**
 * Where the reader found a rule's facts, as numbers: the fast reader writes them and applyFacts
 * turns them into the rule's values, so the parse helper thread (rowScan) can read a line
 * without making a string and hand the numbers over. Slot 0 is a mask of the facts present and
 * of flags; each fact takes three slots after it: start, end and 1 when quoted (the quotes are
 * within start and end).
 */
export const FACT_SLOTS = 1 + 3 * 10;
const SOURCE_FACT = 0;
const DESTINATION_FACT = 1;
const PROTOCOL_FACT = 2;
const DPORT_FACT = 3;
const DST_TYPE = 4;
const STATISTIC = 5;
const TO_DESTINATION_FACT = 6;
const COMMENT_FACT = 7;
const RECENT_NAME = 8;
const RECENT_SECONDS = 9;
// Flags, above the ten bits of the facts.
const DESTINATION_NEGATED = 1 << 10;
const STATISTIC_EVERY = 1 << 11;
const STATISTIC_NEGATED = 1 << 12;
const RECENT = 1 << 13;
const RECENT_CHECK = 1 << 14;
const RECENT_SET = 1 << 15;
const CONDITIONAL = 1 << 16;

/** The value of a fact: its text, without quotes; its columns are on the line at `base` in `raw`. */
function factValue(raw: string, base: number, facts: Int32Array, i: number): string {
  return facts[i + 2] ? raw.slice(base + facts[i]! + 1, base + facts[i + 1]! - 1) : raw.slice(base + facts[i]!, base + facts[i + 1]!);
}

/** A fact that recurs on many lines (a protocol, a port, a probability), as a shared copy. */
function factWord(raw: string, base: number, facts: Int32Array, i: number, interner: Interner): string {
  return facts[i + 2] ? interner.get(raw.slice(base + facts[i]! + 1, base + facts[i + 1]! - 1)) : interner.range(raw, base + facts[i]!, base + facts[i + 1]!);
}

/** Sets the rule's facts from what the reader found on its line (`facts[at, at + FACT_SLOTS)`), which starts at `base` in `raw`. */
export function applyFacts(rule: Rule, raw: string, base: number, facts: Int32Array, at: number, interner: Interner): void {
  const mask = facts[at]!;
  if (mask === 0) return;
  const slot = at + 1;
  if (mask & (1 << SOURCE_FACT)) rule.source = factValue(raw, base, facts, slot + 3 * SOURCE_FACT);
  if (mask & (1 << DESTINATION_FACT)) rule.destination = factValue(raw, base, facts, slot + 3 * DESTINATION_FACT);
  if (mask & DESTINATION_NEGATED) rule.destinationNegated = true;
  if (mask & (1 << PROTOCOL_FACT)) rule.protocol = factWord(raw, base, facts, slot + 3 * PROTOCOL_FACT, interner);
  if (mask & (1 << DPORT_FACT)) rule.dport = factWord(raw, base, facts, slot + 3 * DPORT_FACT, interner);
  if (mask & (1 << DST_TYPE)) rule.dstType = factWord(raw, base, facts, slot + 3 * DST_TYPE, interner);
  if (mask & (1 << STATISTIC)) {
    const i = slot + 3 * STATISTIC;
    rule.statistic = interner.statistic(factWord(raw, base, facts, i, interner), (mask & STATISTIC_EVERY) !== 0, (mask & STATISTIC_NEGATED) !== 0);
  }
  if (mask & (1 << TO_DESTINATION_FACT)) {
    const i = slot + 3 * TO_DESTINATION_FACT;
    rule.toDestination = factValue(raw, base, facts, i);
    rule.toDestinationStart = facts[i]!;
    rule.toDestinationEnd = facts[i + 1]!;
    rule.toDestinationQuoted = facts[i + 2] === 1;
  }
  if (mask & (1 << COMMENT_FACT)) {
    const i = slot + 3 * COMMENT_FACT;
    rule.comment = factValue(raw, base, facts, i);
    rule.commentStart = facts[i]!;
    rule.commentEnd = facts[i + 1]!;
    rule.commentQuoted = facts[i + 2] === 1;
  }
  if (mask & RECENT) {
    const recent: NonNullable<Rule['recent']> = { check: (mask & RECENT_CHECK) !== 0, set: (mask & RECENT_SET) !== 0 };
    if (mask & (1 << RECENT_SECONDS)) recent.seconds = Number(factValue(raw, base, facts, slot + 3 * RECENT_SECONDS));
    if (mask & (1 << RECENT_NAME)) {
      const i = slot + 3 * RECENT_NAME;
      recent.name = { text: factValue(raw, base, facts, i), start: facts[i]!, end: facts[i + 1]!, quoted: facts[i + 2] === 1 };
    }
    rule.recent = recent;
  }
  if (mask & CONDITIONAL) rule.conditional = true;
}

/**
 * Reads rule specifications one after another, keeping its scanning state in fields (no
 * closures or objects per argument). `read` answers undefined when the line needs the
 * general reader.
 */
export class FastRuleReader {
  private raw = '';
  private to = 0;
  private i = 0;
  // The current argument.
  private start = 0;
  private end = 0;
  private quoted = false;
  // The option being read (undefined: none).
  private option: OptionInfo | undefined;
  private optModule = '';
  private optModuleNeutral = true;
  private optOfTarget = false;
  private negated = false;
  private count = 0;
  private firstStart = 0;
  private firstEnd = 0;
  private firstQuoted = false;
  private hasComment = false;
  /** What the last line read holds besides its target (see applyFacts). */
  readonly facts = new Int32Array(FACT_SLOTS);
  /** Whether the line has a target, where its name stands (quotes included), whether quoted, and -j or -g. */
  hasTarget = false;
  targetStart = 0;
  targetEnd = 0;
  targetQuoted = false;
  targetKind: JumpKind = 'jump';

  constructor(private readonly interner: Interner) {}

  /** Reads `raw[from, to)`: its target into the reader's fields, its facts into `facts`; false when the line needs the general reader. */
  read(raw: string, from: number, to: number): boolean {
    this.raw = raw;
    this.to = to;
    this.i = from;
    this.option = undefined;
    this.hasComment = false;
    this.hasTarget = false;
    this.facts[0] = 0;
    if (this.readShape(raw, from, to)) return true;
    let module = '';
    let moduleNeutral = false;
    let ofTarget = false;
    let negateNext = false;
    for (;;) {
      const more = this.next();
      if (more === undefined) return false;
      if (!more) break;
      if (!this.quoted && this.end - this.start === 1 && raw.charCodeAt(this.start) === BANG) {
        const option = this.option;
        if (option !== undefined && this.count === 0 && !this.negated && !option.flag) {
          this.negated = true; // old style: `-s ! 10.0.0.0/8`
        } else {
          // An option left without a value before '!' is an odd case: the general reader decides.
          if (option !== undefined && (this.count === 0 || !this.close())) return false;
          negateNext = true;
          this.option = undefined;
        }
        continue;
      }
      if (!this.isOption()) {
        if (this.option === undefined || this.option.flag) return false;
        if (this.count === 0) {
          this.firstStart = this.start;
          this.firstEnd = this.end;
          this.firstQuoted = this.quoted;
        }
        this.count++;
        continue;
      }
      if (!this.close()) return false;
      const option = this.optionAt();
      const optionNegated = negateNext;
      negateNext = false;
      if (option === MATCH || option === JUMP || option === GOTO) {
        if (!this.next()) return false;
        if (this.isOption() || (!this.quoted && this.end - this.start === 1 && raw.charCodeAt(this.start) === BANG)) return false;
        if (option === MATCH) {
          module = this.quoted ? this.interner.get(this.value(this.start, this.end, true)) : this.interner.range(raw, this.start, this.end);
          moduleNeutral = isNeutralModule(module);
          ofTarget = false;
        } else {
          if (this.hasTarget) return false;
          this.setTarget(this.start, this.end, option === JUMP ? 'jump' : 'goto', this.quoted);
          ofTarget = true;
        }
        continue;
      }
      const core = option.core;
      this.option = option;
      this.optModule = core ? '' : module;
      this.optModuleNeutral = core ? false : moduleNeutral;
      this.optOfTarget = !core && ofTarget;
      this.negated = optionNegated;
      this.count = 0;
    }
    return !negateNext && this.close();
  }

  /**
   * The three shapes of rule that make most of a large cluster's dump, read by matching their
   * fixed words instead of option by option: an endpoint's masquerade mark and its DNAT, and a
   * service's random pick of an endpoint. `from` is the space after the chain's name. Any
   * difference (two spaces, a tab, a quote, another option) leaves the line to the option
   * reader; a test holds both to the same facts.
   *   -s ADDRESS -j TARGET
   *   -p PROTOCOL -m MODULE -j DNAT --to-destination ADDRESS
   *   -m statistic --mode random --probability P -j TARGET
   */
  private readShape(raw: string, from: number, to: number): boolean {
    if (raw.charCodeAt(from) !== SPACE || raw.charCodeAt(from + 1) !== DASH || raw.charCodeAt(from + 3) !== SPACE) return false;
    const letter = raw.charCodeAt(from + 2);
    if (letter === 115 /* s */) {
      const start = from + 4;
      const end = plainWordEnd(raw, start, to);
      if (end === -1 || !raw.startsWith(' -j ', end)) return false;
      if (!this.shapeTarget(raw, end + 4, to)) return false;
      this.put(SOURCE_FACT, start, end, false);
      this.facts[0] |= CONDITIONAL;
      return true;
    }
    if (letter === 112 /* p */) {
      const protocolStart = from + 4;
      const protocolEnd = plainWordEnd(raw, protocolStart, to);
      if (protocolEnd === -1 || !raw.startsWith(' -m ', protocolEnd)) return false;
      const moduleEnd = plainWordEnd(raw, protocolEnd + 4, to);
      if (moduleEnd === -1 || !raw.startsWith(DNAT_TO, moduleEnd)) return false;
      const start = moduleEnd + DNAT_TO.length;
      const end = plainWordEnd(raw, start, to);
      if (end !== to) return false;
      this.setTarget(moduleEnd + DNAT_NAME_START, moduleEnd + DNAT_NAME_END, 'jump', false);
      this.put(PROTOCOL_FACT, protocolStart, protocolEnd, false);
      this.put(TO_DESTINATION_FACT, start, end, false);
      return true;
    }
    if (letter === 109 /* m */ && raw.startsWith(RANDOM_PICK, from)) {
      const start = from + RANDOM_PICK.length;
      const end = plainWordEnd(raw, start, to);
      if (end === -1 || !raw.startsWith(' -j ', end)) return false;
      if (!this.shapeTarget(raw, end + 4, to)) return false;
      this.put(STATISTIC, start, end, false);
      if (!STATISTIC_NEUTRAL) this.facts[0] |= CONDITIONAL;
      return true;
    }
    return false;
  }

  /** A target word at `start` that ends the line. */
  private shapeTarget(raw: string, start: number, to: number): boolean {
    const end = plainWordEnd(raw, start, to);
    if (end !== to) return false;
    this.setTarget(start, end, 'jump', false);
    return true;
  }

  private setTarget(start: number, end: number, kind: JumpKind, quoted: boolean): void {
    this.hasTarget = true;
    this.targetQuoted = quoted;
    this.targetStart = start;
    this.targetEnd = end;
    this.targetKind = kind;
  }

  /**
   * The option word at [start, end): the options of kube-proxy's rules are told apart by their
   * length and a letter or two, without making a string.
   */
  private optionAt(): OptionInfo {
    const raw = this.raw;
    const s = this.start;
    const length = this.end - s;
    if (length === 2) {
      switch (raw.charCodeAt(s + 1)) {
        case 109: return MATCH; // -m
        case 106: return JUMP; // -j
        case 112: return PROTOCOL; // -p
        case 100: return DESTINATION; // -d
        case 115: return SOURCE; // -s
        case 103: return GOTO; // -g
        default: break;
      }
    } else if (raw.charCodeAt(s + 1) === DASH) {
      if (length === 9 && raw.startsWith('--comment', s)) return COMMENT;
      if (length === 7 && raw.startsWith('--dport', s)) return DPORT;
      if (length === 13 && raw.startsWith('--probability', s)) return PROBABILITY;
      if (length === 6 && raw.startsWith('--mode', s)) return MODE;
      if (length === 16 && raw.startsWith('--to-destination', s)) return TO_DESTINATION;
    }
    return optionInfo(raw.slice(s, this.end));
  }

  /** Moves to the next argument; false at the end; undefined when the line needs the general reader. */
  private next(): boolean | undefined {
    const raw = this.raw;
    const to = this.to;
    let i = this.i;
    let c = 0;
    while (i < to && ((c = raw.charCodeAt(i)) === SPACE || c === TAB || c === CR)) i++;
    if (i >= to) {
      this.i = i;
      return false;
    }
    this.start = i;
    if (c === QUOTE) {
      const close = raw.indexOf('"', i + 1);
      if (close === -1 || close >= to) return undefined;
      // Escapes within the quotes: the general reader resolves them. (Only this argument is searched.)
      for (let k = i + 1; k < close; k++) if (raw.charCodeAt(k) === BACKSLASH) return undefined;
      this.end = close + 1;
      this.quoted = true;
      this.i = this.end;
      // A quote must end its argument.
      if (this.i < to && (c = raw.charCodeAt(this.i)) !== SPACE && c !== TAB && c !== CR) return undefined;
      return true;
    }
    while (i < to && (c = raw.charCodeAt(i)) !== SPACE && c !== TAB && c !== CR) {
      if (c === QUOTE) return undefined;
      i++;
    }
    this.end = i;
    this.i = i;
    this.quoted = false;
    return true;
  }

  private isOption(): boolean {
    if (this.quoted || this.end - this.start < 2 || this.raw.charCodeAt(this.start) !== DASH) return false;
    const second = this.raw.charCodeAt(this.start + 1);
    return second === DASH || (second >= 65 && second <= 90) || (second >= 97 && second <= 122) || ((second === 52 || second === 54) && this.end - this.start === 2);
  }

  private value(s: number, e: number, q: boolean): string {
    return q ? this.raw.slice(s + 1, e - 1) : this.raw.slice(s, e);
  }

  /** Records where a fact stands (see FACT_SLOTS). */
  private put(fact: number, start: number, end: number, quoted: boolean): void {
    const facts = this.facts;
    const i = 1 + 3 * fact;
    facts[0] |= 1 << fact;
    facts[i] = start;
    facts[i + 1] = end;
    facts[i + 2] = quoted ? 1 : 0;
  }

  /** The first value of the option just read, as a fact. */
  private putFirst(fact: number): void {
    this.put(fact, this.firstStart, this.firstEnd, this.firstQuoted);
  }

  /** Records the option just read into the facts; false when it lacks a value it needs. */
  private close(): boolean {
    const option = this.option;
    if (option === undefined) return true;
    this.option = undefined;
    const key = option.key;
    if (this.count === 0 && option.needsValue) return false;
    const has = this.count > 0;
    const facts = this.facts;
    if (this.optOfTarget) {
      if (key === 'to-destination' && has) this.putFirst(TO_DESTINATION_FACT);
      return true;
    }
    const m = this.optModule;
    switch (key) {
      case 'source':
        if (m === '' && has) this.putFirst(SOURCE_FACT);
        break;
      case 'destination':
        if (m === '' && has) {
          this.putFirst(DESTINATION_FACT);
          if (this.negated) facts[0] |= DESTINATION_NEGATED;
        }
        break;
      case 'protocol':
        if (m === '' && has) this.putFirst(PROTOCOL_FACT);
        break;
      case 'dport':
        if (has) this.putFirst(DPORT_FACT);
        break;
      case 'dst-type':
        if (has) this.putFirst(DST_TYPE);
        break;
      case 'probability':
      case 'every':
        if (m === 'statistic' && has) {
          this.putFirst(STATISTIC);
          facts[0] &= ~(STATISTIC_EVERY | STATISTIC_NEGATED);
          if (key === 'every') facts[0] |= STATISTIC_EVERY;
          if (this.negated) facts[0] |= STATISTIC_NEGATED;
        }
        break;
      case 'comment':
        if (m === 'comment' && has && !this.hasComment) {
          if (this.count > 1) return false;
          this.hasComment = true;
          this.putFirst(COMMENT_FACT);
        }
        break;
      case 'set-counters':
        // -c in a rule is rare; the general reader keeps its two values.
        return false;
      default:
        break;
    }
    if (m === 'recent') {
      facts[0] |= RECENT;
      if (key === 'rcheck' || key === 'update') facts[0] |= RECENT_CHECK;
      else if (key === 'set') facts[0] |= RECENT_SET;
      else if (key === 'seconds' && has) this.putFirst(RECENT_SECONDS);
      else if (key === 'name' && has) this.putFirst(RECENT_NAME);
    } else if (!this.optModuleNeutral && !(m === '' && option.neutralCore)) {
      facts[0] |= CONDITIONAL;
    }
    return true;
  }
}

/** The rule a line's specification makes; the target's name is left to the caller (`targetName`), as it may link a chain. */
export function setTargetAndFacts(rule: Rule, reader: FastRuleReader, raw: string, interner: Interner): void {
  if (reader.hasTarget) {
    rule.targetStart = reader.targetStart;
    rule.targetEnd = reader.targetEnd;
    rule.targetKind = reader.targetKind;
  }
  applyFacts(rule, raw, 0, reader.facts, 0, interner);
}

/** Reads `raw[from, to)` into a fresh rule; undefined when the line needs the general reader. */
export function readRuleFast(raw: string, from: number, to: number, interner: Interner): Rule | undefined {
  const reader = new FastRuleReader(interner);
  if (!reader.read(raw, from, to)) return undefined;
  const rule = newRule(0, raw, 0, 0, raw.length);
  setTargetAndFacts(rule, reader, raw, interner);
  if (reader.hasTarget) rule.targetName = reader.targetQuoted ? raw.slice(rule.targetStart + 1, rule.targetEnd - 1) : raw.slice(rule.targetStart, rule.targetEnd);
  return rule;
}
