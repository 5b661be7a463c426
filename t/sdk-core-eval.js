#!/usr/bin/env node
'use strict';
// statsig-node-core (@statsig/statsig-node-core, Statsig's Rust-core server
// SDK) with a Statsig API at BASE: it downloads DCS v2 from
// BASE/v2/download_config_specs, syncs the ID lists from
// BASE/v1/get_id_lists and posts its events (zstd) to BASE/v1/log_event;
// then evaluates every gate, config, experiment and layer of DCS.json for
// each user, in oracle-core.js's output shape (compare.js reads it).
//
//   node t/sdk-core-eval.js ORACLE_DIR BASE KEY DCS.json USERS.jsonl > OUT.jsonl
//
// ORACLE_DIR is an installed copy of ../shared/oracle (build/oracle), whose
// node_modules hold statsig-node-core.  BASE is the fake Statsig's URL or
// the edge's location (".../edge").  Environment:
//   CORE_EVENTS=N   also logs N events ("core_sdk_event", value i) and
//                   user 0's exposure of each gate (checkGate), and flushes
//                   them at the end
//   CORE_FOLLOW=DIR after the evaluations, keeps running (specs synced every
//                   second): writes DIR/ready.json {gate, user_index, value,
//                   time}, then, once DIR/go exists, waits (30 s at most)
//                   for that answer to change and writes DIR/changed.json.
//                   The gate is CORE_GATE for user CORE_USER.
const fs = require('fs');
const path = require('path');

async function main() {
  const [oracle, base, key, dcsPath, usersPath] = process.argv.slice(2);
  if (!usersPath) {
    process.stderr.write('usage: node t/sdk-core-eval.js ORACLE_DIR BASE KEY DCS.json USERS.jsonl\n');
    process.exit(2);
  }
  const { readUsers, entities, makeWriter } = require(path.resolve(oracle, 'lib/common'));
  const core = path.resolve(oracle, 'node_modules/@statsig/statsig-node-core');
  const { Statsig, StatsigUser } = require(core);

  const dcs = JSON.parse(fs.readFileSync(dcsPath, 'utf8'));
  const ents = entities(dcs);
  const users = readUsers(usersPath);
  const nEvents = Number(process.env.CORE_EVENTS || 0);
  const follow = process.env.CORE_FOLLOW;

  const s = new Statsig(key, {
    specsUrl: base + '/v2/download_config_specs',
    idListsUrl: base + '/v1/get_id_lists',
    logEventUrl: base + '/v1/log_event',
    enableIdLists: true,
    outputLogLevel: 'error',
    waitForCountryLookupInit: true,
    waitForUserAgentInit: true,
    specsSyncIntervalMs: follow ? 1000 : 3600 * 1000,
    idListsSyncIntervalMs: 3600 * 1000,
    eventLoggingFlushIntervalMs: 3600 * 1000,
    disableAllLogging: !nEvents,
    initTimeoutMs: 10000,
  });
  const init = await s.initialize();
  if (!init || !init.isSuccess) throw new Error('statsig-node-core initialize failed: ' + JSON.stringify(init));
  const version = require(path.join(core, 'package.json')).version;
  process.stderr.write(`[core] statsig-node-core ${version} initialized from ${base}\n`);

  // as oracle-core.js: raw results, secondary exposures from the unhashed
  // client initialize response (segments and holdouts are not in it)
  const out = makeWriter();
  const noExpo = { disableExposureLogging: true };
  const exp = (x) => (x == null ? null : x.map((e) => ({ gate: e.gate, gateValue: e.gateValue, ruleID: e.ruleID })));
  const canon = (v) => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object') {
      const o = {};
      for (const k of Object.keys(v).sort()) o[k] = canon(v[k]);
      return o;
    }
    return v;
  };
  const mkUser = (u) => new StatsigUser(JSON.parse(JSON.stringify(u)));

  users.forEach((raw, ui) => {
    const user = mkUser(raw);
    let gcir = null;
    try {
      gcir = JSON.parse(s.getClientInitializeResponse(user, { hashAlgorithm: 'none' }));
    } catch (e) {
      gcir = null;
    }
    const fromInit = (sect, name) => (gcir && gcir[sect] && gcir[sect][name]) || null;
    for (const g of ents.gates) {
      const r = s.__INTERNAL_getFeatureGate(user, g.name, noExpo) || {};
      const ir = fromInit('feature_gates', g.name);
      out.line({ user_index: ui, kind: 'gate', entity: g.entity, name: g.name, value: r.value === true,
        rule_id: r.ruleID, group_name: null, id_type: r.idType,
        secondary_exposures: ir ? exp(ir.secondary_exposures) : null, reason: r.details && r.details.reason });
    }
    for (const c of ents.configs) {
      const isExp = c.entity === 'experiment';
      const r = (isExp ? s.__INTERNAL_getExperiment(user, c.name, noExpo) : s.__INTERNAL_getDynamicConfig(user, c.name, noExpo)) || {};
      const ir = fromInit('dynamic_configs', c.name);
      out.line({ user_index: ui, kind: c.entity, name: c.name, value: r.value == null ? {} : canon(r.value),
        rule_id: r.ruleID, id_type: r.idType,
        group_name: r.groupName != null ? r.groupName : ir && ir.group_name != null ? ir.group_name : isExp ? null : undefined,
        is_experiment_group: ir && typeof ir.is_user_in_experiment === 'boolean' ? ir.is_user_in_experiment : null,
        secondary_exposures: ir ? exp(ir.secondary_exposures) : null, reason: r.details && r.details.reason });
    }
    for (const l of ents.layers) {
      const r = s.__INTERNAL_getLayer(user, l.name, noExpo) || {};
      const ir = fromInit('layer_configs', l.name);
      out.line({ user_index: ui, kind: 'layer', name: l.name, value: r.value == null ? {} : canon(r.value),
        rule_id: r.ruleID, group_name: r.groupName == null ? null : r.groupName, id_type: r.idType,
        allocated_experiment: r.allocatedExperimentName || null, explicit_parameters: r.explicitParameters || [],
        secondary_exposures: ir ? exp(ir.secondary_exposures) : null,
        undelegated_secondary_exposures: ir ? exp(ir.undelegated_secondary_exposures || []) : null,
        reason: r.details && r.details.reason });
    }
  });
  await out.end();

  if (nEvents) {
    // the public checks log exposures: user 0's, one per gate
    const u0 = mkUser(users[0]);
    for (const g of ents.gates) s.checkGate(u0, g.name);
    for (let i = 0; i < nEvents; i++) {
      s.logEvent(new StatsigUser({ userID: `core-user-${i}` }), 'core_sdk_event', i, { n: String(i) });
    }
    await s.flushEvents();
  }

  if (follow) {
    const gate = process.env.CORE_GATE;
    const ui = Number(process.env.CORE_USER || 0);
    const user = mkUser(users[ui]);
    const answer = () => {
      const r = s.__INTERNAL_getFeatureGate(user, gate, { disableExposureLogging: true }) || {};
      const t = JSON.parse(s.getClientInitializeResponse(user, { hashAlgorithm: 'none' })).time;
      return { gate, user_index: ui, value: r.value === true, rule_id: r.ruleID, time: t };
    };
    const first = answer();
    fs.writeFileSync(path.join(follow, 'ready.json'), JSON.stringify(first) + '\n');
    const t0 = Date.now();
    while (!fs.existsSync(path.join(follow, 'go')) && Date.now() - t0 < 60000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const t1 = Date.now();
    let now = answer();
    while (now.value === first.value && now.time === first.time && Date.now() - t1 < 30000) {
      await new Promise((r) => setTimeout(r, 100));
      now = answer();
    }
    fs.writeFileSync(path.join(follow, 'changed.json'), JSON.stringify(now) + '\n');
  }

  await s.shutdown(5000);
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + '\n');
  process.exit(1);
});
