import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fixturePath, repoRoot } from '../support/fixtures';

const cli = path.join(repoRoot, 'dist', 'cli.js');

function run(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

describe('netfilter-explorer services', () => {
  it('prints the seed dump as JSON: kube-dns over 10.32.0.3 and 10.32.0.4, half each', () => {
    const result = run('services', fixturePath('seed-kube-dns.nft-save.txt'), '--json');
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      services: [{
        namespace: 'kube-system', name: 'kube-dns', port: 'dns-tcp', protocol: 'TCP',
        entries: [{
          kind: 'clusterIP', address: '10.96.0.10', port: 53,
          endpoints: [{ ip: '10.32.0.3', port: 53, probability: 0.5 }, { ip: '10.32.0.4', port: 53, probability: 0.5 }],
          sessionAffinity: null,
        }],
      }],
    });
  });

  it('prints a readable table without --json, and names pods from --pods', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfx-cli-'));
    const pods = path.join(dir, 'pods.json');
    fs.writeFileSync(pods, JSON.stringify({ items: [{ metadata: { name: 'coredns-a', namespace: 'kube-system' }, spec: { nodeName: 'node-1' }, status: { podIP: '10.32.0.3' } }] }));
    const result = run('services', fixturePath('seed-kube-dns.nft-save.txt'), '--pods', pods);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, [
      'kube-system/kube-dns:dns-tcp  TCP',
      '  cluster IP 10.96.0.10:53/TCP',
      '    10.32.0.3:53                 50 %  kube-system/coredns-a on node-1',
      '    10.32.0.4:53                 50 %',
      '',
    ].join('\n'));
    const json = JSON.parse(run('services', fixturePath('seed-kube-dns.nft-save.txt'), '--json', '--pods', pods).stdout) as { services: Array<{ entries: Array<{ endpoints: Array<{ pod?: string }> }> }> };
    assert.deepEqual(json.services[0]!.entries[0]!.endpoints.map((e) => e.pod ?? null), ['kube-system/coredns-a', null]);
  });

  it('exits 1 with a message for a file it cannot read', () => {
    const result = run('services', '/no/such/dump.txt', '--json');
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'netfilter-explorer: cannot read dump /no/such/dump.txt: no such file\n');
  });

  it('exits 2 naming the line of a dump with a syntax error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfx-cli-'));
    const bad = path.join(dir, 'bad.rules');
    fs.writeFileSync(bad, '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -p tcp --dport\nCOMMIT\n');
    const result = run('services', bad);
    assert.equal(result.status, 2);
    assert.match(result.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:25: Option '--dport' needs a value\\.`));
  });

  it('exits 2 for nft output, saying what the file is', () => {
    const result = run('services', fixturePath('k8s-nft-overall.nft-list.txt'));
    assert.equal(result.status, 2);
    assert.match(result.stderr, /:1:1: This looks like 'nft list ruleset' output, not an iptables-save dump/);
  });

  it('exits 2 on bad usage', () => {
    assert.equal(run('services').status, 2);
    assert.equal(run('frobnicate', 'x').status, 2);
    assert.equal(run('services', 'a', '--bogus').status, 2);
    assert.equal(run('--help').status, 0);
  });
});
