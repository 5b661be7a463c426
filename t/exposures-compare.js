#!/usr/bin/env node
'use strict';
// Compares exposure events with statsig-node's, field by field.
//
//   node t/exposures-compare.js EXPECTED.jsonl ACTUAL.jsonl [--users N]
//        [--dedupe] [--examples N]
//
// EXPECTED: oracle.js --events output ({user_index, request_index, path,
// event}); ACTUAL: statsig-eval --exposures ({user_index, event}).  Only
// exposure events are compared (the SDK's statsig::diagnostics is not one),
// for user_index < N.  Per user the two event lists are compared in order,
// every field, key order ignored; time and metadata.serverTime depend on the
// clock, so they are only checked to be numbers.  configSyncTime and
// initTime (the DCS time) are compared.
//
// --dedupe applies statsig-node's exposure dedupe to ACTUAL first
// (LogEventProcessor.isUniqueExposure: one set of keys
// [userID, customIDs values, eventName, metadata values but serverTime,
// configSyncTime, initTime and reason].join(), cleared every 60 s, which a
// run never reaches) -- for output written with --no-dedupe.
//
// Prints "compared N events (...); D differ; M missing; E extra; dedupe
// dropped X", then differences.  Exit status 1 on any difference.
const fs = require('fs');

const TIME_KEYS = ['serverTime'];
const IGNORED = new Set(['serverTime', 'configSyncTime', 'initTime', 'reason']);

function read(p) {
  return fs
    .readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

function dedupeKey(e) {
  const user = e.user;
  let customIdKey = '';
  if (user.customIDs && typeof user.customIDs === 'object') customIdKey = Object.values(user.customIDs).join();
  let metadataKey = '';
  if (e.metadata && typeof e.metadata === 'object') {
    metadataKey = Object.entries(e.metadata)
      .filter(([k]) => !IGNORED.has(k))
      .map(([, v]) => v)
      .join();
  }
  return [user.userID, customIdKey, e.eventName, metadataKey].join();
}

function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = canon(v[k]);
    return o;
  }
  return v;
}

// returns a list of problems with the time-like fields, and strips them
function normalise(e) {
  const bad = [];
  const c = JSON.parse(JSON.stringify(e));
  if (typeof c.time !== 'number') bad.push('time');
  delete c.time;
  if (c.metadata) {
    for (const k of TIME_KEYS) {
      if (typeof c.metadata[k] !== 'number') bad.push('metadata.' + k);
      delete c.metadata[k];
    }
  }
  return { c, bad };
}

function fieldDiffs(x, y) {
  const out = [];
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  for (const k of keys) {
    if (k === 'metadata' && x.metadata && y.metadata) {
      const mk = new Set([...Object.keys(x.metadata), ...Object.keys(y.metadata)]);
      for (const m of mk) {
        if (JSON.stringify(canon(x.metadata[m])) !== JSON.stringify(canon(y.metadata[m]))) out.push('metadata.' + m);
      }
      continue;
    }
    if (JSON.stringify(canon(x[k])) !== JSON.stringify(canon(y[k]))) out.push(k);
  }
  return out;
}

function main() {
  const args = process.argv.slice(2);
  let users = Infinity;
  let dedupe = false;
  let examples = 3;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--users') users = Number(args[++i]);
    else if (args[i] === '--dedupe') dedupe = true;
    else if (args[i] === '--examples') examples = Number(args[++i]);
    else pos.push(args[i]);
  }
  if (pos.length !== 2) {
    console.error('usage: node t/exposures-compare.js EXPECTED ACTUAL [--users N] [--dedupe] [--examples N]');
    process.exit(2);
  }

  const isExposure = (r) => /^statsig::(gate|config|layer)_exposure$/.test(r.event.eventName);
  const expected = read(pos[0]).filter((r) => r.user_index < users && isExposure(r));
  let actual = read(pos[1]).filter((r) => r.user_index < users);

  let dropped = 0;
  if (dedupe) {
    const seen = new Set();
    actual = actual.filter((r) => {
      const k = dedupeKey(r.event);
      if (seen.has(k)) {
        dropped++;
        return false;
      }
      seen.add(k);
      return true;
    });
  }

  const group = (list) => {
    const m = new Map();
    for (const r of list) {
      if (!m.has(r.user_index)) m.set(r.user_index, []);
      m.get(r.user_index).push(r.event);
    }
    return m;
  };
  const A = group(expected);
  const B = group(actual);

  let compared = 0;
  let differ = 0;
  let missing = 0;
  let extra = 0;
  const byName = {};
  const byField = new Map();
  const shown = [];
  const uidx = [...new Set([...A.keys(), ...B.keys()])].sort((a, b) => a - b);
  for (const u of uidx) {
    const xs = A.get(u) || [];
    const ys = B.get(u) || [];
    if (ys.length < xs.length) missing += xs.length - ys.length;
    if (ys.length > xs.length) extra += ys.length - xs.length;
    for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
      compared++;
      byName[xs[i].eventName] = (byName[xs[i].eventName] || 0) + 1;
      const nx = normalise(xs[i]);
      const ny = normalise(ys[i]);
      const d = fieldDiffs(nx.c, ny.c).concat(ny.bad.map((b) => b + '(type)'));
      if (d.length) {
        differ++;
        for (const f of d) byField.set(f, (byField.get(f) || 0) + 1);
        if (shown.length < examples) shown.push({ user_index: u, i, fields: d, expected: nx.c, actual: ny.c });
      }
    }
  }

  const names = Object.entries(byName)
    .map(([k, v]) => `${k.replace('statsig::', '')} ${v}`)
    .join(', ');
  console.log(
    `compared ${compared} events (${names}) of ${uidx.length} users; ${differ} differ; ${missing} missing; ${extra} extra; dedupe dropped ${dropped}`,
  );
  for (const [f, n] of byField) console.log(`  ${f}: ${n}`);
  for (const s of shown) console.log(JSON.stringify(s));
  process.exit(differ || missing || extra ? 1 : 0);
}
main();
