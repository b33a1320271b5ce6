// Starts the Rolecall language server, `rules lsp` (LSP 3.17 over stdio), for .rules files.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

async function start() {
  const serverPath = vscode.workspace.getConfiguration('rolecall').get('serverPath') || 'rules';
  const serverOptions = { command: serverPath, args: ['lsp'] };
  client = new LanguageClient(
    'rolecall',
    'Rolecall',
    serverOptions,
    {
      documentSelector: [{ scheme: 'file', language: 'rolecall' }],
      // Rule sets span files (a `let` is visible in every file): tell the server when one changes on disk.
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.rules') },
    },
  );
  await client.start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration('rolecall.serverPath')) return;
      await deactivate();
      await start();
    }),
  );
  await start();
}

async function deactivate() {
  if (client) {
    const stopping = client;
    client = undefined;
    await stopping.stop();
  }
}

module.exports = { activate, deactivate };
