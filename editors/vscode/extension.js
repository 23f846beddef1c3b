// The Flo extension: starts `floc lsp` over stdio for .flo files. Everything else (diagnostics,
// outline, definition, hover, formatting) comes from the server.
'use strict';
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration('flo');
  const command = config.get('floc.path', 'floc');
  const args = ['lsp', ...config.get('floc.arguments', [])];
  const serverOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [{ language: 'flo' }],
    outputChannelName: 'Flo (floc lsp)',
  };
  client = new LanguageClient('flo', 'Flo language server', serverOptions, clientOptions);
  client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
