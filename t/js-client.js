#!/usr/bin/env node
'use strict';
// Statsig's browser SDK (@statsig/js-client) in Node with the edge as its
// API: for each user, a client initializes with the client key
// (POST .../initialize?k=KEY), reads every gate, config/experiment and
// layer named in NAMES.json, logs one custom event and shuts down, which
// flushes its events (POST .../rgstr?k=KEY&t=...).
//
//   NODE_PATH=build/clients/node_modules \
//       node t/js-client.js API_URL KEY USERS.jsonl NAMES.json > OUT.jsonl
//
// USERS.jsonl lines are {"user": {...}, "stableID": "..."}: the SDK's
// stable ID is set to stableID (StableID.setOverride, as a page that
// kept one would), so the SDK sends it in statsigMetadata only.
// NAMES.json is {"gates": [...], "configs": [...], "layers": [...]}.
// JS_CLIENT_SKEW_MS in the environment: the process's clock (Date.now)
// runs that much behind (or ahead, negative), for the edge to correct.
// JS_CLIENT_FORCE_GZIP=1: every other user's client compresses its
// events (logEventCompressionMode 'f': the query's gz=1).
// Output lines: {"i", "stableID", "sdkType", "gates": {name: {value,
// ruleID}}, "configs": {name: {value, ruleID, groupName}}, "layers":
// {name: {value, ruleID, groupName}}, "source"}.
const fs = require('fs');

const skew = Number(process.env.JS_CLIENT_SKEW_MS || 0);
if (skew) {
  const real = Date.now;
  Date.now = () => real() - skew;
}

const { StatsigClient, StableID, SDKType } = require('@statsig/js-client');

async function main() {
  const [api, key, usersPath, namesPath] = process.argv.slice(2);
  if (!namesPath) {
    process.stderr.write('usage: node t/js-client.js API_URL KEY USERS.jsonl NAMES.json\n');
    process.exit(2);
  }
  const names = JSON.parse(fs.readFileSync(namesPath, 'utf8'));
  const rows = fs.readFileSync(usersPath, 'utf8').split('\n')
    .filter((l) => l.trim()).map((l) => JSON.parse(l));

  for (let i = 0; i < rows.length; i++) {
    const { user, stableID } = rows[i];
    StableID.setOverride(stableID, key);

    const client = new StatsigClient(key, user, {
      networkConfig: { api },
      logEventCompressionMode:
        process.env.JS_CLIENT_FORCE_GZIP && i % 2 ? 'f' : 'd',
      loggingIntervalMs: 3600 * 1000,
      // the SDK logs in browsers only unless told
      loggingEnabled: 'always',
    });
    const details = await client.initializeAsync();
    if (!details.success) {
      throw new Error(`user ${i}: initialize failed: ${details.error}`);
    }

    const out = {
      i, stableID: client.getContext().stableID, sdkType: SDKType._get(key),
      source: client.getContext().values && details.source,
      gates: {}, configs: {}, layers: {},
    };
    for (const g of names.gates) {
      const r = client.getFeatureGate(g);
      out.gates[g] = { value: r.value, ruleID: r.ruleID };
    }
    for (const c of names.configs) {
      const r = client.getExperiment(c);
      out.configs[c] = { value: r.value, ruleID: r.ruleID, groupName: r.groupName };
    }
    for (const l of names.layers) {
      const r = client.getLayer(l);
      out.layers[l] = { value: r.__value, ruleID: r.ruleID, groupName: r.groupName };
    }
    client.logEvent('js_client_event', i, { user_index: String(i) });
    await client.shutdown();
    process.stdout.write(JSON.stringify(out) + '\n');
  }
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
