import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRuleset } from '../../server/src/core/parser';
import { printRuleset } from '../../server/src/core/printer';
import { chainNameOf, chainSpanOf, type Rule, type Ruleset, targetOf } from '../../server/src/core/ruleset';
import { ruleOption, ruleSpec } from '../../server/src/core/ruleSpec';
import { splitArgs } from '../../server/src/core/scanner';
import { fixture, iptablesFixtureNames } from '../support/fixtures';

function chainOf(ruleset: Ruleset, table: string, chain: string) {
  const found = ruleset.tables.find((t) => t.name === table)?.chains.get(chain);
  assert.ok(found, `chain ${chain} in ${table}`);
  return found;
}

function optionValues(rule: Rule, key: string): string[] | undefined {
  const spec = ruleSpec(rule);
  for (const match of [...spec.matches, { options: spec.targetOptions }]) {
    for (const option of match.options) if (option.key === key) return option.values.map((v) => v.text);
  }
  return undefined;
}

function errors(ruleset: Ruleset) {
  return ruleset.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning');
}

describe('splitting a line into arguments as iptables-restore does', () => {
  it('keeps quoted comments whole and resolves escaped quotes', () => {
    const line = '-A X -m comment --comment "NOTE: this must go before \\\'-j KUBE-FORWARD\\\'" -j Y';
    const { args } = splitArgs(line);
    assert.deepEqual(args.map((a) => a.text), ['-A', 'X', '-m', 'comment', '--comment', "NOTE: this must go before '-j KUBE-FORWARD'", '-j', 'Y']);
    const comment = args[5]!;
    assert.equal(line.slice(comment.start, comment.end), '"NOTE: this must go before \\\'-j KUBE-FORWARD\\\'"');
    assert.equal(comment.quoted, true);
  });

  it('reads `a \\"b\\"` inside quotes as a quote character', () => {
    assert.equal(splitArgs('--comment "a \\"b\\""').args[1]!.text, 'a "b"');
  });

  it('leaves shell metacharacters of Weave ipset names alone', () => {
    const { args } = splitArgs('-m set --match-set weave-;rGqyMIl1HN^cfDki~Z$3]6!N dst');
    assert.deepEqual(args.map((a) => a.text), ['-m', 'set', '--match-set', 'weave-;rGqyMIl1HN^cfDki~Z$3]6!N', 'dst']);
  });

  it('reports where an unterminated quote opens', () => {
    const result = splitArgs('-A X --comment "oops -j Y');
    assert.equal(result.unterminatedQuoteAt, 15);
  });
});

describe('the seed kube-dns dump (iptables-nft-save)', () => {
  const ruleset = parseRuleset(fixture('seed-kube-dns.nft-save.txt'));

  it('is a full save of one nat table, committed, without problems', () => {
    assert.equal(ruleset.form, 'save');
    assert.equal(ruleset.generatedBy, 'iptables-nft-save v1.8.9 (nf_tables)');
    assert.equal(ruleset.family, 'ipv4');
    assert.deepEqual(ruleset.tables.map((t) => [t.name, t.headerLine, t.endLine, t.committed]), [['nat', 1, 21, true]]);
    assert.deepEqual(ruleset.diagnostics, []);
  });

  it('has the 4 built-in chains of nat and 5 declared user chains, 10 rules', () => {
    const nat = ruleset.tables[0]!;
    assert.deepEqual([...nat.chains.values()].map((c) => [c.name, c.builtin, c.policy, c.rules.length]), [
      ['PREROUTING', true, 'ACCEPT', 1],
      ['INPUT', true, 'ACCEPT', 0],
      ['OUTPUT', true, 'ACCEPT', 1],
      ['POSTROUTING', true, 'ACCEPT', 0],
      ['KUBE-MARK-MASQ', false, '-', 1],
      ['KUBE-SEP-S4MK5EVI7CLHCCS6', false, '-', 2],
      ['KUBE-SEP-ZT5TVM6PMFDFQAMO', false, '-', 2],
      ['KUBE-SERVICES', false, '-', 1],
      ['KUBE-SVC-ERIFXISQEP7F7OF4', false, '-', 2],
    ]);
    assert.equal(nat.rules.length, 10);
  });

  it('keeps the range of the declaration of KUBE-SVC-ERIFXISQEP7F7OF4 (line 11, after the colon)', () => {
    const svc = chainOf(ruleset, 'nat', 'KUBE-SVC-ERIFXISQEP7F7OF4');
    assert.deepEqual(svc.declaration, { line: 10, start: 1, end: 26 });
    assert.deepEqual(svc.counters, { packets: 0, bytes: 0 });
  });

  it('reads the cluster IP rule of KUBE-SERVICES with its matches, comment and jump', () => {
    const rule = chainOf(ruleset, 'nat', 'KUBE-SERVICES').rules[0]!;
    assert.equal(rule.line, 18);
    assert.deepEqual(optionValues(rule, 'destination'), ['10.96.0.10/32']);
    assert.deepEqual(optionValues(rule, 'protocol'), ['tcp']);
    assert.deepEqual(optionValues(rule, 'dport'), ['53']);
    assert.equal(rule.comment, 'kube-system/kube-dns:dns-tcp cluster IP');
    assert.deepEqual(ruleSpec(rule).matches.map((m) => m.module), ['', 'comment', 'tcp']);
    const target = targetOf(rule);
    assert.deepEqual(target && { name: target.name, kind: target.kind, start: target.start, end: target.end }, {
      name: 'KUBE-SVC-ERIFXISQEP7F7OF4', kind: 'jump', start: 125, end: 150,
    });
    assert.deepEqual(chainSpanOf(rule), { line: 18, start: 3, end: 16 });
  });

  it('reads the statistic match of the first endpoint rule as written (0.50000000000)', () => {
    const [first, second] = chainOf(ruleset, 'nat', 'KUBE-SVC-ERIFXISQEP7F7OF4').rules;
    const statistic = ruleSpec(first).matches.find((m) => m.module === 'statistic')!;
    assert.deepEqual(statistic.options.map((o) => [o.key, o.values.map((v) => v.text)]), [['mode', ['random']], ['probability', ['0.50000000000']]]);
    assert.equal(targetOf(first!)!.name, 'KUBE-SEP-S4MK5EVI7CLHCCS6');
    assert.equal(targetOf(second!)!.name, 'KUBE-SEP-ZT5TVM6PMFDFQAMO');
    assert.equal(ruleSpec(second).matches.some((m) => m.module === 'statistic'), false);
  });

  it('gives DNAT its --to-destination as a target option', () => {
    const dnat = chainOf(ruleset, 'nat', 'KUBE-SEP-S4MK5EVI7CLHCCS6').rules[1]!;
    assert.equal(targetOf(dnat)!.name, 'DNAT');
    assert.deepEqual(ruleSpec(dnat).targetOptions.map((o) => [o.name, o.values.map((v) => v.text)]), [['--to-destination', ['10.32.0.3:53']]]);
  });
});

describe('forms of the same rules', () => {
  it('reads counters before each rule of `iptables-save -c`', () => {
    const ruleset = parseRuleset(fixture('seed-kube-dns.nft-save-counters.txt'));
    assert.equal(ruleset.hasCounters, true);
    const nat = ruleset.tables[0]!;
    assert.equal(nat.rules.length, 10);
    assert.ok(nat.rules.every((r) => r.counters?.packets === 0 && r.counters.bytes === 0));
    // The rule text starts after the '[0:0] ' prefix.
    assert.equal(chainSpanOf(nat.rules[0]!).start, 9);
  });

  it('reads counters in the thousands from a real node and keeps them per built-in chain', () => {
    const ruleset = parseRuleset(fixture('bossjones-kubeadm-weave-2018.iptables-save.txt'));
    assert.deepEqual(chainOf(ruleset, 'nat', 'PREROUTING').counters, { packets: 13, bytes: 2569 });
    assert.deepEqual(chainOf(ruleset, 'filter', 'INPUT').counters, { packets: 3243, bytes: 825880 });
  });

  it('reads kube-proxy restore input (no /32, -m tcp -p tcp, bare one-word comments) as a restore file', () => {
    const ruleset = parseRuleset(fixture('k8s-overall-modern.rules'));
    assert.equal(ruleset.form, 'restore');
    assert.deepEqual(ruleset.tables.map((t) => [t.name, t.rules.length, t.committed]), [['filter', 10, true], ['nat', 55, true]]);
    assert.deepEqual(errors(ruleset), []);
    const nodePort = chainOf(ruleset, 'nat', 'KUBE-NODEPORTS').rules[0]!;
    assert.equal(nodePort.comment, 'ns2/svc2:p80');
    assert.deepEqual(optionValues(nodePort, 'destination'), ['127.0.0.0/8']);
    assert.deepEqual(optionValues(nodePort, 'protocol'), ['tcp']);
    // -p and -d after `-m tcp` still belong to the rule itself.
    assert.deepEqual(ruleSpec(nodePort).matches[0]!.options.map((o) => o.key), ['protocol', 'destination']);
    assert.deepEqual(optionValues(nodePort, 'nfacct-name'), ['localhost_nps_accepted_pkts']);
  });

  it('keeps `! -s` negation and a rule without a target', () => {
    const ruleset = parseRuleset(fixture('k8s-overall-modern.rules'));
    const masq = chainOf(ruleset, 'nat', 'KUBE-SVC-4SW47YFZTEDKD3PK').rules[0]!;
    const source = ruleOption(masq, 'source')!;
    assert.equal(source.negated, true);
    assert.deepEqual(source.values.map((v) => v.text), ['10.0.0.0/8']);
    const fw = chainOf(ruleset, 'nat', 'KUBE-FW-NUKIZ6OKUXPJNT4C').rules[1]!;
    assert.equal(targetOf(fw), undefined);
    assert.equal(fw.comment, 'other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL');
  });

  it('reads the session affinity options of -m recent', () => {
    const ruleset = parseRuleset(fixture('k8s-overall-modern.rules'));
    const affinity = chainOf(ruleset, 'nat', 'KUBE-SVC-NUKIZ6OKUXPJNT4C').rules[1]!;
    const recent = ruleSpec(affinity).matches.find((m) => m.module === 'recent')!;
    assert.deepEqual(recent.options.map((o) => [o.key, o.values.map((v) => v.text)]), [
      ['name', ['KUBE-SEP-I77PXRDZVX7PMWMN']], ['rcheck', []], ['seconds', ['10800']], ['reap', []],
    ]);
  });

  it('takes old-style negation `-s ! 10.0.0.0/8` and `-m conntrack ! --ctstate`', () => {
    const ruleset = parseRuleset('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s ! 10.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\nCOMMIT\n');
    assert.deepEqual(errors(ruleset), []);
    const rule = ruleset.tables[0]!.rules[0]!;
    assert.equal(ruleOption(rule, 'source')!.negated, true);
    assert.deepEqual(ruleOption(rule, 'source')!.values.map((v) => v.text), ['10.0.0.0/8']);
    assert.equal(ruleOption(rule, 'ctstate')!.negated, true);
  });

  it('reads an IPv6 dump with a bracketed DNAT destination', () => {
    const text = [
      '# Generated by ip6tables-nft-save v1.8.9 (nf_tables) on Tue Nov 24 04:32:48 2026',
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SEP-X - [0:0]',
      '-A PREROUTING -d fd00:10:96::a/128 -p udp -m udp --dport 53 -j KUBE-SEP-X',
      '-A KUBE-SEP-X -p udp -m udp -j DNAT --to-destination [fd00:10:244::5]:53',
      'COMMIT',
    ].join('\n');
    const ruleset = parseRuleset(text);
    assert.equal(ruleset.family, 'ipv6');
    assert.deepEqual(errors(ruleset), []);
    const dnat = ruleset.tables[0]!.rules[1]!;
    assert.deepEqual(optionValues(dnat, 'to-destination'), ['[fd00:10:244::5]:53']);
  });

  it('reads -I with a rule number, -N, -X, -F and -P lines of a restore file', () => {
    const text = '*nat\n-N KUBE-NEW\n-I KUBE-NEW 1 -j RETURN\n-F KUBE-OLD\n-X KUBE-OLD\n-P PREROUTING ACCEPT\n-Z\nCOMMIT\n';
    const ruleset = parseRuleset(text);
    assert.deepEqual(errors(ruleset), []);
    const nat = ruleset.tables[0]!;
    assert.equal(nat.rules[0]!.ruleNumber, 1);
    assert.deepEqual(nat.chains.get('KUBE-NEW')!.declaration, { line: 1, start: 3, end: 11 });
    assert.deepEqual(nat.chainCommands.map((c) => [c.command, c.chainName ?? null]), [
      ['new-chain', 'KUBE-NEW'], ['flush', 'KUBE-OLD'], ['delete-chain', 'KUBE-OLD'], ['policy', 'PREROUTING'], ['zero', null],
    ]);
  });

  it('reads CRLF line endings without counting the carriage return in any range', () => {
    const ruleset = parseRuleset('*filter\r\n:INPUT ACCEPT [0:0]\r\n-A INPUT -j ACCEPT\r\nCOMMIT\r\n');
    assert.deepEqual(errors(ruleset), []);
    assert.equal(ruleset.tables[0]!.rules[0]!.end, 18);
  });
});

describe('problems reported while parsing', () => {
  function only(text: string) {
    const ruleset = parseRuleset(text);
    return ruleset.diagnostics.map((d) => [d.code, d.severity, d.span.line, d.span.start, d.span.end]);
  }

  it('a rule before any table', () => {
    assert.deepEqual(only('-A INPUT -j ACCEPT\n'), [['outside-table', 'error', 0, 0, 18]]);
  });

  it('a rule after COMMIT names the table it follows', () => {
    const ruleset = parseRuleset('*filter\nCOMMIT\n-A INPUT -j ACCEPT\n');
    assert.equal(ruleset.diagnostics.length, 1);
    assert.equal(ruleset.diagnostics[0]!.code, 'after-commit');
    assert.match(ruleset.diagnostics[0]!.message, /after COMMIT of table 'filter'/);
  });

  it('a table without COMMIT, reported on its header, ending where the next table starts', () => {
    const ruleset = parseRuleset('*filter\n-A INPUT -j ACCEPT\n*nat\nCOMMIT\n');
    assert.deepEqual(ruleset.diagnostics.map((d) => [d.code, d.span.line, d.span.start, d.span.end]), [['missing-commit', 0, 0, 7]]);
    assert.equal(ruleset.tables[0]!.endLine, 1);
  });

  it('an unknown table', () => {
    assert.deepEqual(only('*filtre\nCOMMIT\n'), [['unknown-table', 'error', 0, 1, 7]]);
  });

  it('a table, a command or an option named like a property of every object (constructor, __proto__)', () => {
    const ruleset = parseRuleset('*constructor\n:INPUT ACCEPT [0:0]\n[0:0] toString X\n-A INPUT --__proto__ 1 -j ACCEPT\nCOMMIT\n*__proto__\nCOMMIT\n');
    assert.deepEqual(
      ruleset.diagnostics.map((d) => [d.code, d.span.line]),
      [['unknown-table', 0], ['bad-policy', 1], ['syntax', 2], ['unknown-table', 5]],
    );
    // Neither table has built-in chains: INPUT is a user chain of `constructor`, so its policy is refused.
    assert.deepEqual([...ruleset.tables[0]!.chains.values()].map((c) => [c.name, c.builtin]), [['INPUT', false]]);
    assert.equal(ruleset.tables[1]!.chains.size, 0);
    assert.equal(ruleset.tables[0]!.rules[0]!.targetName, 'ACCEPT');
  });

  it('a chain declared twice, pointing at the first declaration', () => {
    const ruleset = parseRuleset('*nat\n:KUBE-A - [0:0]\n:KUBE-A - [0:0]\nCOMMIT\n');
    assert.deepEqual(ruleset.diagnostics.map((d) => [d.code, d.span.line, d.span.start, d.span.end]), [['duplicate-chain', 2, 1, 7]]);
    assert.match(ruleset.diagnostics[0]!.message, /first on line 2/);
  });

  it('a policy on a user chain and a bad policy on a built-in chain', () => {
    assert.deepEqual(only('*filter\n:INPUT MAYBE [0:0]\n:MINE ACCEPT [0:0]\nCOMMIT\n'), [
      ['bad-policy', 'error', 1, 7, 12],
      ['bad-policy', 'error', 2, 6, 12],
    ]);
  });

  it('quotes in a chain declaration are part of its words, as iptables-restore reads them', () => {
    // `:KUBE-X" " - [0:0]` is the chain `KUBE-X"` with the policy `"`, the counters `-` and then `[0:0]`.
    const text = '*nat\n:KUBE-X" " - [0:0]\n-A KUBE-X -j RETURN\nCOMMIT\n';
    assert.deepEqual(only(text), [['bad-policy', 'error', 1, 9, 10], ['syntax', 'error', 1, 11, 12], ['syntax', 'error', 1, 13, 18]]);
    assert.deepEqual([...parseRuleset(text).tables[0]!.chains.keys()].slice(4), ['KUBE-X"', 'KUBE-X']);
  });

  it('an option missing its value, and -j without a target', () => {
    assert.deepEqual(only('*filter\n-A INPUT -p tcp --dport\n-A INPUT -j\nCOMMIT\n'), [
      ['missing-value', 'error', 1, 16, 23],
      ['missing-value', 'error', 2, 9, 11],
    ]);
  });

  it('an unterminated quote', () => {
    assert.deepEqual(only('*filter\n-A INPUT -m comment --comment "open -j ACCEPT\nCOMMIT\n'), [['unterminated-quote', 'error', 1, 30, 45]]);
  });

  it('garbage lines, each with recovery at the next line', () => {
    const ruleset = parseRuleset('*filter\nhello world\n-A INPUT -j ACCEPT\n-Q INPUT\nCOMMIT\n');
    assert.deepEqual(ruleset.diagnostics.map((d) => [d.code, d.span.line]), [['syntax', 1], ['syntax', 3]]);
    assert.equal(ruleset.tables[0]!.rules.length, 1);
    assert.equal(ruleset.tables[0]!.committed, true);
  });

  it('a NUL byte past the start of the file, on the line and column it stands at', () => {
    // Near the start a NUL makes the file a binary one; further on the dump is read, and each damaged line is reported.
    const padding = Array.from({ length: 400 }, (_, i) => `:KUBE-PAD-${i} - [0:0]`).join('\n');
    const text = `*nat\n${padding}\n-A KUBE-PAD-1 -j MARK --\u0000set-xmark 0x4000/0x4000\n-A KUBE-PAD-2 -j RETURN\n-A KUBE-PAD-3 -m comment --comment "a\u0000b" -j RETURN\nCOMMIT\n`;
    assert.ok(text.indexOf('\u0000') > 8192);
    const nul = only(text);
    // `-A KUBE-PAD-1 -j MARK --` is 24 characters; `-A KUBE-PAD-3 -m comment --comment "a` is 37.
    assert.deepEqual(nul, [['syntax', 'error', 401, 24, 25], ['syntax', 'error', 403, 37, 38]]);
    assert.match(parseRuleset(text).diagnostics[0]!.message, /NUL byte/);
  });

  it('values that are a lone `!` or start with `-` are printed quoted, so that reading them again does not take them for a negation or an option', () => {
    const first = parseRuleset('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment "!" -j ACCEPT\n-A INPUT -m comment --comment "-m" -j ACCEPT\nCOMMIT\n');
    const printed = printRuleset(first);
    assert.match(printed, /^-A INPUT -m comment --comment "!" -j ACCEPT\n-A INPUT -m comment --comment "-m" -j ACCEPT$/m);
    const again = parseRuleset(printed);
    assert.deepEqual(again.diagnostics, []);
    assert.deepEqual([first, again].map((r) => r.tables[0]!.rules.map((rule) => rule.comment)), [['!', '-m'], ['!', '-m']]);
  });

  it('nft, ipvsadm and ipset output get one message instead of an error per line', () => {
    for (const name of ['k8s-nft-overall.nft-list.txt', 'note-k3s-kube-proxy-nftables.nft.txt', 'blog-ipvs-calico-vxlan.ipvsadm.txt', 'otus-minikube-ipvs-2023.ipset.txt', 'k8s-nft-overall.nft-list.json']) {
      const ruleset = parseRuleset(fixture(name));
      assert.deepEqual(ruleset.diagnostics.map((d) => [d.code, d.severity]), [['not-iptables', 'information']], name);
    }
  });
});

describe('every iptables fixture', () => {
  for (const name of iptablesFixtureNames()) {
    it(`${name} parses without syntax errors and every range lies on its line`, () => {
      const text = fixture(name);
      const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
      const ruleset = parseRuleset(text);
      assert.deepEqual(ruleset.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'undeclared-target' && d.code !== 'undeclared-chain'), []);
      assert.ok(ruleset.tables.length > 0);
      for (const table of ruleset.tables) {
        assert.ok(table.committed, `${table.name} committed`);
        for (const rule of table.rules) {
          const line = lines[rule.line]!;
          assert.equal(line.slice(chainSpanOf(rule).start, chainSpanOf(rule).end), chainNameOf(rule));
          const target = targetOf(rule);
          if (target) assert.equal(line.slice(target.start, target.end), target.name);
        }
        for (const chain of table.chains.values()) {
          if (chain.declaration) assert.equal(lines[chain.declaration.line]!.slice(chain.declaration.start, chain.declaration.end), chain.name);
        }
      }
    });
  }
});
