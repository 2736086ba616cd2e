// The parse's helper thread reads a large dump's lines ahead of the parser: it finds the rule
// and declaration lines the parser's fast paths take, and hands over where their parts stand
// as numbers (a row of ROW_SLOTS per line), with the ids their chains have. The parser then
// makes each rule from its row without reading the line again (LineParser.takeRow), while
// this scanner reads the lines after it on the other core.
//
// Chain ids are the parser's: a table's chains are numbered in the order they are first
// declared or used, so the scanner follows every line that makes a chain exactly as the parser
// does. The parser checks each name against the id it is given and reads the rest of the dump
// itself if one ever differs.
import { appendChainEnd, chainStartOf, COMMANDS, COUNTERS_PREFIX_RE, fastPolicy, isRuleCommand, isSameText, isTextAt as namedAt, newDeclarationShape, readDeclaration, skipBlanks } from './lineShapes';
import { ownValue } from './lookup';
import { FACT_SLOTS, FastRuleReader, Interner } from './ruleFast';
import { isOptionWord } from './ruleSpec';
import { BUILTIN_CHAINS, isBuiltinChain } from './ruleset';
import { splitArgs, splitWords } from './scanner';

/** What the parser does with a line. */
export const enum RowKind {
  /** Reads it itself, as without a helper. */
  Line = 0,
  /** A rule its fast path takes. */
  Rule = 1,
  /** A declaration its fast path takes. */
  Declaration = 2,
}

// Every row: the kind, and where the line stands in the text (end at the newline, or the text's end).
export const ROW_KIND = 0;
export const ROW_LINE_START = 1;
export const ROW_LINE_END = 2;
// A rule: columns on its line.
export const ROW_START = 3;
export const ROW_END = 4;
export const ROW_CHAIN_START = 5;
export const ROW_CHAIN_END = 6;
export const ROW_CHAIN = 7;
/** Where `[packets:bytes]` starts, or -1. */
export const ROW_COUNTERS = 8;
/** 1: a target; 2: its name quoted; 4: -g. */
export const ROW_TARGET_FLAGS = 9;
export const ROW_TARGET_START = 10;
export const ROW_TARGET_END = 11;
/** The id of the chain the target names, or -1 when the table has none of that name yet. */
export const ROW_TARGET_CHAIN = 12;
/** The rule's facts, as the fast reader records them (applyFacts). */
export const ROW_FACTS = 13;
// A declaration: the name's columns and its chain's id as above (ROW_CHAIN_START...), then these.
/** 0: '-', 1: ACCEPT, 2: DROP. */
export const ROW_POLICY = 3;
export const ROW_PACKETS = 4;
export const ROW_BYTES = 8;
export const ROW_SLOTS = ROW_FACTS + FACT_SLOTS;

export const TARGET_PRESENT = 1;
export const TARGET_QUOTED = 2;
export const TARGET_GOTO = 4;

export const POLICIES = ['-', 'ACCEPT', 'DROP'] as const;

/** Rows handed over at a time. */
export const BATCH_LINES = 4096;

/** A run of consecutive lines' rows. */
export interface RowBatch {
  rows: Int32Array;
  firstLine: number;
  count: number;
  /** The dump's last line is in this batch. */
  last: boolean;
}

/** Rows of a dump's lines, a batch at a time, in order. */
export interface RowStream {
  /** The next batch; undefined when the helper failed (the parser reads the rest itself). */
  next(): RowBatch | undefined;
  /** No more batches are wanted; `taken` lines were made from their rows. */
  close(taken: number): void;
}

/** Something that reads a dump's lines ahead of the parser: a helper thread (parseThread), or a test. */
export interface RowSource {
  /** Rows for this text, or undefined when it is not worth it (a small text) or the helper is unavailable. */
  read(text: string): RowStream | undefined;
}

/**
 * A table's chains' names by id, and their ids looked up by a range of a line without making a
 * string. Most rules of a large dump jump to a chain of their own, so a lookup is a random
 * access to memory; here it reads one slot of two 32-bit hashes and the id, not the name. Two
 * names with both hashes alike would give the wrong id; the parser checks every id it is given
 * against the name and reads the lines itself from a wrong one on (LineParser.takeRow).
 */
class ChainIds {
  /** The names by id. */
  readonly names: string[] = [];
  /** Open addressing, 4 numbers a slot: the hashes, id + 1 (0: a free slot), and one unused. */
  private slots = new Int32Array(4 << 10);

  /** The id of the chain named `raw[start, end)`, or -1. */
  find(raw: string, start: number, end: number): number {
    this.hash(raw, start, end);
    const { slots, h1, h2 } = this;
    const mask = (slots.length >> 2) - 1;
    for (let i = h1 & mask; ; i = (i + 1) & mask) {
      const at = i << 2;
      const id = slots[at + 2]! - 1;
      if (id === -1) return -1;
      if (slots[at] === h1 && slots[at + 1] === h2) return id;
    }
  }

  /** The id of the chain of this name, made when new. */
  idOf(name: string): number {
    const known = this.find(name, 0, name.length);
    return known !== -1 ? known : this.add(name);
  }

  /** Gives a new id to the name find() has just been asked for and not found (its hashes are still in h1 and h2). */
  add(name: string): number {
    const id = this.names.length;
    this.names.push(name);
    if (2 * this.names.length > this.slots.length >> 2) this.grow();
    this.place(this.h1, this.h2, id);
    return id;
  }

  /**
   * Twice the slots, every id placed again by the hashes its slot holds: hashing the names
   * again would read each one where it lies in the dump (at 64,000 chains, 10 ms the parser
   * spent waiting for rows).
   */
  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    for (let at = 0; at < old.length; at += 4) {
      if (old[at + 2] !== 0) this.place(old[at]!, old[at + 1]!, old[at + 2]! - 1);
    }
  }

  // The hashes of the last name hashed.
  private h1 = 0;
  private h2 = 0;

  private hash(raw: string, start: number, end: number): void {
    let h1 = 0x811c9dc5 | 0;
    let h2 = 0x2f2a3b1d;
    for (let i = start; i < end; i++) {
      const c = raw.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    this.h1 = h1;
    this.h2 = h2 ^ (h2 >>> 13);
  }

  /** Puts the id in the first free slot from where its name's first hash points. */
  private place(h1: number, h2: number, id: number): void {
    const slots = this.slots;
    const mask = (slots.length >> 2) - 1;
    let i = h1 & mask;
    while (slots[(i << 2) + 2] !== 0) i = (i + 1) & mask;
    slots[i << 2] = h1;
    slots[(i << 2) + 1] = h2;
    slots[(i << 2) + 2] = id + 1;
  }
}

interface TableState {
  name: string;
  committed: boolean;
  ids: ChainIds;
  declared: boolean[];
  /** The chain of the last rule: iptables-save writes a chain's rules together, in the order it declared the chains. */
  lastId: number;
  /**
   * Where the last rule named it. Its name is compared with the next rule's there, on a line
   * read just before, rather than in the name kept from its declaration, far back in memory.
   */
  lastLine: string;
  lastStart: number;
  lastEnd: number;
}

/**
 * Where the piece of `text` that starts at `offset` ends: about `length` characters on, after a
 * newline (or at the text's end). Pieces cut so are whole lines, as RowScanner.scan takes them.
 */
export function pieceEnd(text: string, offset: number, length: number): number {
  const cut = text.indexOf('\n', offset + length);
  return cut === -1 ? text.length : cut + 1;
}

/** Cuts `text` into pieces (pieceEnd), in order; `last` marks the one that ends the text. */
export function forEachPiece(text: string, length: number, take: (piece: string, offset: number, last: boolean) => void): void {
  for (let offset = 0; ; ) {
    const end = pieceEnd(text, offset, length);
    take(text.slice(offset, end), offset, end === text.length);
    if (end === text.length) return;
    offset = end;
  }
}

/**
 * Reads a dump's text piece by piece (each piece whole lines, in order) into rows, handed to
 * `emit` a batch at a time. Knows nothing of threads: the helper runs it, and so can a test.
 */
export class RowScanner {
  private table: TableState | undefined;
  private readonly reader = new FastRuleReader(new Interner());
  private readonly shape = newDeclarationShape();
  private rows: Int32Array = new Int32Array(BATCH_LINES * ROW_SLOTS);
  private count = 0;
  private line = 0;
  private firstLine = 0;

  /**
   * `emit` takes each batch; `recycled` gives back the rows of one the parser is done with, when
   * there is one, so that a large dump's rows do not become 75 MB of new buffers.
   */
  constructor(
    private readonly emit: (batch: RowBatch) => void,
    private readonly recycled: () => Int32Array | undefined = () => undefined,
  ) {}

  /**
   * Reads `piece`, whose first character stands at `offset` in the dump; `last` when it ends the
   * dump. The rows of all its lines are handed over before it returns, in a batch of fewer
   * lines if need be: the parser sends the text only a few pieces ahead of the rows it has
   * (ParseThread.read), so it must never wait for rows of a piece the scanner holds back.
   */
  scan(piece: string, offset: number, last: boolean): void {
    let from = 0;
    for (;;) {
      const nl = piece.indexOf('\n', from);
      if (nl === -1 && !last) {
        // Pieces end at a newline (or the dump's end); anything after the last one is the next piece's.
        if (from < piece.length) throw new Error('A piece of the dump must end with a whole line.');
        break;
      }
      const lineEnd = nl === -1 ? piece.length : nl;
      this.scanLine(piece.slice(from, lineEnd), offset + from, offset + lineEnd);
      if (nl === -1) break;
      from = nl + 1;
      if (from === piece.length && !last) break;
    }
    if (last || this.count > 0) this.flush(last);
  }

  private flush(last: boolean): void {
    this.emit({ rows: this.rows, firstLine: this.firstLine, count: this.count, last });
    const again = this.recycled();
    this.rows = again?.length === BATCH_LINES * ROW_SLOTS ? again : new Int32Array(BATCH_LINES * ROW_SLOTS);
    this.firstLine = this.line;
    this.count = 0;
  }

  private scanLine(raw: string, lineStart: number, lineEnd: number): void {
    const at = this.count * ROW_SLOTS;
    const rows = this.rows;
    rows[at + ROW_LINE_START] = lineStart;
    rows[at + ROW_LINE_END] = lineEnd;
    rows[at + ROW_KIND] = this.read(raw, at);
    this.line++;
    if (++this.count === BATCH_LINES) this.flush(false);
  }

  /** What the parser's parseLine does with the line, as far as chains go; the row's kind. */
  private read(raw: string, at: number): RowKind {
    let end = raw.length;
    if (end > 0 && raw.charCodeAt(end - 1) === 13) end--;
    let start = skipBlanks(raw, 0, end);
    if (start === end) return RowKind.Line;
    const first = raw.charCodeAt(start);
    if (first === 35 /* # */) return RowKind.Line;
    if (first === 42 /* * */) {
      this.openTable(raw.slice(start + 1, end).trim());
      return RowKind.Line;
    }
    const table = this.table && !this.table.committed ? this.table : undefined;
    if (first === 58 /* : */) return table ? this.declaration(table, raw, start, end, at) : RowKind.Line;
    let counters = -1;
    if (first === 91 /* [ */) {
      const prefix = COUNTERS_PREFIX_RE.exec(raw.slice(start, Math.min(end, start + 64)));
      if (!prefix) return RowKind.Line;
      counters = start;
      start = skipBlanks(raw, start + prefix[0].length, end);
    }
    if (first === 45 /* - */ || counters !== -1) return table ? this.command(table, raw, start, end, counters, at) : RowKind.Line;
    if (table && raw.slice(start, end).trim() === 'COMMIT') table.committed = true;
    return RowKind.Line;
  }

  private openTable(name: string): void {
    const table: TableState = { name, committed: false, ids: new ChainIds(), declared: [], lastId: -1, lastLine: '', lastStart: 0, lastEnd: 0 };
    for (const builtin of ownValue(BUILTIN_CHAINS, name) ?? []) table.ids.idOf(builtin);
    this.table = table;
  }

  /** The id of the chain named by `raw[start, end)`: the last rule's, the one after it, or looked up. */
  private idAt(table: TableState, raw: string, start: number, end: number): number {
    const last = table.lastId;
    let id = last;
    const { names } = table.ids;
    if (last === -1 || !isSameText(table.lastLine, table.lastStart, table.lastEnd, raw, start, end)) {
      // A chain is made by its first rule (LineParser.chainOf).
      id = last !== -1 && last + 1 < names.length && namedAt(names[last + 1]!, raw, start, end) ? last + 1 : table.ids.find(raw, start, end);
      if (id === -1) id = table.ids.add(raw.slice(start, end));
      table.lastId = id;
    }
    table.lastLine = raw;
    table.lastStart = start;
    table.lastEnd = end;
    return id;
  }

  /**
   * A declaration of the chain (LineParser.declare): made when new, and marked declared (again,
   * if it was). `existing` is what find() has just answered for the name, so that a new name is
   * added without hashing it a second time.
   */
  private declare(table: TableState, name: string, existing = table.ids.find(name, 0, name.length)): number {
    const id = existing !== -1 ? existing : table.ids.add(name);
    table.declared[id] = true;
    return id;
  }

  private declaration(table: TableState, raw: string, start: number, end: number, at: number): RowKind {
    const shape = this.shape;
    if (readDeclaration(raw, start, end, shape)) {
      const name = raw.slice(shape.nameStart, shape.nameEnd);
      const existing = table.ids.find(raw, shape.nameStart, shape.nameEnd);
      const policy = fastPolicy(raw, shape, isBuiltinChain(table.name, name));
      if (!(existing !== -1 && table.declared[existing]) && policy !== undefined && shape.packets <= 0x7fffffff && shape.bytes <= 0x7fffffff) {
        const rows = this.rows;
        rows[at + ROW_CHAIN_START] = shape.nameStart;
        rows[at + ROW_CHAIN_END] = shape.nameEnd;
        rows[at + ROW_CHAIN] = this.declare(table, name, existing);
        rows[at + ROW_POLICY] = POLICIES.indexOf(policy);
        rows[at + ROW_PACKETS] = shape.packets;
        rows[at + ROW_BYTES] = shape.bytes;
        return RowKind.Declaration;
      }
    }
    // The general path: the first word right after the colon names the chain.
    const name = splitWords(raw, start + 1, end)[0];
    if (name && name.start === start + 1) this.declare(table, name.text);
    return RowKind.Line;
  }

  private command(table: TableState, raw: string, start: number, end: number, counters: number, at: number): RowKind {
    const chainEnd = appendChainEnd(raw, start, end);
    if (chainEnd !== -1) {
      const reader = this.reader;
      const chainStart = chainStartOf(raw, start, end);
      if (reader.read(raw, chainEnd, end)) {
        const rows = this.rows;
        rows[at + ROW_START] = start;
        rows[at + ROW_END] = end;
        rows[at + ROW_CHAIN_START] = chainStart;
        rows[at + ROW_CHAIN_END] = chainEnd;
        rows[at + ROW_CHAIN] = this.idAt(table, raw, chainStart, chainEnd);
        rows[at + ROW_COUNTERS] = counters;
        if (reader.hasTarget) {
          const { targetStart, targetEnd, targetQuoted } = reader;
          rows[at + ROW_TARGET_FLAGS] = TARGET_PRESENT | (targetQuoted ? TARGET_QUOTED : 0) | (reader.targetKind === 'goto' ? TARGET_GOTO : 0);
          rows[at + ROW_TARGET_START] = targetStart;
          rows[at + ROW_TARGET_END] = targetEnd;
          rows[at + ROW_TARGET_CHAIN] = targetQuoted ? table.ids.find(raw, targetStart + 1, targetEnd - 1) : table.ids.find(raw, targetStart, targetEnd);
        } else {
          rows[at + ROW_TARGET_FLAGS] = 0;
        }
        rows.set(reader.facts, at + ROW_FACTS);
        return RowKind.Rule;
      }
    }
    // The general path (LineParser.parseCommand): a rule command makes its chain; -N declares one.
    const args = splitArgs(raw, start, end, 2).args;
    const command = args[0] && ownValue(COMMANDS, args[0].text);
    const chain = args[1];
    if (!command || !chain || isOptionWord(chain)) return RowKind.Line;
    if (isRuleCommand(command)) {
      table.lastId = table.ids.idOf(chain.text);
      const name = table.ids.names[table.lastId]!;
      table.lastLine = name;
      table.lastStart = 0;
      table.lastEnd = name.length;
    }
    else if (command === 'new-chain') this.declare(table, chain.text);
    return RowKind.Line;
  }
}
