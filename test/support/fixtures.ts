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

/**
 * A hand-made dump of one service, web/front:http, with externalTrafficPolicy Local: its cluster
 * IP reaches both endpoints; its node port 30080 goes through KUBE-EXT to KUBE-SVL, which reaches
 * only the endpoint on this node (10.244.1.5); pod traffic to the node port goes to KUBE-SVC.
 * Nothing in KUBE-SERVICES names KUBE-SVL.
 */
export const LOCAL_TRAFFIC_POLICY_DUMP = [
  '*nat',
  ':PREROUTING ACCEPT [0:0]',
  ':KUBE-SERVICES - [0:0]',
  ':KUBE-NODEPORTS - [0:0]',
  ':KUBE-MARK-MASQ - [0:0]',
  ':KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]',
  ':KUBE-EXT-AAAAAAAAAAAAAAAA - [0:0]',
  ':KUBE-SVL-AAAAAAAAAAAAAAAA - [0:0]',
  ':KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]',
  ':KUBE-SEP-CCCCCCCCCCCCCCCC - [0:0]',
  '-A PREROUTING -j KUBE-SERVICES',
  '-A KUBE-SERVICES -d 10.96.7.7/32 -p tcp -m comment --comment "web/front:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA',
  '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  '-A KUBE-NODEPORTS -p tcp -m comment --comment web/front:http -m tcp --dport 30080 -j KUBE-EXT-AAAAAAAAAAAAAAAA',
  '-A KUBE-EXT-AAAAAAAAAAAAAAAA -s 10.244.0.0/16 -m comment --comment "pod traffic for web/front:http external destinations" -j KUBE-SVC-AAAAAAAAAAAAAAAA',
  '-A KUBE-EXT-AAAAAAAAAAAAAAAA -j KUBE-SVL-AAAAAAAAAAAAAAAA',
  '-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "web/front:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-BBBBBBBBBBBBBBBB',
  '-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "web/front:http -> 10.244.2.9:8080" -j KUBE-SEP-CCCCCCCCCCCCCCCC',
  '-A KUBE-SVL-AAAAAAAAAAAAAAAA -m comment --comment "web/front:http -> 10.244.1.5:8080" -j KUBE-SEP-BBBBBBBBBBBBBBBB',
  '-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m comment --comment web/front:http -m tcp -j DNAT --to-destination 10.244.1.5:8080',
  '-A KUBE-SEP-CCCCCCCCCCCCCCCC -p tcp -m comment --comment web/front:http -m tcp -j DNAT --to-destination 10.244.2.9:8080',
  'COMMIT',
  '',
].join('\n');

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
