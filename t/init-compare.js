#!/usr/bin/env node
'use strict';
// Full structural comparison of client initialize responses.
//
//   node t/init-compare.js EXPECTED.jsonl[.gz] ACTUAL.jsonl[.gz]... [--examples N]
//
// Lines are {"user_index", "hash", "response"} (oracle.js --init and
// statsig-eval --initialize).  Records are keyed by (user_index, hash) and
// the responses compared as JSON values with key order ignored; only
// response.time and response.sdkInfo.sessionId are left out.  Every
// expected record must have an actual one (and the reverse, for the hashes
// the actual files hold).  Prints one summary line,
// "compared N responses (H hashes); D differ; M missing; E extra",
// then the first differences by JSON path.  Exit status 1 on any difference.
const fs = require('fs');
const zlib = require('zlib');

function load(p, into) {
  let text = fs.readFileSync(p);
  if (p.endsWith('.gz')) text = zlib.gunzipSync(text);
  for (const l of text.toString('utf8').split('\n')) {
    if (!l.trim()) continue;
    const r = JSON.parse(l);
    into.set(`${r.user_index}\u0000${r.hash}`, r);
  }
}

function strip(resp) {
  if (resp == null || typeof resp !== 'object') return resp;
  const c = { ...resp };
  delete c.time;
  if (c.sdkInfo && typeof c.sdkInfo === 'object') {
    c.sdkInfo = { ...c.sdkInfo };
    delete c.sdkInfo.sessionId;
  }
  return c;
}

// first differing paths between two JSON values (objects: any key order)
function diff(x, y, path, out) {
  if (out.length >= 20) return;
  const tx = Array.isArray(x) ? 'array' : x === null ? 'null' : typeof x;
  const ty = Array.isArray(y) ? 'array' : y === null ? 'null' : typeof y;
  if (tx !== ty) {
    out.push({ path, expected: x, actual: y });
    return;
  }
  if (tx === 'array') {
    if (x.length !== y.length) out.push({ path: path + '.length', expected: x.length, actual: y.length });
    for (let i = 0; i < Math.min(x.length, y.length); i++) diff(x[i], y[i], `${path}[${i}]`, out);
    return;
  }
  if (tx === 'object') {
    for (const k of Object.keys(x)) {
      if (!(k in y)) out.push({ path: `${path}.${k}`, expected: x[k], actual: '(absent)' });
      else diff(x[k], y[k], `${path}.${k}`, out);
    }
    for (const k of Object.keys(y)) if (!(k in x)) out.push({ path: `${path}.${k}`, expected: '(absent)', actual: y[k] });
    return;
  }
  if (x !== y) out.push({ path, expected: x, actual: y });
}

function main() {
  const args = process.argv.slice(2);
  let examples = 5;
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--examples') examples = Number(args[++i]);
    else files.push(args[i]);
  }
  if (files.length < 2) {
    console.error('usage: node t/init-compare.js EXPECTED ACTUAL... [--examples N]');
    process.exit(2);
  }
  const A = new Map();
  const B = new Map();
  load(files[0], A);
  for (const f of files.slice(1)) load(f, B);
  const hashes = new Set([...B.values()].map((r) => r.hash));

  let compared = 0;
  let differ = 0;
  let missing = 0;
  let extra = 0;
  const shown = [];
  const byPath = new Map();
  for (const [k, x] of A) {
    if (!hashes.has(x.hash)) continue;
    const y = B.get(k);
    if (!y) {
      missing++;
      continue;
    }
    compared++;
    const d = [];
    diff(strip(x.response), strip(y.response), 'response', d);
    if (d.length) {
      differ++;
      for (const e of d) {
        const p = e.path.replace(/\[\d+\]/g, '[]').replace(/^(response\.\w+)\.[^.]+/, '$1.*');
        byPath.set(p, (byPath.get(p) || 0) + 1);
      }
      if (shown.length < examples) shown.push({ user_index: x.user_index, hash: x.hash, diffs: d.slice(0, 5) });
    }
  }
  for (const [k, y] of B) if (!A.has(k)) extra++;

  console.log(`compared ${compared} responses (${[...hashes].sort().join(',')}); ${differ} differ; ${missing} missing; ${extra} extra`);
  for (const [p, n] of [...byPath].sort((a, b) => b[1] - a[1])) console.log(`  ${p}: ${n}`);
  for (const s of shown) console.log(JSON.stringify(s));
  process.exit(differ || missing || extra ? 1 : 0);
}
main();
