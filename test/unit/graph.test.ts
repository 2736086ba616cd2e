import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze, definitionOf, occurrenceAt, occurrencesOf } from '../../server/src/core/analysis';
import { buildChainGraph, chainsLeadingTo } from '../../server/src/core/graph';
import { takeJumpsRead } from '../../server/src/core/jumpsRead';
import { parseRuleset } from '../../server/src/core/parser';
import { generateDump } from '../../server/src/kube/generate';
import { fixture, lineOf } from '../support/fixtures';

function graphOf(text: string, form?: 'save' | 'restore') {
  return buildChainGraph(parseRuleset(text, form ? { form } : {}));
}

function node(text: string, table: string, chain: string) {
  const graph = graphOf(text);
  const found = graph.tables.find((t) => t.table.name === table)?.nodes.get(chain);
  assert.ok(found, `${table}/${chain}`);
  return found;
}

describe('jumps of the seed kube-dns dump', () => {
  const text = fixture('seed-kube-dns.nft-save.txt');

  it('KUBE-SVC-ERIFXISQEP7F7OF4 is entered from KUBE-SERVICES and picks one of two endpoints', () => {
    const svc = node(text, 'nat', 'KUBE-SVC-ERIFXISQEP7F7OF4');
    assert.deepEqual(svc.incoming.map((j) => [j.from.chain.name, j.rule.line, j.kind]), [['KUBE-SERVICES', 18, 'jump']]);
    assert.deepEqual(svc.outgoing.map((j) => j.to.chain.name), ['KUBE-SEP-S4MK5EVI7CLHCCS6', 'KUBE-SEP-ZT5TVM6PMFDFQAMO']);
  });

  it('KUBE-SERVICES is entered from PREROUTING and OUTPUT', () => {
    assert.deepEqual(node(text, 'nat', 'KUBE-SERVICES').incoming.map((j) => j.from.chain.name), ['PREROUTING', 'OUTPUT']);
  });

  it('every chain is reached from a built-in chain, there is no loop and nothing to report', () => {
    const graph = graphOf(text);
    assert.ok([...graph.tables[0]!.nodes.values()].every((n) => n.reachable));
    assert.deepEqual(graph.tables[0]!.cycles, []);
    assert.deepEqual(graph.diagnostics, []);
  });

  it('DNAT and MARK are targets, not chains', () => {
    const graph = graphOf(text);
    assert.equal(graph.tables[0]!.nodes.has('DNAT'), false);
    assert.equal(graph.tables[0]!.nodes.has('MARK'), false);
  });
});

describe('chains jumped to but never declared', () => {
  const partial = fixture('k8s-syncrepeated-2-partial-add-svc3.rules');

  it('are legitimate in a kube-proxy partial restore: information, on the jump target', () => {
    const graph = graphOf(partial);
    const line = lineOf(partial, '-j KUBE-SVC-XPGD46QRK7WJZT7O');
    assert.deepEqual(graph.diagnostics.map((d) => [d.code, d.severity, d.span.line]), [
      ['undeclared-target', 'information', line],
      ['undeclared-target', 'information', line + 1],
    ]);
  });

  it('are errors in a full dump, with the fix in the message', () => {
    const graph = graphOf(partial, 'save');
    const undeclared = graph.diagnostics.filter((d) => d.code === 'undeclared-target');
    assert.equal(undeclared.length, 2);
    assert.ok(undeclared.every((d) => d.severity === 'error'));
    assert.match(undeclared[0]!.message, /Declare it with ':KUBE-SVC-XPGD46QRK7WJZT7O - \[0:0\]'/);
  });

  it('a rule for an undeclared chain is an error in a full dump', () => {
    const graph = graphOf('*nat\n:PREROUTING ACCEPT [0:0]\n-A KUBE-GHOST -j RETURN\nCOMMIT\n');
    assert.deepEqual(graph.diagnostics.map((d) => [d.code, d.severity, d.span.line, d.span.start, d.span.end]), [['undeclared-chain', 'error', 2, 3, 13]]);
  });

  it('say so when the chain exists in another table', () => {
    const graph = graphOf('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j KUBE-SERVICES\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n');
    assert.equal(graph.diagnostics.length, 1);
    assert.match(graph.diagnostics[0]!.message, /exists in table 'nat', but jumps stay inside one table/);
  });
});

describe('jump loops and deep chains', () => {
  it('A -> B -> A is found and reported on both jumps, without hanging', () => {
    const text = '*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\nCOMMIT\n';
    const graph = graphOf(text);
    assert.deepEqual(graph.tables[0]!.cycles, [['A', 'B', 'A']]);
    assert.deepEqual(graph.diagnostics.map((d) => [d.code, d.span.line]).sort(), [['jump-cycle', 5], ['jump-cycle', 6]]);
    assert.match(graph.diagnostics[0]!.message, /Jump loop: A -> B -> A/);
  });

  it('a chain that jumps to itself is a loop', () => {
    const graph = graphOf('*filter\n:SELF - [0:0]\n-A INPUT -j SELF\n-A SELF -j SELF\nCOMMIT\n');
    assert.deepEqual(graph.tables[0]!.cycles, [['SELF', 'SELF']]);
  });

  it('a chain 100,000 jumps deep is followed without overflowing the stack', () => {
    const depth = 100_000;
    const lines = ['*filter', ':INPUT ACCEPT [0:0]'];
    for (let i = 0; i < depth; i++) lines.push(`:C${i} - [0:0]`);
    lines.push('-A INPUT -j C0');
    for (let i = 0; i < depth - 1; i++) lines.push(`-A C${i} -j C${i + 1}`);
    lines.push(`-A C${depth - 1} -j C0`, 'COMMIT');
    const graph = graphOf(lines.join('\n'));
    const nodes = graph.tables[0]!.nodes;
    assert.equal(nodes.get(`C${depth - 1}`)!.reachable, true);
    assert.equal(graph.tables[0]!.cycles.length, 1);
    assert.equal(graph.tables[0]!.cycles[0]!.length, depth + 1);
    // The message names a few chains, not all 100,000.
    assert.ok(graph.diagnostics[0]!.message.length < 400);
  });
});

describe('unused and unreachable chains', () => {
  it('a declared user chain nothing jumps to is an unused hint; marker chains are not', () => {
    const text = '# Generated by iptables-save v1.8.9\n*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT\n';
    const graph = graphOf(text);
    assert.deepEqual(graph.diagnostics.map((d) => [d.code, d.severity, d.span.line, d.unnecessary]), [['unused-chain', 'hint', 3, true]]);
  });

  it('are not flagged in a partial restore, where the caller may be in an earlier sync', () => {
    assert.deepEqual(graphOf(fixture('k8s-overall-modern.rules')).diagnostics, []);
  });

  it('a chain reached only from an unused chain is not reachable', () => {
    const text = fixture('bossjones-kubeadm-weave-2018.iptables-save.txt');
    const graph = graphOf(text);
    const nat = graph.tables.find((t) => t.table.name === 'nat')!;
    assert.equal(nat.nodes.get('KUBE-MARK-DROP')!.reachable, false);
    assert.equal(nat.nodes.get('KUBE-SEP-3DU66DE6VORVEQVD')!.reachable, true);
    // Weave's dump: KUBE-MARK-DROP is declared, has a rule, and nothing jumps to it.
    assert.deepEqual(graph.diagnostics.map((d) => [d.code, d.span.line]), [['unused-chain', lineOf(text, ':KUBE-MARK-DROP')]]);
  });
});

describe('where a chain is named', () => {
  it('a comment naming a chain and `-m recent --name` are references of it', () => {
    const text = fixture('k8s-overall-modern.rules');
    const analysis = analyze(text);
    const fwNode = analysis.graph.tables.find((t) => t.table.name === 'nat')!.nodes.get('KUBE-SEP-I77PXRDZVX7PMWMN')!;
    const roles = occurrencesOf(analysis, fwNode).map((o) => [o.role, o.span.line]);
    assert.deepEqual(roles, [
      ['declaration', lineOf(text, ':KUBE-SEP-I77PXRDZVX7PMWMN')],
      ['rule', lineOf(text, '-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s')],
      ['rule', lineOf(text, '--name KUBE-SEP-I77PXRDZVX7PMWMN --set')],
      ['mention', lineOf(text, '--name KUBE-SEP-I77PXRDZVX7PMWMN --set')],
      ['mention', lineOf(text, '--rcheck')],
      ['jump', lineOf(text, '--rcheck')],
      ['jump', lineOf(text, '"ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN')],
    ]);
  });

  it('the definition of a jump target is its declaration', () => {
    const text = fixture('seed-kube-dns.nft-save.txt');
    const analysis = analyze(text);
    const jumpLine = lineOf(text, '-j KUBE-SVC-ERIFXISQEP7F7OF4');
    const column = text.split('\n')[jumpLine]!.indexOf('KUBE-SVC-ERIFXISQEP7F7OF4') + 3;
    const occurrence = occurrenceAt(analysis, jumpLine, column)!;
    assert.equal(occurrence.role, 'jump');
    assert.deepEqual(definitionOf(occurrence.node)!.span, { line: 10, start: 1, end: 26 });
  });
});

describe('the chains that lead to a chain', () => {
  // A path X1 -> X2 -> X3 -> X4, each chain declared before the one it jumps to, and OTHER beside it.
  const text = ['*nat', ':PREROUTING ACCEPT [0:0]', ':X1 - [0:0]', ':X2 - [0:0]', ':X3 - [0:0]', ':X4 - [0:0]', ':OTHER - [0:0]',
    '-A PREROUTING -j X1', '-A PREROUTING -j OTHER', '-A X1 -j X2', '-A X2 -j X3', '-A X3 -j X4', 'COMMIT', ''].join('\n');
  const graph = graphOf(text).tables[0]!;
  const id = (name: string) => graph.nodes.get(name)!.id;

  it('are found level by level back to the built-in chain, whatever order their jumps are listed in', () => {
    const leading = chainsLeadingTo(graph, [id('X4')], 100)!;
    assert.deepEqual(graph.list.filter((n) => leading[n.id] !== 0).map((n) => n.chain.name).sort(), ['PREROUTING', 'X1', 'X2', 'X3', 'X4']);
  });

  it('are given up past the limit', () => {
    assert.equal(chainsLeadingTo(graph, [id('X4')], 3), undefined);
  });
});

describe('the jumps as the parser read them', () => {
  const text = fixture('seed-kube-dns.nft-save.txt');
  // nat's chains by id: PREROUTING 0, INPUT 1, OUTPUT 2, POSTROUTING 3, KUBE-MARK-MASQ 4,
  // KUBE-SEP-S4MK5EVI7CLHCCS6 5, KUBE-SEP-ZT5TVM6PMFDFQAMO 6, KUBE-SERVICES 7, KUBE-SVC-ERIFXISQEP7F7OF4 8.
  // Its rules 2 (-j MARK), 4 and 6 (-j DNAT) name targets, the seven others chains.
  const nat = (ruleset: ReturnType<typeof parseRuleset>) => ruleset.tables.find((t) => t.name === 'nat')!;

  it('are noted rule by rule: chain, chain named, index of the rule', () => {
    const ruleset = parseRuleset(text);
    const read = takeJumpsRead(nat(ruleset))!;
    assert.ok(read);
    assert.deepEqual([...read.from.subarray(0, read.count)], [0, 2, 5, 6, 7, 8, 8]);
    assert.deepEqual([...read.to.subarray(0, read.count)], [7, 7, 4, 4, 8, 5, 6]);
    assert.deepEqual([...read.rule.subarray(0, read.count)], [0, 1, 3, 5, 7, 8, 9]);
    assert.deepEqual([...read.builtinNames], ['MARK', 'DNAT']);
    // Taken once: the graph made after an edit reads the rules.
    assert.equal(takeJumpsRead(nat(ruleset)), undefined);
  });

  it('give the graph the arrays its pass over the rules gives', () => {
    const ruleset = parseRuleset(text);
    const fromRead = buildChainGraph(ruleset).byTable.get(nat(ruleset))!;
    assert.deepEqual([...fromRead.jumpOffsets], [0, 1, 1, 2, 2, 2, 3, 4, 5, 7]);
    assert.deepEqual([...fromRead.jumpTargets], [7, 7, 4, 4, 8, 5, 6]);
    assert.deepEqual(fromRead.jumpRules.map((rule) => rule.line), [11, 12, 14, 16, 18, 19, 20]);
    // The record was taken: built again, the graph passes over the rules.
    const fromRules = buildChainGraph(ruleset).byTable.get(nat(ruleset))!;
    assert.deepEqual([...fromRules.jumpOffsets], [...fromRead.jumpOffsets]);
    assert.deepEqual([...fromRules.jumpTargets], [...fromRead.jumpTargets]);
    assert.deepEqual(fromRules.jumpRules, fromRead.jumpRules);
  });

  it('of rules inserted are in line order, as the pass over the rules has them', () => {
    const restore = ['*filter', ':INPUT ACCEPT [0:0]', ':A - [0:0]', ':B - [0:0]', '-A INPUT -j A', '-I INPUT 1 -j B', 'COMMIT', ''].join('\n');
    const ruleset = parseRuleset(restore);
    const fromRead = buildChainGraph(ruleset).tables[0]!;
    const fromRules = buildChainGraph(ruleset).tables[0]!;
    for (const graph of [fromRead, fromRules]) {
      // The table's built-in chains are its first: INPUT 0, FORWARD 1, OUTPUT 2, then A 3 and B 4.
      assert.deepEqual(graph.list.map((n) => n.chain.name), ['INPUT', 'FORWARD', 'OUTPUT', 'A', 'B']);
      assert.deepEqual([...graph.jumpOffsets], [0, 2, 2, 2, 2, 2]);
      assert.deepEqual([...graph.jumpTargets], [3, 4]);
      assert.deepEqual(graph.jumpRules.map((rule) => rule.line), [4, 5]);
    }
  });

  it('are not used for a goto to a target, which the graph makes a node of', () => {
    const dump = ['*filter', ':INPUT ACCEPT [0:0]', ':A - [0:0]', '-A INPUT -j A', '-A INPUT -g MARK', 'COMMIT', ''].join('\n');
    assert.equal(takeJumpsRead(parseRuleset(dump).tables[0]!), undefined);
    const input = buildChainGraph(parseRuleset(dump)).tables[0]!.nodes.get('INPUT')!;
    assert.deepEqual(input.outgoing.map((j) => [j.to.chain.name, j.kind, j.to.declared]), [['A', 'jump', true], ['MARK', 'goto', false]]);
  });

  it('are not used when a chain named after a target jumped to is made later', () => {
    // -j LOG is read as the target before any chain LOG exists; the rule after makes one.
    const restore = ['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -j LOG', '-A LOG -j ACCEPT', 'COMMIT', ''].join('\n');
    const ruleset = parseRuleset(restore);
    const read = takeJumpsRead(ruleset.tables[0]!)!;
    assert.equal(read.count, 0);
    assert.deepEqual([...read.builtinNames], ['LOG', 'ACCEPT']);
    const input = buildChainGraph(parseRuleset(restore)).tables[0]!.nodes.get('INPUT')!;
    assert.deepEqual(input.outgoing.map((j) => j.to.chain.name), ['LOG']);
  });

  it('grow past their first room as the parse goes, and give the graph what its pass over the rules gives', () => {
    const dump = generateDump(600, 4).text;
    const ruleset = parseRuleset(dump);
    const read = takeJumpsRead(nat(ruleset))!;
    // More jumps than the first room of 1,024, in room sized from the jumps per character read.
    assert.ok(read.count > 4 * 1024, String(read.count));
    assert.ok(read.from.length >= read.count && read.from.length <= 2 * read.count, `${read.from.length} for ${read.count}`);
    const again = parseRuleset(dump);
    const fromRead = buildChainGraph(again).byTable.get(nat(again))!;
    const fromRules = buildChainGraph(again).byTable.get(nat(again))!;
    assert.equal(fromRead.jumpTargets.length, read.count);
    assert.deepEqual([...fromRead.jumpOffsets], [...fromRules.jumpOffsets]);
    assert.deepEqual([...fromRead.jumpTargets], [...fromRules.jumpTargets]);
    assert.deepEqual(fromRead.jumpRules, fromRules.jumpRules);
  });

  it('are not used once the table has gained or lost a rule', () => {
    const ruleset = parseRuleset(text);
    nat(ruleset).rules.pop();
    assert.equal(takeJumpsRead(nat(ruleset)), undefined);
  });
});
