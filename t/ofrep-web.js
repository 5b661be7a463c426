// Headless Chromium opens URL (a test page served by nginx: t/ofrep-web.html,
// where the OpenFeature web SDK and the OFREP web provider run, or
// t/js-client-web.html, Statsig's browser SDK) and this prints the page's
// window.__result as one JSON line once the page sets it.
//
// Chromium is driven through the DevTools protocol on
// --remote-debugging-pipe (fds 3 and 4, NUL-terminated JSON), so nothing
// but Node itself is needed.  Bounded: TIMEOUT_MS (default 60 s), then
// {"error":"timeout",...}.  When Chromium cannot start at all the line is
// {"skip":"why"}.
//
//   node t/ofrep-web.js URL [TIMEOUT_MS]
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function chromium() {
    for (const c of [process.env.CHROMIUM, 'chromium', 'chromium-browser',
                     'google-chrome']) {
        if (!c) {
            continue;
        }
        try {
            return execFileSync('sh', ['-c', `command -v ${c}`])
                .toString().trim();
        } catch (e) {
            /* next */
        }
    }
    return null;
}

async function main() {
    const [url, timeoutArg] = process.argv.slice(2);
    const timeout = Number(timeoutArg) || 60000;
    const bin = chromium();

    if (!bin) {
        console.log(JSON.stringify({ skip: 'no chromium in PATH' }));
        return;
    }

    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ofrep-chromium-'));
    const child = spawn(bin, [
        '--headless', '--no-sandbox', '--disable-gpu',
        '--disable-dev-shm-usage', '--no-first-run',
        '--no-default-browser-check', '--disable-extensions',
        '--disable-background-networking', '--disable-sync',
        `--user-data-dir=${profile}`, '--remote-debugging-pipe',
        'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });

    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });

    const pending = new Map();
    const logs = [];
    let nextId = 1;
    let buf = '';
    let exited = false;

    child.on('exit', () => { exited = true; });

    child.stdio[4].on('data', (d) => {
        buf += d.toString();
        let z;
        while ((z = buf.indexOf('\0')) >= 0) {
            const msg = JSON.parse(buf.slice(0, z));
            buf = buf.slice(z + 1);
            if (msg.id && pending.has(msg.id)) {
                pending.get(msg.id)(msg);
                pending.delete(msg.id);
            } else if (msg.method === 'Runtime.exceptionThrown') {
                logs.push(msg.params.exceptionDetails.exception
                          ? msg.params.exceptionDetails.exception.description
                          : msg.params.exceptionDetails.text);
            } else if (msg.method === 'Runtime.consoleAPICalled') {
                logs.push(msg.params.args.map((a) => a.value !== undefined
                    ? a.value : a.description).join(' '));
            }
        }
    });

    function send(method, params, sessionId) {
        const id = nextId++;
        return new Promise((resolve) => {
            pending.set(id, resolve);
            child.stdio[3].write(JSON.stringify({ id, method, params,
                ...(sessionId ? { sessionId } : {}) }) + '\0');
        });
    }

    const deadline = Date.now() + timeout;
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    let result = null;

    try {
        const started = await Promise.race([
            send('Browser.getVersion', {}),
            sleep(20000).then(() => null),
        ]);
        if (!started || started.error || exited) {
            result = { skip: 'chromium did not start: '
                             + stderr.split('\n').slice(-5).join(' ') };
            return;
        }

        const t = await send('Target.createTarget', { url: 'about:blank' });
        const a = await send('Target.attachToTarget',
                             { targetId: t.result.targetId, flatten: true });
        const sid = a.result.sessionId;
        await send('Runtime.enable', {}, sid);
        await send('Page.navigate', { url }, sid);

        while (Date.now() < deadline) {
            const r = await send('Runtime.evaluate', {
                expression: 'JSON.stringify(window.__result || null)',
                returnByValue: true }, sid);
            const v = r.result && r.result.result && r.result.result.value;
            if (v && v !== 'null') {
                result = JSON.parse(v);
                break;
            }
            await sleep(200);
        }

        if (!result) {
            result = { error: 'timeout' };
        }
        result.browser = started.result.product;
        result.console = logs;
    } finally {
        console.log(JSON.stringify(result));
        child.kill('SIGKILL');
        if (!exited) {
            await new Promise((r) => child.on('exit', r));
        }
        try {
            fs.rmSync(profile, { recursive: true, force: true });
        } catch (e) {
            /* a profile left in the temp dir is harmless */
        }
    }
}

main().catch((e) => {
    console.log(JSON.stringify({ error: String(e && e.stack || e) }));
    process.exit(1);
});
