// The parser's fast path for a rule's specification. A dump of 400,000 rules is almost all
// well-formed kube-proxy lines; reading them without an object per argument is what keeps a
// large dump's analysis under a second. This reader accepts only lines it is sure of: on
// anything that could be a mistake (a missing value, a stray word, an escaped quote) it
// gives up and the general reader (parseRuleSpec), which reports problems, reads the line.
// A test holds both readers to the same answers.
import { Rule } from './ruleset';
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
  private readonly lately = new RecentWords<string>((word) => word);

  get(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.strings.size < 100_000) this.strings.set(text, text);
    return text;
  }

  /** `text[start, end)` when it is one of the words seen lately. */
  recent(text: string, start: number, end: number): string | undefined {
    return this.lately.find(text, start, end);
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
 * A small direct-mapped cache from words to values, probed with a range of a line: a rule's
 * target or protocol is usually one of a few recent ones, and comparing a few letters is
 * cheaper than slicing the word and hashing it into a large map.
 */
export class RecentWords<T> {
  private readonly slots: Array<T | undefined> = new Array<T | undefined>(RECENT_SLOTS).fill(undefined);

  constructor(private readonly nameOf: (value: T) => string) {}

  find(text: string, start: number, end: number): T | undefined {
    const value = this.slots[slotOf(text, start, end)];
    if (value === undefined) return undefined;
    const name = this.nameOf(value);
    const length = end - start;
    if (name.length !== length) return undefined;
    for (let i = 0; i < length; i++) if (name.charCodeAt(i) !== text.charCodeAt(start + i)) return undefined;
    return value;
  }

  remember(text: string, start: number, end: number, value: T): void {
    this.slots[slotOf(text, start, end)] = value;
  }

  clear(): void {
    this.slots.fill(undefined);
  }
}

const RECENT_SLOTS = 256;

function slotOf(text: string, start: number, end: number): number {
  const length = end - start;
  if (length === 0) return 0;
  return (length * 31 + text.charCodeAt(start) * 7 + text.charCodeAt(end - 1) * 3 + text.charCodeAt(end - 2 > start ? end - 2 : start) * 5) & (RECENT_SLOTS - 1);
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
  // The option being read (key undefined: none).
  private key: string | undefined;
  private optModule = '';
  private optOfTarget = false;
  private negated = false;
  private count = 0;
  private firstStart = 0;
  private firstEnd = 0;
  private firstQuoted = false;
  private rule!: Rule;
  private hasComment = false;
  /** Whether the line has a target, and whether its name is quoted; the caller names it (see `rule.targetStart`). */
  hasTarget = false;
  targetQuoted = false;

  constructor(private readonly interner: Interner) {}

  /** Reads `raw[from, to)` into the rule's target, comment and facts; false when the line needs the general reader. */
  read(rule: Rule, raw: string, from: number, to: number): boolean {
    this.raw = raw;
    this.to = to;
    this.i = from;
    this.key = undefined;
    this.rule = rule;
    this.hasComment = false;
    this.hasTarget = false;
    let module = '';
    let ofTarget = false;
    let negateNext = false;
    for (;;) {
      const more = this.next();
      if (more === undefined) return false;
      if (!more) break;
      if (!this.quoted && this.end - this.start === 1 && raw.charCodeAt(this.start) === BANG) {
        if (this.key !== undefined && this.count === 0 && !this.negated && !flagOption(this.key)) {
          this.negated = true; // old style: `-s ! 10.0.0.0/8`
        } else {
          // An option left without a value before '!' is an odd case: the general reader decides.
          if (this.key !== undefined && (this.count === 0 || !this.close())) return false;
          negateNext = true;
          this.key = undefined;
        }
        continue;
      }
      if (!this.isOption()) {
        if (this.key === undefined || flagOption(this.key)) return false;
        if (this.count === 0) {
          this.firstStart = this.start;
          this.firstEnd = this.end;
          this.firstQuoted = this.quoted;
        }
        this.count++;
        continue;
      }
      if (!this.close()) return false;
      const optionKey = this.optionKey();
      const optionNegated = negateNext;
      negateNext = false;
      if (optionKey === 'match' || optionKey === 'jump' || optionKey === 'goto') {
        if (!this.next()) return false;
        if (this.isOption() || (!this.quoted && this.end - this.start === 1 && raw.charCodeAt(this.start) === BANG)) return false;
        if (optionKey === 'match') {
          module = this.quoted ? this.interner.get(this.value(this.start, this.end, true)) : this.interner.range(raw, this.start, this.end);
          ofTarget = false;
        } else {
          if (this.hasTarget) return false;
          this.hasTarget = true;
          this.targetQuoted = this.quoted;
          rule.targetStart = this.start;
          rule.targetEnd = this.end;
          rule.targetKind = optionKey === 'jump' ? 'jump' : 'goto';
          ofTarget = true;
        }
        continue;
      }
      const core = this.isRuleOption(optionKey);
      this.key = optionKey;
      this.optModule = core ? '' : module;
      this.optOfTarget = !core && ofTarget;
      this.negated = optionNegated;
      this.count = 0;
    }
    return !negateNext && this.close();
  }

  /**
   * The canonical key of the option word at [start, end): the options of kube-proxy's rules
   * are told apart by their length and a letter or two, without making a string.
   */
  private optionKey(): string {
    const raw = this.raw;
    const s = this.start;
    const length = this.end - s;
    if (length === 2) {
      switch (raw.charCodeAt(s + 1)) {
        case 109: return 'match'; // -m
        case 106: return 'jump'; // -j
        case 112: return 'protocol'; // -p
        case 100: return 'destination'; // -d
        case 115: return 'source'; // -s
        case 103: return 'goto'; // -g
        default: break;
      }
    } else if (raw.charCodeAt(s + 1) === DASH) {
      // --comment, --dport, --probability, --mode, --to-destination, --mark, --ctstate
      if (length === 9 && raw.startsWith('--comment', s)) return 'comment';
      if (length === 7 && raw.startsWith('--dport', s)) return 'dport';
      if (length === 13 && raw.startsWith('--probability', s)) return 'probability';
      if (length === 6 && raw.startsWith('--mode', s)) return 'mode';
      if (length === 16 && raw.startsWith('--to-destination', s)) return 'to-destination';
    }
    return optionKeyOf(raw.slice(s, this.end));
  }

  /** An option of the rule itself (`-d`, `--protocol`), wherever it stands among the matches. */
  private isRuleOption(key: string): boolean {
    if (this.end - this.start === 2) return key === 'source' || key === 'destination' || key === 'protocol' || isRuleOption(this.raw.slice(this.start, this.end), key);
    return key !== 'comment' && key !== 'dport' && key !== 'probability' && key !== 'mode' && key !== 'to-destination' && isRuleOption(this.raw.slice(this.start, this.end), key);
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

  private first(): string {
    return this.value(this.firstStart, this.firstEnd, this.firstQuoted);
  }

  /** The first value, as a shared copy: for words that recur on many lines. */
  private firstWord(): string {
    return this.firstQuoted ? this.interner.get(this.first()) : this.interner.range(this.raw, this.firstStart, this.firstEnd);
  }

  /** Records the option just read into the rule's facts; false when it lacks a value it needs. */
  private close(): boolean {
    const key = this.key;
    if (key === undefined) return true;
    this.key = undefined;
    if (this.count === 0 && needsValue(key)) return false;
    const has = this.count > 0;
    const rule = this.rule;
    if (this.optOfTarget) {
      if (key === 'to-destination' && has) {
        rule.toDestination = this.first();
        rule.toDestinationStart = this.firstStart;
        rule.toDestinationEnd = this.firstEnd;
        rule.toDestinationQuoted = this.firstQuoted;
      }
      return true;
    }
    const m = this.optModule;
    switch (key) {
      case 'source':
        if (m === '' && has) rule.source = this.first();
        break;
      case 'destination':
        if (m === '' && has) {
          rule.destination = this.first();
          if (this.negated) rule.destinationNegated = true;
        }
        break;
      case 'protocol':
        if (m === '' && has) rule.protocol = this.firstWord();
        break;
      case 'dport':
        if (has) rule.dport = this.firstWord();
        break;
      case 'dst-type':
        if (has) rule.dstType = this.firstWord();
        break;
      case 'probability':
        if (m === 'statistic' && has) rule.statistic = { probability: this.firstWord(), every: undefined, negated: this.negated, valueEnd: this.firstEnd };
        break;
      case 'every':
        if (m === 'statistic' && has) rule.statistic = { probability: undefined, every: this.firstWord(), negated: this.negated, valueEnd: this.firstEnd };
        break;
      case 'comment':
        if (m === 'comment' && has && !this.hasComment) {
          if (this.count > 1) return false;
          this.hasComment = true;
          rule.comment = this.first();
          rule.commentStart = this.firstStart;
          rule.commentEnd = this.firstEnd;
          rule.commentQuoted = this.firstQuoted;
        }
        break;
      case 'set-counters':
        // -c in a rule is rare; the general reader keeps its two values.
        return false;
      default:
        break;
    }
    if (m === 'recent') {
      const recent = (rule.recent ??= { check: false, set: false });
      if (key === 'rcheck' || key === 'update') recent.check = true;
      else if (key === 'set') recent.set = true;
      else if (key === 'seconds' && has) recent.seconds = Number(this.first());
      else if (key === 'name' && has) recent.name = { text: this.first(), start: this.firstStart, end: this.firstEnd, quoted: this.firstQuoted };
    } else if (m !== 'comment' && m !== 'statistic' && narrowsTraffic(m, key)) {
      rule.conditional = true;
    }
    return true;
  }
}

/** Reads `raw[from, to)` into a fresh rule; undefined when the line needs the general reader. */
export function readRuleFast(raw: string, from: number, to: number, interner: Interner): Rule | undefined {
  const rule = new Rule(0, raw, 0, raw.length);
  const reader = new FastRuleReader(interner);
  if (!reader.read(rule, raw, from, to)) return undefined;
  if (reader.hasTarget) rule.targetName = reader.targetQuoted ? raw.slice(rule.targetStart + 1, rule.targetEnd - 1) : raw.slice(rule.targetStart, rule.targetEnd);
  return rule;
}
