// Shared helpers for the TextMate grammar tests: load syntaxes/iptables-save.tmLanguage.json
// with vscode-textmate + vscode-oniguruma (the same engine VS Code uses) and tokenize lines.
//
// Not a test file itself (node --test only runs *.test.js); imported by the *.test.ts files.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as Textmate from 'vscode-textmate';
import type * as Oniguruma from 'vscode-oniguruma';

export const SCOPE_NAME = 'source.iptables-save';
export const SUFFIX = '.iptables-save';

/**
 * The repository root: the nearest directory holding the package.json named
 * "netfilter-explorer", searched upwards from the compiled test file (out/test/grammar/)
 * and then from the working directory (so a copy compiled elsewhere, e.g. /tmp, still
 * finds the project when run from it). NETFILTER_EXPLORER_ROOT overrides both.
 */
export function repoRoot(): string {
  const fromEnv = process.env['NETFILTER_EXPLORER_ROOT'];
  if (fromEnv) return path.resolve(fromEnv);
  for (const start of [__dirname, process.cwd()]) {
    let dir = path.resolve(start);
    for (;;) {
      const pkg = path.join(dir, 'package.json');
      if (fs.existsSync(pkg)) {
        try {
          if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'netfilter-explorer') return dir;
        } catch {
          // not JSON: keep walking up
        }
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error(`cannot find the netfilter-explorer package.json above ${__dirname} or ${process.cwd()}`);
}

export const ROOT = repoRoot();
export const GRAMMAR_PATH = path.join(ROOT, 'syntaxes', 'iptables-save.tmLanguage.json');

// Resolve the engine from the project's node_modules, wherever this file was compiled to.
export const projectRequire = createRequire(path.join(ROOT, 'package.json'));
const textmate = projectRequire('vscode-textmate') as typeof Textmate;
const oniguruma = projectRequire('vscode-oniguruma') as typeof Oniguruma;

export const INITIAL = textmate.INITIAL;
export type StateStack = Textmate.StateStack;
export type Grammar = Textmate.IGrammar;

let grammarPromise: Promise<Grammar> | undefined;

/** The compiled grammar (loaded once per process). */
export function loadGrammar(): Promise<Grammar> {
  grammarPromise ??= (async () => {
    const wasm = fs.readFileSync(projectRequire.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm);
    const registry = new textmate.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
        createOnigString: (s: string) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scopeName: string) =>
        scopeName === SCOPE_NAME ? textmate.parseRawGrammar(fs.readFileSync(GRAMMAR_PATH, 'utf8'), GRAMMAR_PATH) : null,
    });
    const grammar = await registry.loadGrammar(SCOPE_NAME);
    if (!grammar) throw new Error(`grammar ${SCOPE_NAME} did not load from ${GRAMMAR_PATH}`);
    return grammar;
  })();
  return grammarPromise;
}

export interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Scopes without the root source.iptables-save. */
  readonly scopes: readonly string[];
}

export interface LineResult {
  readonly tokens: Token[];
  readonly ruleStack: StateStack;
}

export function tokenize(grammar: Grammar, line: string, state: StateStack = INITIAL): LineResult {
  const result = grammar.tokenizeLine(line, state);
  const tokens = result.tokens.map((t) => ({
    text: line.slice(t.startIndex, Math.min(t.endIndex, line.length)),
    start: t.startIndex,
    end: Math.min(t.endIndex, line.length),
    scopes: t.scopes.filter((s) => s !== SCOPE_NAME),
  }));
  return { tokens: tokens.filter((t) => t.end > t.start), ruleStack: result.ruleStack };
}

/**
 * The state after a line that leaves nothing open. (INITIAL itself is only a marker; compare
 * rule stacks with this instead.)
 */
export function baseState(grammar: Grammar): StateStack {
  return grammar.tokenizeLine('', INITIAL).ruleStack;
}

/** Tokenizes consecutive lines, threading the rule stack like an editor does. */
export function tokenizeLines(grammar: Grammar, lines: readonly string[]): LineResult[] {
  let state: StateStack = INITIAL;
  return lines.map((line) => {
    const r = tokenize(grammar, line, state);
    state = r.ruleStack;
    return r;
  });
}

/** A token carries a real scope: something beyond the root and meta.* wrappers. */
export function isScoped(token: Token): boolean {
  return token.scopes.some((s) => !s.startsWith('meta.'));
}

/**
 * Whether a token carries `scope` the way a theme selector would see it: `scope` may omit
 * the `.iptables-save` suffix, and matches by dotted prefix, so `variable.parameter.option`
 * matches `variable.parameter.option.jump.iptables-save`.
 */
export function hasScope(token: Token | undefined, scope: string): boolean {
  if (token === undefined) return false;
  if (scope.endsWith(SUFFIX)) return token.scopes.includes(scope);
  return token.scopes.some((s) => s === scope + SUFFIX || s.startsWith(scope + '.'));
}

export type Expectation = readonly [text: string, scope: string | readonly string[]];

/**
 * Checks, left to right, that each `text` occurs in `line` as whole tokens (its span starts
 * at a token start and ends at a token end) and that every token of that span carries each
 * expected scope (see hasScope). Each search starts at the previous match, so a span and a
 * token inside it can be checked one after the other; the same text twice in a row means
 * its next occurrence (`-m` ... `-m`).
 */
export function expectScopes(grammar: Grammar, line: string, expectations: readonly Expectation[]): Token[] {
  const { tokens } = tokenize(grammar, line);
  const starts = new Set(tokens.map((t) => t.start));
  const ends = new Set(tokens.map((t) => t.end));
  let cursor = 0;
  let previous: string | undefined;
  for (const [text, scopeOrScopes] of expectations) {
    let at = line.indexOf(text, text === previous ? cursor + 1 : cursor);
    while (at >= 0 && !(starts.has(at) && ends.has(at + text.length))) at = line.indexOf(text, at + 1);
    assert.ok(at >= 0, `${JSON.stringify(text)} is not a whole-token span of ${JSON.stringify(line)} from column ${cursor}\n${describe(tokens)}`);
    const span = tokens.filter((t) => t.start >= at && t.end <= at + text.length);
    for (const scope of typeof scopeOrScopes === 'string' ? [scopeOrScopes] : scopeOrScopes) {
      for (const t of span) {
        assert.ok(
          hasScope(t, scope),
          `${JSON.stringify(t.text)} (in ${JSON.stringify(text)} at column ${at}) should have scope ${scope}, has [${t.scopes.join(', ')}]\n${describe(tokens)}`,
        );
      }
    }
    cursor = at;
    previous = text;
  }
  return tokens;
}

/** Asserts that no token inside the whole-token span `text` has a real (non-meta) scope. */
export function expectUnscoped(grammar: Grammar, line: string, texts: readonly string[]): void {
  const { tokens } = tokenize(grammar, line);
  for (const text of texts) {
    const at = line.indexOf(text);
    assert.ok(at >= 0, `${JSON.stringify(text)} not in ${JSON.stringify(line)}`);
    for (const t of tokens.filter((t) => t.end > at && t.start < at + text.length)) {
      assert.ok(!isScoped(t), `${JSON.stringify(t.text)} in ${JSON.stringify(text)} should be unscoped, has [${t.scopes.join(', ')}]\n${describe(tokens)}`);
    }
  }
}

/** Human-readable token dump for assertion messages. */
export function describe(tokens: readonly Token[]): string {
  return tokens.map((t) => `  ${JSON.stringify(t.text).padEnd(36)} ${t.scopes.join(' ')}`).join('\n');
}
