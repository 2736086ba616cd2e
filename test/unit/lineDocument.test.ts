import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { AnalysisCache } from '../../server/src/analysisCache';
import { LineDocument } from '../../server/src/lineDocument';

const lineArb = fc.stringMatching(/^[-A-Za-z0-9 "#:.]{0,30}$/);
const textArb = fc.tuple(fc.array(lineArb, { minLength: 1, maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r')).map(([lines, eol]) => lines.join(eol));

/** A change as VS Code sends one, at a position picked from the numbers given, in the document as it is. */
function changeIn(document: TextDocument, [line, from, to, text, breaks]: [number, number, number, string, boolean]): TextDocumentContentChangeEvent {
  const l = line % document.lineCount;
  const length = document.getLineRange(l).end.character;
  const start = from % (length + 1);
  const end = Math.min(length, start + (to % 4));
  if (breaks) {
    // Across lines or with a line break: the rare kind of edit.
    const endLine = Math.min(document.lineCount - 1, l + (to % 2));
    return { range: { start: { line: l, character: start }, end: { line: endLine, character: Math.min(end, document.getLineRange(endLine).end.character) } }, text: `${text}\n` };
  }
  return { range: { start: { line: l, character: start }, end: { line: l, character: end } }, text };
}

describe('the document kept line by line', () => {
  it('holds the same text as vscode-languageserver-textdocument after any edits', () => {
    fc.assert(
      fc.property(textArb, fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), lineArb, fc.boolean()), { maxLength: 15 }), (text, edits) => {
        const reference = TextDocument.create('file:///a', 'iptables-save', 1, text);
        const ours = new LineDocument('file:///a', 'iptables-save', 1, text);
        let version = 1;
        for (const edit of edits) {
          const change = changeIn(reference, edit);
          version++;
          TextDocument.update(reference, [change], version);
          ours.update([change], version);
          assert.equal(ours.lineCount, reference.lineCount);
          // A range over several lines, asked while edits within lines are pending.
          const [line, from] = edit;
          const across = { start: { line: line % reference.lineCount, character: from % 5 }, end: { line: (line + 2) % (reference.lineCount + 1), character: from % 7 } };
          assert.equal(ours.getText(across), reference.getText(across));
          for (let line = 0; line < reference.lineCount; line++) {
            assert.equal(ours.getEOLCharacters(line), reference.getEOLCharacters(line));
            assert.deepEqual(ours.getLineRange(line), reference.getLineRange(line));
            const range = reference.getLineRange(line);
            assert.equal(ours.getText(range), reference.getText(range));
          }
        }
        assert.equal(ours.version, version);
        assert.equal(ours.getText(), reference.getText());
        assert.equal(ours.offsetAt({ line: reference.lineCount - 1, character: 1 }), reference.offsetAt({ line: reference.lineCount - 1, character: 1 }));
        for (let offset = 0; offset <= reference.getText().length + 1; offset++) assert.deepEqual(ours.positionAt(offset), reference.positionAt(offset));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('an edit within a line changes that line only, without joining the text', () => {
    const document = new LineDocument('file:///b', 'iptables-save', 1, '*nat\r\n-A X -j Y\r\nCOMMIT\r\n');
    document.update([{ range: { start: { line: 1, character: 8 }, end: { line: 1, character: 9 } }, text: 'KUBE-Z' }], 2);
    assert.equal(document.lineText(1), '-A X -j KUBE-Z');
    assert.equal(document.getEOLCharacters(1), '\r\n');
    assert.equal(document.getText(), '*nat\r\n-A X -j KUBE-Z\r\nCOMMIT\r\n');
  });

  it('after 5,000 keystrokes and line breaks the text is the one vscode-languageserver-textdocument holds', () => {
    const text = Array.from({ length: 300 }, (_, i) => `-A KUBE-SEP-${i} -j KUBE-MARK-MASQ`).join('\n');
    const reference = TextDocument.create('file:///d', 'iptables-save', 1, text);
    const ours = new LineDocument('file:///d', 'iptables-save', 1, text);
    for (let i = 0; i < 5000; i++) {
      const line = (i * 7919) % reference.lineCount;
      const character = i % 5;
      const change = { range: { start: { line, character }, end: { line, character } }, text: i % 97 === 0 ? '\n' : 'x' };
      TextDocument.update(reference, [change], i + 2);
      ours.update([change], i + 2);
    }
    assert.equal(ours.lineCount, reference.lineCount);
    for (const line of [0, 1, 150, reference.lineCount - 1]) assert.equal(ours.lineText(line), reference.getText(reference.getLineRange(line)));
    assert.equal(ours.getText(), reference.getText());
  });

  it('a line emptied between a lone CR and an LF leaves one CRLF: a line fewer, and the dump is read again', () => {
    const cache = new AnalysisCache();
    const config = cache.documentsConfiguration();
    const document = config.create('file:///c', 'iptables-save', 1, '*nat\r-A X -j Y\nCOMMIT\n');
    assert.equal(document.lineCount, 4);
    cache.get(document);
    config.update(document, [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 10 } }, text: '' }], 2);
    assert.equal(document.getText(), '*nat\r\nCOMMIT\n');
    assert.equal(document.lineCount, 3);
    assert.equal(document.lineText(1), 'COMMIT');
    cache.get(document);
    assert.equal(cache.lastWay, 'full');
  });
});
