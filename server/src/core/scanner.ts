import type { Arg } from './ruleset';

export interface SplitResult {
  args: Arg[];
  /** Column of an opening quote that is never closed. */
  unterminatedQuoteAt?: number;
}

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;

/**
 * Splits one line into arguments the way iptables-restore does (xshared.c add_param_to_argv):
 * blanks separate arguments; a double quote opens a quoted part in which a backslash takes the
 * next character literally (`\"`, `\'`); the closing quote ends the argument. Outside quotes a
 * backslash is an ordinary character. Stops after `maxArgs` arguments.
 */
export function splitArgs(line: string, from = 0, to = line.length, maxArgs = Infinity): SplitResult {
  const args: Arg[] = [];
  let i = from;
  while (i < to && args.length < maxArgs) {
    let c = line.charCodeAt(i);
    if (c === SPACE || c === TAB || c === 13) {
      i++;
      continue;
    }
    const start = i;
    // Fast path: a plain word without quotes.
    while (i < to) {
      c = line.charCodeAt(i);
      if (c === SPACE || c === TAB || c === QUOTE || c === 13) break;
      i++;
    }
    if (i >= to || c !== QUOTE) {
      args.push({ text: line.slice(start, i), start, end: i, quoted: false });
      continue;
    }
    // The argument contains a quoted part: build its value character by character.
    let text = line.slice(start, i);
    i++; // opening quote
    let closed = false;
    while (i < to) {
      c = line.charCodeAt(i);
      if (c === BACKSLASH && i + 1 < to) {
        text += line[i + 1];
        i += 2;
        continue;
      }
      if (c === QUOTE) {
        closed = true;
        i++;
        break;
      }
      text += line[i];
      i++;
    }
    args.push({ text, start, end: i, quoted: true });
    if (!closed) return { args, unterminatedQuoteAt: start };
  }
  return { args };
}

/**
 * Splits a chain declaration (`:NAME POLICY [p:b]`) into its words the way iptables-restore
 * does: at blanks only. Unlike a rule line, a declaration's quotes are part of the words.
 */
export function splitWords(line: string, from = 0, to = line.length): Arg[] {
  const words: Arg[] = [];
  const blank = (i: number) => {
    const c = line.charCodeAt(i);
    return c === SPACE || c === TAB || c === 13;
  };
  let i = from;
  while (i < to) {
    if (blank(i)) {
      i++;
      continue;
    }
    const start = i;
    while (i < to && !blank(i)) i++;
    words.push({ text: line.slice(start, i), start, end: i, quoted: false });
  }
  return words;
}
