#!/usr/bin/env node
// Confirms the expectations of the evaluation unit tests against
// statsig-node: run a test binary with STATSIG_TEST_DUMP=DIR, then
//   node t/unit/check-oracle.js ORACLE_DIR DIR
// (ORACLE_DIR: build/oracle after "make oracle").  For every DIR/<label>
// it runs oracle.js on dcs.json + users.jsonl and compares each recorded
// check, formatted as the tests format results:
//   <value>|<rule_id>|<gate>:<value>:<rule>,...[|<undelegated>]
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const [oracleDir, dumpDir] = process.argv.slice(2);
if (!oracleDir || !dumpDir) {
  console.error('usage: check-oracle.js ORACLE_DIR DUMP_DIR');
  process.exit(2);
}

const expo = (l) => (l || []).map((e) => `${e.gate}:${e.gateValue}:${e.ruleID}`).join(',');
let bad = 0, total = 0;

for (const label of fs.readdirSync(dumpDir).sort()) {
  const dir = path.join(dumpDir, label);
  if (!fs.existsSync(path.join(dir, 'checks.jsonl'))) continue;
  const out = execFileSync('node', [path.join(oracleDir, 'oracle.js'),
    '--idlists', path.join(dir, 'idlists.json'),
    path.join(dir, 'dcs.json'), path.join(dir, 'users.jsonl')],
    { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 30 }).toString();
  const got = new Map();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    const kind = r.kind === 'gate' || r.kind === 'layer' ? r.kind : 'config';
    let s;
    if (r.error) {
      s = `error ${r.error}`;
    } else {
      s = (kind === 'gate' ? String(r.value) : JSON.stringify(r.value)) + '|' +
        r.rule_id + '|' + expo(r.secondary_exposures);
      if (kind === 'layer') s += '|' + expo(r.undelegated_secondary_exposures);
    }
    got.set(`${r.user_index}/${kind}/${r.name}`, s);
  }
  for (const line of fs.readFileSync(path.join(dir, 'checks.jsonl'), 'utf8').split('\n')) {
    if (!line) continue;
    const c = JSON.parse(line);
    const key = `${c.user_index}/${c.kind}/${c.name}`;
    total++;
    if (got.get(key) !== c.want) {
      bad++;
      console.log(`${label} ${key}: statsig-node '${got.get(key)}', test expects '${c.want}'`);
    }
  }
}
console.log(`${total - bad}/${total} expectations agree with statsig-node`);
process.exit(bad ? 1 : 0);
