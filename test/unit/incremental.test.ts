import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { generateDump } from '../../server/src/kube/generate';
import { type Analysis, analyze, occurrencesOf } from '../../server/src/core/analysis';
import { type LineEdit, patchAnalysis } from '../../server/src/core/incremental';
import { chainNameOf } from '../../server/src/core/ruleset';
import { AnalysisCache } from '../../server/src/analysisCache';
import { carryServiceModel, reviseServiceModel, serviceModelOf } from '../../server/src/kube';
import { fixture, iptablesFixtureNames } from '../support/fixtures';

const KUBE_DNS = fixture('seed-kube-dns.legacy-save.txt');
/** Line 20 of the file: the first of kube-dns's two endpoints, picked with probability 0.5. */
const SVC_RULE = 19;

function edit(text: string, line: number, change: (old: string) => string): { text: string; edit: LineEdit } {
  const lines = text.split('\n');
  const oldText = lines[line]!;
  lines[line] = change(oldText);
  return { text: lines.join('\n'), edit: { line, oldText, newText: lines[line]! } };
}

/** What a patched analysis must agree on with a fresh one: diagnostics, rules, jumps, reachability, loops, services. */
function summary(analysis: Analysis): unknown {
  const model = serviceModelOf(analysis);
  return {
    diagnostics: [...analysis.diagnostics, ...model.diagnostics].map((d) => `${d.span.line}:${d.span.start}-${d.span.end} ${d.severity} ${d.code} ${d.message}`),
    tables: analysis.graph.tables.map((g) => ({
      rules: g.table.rules.map((r) => [r.line, chainNameOf(r), r.targetName, r.targetStart, r.comment, r.statistic?.probability, r.toDestination]),
      nodes: g.list.map((n) => [n.chain.name, n.declared, n.reachable, n.inCycle, n.chain.rules.map((r) => r.line), n.incoming.map((j) => j.rule.line), n.outgoing.map((j) => [j.rule.line, j.to.chain.name, j.kind])]),
      // Chains named in comments and `--name` (kept from the analysis before when no edited rule names one).
      mentions: g.list.map((n) => occurrencesOf(analysis, n).filter((o) => o.role === 'mention').map((o) => `${o.span.line}:${o.span.start}-${o.span.end}`)),
      cycles: g.cycles,
      jumps: [...g.jumpTargets],
    })),
    byLine: Array.from(analysis.rulesByLine, (r) => r?.line ?? null),
    declarations: Array.from({ length: analysis.ruleset.lineCount }, (_, line) => analysis.declarationsByLine.get(line)?.chain.name ?? null),
    services: model.services.map((s) => [
      s.id,
      s.entries.map((e) => [
        e.kind, e.address, e.chain?.chain.name, e.split.endpoints.map((x) => [x.endpoint.ip, x.share]), [...e.split.fates],
        e.conditions.map((c) => [c.condition, c.rule.line, c.endpoints.map((x) => [x.endpoint.ip, x.share]), [...c.fates]]), e.sourceRanges, e.sessionAffinitySeconds,
      ]),
      s.endpoints.map((e) => [e.ip, e.port, e.chain.chain.name, e.local, e.nameSource, e.hashConfirmed, e.dnat?.line]),
    ]),
  };
}

/** Patches `before` with the edit and checks the result against reading `after` afresh; undefined when the patch declined. */
function patchAndCompare(before: string, after: string, edits: LineEdit[]): Analysis | undefined {
  const previous = analyze(before);
  // Shares worked out before the edit: the walk's state must not leak into the model after it.
  summary(previous);
  const patch = patchAnalysis(previous, edits);
  if (!patch) return undefined;
  reviseServiceModel(previous, patch);
  assert.deepEqual(summary(patch.analysis), summary(analyze(after)), JSON.stringify(edits));
  return patch.analysis;
}

describe('patching an analysis after edits within lines', () => {
  it('a changed probability gives the skew diagnostic a full reading gives', () => {
    const { text, edit: e } = edit(KUBE_DNS, SVC_RULE, (l) => l.replace('0.50000000000', '0.9'));
    const previous = analyze(KUBE_DNS);
    assert.deepEqual(serviceModelOf(previous).diagnostics, []);
    const patch = patchAnalysis(previous, [e])!;
    assert.equal(patch.sameMeaning, false);
    // The new model takes over what the old one read of the other rules.
    reviseServiceModel(previous, patch);
    const diagnostics = serviceModelOf(patch.analysis).diagnostics;
    const value = e.newText.indexOf('0.9 ');
    assert.deepEqual(diagnostics.map((d) => [d.code, d.span.line, d.span.start, d.span.end]), [['skewed-probability', SVC_RULE, value, value + 3]]);
    assert.match(diagnostics[0]!.message, /the probability 0\.5000000000, here it is 0\.89999999991, so its endpoint gets 90 % instead of 50 %/);
    assert.deepEqual(summary(patch.analysis), summary(analyze(text)));
  });

  it('shares worked out before an edit are worked out again after it: 90 % and 10 %', () => {
    const { edit: e } = edit(KUBE_DNS, SVC_RULE, (l) => l.replace('0.50000000000', '0.9'));
    const previous = analyze(KUBE_DNS);
    const shares = (analysis: Analysis) => serviceModelOf(analysis).services[0]!.entries[0]!.split.endpoints.map((x) => [x.endpoint.ip, x.share]);
    assert.deepEqual(shares(previous), [['10.32.0.3', 0.5], ['10.32.0.4', 0.5]]);
    const patch = patchAnalysis(previous, [e])!;
    reviseServiceModel(previous, patch);
    // The kernel's 0.9: round(0.9 · 2^31) / 2^31.
    const p = 1932735283 / 2 ** 31;
    assert.deepEqual(shares(patch.analysis), [['10.32.0.3', p], ['10.32.0.4', 1 - p]]);
  });

  it('a space added keeps the meaning, and the service model with it', () => {
    const { edit: e } = edit(KUBE_DNS, SVC_RULE, (l) => l.replace(' -j ', '  -j '));
    const previous = analyze(KUBE_DNS);
    const model = serviceModelOf(previous);
    const patch = patchAnalysis(previous, [e])!;
    assert.equal(patch.sameMeaning, true);
    carryServiceModel(previous, patch.analysis, patch.lines);
    assert.equal(serviceModelOf(patch.analysis), model);
    const rule = patch.analysis.rulesByLine[SVC_RULE]!;
    assert.equal(rule.targetStart, e.newText.indexOf('KUBE-SEP-S4MK5EVI7CLHCCS6'));
    assert.equal(rule.targetStart, e.oldText.indexOf('KUBE-SEP-S4MK5EVI7CLHCCS6') + 1);
  });

  it('blanking a rule takes it and its jump out: the second endpoint then gets all traffic', () => {
    const { text, edit: e } = edit(KUBE_DNS, SVC_RULE, () => '');
    const patched = patchAndCompare(KUBE_DNS, text, [e])!;
    const nat = patched.graph.tables[0]!;
    assert.deepEqual(nat.nodes.get('KUBE-SVC-ERIFXISQEP7F7OF4')!.chain.rules.map((r) => r.line), [20]);
    assert.equal(nat.nodes.get('KUBE-SEP-S4MK5EVI7CLHCCS6')!.incoming.length, 0);
    const diagnostics = serviceModelOf(patched).diagnostics.map((d) => [d.code, d.span.line]);
    assert.deepEqual(diagnostics, [['orphan-endpoint', 7]]);
  });

  it('a rule typed into a blank line joins its chain in line order', () => {
    const lines = KUBE_DNS.split('\n');
    lines.splice(SVC_RULE, 0, '');
    const before = lines.join('\n');
    const { text, edit: e } = edit(before, SVC_RULE, () => '-A KUBE-SVC-ERIFXISQEP7F7OF4 -j KUBE-MARK-MASQ');
    const patched = patchAndCompare(before, text, [e])!;
    assert.deepEqual(patched.graph.tables[0]!.nodes.get('KUBE-MARK-MASQ')!.incoming.map((j) => j.rule.line), [14, 16, SVC_RULE]);
  });

  describe('the chain graph revised around the jumps an edit changed, as a full reading makes it', () => {
    /** Line 19 of the file: KUBE-SERVICES' jump to kube-dns's service chain. */
    const PORTAL = 18;
    const unused = (analysis: Analysis) => analysis.diagnostics.filter((d) => d.code === 'unused-chain').map((d) => [d.span.line, d.message]);
    const reachable = (analysis: Analysis, name: string) => analysis.graph.tables[0]!.nodes.get(name)!.reachable;

    it('a jump typed from KUBE-SERVICES makes the service chain and its endpoints reachable, and its hint goes', () => {
      const before = edit(KUBE_DNS, PORTAL, () => '').text;
      const previous = analyze(before);
      assert.deepEqual(unused(previous), [[10, "Nothing jumps to chain 'KUBE-SVC-ERIFXISQEP7F7OF4', so its 2 rules never see a packet."]]);
      assert.equal(reachable(previous, 'KUBE-SEP-ZT5TVM6PMFDFQAMO'), false);
      const { text, edit: e } = edit(before, PORTAL, () => KUBE_DNS.split('\n')[PORTAL]!);
      const patched = patchAndCompare(before, text, [e])!;
      assert.deepEqual(unused(patched), []);
      for (const name of ['KUBE-SVC-ERIFXISQEP7F7OF4', 'KUBE-SEP-S4MK5EVI7CLHCCS6', 'KUBE-SEP-ZT5TVM6PMFDFQAMO']) assert.equal(reachable(patched, name), true, name);
    });

    it('a rule blanked in a chain nothing jumps to: its hint counts one rule, and the endpoint it jumped to gets one', () => {
      const before = edit(KUBE_DNS, PORTAL, () => '').text;
      const { text, edit: e } = edit(before, SVC_RULE, () => '');
      const patched = patchAndCompare(before, text, [e])!;
      assert.deepEqual(unused(patched), [
        [7, "Nothing jumps to chain 'KUBE-SEP-S4MK5EVI7CLHCCS6', so its 2 rules never see a packet."],
        [10, "Nothing jumps to chain 'KUBE-SVC-ERIFXISQEP7F7OF4', so its rule never sees a packet."],
      ]);
    });

    it('a jump that closes a loop gives the loop diagnostic a full reading gives', () => {
      // Line 14: KUBE-MARK-MASQ's mark, made a jump back to the endpoint chain that jumps to it.
      const { text, edit: e } = edit(KUBE_DNS, 13, () => '-A KUBE-MARK-MASQ -j KUBE-SEP-S4MK5EVI7CLHCCS6');
      const patched = patchAndCompare(KUBE_DNS, text, [e])!;
      const loops = patched.diagnostics.filter((d) => d.code === 'jump-cycle').map((d) => d.span.line);
      assert.deepEqual(loops, [13, 14]);
      assert.deepEqual(patched.graph.tables[0]!.cycles, [['KUBE-SEP-S4MK5EVI7CLHCCS6', 'KUBE-MARK-MASQ', 'KUBE-SEP-S4MK5EVI7CLHCCS6']]);
    });
  });

  it('a rule blanked and another typed in the same chain: every rule of the chain stands where it is now', () => {
    // Before: the service's 0.5 rule to 10.32.0.3 (line 19), its last rule to 10.32.0.4 (20), a blank line (21).
    const lines = KUBE_DNS.split('\n');
    lines.splice(SVC_RULE + 2, 0, '');
    const before = lines.join('\n');
    const first = edit(before, SVC_RULE, () => '');
    const second = edit(first.text, SVC_RULE + 2, () => '-A KUBE-SVC-ERIFXISQEP7F7OF4 -j KUBE-SEP-S4MK5EVI7CLHCCS6');
    const patched = patchAndCompare(before, second.text, [first.edit, second.edit])!;
    // The jump to 10.32.0.4 now comes first and takes every packet; the one typed after it takes none.
    const split = serviceModelOf(patched).services[0]!.entries[0]!.split.endpoints.map((x) => [x.endpoint.ip, x.share]);
    assert.deepEqual(split, [['10.32.0.4', 1]]);
  });

  it('declines what needs a full reading: a new chain name, a declaration, a table line', () => {
    const previous = analyze(KUBE_DNS);
    const lines = KUBE_DNS.split('\n');
    const at = (line: number, newText: string): LineEdit => ({ line, oldText: lines[line]!, newText });
    assert.equal(patchAnalysis(previous, [at(SVC_RULE, lines[SVC_RULE]!.replace('-j KUBE-SEP-S4MK5EVI7CLHCCS6', '-j KUBE-SEP-NEW'))]), undefined);
    assert.equal(patchAnalysis(previous, [at(SVC_RULE, lines[SVC_RULE]!.replace('-A KUBE-SVC-ERIFXISQEP7F7OF4', '-A KUBE-SVC-OTHER'))]), undefined);
    assert.equal(patchAnalysis(previous, [at(7, ':KUBE-SEP-RENAMED - [0:0]')]), undefined);
    assert.equal(patchAnalysis(previous, [at(1, '*filter')]), undefined);
    assert.equal(patchAnalysis(previous, [at(SVC_RULE, lines[SVC_RULE]!.replace('-A', '-I'))]), undefined);
    // A NUL byte: read alone, the line would be taken for a binary file. This dump is under 8 KiB,
    // so read in full it is one too (further into a larger one, the line gets an error: parser tests).
    const damaged = lines[SVC_RULE]!.replace('--mode', '--mo\u0000de');
    assert.equal(patchAnalysis(previous, [at(SVC_RULE, damaged)]), undefined);
    const full = analyze(lines.map((l, i) => (i === SVC_RULE ? damaged : l)).join('\n'));
    assert.deepEqual(full.diagnostics.map((d) => d.code), ['not-iptables']);
  });

  it('a mistake typed into a rule gives the same diagnostics as a full reading', () => {
    const { text, edit: e } = edit(KUBE_DNS, SVC_RULE, (l) => l.replace('--probability 0.50000000000', '--probability'));
    const patched = patchAndCompare(KUBE_DNS, text, [e])!;
    const option = e.newText.indexOf('--probability');
    assert.deepEqual(patched.diagnostics.map((d) => [d.code, d.span.line, d.span.start, d.span.end]), [['missing-value', SVC_RULE, option, option + '--probability'.length]]);
  });

  it('agrees with a full reading after random edits of fixtures and a generated dump', () => {
    const texts = [...iptablesFixtureNames().map(fixture), generateDump(40, 3).text];
    const mutations: Array<(line: string, all: string[], pick: number) => string> = [
      (l) => l.replace(/--probability \S+/, '--probability 0.7'),
      (l) => l.replace(/--comment "([^"]*)"/, '--comment "other/name:port"'),
      (l) => l.replace(/--to-destination \S+/, '--to-destination 10.9.9.9:99'),
      (l) => `${l} `,
      () => '',
      (l, all, pick) => {
        // Jump to another chain that exists: a name taken from another rule line.
        const names = all.flatMap((x) => /-j (KUBE-\S+)/.exec(x)?.[1] ?? []);
        return names.length > 0 ? l.replace(/-j \S+/, `-j ${names[pick % names.length]!}`) : l;
      },
      (l) => l.replace(/ -[ds] \S+/, ''),
      (l) => l.replace(/-m statistic --mode random --probability \S+ /, ''),
      (_l, all, pick) => all.filter((x) => x.startsWith('-A '))[pick % Math.max(1, all.filter((x) => x.startsWith('-A ')).length)] ?? '',
    ];
    let patched = 0;
    fc.assert(
      fc.property(fc.nat(texts.length - 1), fc.nat(), fc.nat(mutations.length - 1), fc.nat(), (t, lineSeed, m, pick) => {
        const text = texts[t]!;
        const lines = text.split('\n');
        const candidates = lines.map((l, i) => (l.startsWith('-A ') || l.startsWith('[') || l === '' || l.startsWith('#') ? i : -1)).filter((i) => i >= 0);
        const line = candidates[lineSeed % candidates.length]!;
        const { text: after, edit: e } = edit(text, line, (old) => mutations[m]!(old, lines, pick));
        if (patchAndCompare(text, after, [e])) patched++;
      }),
      { numRuns: 300, seed: 20261124 },
    );
    assert.ok(patched > 150, `only ${patched} of 300 edits were patched`);
  });

  it('edits inside service and endpoint chains revise the model before them, as a full reading makes it', () => {
    const text = generateDump(60, 3).text;
    const lines = text.split('\n');
    const inChains = lines.flatMap((l, i) => (/^-A KUBE-(SVC|SEP)-/.test(l) ? [i] : []));
    const mutations: Array<(line: string) => string> = [
      (l) => l.replace(/--probability \S+/, '--probability 0.7'),
      (l) => l.replace(/--to-destination \S+/, '--to-destination 10.9.9.9:99'),
      () => '',
      (l) => `${l} `,
      (l) => l.replace(/-j DNAT .*$/, '-j ACCEPT'),
      (l) => l.replace(/-m statistic --mode random --probability \S+ /, ''),
      (l) => l.replace(/ -s \S+/, ''),
    ];
    let revised = 0;
    fc.assert(
      fc.property(fc.nat(), fc.nat(mutations.length - 1), (lineSeed, m) => {
        const line = inChains[lineSeed % inChains.length]!;
        const { text: after, edit: e } = edit(text, line, mutations[m]!);
        const previous = analyze(text);
        const before = serviceModelOf(previous);
        summary(previous);
        const patch = patchAnalysis(previous, [e]);
        if (!patch) return;
        reviseServiceModel(previous, patch);
        assert.deepEqual(summary(patch.analysis), summary(analyze(after)), JSON.stringify(e));
        // The same service ports, revised rather than read again.
        if (!patch.sameMeaning && serviceModelOf(patch.analysis).services === before.services) revised++;
      }),
      { numRuns: 200, seed: 20261124 },
    );
    // About a fifth: most of the other edits leave the meaning as it was, or take a jump to an endpoint out.
    assert.ok(revised > 30, `only ${revised} of 200 edits revised the model`);
  });

  it('two edits revised in a row, the shares asked for only after the second: both services\' shares as a full reading gives them', () => {
    const text = generateDump(60, 3).text;
    const picks = text.split('\n').flatMap((l, i) => (/^-A KUBE-SVC-.* --probability /.test(l) ? [i] : []));
    const first = edit(text, picks[0]!, (l) => l.replace(/--probability \S+/, '--probability 0.9'));
    const second = edit(first.text, picks[picks.length - 1]!, (l) => l.replace(/--probability \S+/, '--probability 0.1'));
    const previous = analyze(text);
    const before = serviceModelOf(previous);
    summary(previous);
    const one = patchAnalysis(previous, [first.edit])!;
    reviseServiceModel(previous, one);
    assert.equal(serviceModelOf(one.analysis).services, before.services, 'the first edit revised the model');
    const two = patchAnalysis(one.analysis, [second.edit])!;
    reviseServiceModel(one.analysis, two);
    assert.equal(serviceModelOf(two.analysis).services, before.services, 'the second edit revised the model');
    assert.deepEqual(summary(two.analysis), summary(analyze(second.text)));
  });

  it('through the server\'s cache: lines typed, broken, pasted and deleted, each version like a fresh reading', () => {
    const texts = [fixture('seed-kube-dns.legacy-save.txt'), fixture('k8s-overall-modern.nft-save.txt'), fixture('k8s-syncrepeated-2-partial-add-svc3.rules'), generateDump(30, 3).text];
    const patched = [0, 0, 0, 0];
    const total = [0, 0, 0, 0];
    fc.assert(
      fc.property(fc.nat(texts.length - 1), fc.array(fc.tuple(fc.nat(3), fc.nat(), fc.nat(), fc.nat(4)), { minLength: 1, maxLength: 6 }), (t, steps) => {
        const cache = new AnalysisCache();
        const config = cache.documentsConfiguration();
        const document = config.create('file:///d.iptables-save', 'iptables-save', 1, texts[t]!);
        // Shares worked out, so that a kept model has something to keep.
        summary(cache.get(document));
        let version = 1;
        for (const [kind, lineSeed, charSeed, size] of steps) {
          // Mostly rule lines, as when one works on a dump; an Enter mostly at a line's end.
          const rules = Array.from({ length: document.lineCount }, (_, i) => i).filter((i) => document.getText(document.getLineRange(i)).startsWith('-A '));
          const line = rules.length > 0 && lineSeed % 4 !== 0 ? rules[lineSeed % rules.length]! : lineSeed % document.lineCount;
          const length = document.getLineRange(line).end.character;
          const at = { line, character: kind === 1 ? 0 : kind === 0 && size % 2 === 0 ? length : charSeed % (length + 1) };
          const change =
            kind === 0 ? { range: { start: at, end: at }, text: '\n' } // Enter
              : kind === 1 ? { range: { start: at, end: at }, text: `${size % 2 === 0 ? '' : '# note'}\n-A KUBE-MARK-MASQ -j RETURN\n` } // a paste
                : kind === 2 ? { range: { start: { line, character: 0 }, end: { line: Math.min(document.lineCount - 1, line + 1 + (size % 3)), character: 0 } }, text: '' } // lines deleted
                  : { range: { start: at, end: at }, text: size % 2 === 0 ? ' ' : 'X' }; // typing
          version++;
          config.update(document, [change], version);
          cache.lastWay = undefined;
          const analysis = cache.get(document);
          total[kind]++;
          if (cache.lastWay === 'patched') patched[kind]++;
          assert.deepEqual(summary(analysis), summary(analyze(document.getText())), JSON.stringify(change));
        }
      }),
      { numRuns: 120, seed: 11 },
    );
    // Every kind of edit is patched, not read again, most of the time it lands on a rule line.
    for (let kind = 0; kind < 4; kind++) assert.ok(patched[kind]! > total[kind]! / 3, `edit kind ${kind}: ${patched[kind]} of ${total[kind]} versions patched`);
  });
});
