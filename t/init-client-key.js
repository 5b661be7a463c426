#!/usr/bin/env node
'use strict';
// statsig-node's getClientInitializeResponse with a client SDK key, for
// checking statsig-eval --initialize --client-key (the oracle's --init mode
// passes no key).
//
//   node t/init-client-key.js ORACLE_DIR DCS.json USERS.jsonl KEY HASH > OUT.jsonl
//
// ORACLE_DIR is an installed copy of ../shared/oracle (with node_modules,
// e.g. build/oracle from `make oracle`).  KEY "-" passes no key.  Output
// lines are {"user_index", "hash", "response"} with sdkInfo.sessionId
// replaced by "SESSION", as oracle.js --init writes them.  The SDK is
// started the way oracle.js starts it (a local stand-in serves the DCS).
const fs = require('fs');
const path = require('path');

async function main() {
  const [oracle, dcsPath, usersPath, key, hash] = process.argv.slice(2);
  if (!hash) {
    process.stderr.write('usage: node t/init-client-key.js ORACLE_DIR DCS.json USERS.jsonl KEY HASH\n');
    process.exit(2);
  }
  const { startServer, guardNodeFetch } = require(path.resolve(oracle, 'lib/server'));
  const dcsText = fs.readFileSync(dcsPath, 'utf8');
  const users = fs
    .readFileSync(usersPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

  const srv = await startServer({ dcsV1: dcsText, idLists: {}, quiet: true });
  guardNodeFetch(() => srv.base);
  const { StatsigServer } = require(path.resolve(oracle, 'node_modules/statsig-node'));
  const server = new StatsigServer('secret-oracle-local', {
    api: srv.base + '/v1',
    apiForDownloadConfigSpecs: srv.base + '/v1',
    disableRulesetsSync: true,
    disableIdListsSync: true,
    initStrategyForIP3Country: 'await',
    initStrategyForIDLists: 'await',
    disableDiagnostics: true,
    disableAllLogging: true,
    logger: { logLevel: 'error', warn: () => {}, error: (...x) => process.stderr.write(x.map(String).join(' ') + '\n') },
  });
  const init = await server.initializeAsync();
  if (!init.success) throw new Error('statsig-node initialize failed');

  let out = '';
  users.forEach((user, ui) => {
    const resp = server.getClientInitializeResponse(JSON.parse(JSON.stringify(user)), key === '-' ? undefined : key, { hash });
    if (resp && resp.sdkInfo) resp.sdkInfo.sessionId = 'SESSION';
    out += JSON.stringify({ user_index: ui, hash, response: resp }) + '\n';
  });
  process.stdout.write(out);
  await server.shutdownAsync(1000);
  await srv.close();
}

main().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + '\n');
  process.exit(1);
});
