import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  CancellationTokenSource,
  DefinitionRequest,
  DocumentSymbolRequest,
  HoverRequest,
  type MarkupContent,
  ReferencesRequest,
  ResponseError,
} from 'vscode-languageserver-protocol/node';
import { generateDump } from '../../server/src/kube/generate';
import { fixture } from '../support/fixtures';
import { LspSession } from '../support/lspClient';

const URI = 'file:///dumps/robust.iptables-save';
const seed = fixture('seed-kube-dns.nft-save.txt');

describe('a server that never falls over', () => {
  let lsp: LspSession;
  before(async () => {
    lsp = await LspSession.start();
    await lsp.open(URI, seed);
  });
  after(async () => lsp.stop());

  it('answers null for positions beyond the end of the document or of a line', async () => {
    for (const position of [{ line: 9_999, character: 0 }, { line: 18, character: 10_000 }, { line: 0, character: 2 ** 31 - 1 }]) {
      assert.equal(await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri: URI }, position }), null);
      assert.equal(await lsp.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: URI }, position }), null);
      assert.equal(await lsp.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri: URI }, position, context: { includeDeclaration: true } }), null);
    }
  });

  it('answers null for a document it was never given', async () => {
    assert.equal(await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri: 'file:///never/opened.rules' }, position: { line: 0, character: 0 } }), null);
  });

  it('a request cancelled while its dump is analysed gets the RequestCancelled error', async () => {
    // A 2,000-service dump takes the server a moment to analyse: the cancellation arrives meanwhile.
    const uri = 'file:///dumps/large.iptables-save';
    await lsp.open(uri, generateDump(2_000, 5).text);
    const source = new CancellationTokenSource();
    const pending = lsp.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } }, source.token);
    source.cancel();
    await assert.rejects(pending, (error: unknown) => error instanceof ResponseError && error.code === -32800);
    // Asked again, it answers.
    const symbols = await lsp.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } });
    assert.deepEqual(symbols?.map((s) => s.name), ['filter', 'nat']);
    await lsp.close(uri);
  });

  it('answers for the newest text right after an edit, never for the version before', async () => {
    const renamed = seed.replaceAll('KUBE-SVC-ERIFXISQEP7F7OF4', 'KUBE-SVC-RENAMED-BY-EDIT');
    await lsp.change(URI, 2, renamed);
    const line = renamed.split('\n').findIndex((l) => l.startsWith('-A KUBE-SERVICES'));
    const hover = await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri: URI }, position: { line, character: renamed.split('\n')[line]!.indexOf('KUBE-SVC-RENAMED') + 2 } });
    assert.match((hover?.contents as MarkupContent).value, /\*\*KUBE-SVC-RENAMED-BY-EDIT\*\* — user chain in table `nat`/);
  });

  it('a burst of 1,000 edits in a second leaves it answering, with diagnostics for the last one and memory bounded', async () => {
    const started = Date.now();
    for (let version = 3; version < 1003; version++) {
      // Every other version breaks the dump; the last one (1002) is the valid seed.
      await lsp.change(URI, version, version % 2 === 1 ? seed.replace('COMMIT', '') : seed);
    }
    const sentIn = Date.now() - started;
    const symbols = await lsp.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: URI } });
    assert.equal(symbols?.length, 1);
    assert.deepEqual(await lsp.diagnosticsFor(URI, 1002), []);
    const rss = serverRssMb(lsp.pid);
    assert.ok(rss < 400, `server resident memory ${rss} MB after 1,000 edits`);
    assert.ok(sentIn < 5_000, `sending took ${sentIn} ms`);
  });
});

function serverRssMb(pid: number | undefined): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}
