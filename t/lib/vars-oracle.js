#!/usr/bin/env node
'use strict';
// Helper of t/20-variables-oracle.t: what nginx variables should give.
//
//   node vars-oracle.js users GEN_USERS.jsonl > STRING_USERS.jsonl
//       each generated user as nginx can carry it: every field a string
//       (String(v), as JavaScript writes it), no arrays, objects or nulls,
//       no empty strings, no statsigEnvironment (statsig_environment sets
//       the tier for everyone);
//   node vars-oracle.js vars DCS.json > VARS.json
//       the variables to read: one $statsig_gate_/$statsig_config_/
//       $statsig_experiment_ per normalised name (first in DCS order), one
//       statsig_gate per gate, one statsig_param per parameter of every
//       config and layer (every other one with a default);
//   node vars-oracle.js expect VARS.json ORACLE_OUT.jsonl > EXPECTED.jsonl
//       per user, {var: value} from statsig-node's evaluations.

const fs = require('fs');

const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l);
const norm = (s) => s.toLowerCase().replace(/[^a-z0-9_]/g, '_');

function stringUser(u) {
  const out = {};
  const str = (v) => {
    if (v === null || v === undefined || typeof v === 'object') return undefined;
    const s = String(v);
    return s === '' ? undefined : s;
  };
  for (const k of ['userID', 'email', 'ip', 'userAgent', 'country', 'locale', 'appVersion']) {
    const s = str(u[k]);
    if (s !== undefined) out[k] = s;
  }
  for (const k of ['custom', 'privateAttributes', 'customIDs']) {
    if (!u[k] || typeof u[k] !== 'object') continue;
    const o = {};
    for (const [n, v] of Object.entries(u[k])) {
      const s = str(v);
      if (s !== undefined) o[n] = s;
    }
    if (Object.keys(o).length) out[k] = o;
  }
  return out;
}

function params(spec, dcs) {
  const keys = new Set();
  const add = (v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.keys(v).forEach((k) => keys.add(k));
  };
  add(spec.defaultValue);
  (spec.rules || []).forEach((r) => add(r.returnValue));
  // a layer's parameters also come from its experiments
  for (const c of dcs.dynamic_configs || []) {
    if (c.layerID === spec.name || (dcs.layers && (dcs.layers[spec.name] || []).includes(c.name))) {
      add(c.defaultValue);
      (c.rules || []).forEach((r) => add(r.returnValue));
    }
  }
  return [...keys];
}

function vars(dcs) {
  const out = [];
  const seen = new Set();
  let n = 0;
  const prefix = (kind, name) => {
    const v = `statsig_${kind}_${norm(name)}`;
    if (seen.has(v)) return;
    seen.add(v);
    out.push({ var: v, kind, name, by_var: true });
  };
  for (const g of dcs.feature_gates || []) {
    prefix('gate', g.name);
    out.push({ var: `g${n++}`, kind: 'gate', name: g.name, exact: true });
  }
  for (const c of dcs.dynamic_configs || []) {
    prefix('config', c.name);
    if (c.entity === 'experiment') prefix('experiment', c.name);
  }
  const configNames = new Set((dcs.dynamic_configs || []).map((c) => c.name));
  const specs = (dcs.dynamic_configs || []).concat(
    (dcs.layer_configs || []).filter((l) => !configNames.has(l.name)));
  for (const s of specs) {
    params(s, dcs).forEach((p, i) => {
      const v = { var: `p${n++}`, kind: 'param', name: s.name, param: p, exact: true };
      if (i % 2) v.default = 'DEF';
      out.push(v);
    });
  }
  return out;
}

function expected(vs, oracle) {
  const users = [];
  for (const l of oracle) {
    const e = JSON.parse(l);
    const u = (users[e.user_index] = users[e.user_index] || { gate: new Map(), config: new Map(), layer: new Map() });
    const kind = e.kind === 'gate' || e.kind === 'layer' ? e.kind : 'config';
    if (!u[kind].has(e.name)) u[kind].set(e.name, e);
    const byVar = `${kind}:${norm(e.name)}`;
    if (!u[byVar]) u[byVar] = e;     // first in DCS order
  }
  return users.map((u) => {
    const out = {};
    for (const v of vs) {
      let e;
      switch (v.kind) {
        case 'gate':
          e = v.by_var ? u[`gate:${norm(v.name)}`] : u.gate.get(v.name);
          out[v.var] = e && e.value ? '1' : '0';
          break;
        case 'config':
          e = u[`config:${norm(v.name)}`];
          out[v.var] = JSON.stringify(e.value);
          break;
        case 'experiment':
          e = u[`config:${norm(v.name)}`];
          out[v.var] = e.group_name == null ? '' : e.group_name;
          break;
        case 'param': {
          e = u.config.get(v.name) || u.layer.get(v.name);
          const p = e && e.value && typeof e.value === 'object' ? e.value[v.param] : undefined;
          out[v.var] = p === undefined || p === null ? (v.default || '')
            : typeof p === 'string' ? p : JSON.stringify(p);
          break;
        }
      }
    }
    return out;
  });
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'users') {
  for (const l of lines(a)) process.stdout.write(JSON.stringify(stringUser(JSON.parse(l))) + '\n');
} else if (mode === 'vars') {
  process.stdout.write(JSON.stringify(vars(JSON.parse(fs.readFileSync(a, 'utf8')))) + '\n');
} else if (mode === 'expect') {
  const vs = JSON.parse(fs.readFileSync(a, 'utf8'));
  for (const u of expected(vs, lines(b))) process.stdout.write(JSON.stringify(u) + '\n');
} else {
  console.error('usage: vars-oracle.js users|vars|expect ...');
  process.exit(2);
}
