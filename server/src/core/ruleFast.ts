// The parser's fast path for a rule's specification. A dump of 400,000 rules is almost all
// well-formed kube-proxy lines; reading them without an object per argument is what keeps a
// large dump's analysis under a second. This reader accepts only lines it is sure of: on
// anything that could be a mistake (a missing value, a stray word, an escaped quote) it
// gives up and the general reader (parseRuleSpec), which reports problems, reads the line.
// A test holds both readers to the same answers.
import type { JumpKind, RuleFacts } from './ruleset';
import { flagOption, isRuleOption, narrowsTraffic, needsValue, optionKeyOf } from './ruleSpec';

const SPACE = 32;
const TAB = 9;
const CR = 13;
const QUOTE = 34;
const BACKSLASH = 92;
const DASH = 45;
const BANG = 33;


/** What the fast reader found in a rule's specification. */
export interface FastRule {
  targetName: string | undefined;
  targetStart: number;
  targetEnd: number;
  targetKind: JumpKind | undefined;
  comment: string | undefined;
  commentStart: number;
  commentEnd: number;
  commentQuoted: boolean;
  facts: RuleFacts;
}

/** Short strings that recur on every line (protocols, ports, probabilities, modules): one copy each. */
export class Interner {
  private readonly strings = new Map<string, string>();
  get(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.strings.size < 100_000) this.strings.set(text, text);
    return text;
  }
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
  private facts: RuleFacts = { conditional: false };
  private comment: string | undefined;
  private commentStart = 0;
  private commentEnd = 0;
  private commentQuoted = false;

  constructor(private readonly interner: Interner) {}

  read(raw: string, from: number, to: number): FastRule | undefined {
    this.raw = raw;
    this.to = to;
    this.i = from;
    this.key = undefined;
    this.facts = { conditional: false };
    this.comment = undefined;
    let targetName: string | undefined;
    let targetStart = 0;
    let targetEnd = 0;
    let targetKind: JumpKind | undefined;
    let module = '';
    let ofTarget = false;
    let negateNext = false;
    for (;;) {
      const more = this.next();
      if (more === undefined) return undefined;
      if (!more) break;
      if (!this.quoted && this.end - this.start === 1 && raw.charCodeAt(this.start) === BANG) {
        if (this.key !== undefined && this.count === 0 && !this.negated && !flagOption(this.key)) {
          this.negated = true; // old style: `-s ! 10.0.0.0/8`
        } else {
          // An option left without a value before '!' is an odd case: the general reader decides.
          if (this.key !== undefined && (this.count === 0 || !this.close())) return undefined;
          negateNext = true;
          this.key = undefined;
        }
        continue;
      }
      if (!this.isOption()) {
        if (this.key === undefined || flagOption(this.key)) return undefined;
        if (this.count === 0) {
          this.firstStart = this.start;
          this.firstEnd = this.end;
          this.firstQuoted = this.quoted;
        }
        this.count++;
        continue;
      }
      if (!this.close()) return undefined;
      const name = raw.slice(this.start, this.end);
      const optionKey = optionKeyOf(name);
      const optionNegated = negateNext;
      negateNext = false;
      if (optionKey === 'match' || optionKey === 'jump' || optionKey === 'goto') {
        if (!this.next()) return undefined;
        if (this.isOption() || (!this.quoted && this.end - this.start === 1 && raw.charCodeAt(this.start) === BANG)) return undefined;
        if (optionKey === 'match') {
          module = this.interner.get(this.value(this.start, this.end, this.quoted));
          ofTarget = false;
        } else {
          if (targetName !== undefined) return undefined;
          targetName = this.value(this.start, this.end, this.quoted);
          targetStart = this.start;
          targetEnd = this.end;
          targetKind = optionKey === 'jump' ? 'jump' : 'goto';
          ofTarget = true;
        }
        continue;
      }
      const core = isRuleOption(name, optionKey);
      this.key = optionKey;
      this.optModule = core ? '' : module;
      this.optOfTarget = !core && ofTarget;
      this.negated = optionNegated;
      this.count = 0;
    }
    if (negateNext || !this.close()) return undefined;
    return {
      targetName, targetStart, targetEnd, targetKind,
      comment: this.comment, commentStart: this.commentStart, commentEnd: this.commentEnd, commentQuoted: this.commentQuoted,
      facts: this.facts,
    };
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

  /** Records the option just read into the facts; false when it lacks a value it needs. */
  private close(): boolean {
    const key = this.key;
    if (key === undefined) return true;
    this.key = undefined;
    if (this.count === 0 && needsValue(key)) return false;
    const has = this.count > 0;
    const facts = this.facts;
    if (this.optOfTarget) {
      if (key === 'to-destination' && has) {
        facts.toDestination = this.first();
        facts.toDestinationArg = { text: facts.toDestination, start: this.firstStart, end: this.firstEnd, quoted: this.firstQuoted };
      }
      return true;
    }
    const m = this.optModule;
    switch (key) {
      case 'source':
        if (m === '' && has) facts.source = this.first();
        break;
      case 'destination':
        if (m === '' && has) {
          facts.destination = this.first();
          if (this.negated) facts.destinationNegated = true;
        }
        break;
      case 'protocol':
        if (m === '' && has) facts.protocol = this.interner.get(this.first());
        break;
      case 'dport':
        if (has) facts.dport = this.interner.get(this.first());
        break;
      case 'dst-type':
        if (has) facts.dstType = this.interner.get(this.first());
        break;
      case 'probability':
      case 'every':
        if (m === 'statistic' && has) facts.statistic = { [key]: this.interner.get(this.first()), negated: this.negated, valueEnd: this.firstEnd };
        break;
      case 'comment':
        if (m === 'comment' && has && this.comment === undefined) {
          if (this.count > 1) return false;
          this.comment = this.first();
          this.commentStart = this.firstStart;
          this.commentEnd = this.firstEnd;
          this.commentQuoted = this.firstQuoted;
        }
        break;
      case 'set-counters':
        // -c in a rule is rare; the general reader keeps its two values.
        return false;
      default:
        break;
    }
    if (m === 'recent') {
      const recent = (facts.recent ??= { check: false, set: false });
      if (key === 'rcheck' || key === 'update') recent.check = true;
      else if (key === 'set') recent.set = true;
      else if (key === 'seconds' && has) recent.seconds = Number(this.first());
      else if (key === 'name' && has) recent.name = { text: this.first(), start: this.firstStart, end: this.firstEnd, quoted: this.firstQuoted };
    } else if (narrowsTraffic(m, key)) {
      facts.conditional = true;
    }
    return true;
  }
}

/** Reads `raw[from, to)` with a fresh reader; undefined when the line needs the general reader. */
export function readRuleFast(raw: string, from: number, to: number, interner: Interner): FastRule | undefined {
  return new FastRuleReader(interner).read(raw, from, to);
}
