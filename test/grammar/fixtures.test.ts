// Tokenizes every iptables-save dump and kube-proxy restore file in test/fixtures (and the
// samples shipped with the extension): every non-blank line must get a real scope, the
// state must be back to the initial one after every line, and the structural tokens of each
// line form must carry their scopes.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { ROOT, baseState, describe as dump, hasScope as has, isScoped, loadGrammar, tokenizeLines, type Grammar, type Token } from './tokenize';

/** *iptables-save*.txt, *save*.txt (nft-save, legacy-save, nft-save-counters), *.rules, *-state-after.txt. */
const DUMP_FILE = /(?:save.*\.txt|\.rules|state-after\.txt)$/;
/** Samples next to the extension: *.iptables-save, *.rules. */
const SAMPLE_FILE = /\.(?:iptables-save|rules)$/;

function walk(dir: string, keep: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full, keep));
    else if (entry.isFile() && keep.test(entry.name)) out.push(full);
  }
  return out.sort();
}

const files = [...walk(path.join(ROOT, 'test', 'fixtures'), DUMP_FILE), ...walk(path.join(ROOT, 'samples'), SAMPLE_FILE)];

let g: Grammar;
before(async () => {
  g = await loadGrammar();
});

/** The token covering `column`. */
function covering(tokens: readonly Token[], column: number): Token | undefined {
  return tokens.find((t) => t.start <= column && column < t.end);
}

/** The token starting exactly at `column`. */
function at(tokens: readonly Token[], column: number): Token | undefined {
  return tokens.find((t) => t.start === column);
}

describe('fixture dumps tokenize fully', () => {
  test('the fixture set is there', () => {
    const names = files.map((f) => path.basename(f));
    assert.ok(files.length >= 15, `only ${files.length} files: ${names.join(', ')}`);
    assert.ok(names.some((n) => n.endsWith('.iptables-save.txt')));
    assert.ok(names.some((n) => n.endsWith('.rules')));
    assert.ok(names.some((n) => n.includes('counters')));
  });

  for (const file of files) {
    test(path.relative(ROOT, file), () => {
      const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
      const results = tokenizeLines(g, lines);
      const base = baseState(g);
      let checked = 0;
      lines.forEach((line, i) => {
        const r = results[i];
        assert.ok(r);
        const where = `${path.basename(file)}:${i + 1}: ${line}`;
        assert.ok(r.ruleStack.equals(base), `state not reset after ${where}`);
        if (line.trim() === '') return;
        checked++;
        const tokens = r.tokens;
        const msg = `${where}\n${dump(tokens)}`;
        assert.ok(tokens.some(isScoped), `line left entirely unscoped: ${msg}`);

        const first = line.search(/\S/);
        const text = line.slice(first);
        if (text.startsWith('#')) {
          assert.ok(tokens.filter((t) => t.start >= first).every((t) => has(t, 'comment.line.number-sign')), msg);
        } else if (text.startsWith('*')) {
          assert.ok(has(at(tokens, first + 1), 'entity.name.section.table'), msg);
        } else if (text.startsWith(':')) {
          assert.ok(has(at(tokens, first + 1), 'entity.name.function.chain'), msg);
        } else if (text.trim() === 'COMMIT') {
          assert.ok(has(at(tokens, first), 'keyword.control.commit'), msg);
        } else {
          // a rule command, maybe after [pkts:bytes] counters
          const m = /^(\[\d+:\d+\]\s+)?(-[AIDRNXFZPE])(?:\s+([^\s"!-]\S*))?/.exec(text);
          if (!m) return; // another form: the "some real scope" check above is all we ask
          const command = first + (m[1] ?? '').length;
          if (m[1]) assert.ok(has(at(tokens, first), 'meta.counters'), msg);
          assert.ok(has(at(tokens, command), 'keyword.control.command'), msg);
          if (m[3]) assert.ok(has(at(tokens, line.indexOf(m[3], command + 2)), 'entity.name.function.chain'), msg);
          // every jump target is a chain or a built-in target
          for (const j of line.matchAll(/ -[jg] (\S+)/g)) {
            if (has(covering(tokens, j.index + 1), 'string')) continue; // "... -j X" inside a comment
            const target = at(tokens, j.index + 4);
            assert.ok(has(target, 'entity.name.function.chain') || has(target, 'support.function.target'), `${j[1]}: ${msg}`);
          }
          // every quoted comment is one string
          for (const s of line.matchAll(/ --comment ("(?:[^"\\]|\\.)*")/g)) {
            const start = s.index + ' --comment '.length;
            const span = tokens.filter((t) => t.start >= start && t.end <= start + s[1]!.length);
            assert.ok(span.length > 0 && span.every((t) => has(t, 'string.quoted.double')), `${s[1]}: ${msg}`);
          }
          // a standalone ! is a negation
          for (const n of line.matchAll(/(?<=\s)!(?=\s)/g)) assert.ok(has(at(tokens, n.index), 'keyword.operator.negation'), msg);
        }
      });
      assert.ok(checked > 0, `${file} has no lines`);
    });
  }
});
