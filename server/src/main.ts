#!/usr/bin/env node
// The language server on its own: `netfilter-language-server --stdio` for any LSP editor.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write('Usage: netfilter-language-server --stdio | --node-ipc | --socket=PORT\nA language server for iptables-save dumps (Netfilter Explorer).\n');
  process.exit(0);
}
if (!process.argv.some((a) => a === '--stdio' || a === '--node-ipc' || a.startsWith('--socket=') || a.startsWith('--pipe='))) {
  process.stderr.write('netfilter-language-server: choose a transport: --stdio, --node-ipc or --socket=PORT (see --help).\n');
  process.exit(2);
}
startServer(createConnection(ProposedFeatures.all));
