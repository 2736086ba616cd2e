import fc from 'fast-check';
import { allFixtureNames, fixture } from './fixtures';

/** One way a dump gets damaged on its way to the user. */
export type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'swap'; at: number; with: number }
  | { kind: 'truncate'; at: number; keep: number }
  | { kind: 'bytes'; at: number; column: number; bytes: string };

export function mutate(text: string, mutations: Mutation[]): string {
  const lines = text.split('\n');
  for (const m of mutations) {
    if (lines.length === 0) break;
    const at = m.at % lines.length;
    switch (m.kind) {
      case 'delete':
        lines.splice(at, 1);
        break;
      case 'duplicate':
        lines.splice(at, 0, lines[at]!);
        break;
      case 'swap': {
        const other = m.with % lines.length;
        [lines[at], lines[other]] = [lines[other]!, lines[at]!];
        break;
      }
      case 'truncate':
        lines[at] = lines[at]!.slice(0, m.keep % (lines[at]!.length + 1));
        lines.length = at + 1;
        break;
      case 'bytes': {
        const line = lines[at]!;
        const column = m.column % (line.length + 1);
        lines[at] = line.slice(0, column) + m.bytes + line.slice(column);
        break;
      }
    }
  }
  return lines.join('\n');
}

const index = fc.nat({ max: 100_000 });
/** Characters that break dumps: quotes, backslashes, '!', NUL, CR, tabs, non-ASCII. */
const nasty = fc.string({ unit: fc.constantFrom('"', '\\', '!', '-', ' ', '\t', '\r', '\u0000', ':', '[', ']', '*', '#', 'é', '🚀', 'a', '1') });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: index }),
  fc.record({ kind: fc.constant('duplicate' as const), at: index }),
  fc.record({ kind: fc.constant('swap' as const), at: index, with: index }),
  fc.record({ kind: fc.constant('truncate' as const), at: index, keep: index }),
  fc.record({ kind: fc.constant('bytes' as const), at: index, column: index, bytes: fc.oneof(nasty, fc.string({ unit: 'binary' }, )) }),
);

const names = allFixtureNames();
export const fixtureArb = fc.constantFrom(...names).map((name) => ({ name, text: fixture(name) }));

/** A fixture with one to five mutations. */
export const mutatedFixtureArb = fc.tuple(fixtureArb, fc.array(mutationArb, { minLength: 1, maxLength: 5 })).map(([f, mutations]) => ({ name: f.name, mutations, text: mutate(f.text, mutations) }));

/** Lines that look like a dump more often than random text does. */
const dumpWord = fc.constantFrom('*nat', '*filter', '*mangle', 'COMMIT', ':KUBE-SERVICES - [0:0]', ':INPUT ACCEPT [0:0]', '-A', '-I', '-N', '-X', 'KUBE-SERVICES', '-j', '-g', '-m', 'comment', '--comment', '"a b"', '!', '-s', '10.0.0.0/8', '--probability', '0.5', 'statistic', '--mode', 'random', 'DNAT', '--to-destination', '[fd00::1]:53', '[0:0]', '#', 'KUBE-SVC-ERIFXISQEP7F7OF4', 'RETURN');
export const dumpLikeArb = fc.array(fc.array(fc.oneof(dumpWord, nasty), { maxLength: 12 }).map((w) => w.join(' ')), { maxLength: 40 }).map((lines) => lines.join('\n'));
