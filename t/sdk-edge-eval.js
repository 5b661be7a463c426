#!/usr/bin/env node
'use strict';
// statsig-node with the edge (statsig_api) as its Statsig API: it
// downloads the specs and syncs the ID lists (get_id_lists, then each
// list's file with Range) from nginx, then evaluates every gate, config,
// experiment and layer of DCS.json for each user, as oracle.js does, so
// that the two outputs compare line for line (compare.js).
//
//   node t/sdk-edge-eval.js ORACLE_DIR API_URL KEY DCS.json USERS.jsonl \
//       [IDLISTS_OUT] > OUT.jsonl
//
// ORACLE_DIR is an installed copy of ../shared/oracle (build/oracle);
// API_URL is the edge's ".../v1".  IDLISTS_OUT, when given, receives what
// the SDK holds: {"name": {"ids": N, "readBytes": N, "fileID": "..."}}.
// EDGE_EVENTS=N in the environment: the SDK also logs N events
// ("edge_sdk_event", value i, user users[i % users]) and flushes them to
// the edge's log_event in batches of 999, each awaited (the SDK's gzip).
const fs = require('fs');
const path = require('path');

async function main() {
  const [oracle, api, key, dcsPath, usersPath, listsOut] = process.argv.slice(2);
  if (!usersPath) {
    process.stderr.write('usage: node t/sdk-edge-eval.js ORACLE_DIR API_URL KEY DCS.json USERS.jsonl [IDLISTS_OUT]\n');
    process.exit(2);
  }
  const { readUsers, entities, makeWriter } = require(path.resolve(oracle, 'lib/common'));
  const sdk = path.resolve(oracle, 'node_modules/statsig-node');
  const { StatsigServer } = require(sdk);
  const { StatsigContext } = require(path.join(sdk, 'dist/utils/StatsigContext'));

  const dcs = JSON.parse(fs.readFileSync(dcsPath, 'utf8'));
  const ents = entities(dcs);
  const users = readUsers(usersPath);
  const nEvents = Number(process.env.EDGE_EVENTS || 0);

  const server = new StatsigServer(key, {
    api,
    disableRulesetsSync: true,
    disableIdListsSync: true,
    initStrategyForIP3Country: 'await',
    initStrategyForIDLists: 'await',
    disableDiagnostics: true,
    disableAllLogging: !nEvents,
    loggingMaxBufferSize: 1000,
    loggingIntervalMs: 3600 * 1000,
    logger: { logLevel: 'error', warn: () => {}, error: (...x) => process.stderr.write('[statsig-node] ' + x.map(String).join(' ') + '\n') },
  });
  const init = await server.initializeAsync();
  if (!init.success) throw new Error('statsig-node initialize failed: ' + (init.error && init.error.message));
  process.stderr.write(`[edge] statsig-node initialized from ${api} (source ${init.source})\n`);

  if (listsOut) {
    const held = server._evaluator.store.store.idLists;
    const o = {};
    for (const [name, l] of Object.entries(held)) {
      o[name] = { ids: Object.keys(l.ids).length, readBytes: l.readBytes, fileID: l.fileID };
    }
    fs.writeFileSync(listsOut, JSON.stringify(o) + '\n');
  }

  // as oracle.js: the evaluator behind the public API, the user normalised
  const out = makeWriter();
  const clone = (u) => JSON.parse(JSON.stringify(u));
  const ev = server._evaluator;
  const prep = (u, name) => server._validateInputs(clone(u), name);
  const ctx = (caller, name) => StatsigContext.new({ caller, configName: name });
  const exp = (x) => (x || []).map((e) => ({ gate: e.gate, gateValue: e.gateValue, ruleID: e.ruleID }));

  users.forEach((user, ui) => {
    for (const g of ents.gates) {
      const { error, normalizedUser } = prep(user, g.name);
      if (error) {
        out.line({ user_index: ui, kind: 'gate', entity: g.entity, name: g.name, error: error.name || String(error) });
        continue;
      }
      const r = ev.checkGate(normalizedUser, g.name, ctx('checkGate', g.name));
      out.line({ user_index: ui, kind: 'gate', entity: g.entity, name: g.name, value: r.value === true,
        rule_id: r.rule_id, group_name: r.group_name, id_type: r.id_type,
        secondary_exposures: exp(r.secondary_exposures) });
    }
    for (const c of ents.configs) {
      const { error, normalizedUser } = prep(user, c.name);
      if (error) {
        out.line({ user_index: ui, kind: c.entity, name: c.name, error: error.name || String(error) });
        continue;
      }
      const r = ev.getConfig(normalizedUser, c.name, ctx(c.entity === 'experiment' ? 'getExperiment' : 'getConfig', c.name));
      out.line({ user_index: ui, kind: c.entity, name: c.name, value: r.json_value, passed: r.value === true,
        rule_id: r.rule_id, group_name: r.group_name, id_type: r.id_type,
        secondary_exposures: exp(r.secondary_exposures) });
    }
    for (const l of ents.layers) {
      const { error, normalizedUser } = prep(user, l.name);
      if (error) {
        out.line({ user_index: ui, kind: 'layer', name: l.name, error: error.name || String(error) });
        continue;
      }
      const r = ev.getLayer(normalizedUser, l.name, ctx('getLayer', l.name));
      out.line({ user_index: ui, kind: 'layer', name: l.name, value: r.json_value,
        rule_id: r.rule_id, group_name: r.group_name, id_type: r.id_type,
        secondary_exposures: exp(r.secondary_exposures) });
    }
  });
  await out.end();
  // a full buffer (1,000) the SDK posts without waiting for the answer,
  // which process.exit() may cut short: 999 at a time, each awaited
  for (let i = 0; i < nEvents; i++) {
    server.logEvent({ userID: `edge-user-${i}` }, 'edge_sdk_event', i, { n: String(i) });
    if ((i + 1) % 999 === 0) await server.flush();
  }
  await server.flush();
  await server.shutdownAsync();
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
