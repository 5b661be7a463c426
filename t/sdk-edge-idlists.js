#!/usr/bin/env node
'use strict';
// statsig-node with the edge as its API, kept running across ID-list
// changes: what it holds after its first sync, then after each sync the
// test asks for (its own timer is at least a minute), so that the test can
// change the lists upstream in between.
//
//   node t/sdk-edge-idlists.js ORACLE_DIR API_URL KEY DIR
//
// Writes DIR/held-0.json after initialize, then for N = 1, 2, ...: waits
// for DIR/go-N, syncs the ID lists (get_id_lists, then the files with
// Range from the bytes it has) and writes DIR/held-N.json; stops at
// DIR/stop (or after a minute without a go).  held-N.json:
// {"name": {"fileID": "...", "readBytes": N, "ids": ["sorted ids"]}}.
const fs = require('fs');
const path = require('path');

function held(server) {
  const o = {};
  for (const [name, l] of Object.entries(server._evaluator.store.store.idLists)) {
    o[name] = { fileID: l.fileID, readBytes: l.readBytes, ids: Object.keys(l.ids).sort() };
  }
  return o;
}

function write(file, obj) {
  fs.writeFileSync(file + '.tmp', JSON.stringify(obj) + '\n');
  fs.renameSync(file + '.tmp', file);
}

async function main() {
  const [oracle, api, key, dir] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: node t/sdk-edge-idlists.js ORACLE_DIR API_URL KEY DIR\n');
    process.exit(2);
  }
  const { StatsigServer } = require(path.resolve(oracle, 'node_modules/statsig-node'));
  const server = new StatsigServer(key, {
    api,
    disableRulesetsSync: true,
    disableIdListsSync: true,
    initStrategyForIP3Country: 'none',
    initStrategyForIDLists: 'await',
    disableDiagnostics: true,
    disableAllLogging: true,
    logger: { logLevel: 'error', warn: () => {}, error: (...x) => process.stderr.write('[statsig-node] ' + x.map(String).join(' ') + '\n') },
  });
  const init = await server.initializeAsync();
  if (!init.success) throw new Error('statsig-node initialize failed: ' + (init.error && init.error.message));
  write(path.join(dir, 'held-0.json'), held(server));

  for (let n = 1; ; n++) {
    const go = path.join(dir, `go-${n}`);
    const t0 = Date.now();
    while (!fs.existsSync(go)) {
      if (fs.existsSync(path.join(dir, 'stop')) || Date.now() - t0 > 60000) {
        await server.shutdownAsync();
        process.exit(0);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await server._evaluator.store.syncIdLists();
    write(path.join(dir, `held-${n}.json`), held(server));
  }
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
