// The official MCP TypeScript SDK's client (@modelcontextprotocol/sdk,
// Streamable HTTP transport) against statsig_mcp: connects (initialize,
// notifications/initialized, the GET the SDK tries for an SSE stream),
// then runs the steps of STEPS (JSON lines) and prints one JSON line per
// step, in order:
//
//   {"op":"call","name":N,"arguments":A}  -> {"i":I,"result":R} or
//                                             {"i":I,"error":{...}}
//   {"op":"list"}                         -> {"i":I,"tools":[...]}
//   {"op":"ping"}                         -> {"i":I,"result":{}}
//   {"op":"raw","message":M}              -> the transport sends M as is
//   {"op":"terminate"}                    -> DELETE of the session
//
// The first line is {"op":"connect",...} (or its error).  Consecutive
// calls run 8 at a time.  Errors carry the SDK's code (a JSON-RPC code,
// or the HTTP status of a StreamableHTTPError).
//
//   NODE_PATH=build/clients/node_modules \
//       node t/mcp-client.js URL KEY bearer|header STEPS
'use strict';

const events = require('events');
const fs = require('fs');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } =
    require('@modelcontextprotocol/sdk/client/streamableHttp.js');

function err(e) {
    return { message: String(e && e.message || e),
             code: e && e.code !== undefined ? e.code : null,
             name: e && e.constructor ? e.constructor.name : null };
}

async function main() {
    const [url, key, mode, stepsFile] = process.argv.slice(2);
    // the transport's AbortSignal gets a listener per request
    events.setMaxListeners(0);
    const steps = fs.readFileSync(stepsFile, 'utf8').split('\n')
        .filter((l) => l.trim()).map((l) => JSON.parse(l));

    const headers = mode === 'bearer'
        ? { Authorization: `Bearer ${key}` } : { 'statsig-api-key': key };
    const transport = new StreamableHTTPClientTransport(new URL(url),
        { requestInit: { headers } });
    const client = new Client({ name: 'statsig-module-test', version: '1.0.0' });

    try {
        await client.connect(transport);
    } catch (e) {
        console.log(JSON.stringify({ op: 'connect', error: err(e) }));
        return;
    }

    console.log(JSON.stringify({
        op: 'connect',
        server: client.getServerVersion(),
        capabilities: client.getServerCapabilities(),
        instructions: client.getInstructions(),
        protocol: transport.protocolVersion,
        session: transport.sessionId,
    }));

    const run = async (s, i) => {
        try {
            switch (s.op) {
            case 'call':
                return { i, result: await client.callTool(
                    { name: s.name, arguments: s.arguments }) };
            case 'list':
                return { i, tools: (await client.listTools()).tools };
            case 'ping':
                return { i, result: await client.ping() };
            case 'raw':
                await transport.send(s.message);
                return { i, sent: true };
            case 'terminate':
                await transport.terminateSession();
                return { i, terminated: true, session: transport.sessionId };
            default:
                return { i, error: { message: `unknown op ${s.op}` } };
            }
        } catch (e) {
            return { i, error: err(e) };
        }
    };

    for (let i = 0; i < steps.length; ) {
        const window = [];
        do {
            window.push(run(steps[i], i));
            i++;
        } while (i < steps.length && steps[i].op === 'call'
                 && steps[i - 1].op === 'call' && window.length < 8);
        for (const r of await Promise.all(window)) {
            console.log(JSON.stringify(r));
        }
    }

    await client.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
