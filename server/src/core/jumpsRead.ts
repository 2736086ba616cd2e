// The jumps of a table as the parser read them, so that the chain graph lays out its jump
// arrays from three numbers a jump instead of visiting every rule of the table again: on a
// large dump that second pass read 320,000 rule objects lying over 95 MB, most of the graph's
// build.
import { isBuiltinTarget, type Rule, type Table } from './ruleset';

/**
 * For each rule that names a chain of its table (linked as it was read), in the order the rules
 * were added to table.rules (line order, whatever the command: the graph's jumps are the
 * table's, as its pass over table.rules finds them): the id of its chain, the id of the chain it
 * names and its index in table.rules. Usable only while `complete`: every other target a jump to
 * a built-in target (those in `builtinNames`, which the graph checks no chain is named after).
 */
export class JumpsRead {
  from = new Int32Array(1024);
  to = new Int32Array(1024);
  rule = new Int32Array(1024);
  count = 0;
  /** How many rules the table had when each was noted: the graph checks nothing was added or removed since. */
  rules = 0;
  complete = true;
  /** The verdicts and target extensions jumped to, which no chain of the table must be named after. */
  readonly builtinNames = new Set<string>();
  /** The last of them, so that the same one jumped to again (DNAT on every endpoint) is not looked up. */
  private lastBuiltin: string | undefined;

  /** Notes the rule just added to the table as its `index`-th rule. */
  note(rule: Rule, chainId: number, index: number): void {
    this.rules = index + 1;
    const target = rule.targetChain;
    if (target !== undefined) {
      const n = this.count;
      if (n === this.from.length) this.grow(rule.lineAt, rule.chars.length);
      this.from[n] = chainId;
      this.to[n] = target.id;
      this.rule[n] = index;
      this.count = n + 1;
      return;
    }
    const name = rule.targetName;
    if (name === undefined || name === '') return;
    // A goto, or a name that is no built-in target, the graph links (or makes a node for) itself.
    if (rule.targetKind !== 'jump') this.complete = false;
    else if (name !== this.lastBuiltin) {
      if (!isBuiltinTarget(name)) this.complete = false;
      this.lastBuiltin = name;
      this.builtinNames.add(name);
    }
  }

  /**
   * More room, made when the jump at `at` of a text of `length` characters finds none. Each
   * growth leaves copies that count as memory outside V8's heap until its next full
   * collection (they outlive the young generation), so the room is sized from the jumps per
   * character read so far, which on kube-proxy's even dumps lands close to the table's count
   * (the 30k dump: 670,504 jumps in room for 0.74 M, not 1 M after ten doublings): between
   * twice and eight times the room.
   */
  private grow(at: number, length: number): void {
    const room = this.from.length;
    const estimate = at > 0 ? Math.ceil(((room * length) / at) * 1.1) : 0;
    const size = Math.min(8 * room, Math.max(2 * room, estimate));
    for (const key of ['from', 'to', 'rule'] as const) {
      const bigger = new Int32Array(size);
      bigger.set(this[key]);
      this[key] = bigger;
    }
  }
}

const byTable = new WeakMap<Table, JumpsRead>();

/** A new record of the jumps of a table, made as the parser opens it. */
export function startJumpsRead(table: Table): JumpsRead {
  const jumps = new JumpsRead();
  byTable.set(table, jumps);
  return jumps;
}

/**
 * The jumps read with the table's rules, once: an edit changes the table's rules afterwards,
 * so the graph made after it reads the rules themselves. Undefined when the record cannot
 * stand for the rules (incomplete, or the table's rules changed in number since).
 */
export function takeJumpsRead(table: Table): JumpsRead | undefined {
  const jumps = byTable.get(table);
  if (!jumps) return undefined;
  byTable.delete(table);
  return jumps.complete && jumps.rules === table.rules.length ? jumps : undefined;
}
