#!/usr/bin/env node
// What statsig-node 6.5.2 reports for ua_based conditions, one JSON line
// per input line: [os_name, os_version, browser_name, browser_version],
// null where statsig-node has no value.  Uses statsig-node's own
// parseUserAgent when an installed oracle is found (STATSIG_ORACLE_DIR,
// build/oracle from "make oracle", ../shared/oracle), else ua-parser-js
// 1.0.41 from build/npm (make data-deps) plus the two
// renames statsig-node applies (dist/utils/parseUserAgent.js).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');

function loadParser() {
    const dirs = [process.env.STATSIG_ORACLE_DIR,
                  path.join(root, 'build/oracle'),
                  path.join(root, '../shared/oracle')].filter(Boolean);
    for (const d of dirs) {
        const p = path.join(d, 'node_modules/statsig-node/dist/utils/' +
                            'parseUserAgent.js');
        if (fs.existsSync(p)) {
            return { name: 'statsig-node ' + p, parse: require(p).default };
        }
    }
    const uap = require(path.join(root, 'build/npm/node_modules/ua-parser-js'));
    return {
        name: 'ua-parser-js from build/npm + statsig-node renames',
        parse(ua) {
            const res = uap(ua);
            if (res.os.name === 'Mac OS') {
                res.os.name = 'Mac OS X';
            }
            if ((res.browser.name === 'Chrome' ||
                 res.browser.name === 'Firefox') &&
                (res.device.type === 'mobile' ||
                 res.device.type === 'tablet')) {
                res.browser.name += ' Mobile';
            }
            return res;
        },
    };
}

const parser = loadParser();
if (process.argv[2] === '--which') {
    console.log(parser.name);
    process.exit(0);
}

// getFromUserAgent: strings longer than 1000 UTF-16 units give no value.
function fields(ua) {
    if (ua.length > 1000) {
        return [null, null, null, null];
    }
    const r = parser.parse(ua);
    const v = (x) => (x === undefined || x === null ? null : x);
    return [v(r.os.name), v(r.os.version), v(r.browser.name),
            v(r.browser.version)];
}

const input = fs.readFileSync(process.argv[2] || 0, 'utf8');
const lines = input.split('\n');
if (lines[lines.length - 1] === '') {
    lines.pop();
}
const out = lines.map((ua) => JSON.stringify(fields(ua)));
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
