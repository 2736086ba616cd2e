import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { HoverRequest, type MarkupContent } from 'vscode-languageserver-protocol/node';
import { generateDump } from '../../server/src/kube/generate';
import { ChainsRequest, CloseLargeFileNotification, OpenLargeFileRequest, ServiceListRequest, ServiceRequest, ServicesRequest } from '../../server/src/protocol';
import { LspSession } from '../support/lspClient';

describe('a dump larger than the editor hands to extensions (over 50 MB)', () => {
  let lsp: LspSession;
  let file: string;
  let uri: string;
  let dump: ReturnType<typeof generateDump>;
  before(async () => {
    // 16,000 services x 10 endpoints in the large-cluster form: about 55 MB.
    dump = generateDump(16_000, 10);
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nfx-large-')), 'node.iptables-save');
    fs.writeFileSync(file, dump.text);
    uri = pathToFileURL(file).href;
    lsp = await LspSession.start();
  });
  after(async () => {
    await lsp.stop();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it('is read from disk with progress, and then answers like an open document', async () => {
    assert.ok(fs.statSync(file).size > 50 * 1024 * 1024, 'the generated dump is over 50 MB');
    const result = await lsp.connection.sendRequest(OpenLargeFileRequest, { uri });
    assert.equal(result.lines, dump.lines + 1);
    assert.equal(result.services, 16_000);
    // Every 20th generated service has no endpoints: 800 of them, each reported once (information).
    assert.equal(result.problems, 800);
    assert.deepEqual(lsp.progress.map((p) => p.kind), ['begin', 'report', 'report', 'report', 'end']);
    assert.equal(lsp.progress[0]!.title, 'Netfilter Explorer: node.iptables-save');
    assert.deepEqual(lsp.progress.slice(1, 4).map((p) => p.percentage), [25, 70, 95]);

    const services = await lsp.connection.sendRequest(ServicesRequest, { textDocument: { uri } });
    assert.equal(services?.total, 16_000);
    assert.equal(services?.namespaces.length, 97);
    // Service 1 is a NodePort service with 10 endpoints, a tenth of the traffic each.
    const team1 = await lsp.connection.sendRequest(ServiceListRequest, { textDocument: { uri }, namespace: 'team-1' });
    assert.equal(team1?.total, services?.namespaces.find((n) => n.namespace === 'team-1')?.services);
    const summary = team1!.services.find((s) => s.title === 'team-1/app-1:http')!;
    assert.deepEqual(summary.entryTitles, ['cluster IP 10.96.0.11:80/TCP', 'node port 30001/TCP']);
    const app1 = (await lsp.connection.sendRequest(ServiceRequest, { textDocument: { uri }, id: summary.id }))!;
    assert.deepEqual(app1.entries.map((e) => e.title), ['cluster IP 10.96.0.11:80/TCP', 'node port 30001/TCP']);
    assert.equal(app1.entries[0]!.endpoints.length, 10);
    for (const endpoint of app1.entries[0]!.endpoints) assert.ok(Math.abs(endpoint.share - 0.1) < 1e-9);

    const chains = await lsp.connection.sendRequest(ChainsRequest, { textDocument: { uri } });
    assert.deepEqual(chains?.tables.map((t) => t.name), ['filter', 'nat']);

    // Navigation works in the file: hover the jump of the first KUBE-SERVICES rule.
    const lines = dump.text.split('\n');
    const line = lines.findIndex((l) => l.startsWith('-A KUBE-SERVICES ') && l.includes('-j KUBE-SVC-'));
    const hover = await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character: lines[line]!.indexOf('-j KUBE-SVC-') + 6 } });
    assert.match((hover?.contents as MarkupContent).value, /^\*\*Service `team-1\/app-1:http`\*\* \(TCP\)/);

    await lsp.connection.sendNotification(CloseLargeFileNotification, { uri });
    assert.equal(await lsp.connection.sendRequest(ServicesRequest, { textDocument: { uri } }), null);
  });

  it('refuses what is not a file on disk, with a message', async () => {
    await assert.rejects(lsp.connection.sendRequest(OpenLargeFileRequest, { uri: 'untitled:Untitled-1' }), /Only files on disk can be read/);
  });
});
