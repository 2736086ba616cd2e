import * as fs from 'node:fs';
import * as path from 'node:path';

/** The project root, found from wherever the compiled test runs. */
export const repoRoot: string = (() => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'netfilter-explorer') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no netfilter-explorer package.json above ${__dirname}`);
  }
})();

export function fixturePath(name: string): string {
  for (const folder of ['kube-proxy', 'real-dumps', 'bad-input']) {
    const candidate = path.join(repoRoot, 'test', 'fixtures', folder, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`no fixture ${name}`);
}

export function fixture(name: string): string {
  return fs.readFileSync(fixturePath(name), 'utf8');
}

export function allFixtureNames(): string[] {
  const names: string[] = [];
  for (const folder of ['kube-proxy', 'real-dumps']) {
    for (const name of fs.readdirSync(path.join(repoRoot, 'test', 'fixtures', folder))) if (!name.endsWith('.md')) names.push(name);
  }
  return names;
}

/** Iptables dumps among the fixtures (the rest are nft, ipvsadm and ipset output). */
export function iptablesFixtureNames(): string[] {
  return allFixtureNames().filter((n) => n.endsWith('.rules') || /save.*\.txt$|state-after\.txt$/.test(n));
}

export const CURSOR = '┃';

/** A dump with one cursor mark in it: the text without the mark, and where the mark was. */
export function marked(text: string): { text: string; line: number; character: number } {
  const offset = text.indexOf(CURSOR);
  if (offset === -1) throw new Error('no cursor mark in test input');
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  const character = offset - (before.lastIndexOf('\n') + 1);
  return { text: before + text.slice(offset + CURSOR.length), line, character };
}

/** The zero-based line number of the first line that contains `needle`. */
export function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(needle));
  if (index === -1) throw new Error(`no line contains ${needle}`);
  return index;
}
