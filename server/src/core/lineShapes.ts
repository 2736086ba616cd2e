// The shapes of line the parser reads without splitting them into words, shared by the parser
// and the scanner of its helper thread (rowScan), which must take exactly the same lines.
import type { ChainCommand, RuleCommand } from './ruleset';

export const COMMANDS: Readonly<Record<string, RuleCommand | ChainCommand>> = {
  '-A': 'append', '--append': 'append',
  '-I': 'insert', '--insert': 'insert',
  '-D': 'delete', '--delete': 'delete',
  '-R': 'replace', '--replace': 'replace',
  '-N': 'new-chain', '--new-chain': 'new-chain',
  '-X': 'delete-chain', '--delete-chain': 'delete-chain',
  '-F': 'flush', '--flush': 'flush',
  '-P': 'policy', '--policy': 'policy',
  '-Z': 'zero', '--zero': 'zero',
};

export function isRuleCommand(command: RuleCommand | ChainCommand): command is RuleCommand {
  return command === 'append' || command === 'insert' || command === 'delete' || command === 'replace';
}

/**
 * Whether `raw[start, end)` is `name`: compared from the end, where chain names differ; on a
 * large dump a call to startsWith for each rule cost more than this loop.
 */
export function isTextAt(name: string, raw: string, start: number, end: number): boolean {
  return isSameText(name, 0, name.length, raw, start, end);
}

/** Whether `a[aStart, aEnd)` and `b[bStart, bEnd)` are the same text (see isTextAt). */
export function isSameText(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): boolean {
  let i = aEnd - aStart;
  if (i !== bEnd - bStart) return false;
  while (i > 0) {
    i--;
    if (a.charCodeAt(aStart + i) !== b.charCodeAt(bStart + i)) return false;
  }
  return true;
}

export const COUNTERS_PREFIX_RE = /^\[(\d+):(\d+)\]/;

/** What readDeclaration found in `:NAME POLICY [p:b]`. */
export interface DeclarationShape {
  nameStart: number;
  nameEnd: number;
  policyStart: number;
  policyEnd: number;
  packets: number;
  bytes: number;
}

export function newDeclarationShape(): DeclarationShape {
  return { nameStart: 0, nameEnd: 0, policyStart: 0, policyEnd: 0, packets: 0, bytes: 0 };
}

/**
 * `:NAME POLICY [p:b]` as iptables-save writes it (`raw[start]` is the colon), read into `shape`
 * without splitting the line; false for anything unusual (quotes, blanks, more words), which
 * the parser's general path reads and reports.
 */
export function readDeclaration(raw: string, start: number, end: number, shape: DeclarationShape): boolean {
  const nameStart = start + 1;
  let i = nameStart;
  let c = 0;
  while (i < end && (c = raw.charCodeAt(i)) !== 32 && c !== 9) {
    if (c === 34 || c === 39 || c === 92) return false;
    i++;
  }
  const nameEnd = i;
  if (nameEnd === nameStart || raw.charCodeAt(i) !== 32) return false;
  const policyStart = ++i;
  while (i < end && (c = raw.charCodeAt(i)) !== 32 && c !== 9) i++;
  const policyEnd = i;
  if (raw.charCodeAt(i) !== 32 || raw.charCodeAt(++i) !== 91 /* [ */) return false;
  let packets = 0;
  let bytes = 0;
  let digits = 0;
  for (i++; i < end && (c = raw.charCodeAt(i)) >= 48 && c <= 57; i++, digits++) packets = packets * 10 + (c - 48);
  if (digits === 0 || digits > 15 || c !== 58 /* : */) return false;
  for (i++, digits = 0; i < end && (c = raw.charCodeAt(i)) >= 48 && c <= 57; i++, digits++) bytes = bytes * 10 + (c - 48);
  if (digits === 0 || digits > 15 || c !== 93 /* ] */) return false;
  for (i++; i < end; i++) if ((c = raw.charCodeAt(i)) !== 32 && c !== 9) return false;
  shape.nameStart = nameStart;
  shape.nameEnd = nameEnd;
  shape.policyStart = policyStart;
  shape.policyEnd = policyEnd;
  shape.packets = packets;
  shape.bytes = bytes;
  return true;
}

/** The declaration's policy when it is one the fast path takes ('-', or ACCEPT or DROP of a built-in chain). */
export function fastPolicy(raw: string, shape: DeclarationShape, builtin: boolean): '-' | 'ACCEPT' | 'DROP' | undefined {
  const { policyStart } = shape;
  const length = shape.policyEnd - policyStart;
  if (length === 1 && raw.charCodeAt(policyStart) === 45) return '-';
  if (builtin && length === 6 && raw.startsWith('ACCEPT', policyStart)) return 'ACCEPT';
  if (builtin && length === 4 && raw.startsWith('DROP', policyStart)) return 'DROP';
  return undefined;
}

/**
 * Where the chain's name ends in `-A CHAIN ...` (`raw[start]` is the dash), the common rule line
 * the fast path takes; -1 for another command or a name the general path reads (quoted, missing,
 * an option). The name starts at the first non-blank after `-A `: chainStartOf.
 */
export function appendChainEnd(raw: string, start: number, end: number): number {
  if (raw.charCodeAt(start) !== 45 || raw.charCodeAt(start + 1) !== 65 || raw.charCodeAt(start + 2) !== 32) return -1;
  const chainStart = chainStartOf(raw, start, end);
  let chainEnd = chainStart;
  let c = 0;
  while (chainEnd < end && (c = raw.charCodeAt(chainEnd)) !== 32 && c !== 9 && c !== 13) {
    if (c === 34) return -1;
    chainEnd++;
  }
  if (chainEnd === chainStart || raw.charCodeAt(chainStart) === 45) return -1;
  return chainEnd;
}

/** Where the chain's name starts in `-A CHAIN ...`. */
export function chainStartOf(raw: string, start: number, end: number): number {
  return skipBlanks(raw, start + 3, end);
}

/** The first position from `from` (before `end`) that is not a space or a tab. */
export function skipBlanks(raw: string, from: number, end: number): number {
  let i = from;
  let c = 0;
  while (i < end && ((c = raw.charCodeAt(i)) === 32 || c === 9)) i++;
  return i;
}
