// Runs the @vscode/test-electron suite's run() in this extension host and writes what it
// printed, and whether it passed, to the file config.json names (see test/e2e/harness.ts).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');

exports.activate = function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('netfilterExplorerTestHost.runElectronSuite', async () => {
      const config = JSON.parse(fs.readFileSync(path.join(__dirname, 'config.json'), 'utf8'));
      const lines = [];
      let ok = false;
      let error = '';
      try {
        await require(config.suite).runWith((line) => lines.push(line));
        ok = true;
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      fs.writeFileSync(config.results, JSON.stringify({ ok, error, lines }, null, 2));
      void vscode.window.showInformationMessage(`Electron suite in code-server: ${ok ? 'passed' : `failed: ${error}`}`);
    }),
  );
};

exports.deactivate = function deactivate() {};
