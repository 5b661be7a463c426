#!/usr/bin/env node
// statsig-eval lines -> the oracle's keying: the oracle names a config's
// kind by its entity (dynamic_config, experiment, autotune), statsig-eval
// (interface.md) says "config" and gives the entity separately.
'use strict';
const rl = require('readline').createInterface({ input: process.stdin });
rl.on('line', (l) => {
  if (!l.trim()) return;
  const r = JSON.parse(l);
  if (r.kind === 'config' && r.entity) r.kind = r.entity;
  process.stdout.write(JSON.stringify(r) + '\n');
});
