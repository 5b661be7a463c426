// customerio-node's TrackClient pointed at the module's relay: the edge as
// its URL, the edge's API key as its API key (sent as HTTP Basic, which
// statsig_api takes).  Prints one JSON line per call: {"ok":...,"error":...}.
//
//   node t/cio-client.js URL KEY
'use strict';

const { TrackClient } = require('customerio-node');

async function main() {
    const [url, key] = process.argv.slice(2);
    const cio = new TrackClient('edge-site', key, { url });
    const calls = [
        () => cio.track('client/ann', { name: 'client_purchase',
                                        data: { sku: 'N1', price: 9.5 } }),
        () => cio.trackAnonymous('anon-client', { name: 'client_visit',
                                                  data: { page: '/' } }),
        () => cio.trackPageView('client/ann', '/pricing'),
        () => cio.track('client/ann', { name: '' }),
    ];
    for (const call of calls) {
        try {
            const r = await call();
            console.log(JSON.stringify({ ok: r }));
        } catch (e) {
            console.log(JSON.stringify({
                error: e.message, status: e.statusCode ?? null,
            }));
        }
    }
}

main().catch((e) => { console.error(e); process.exit(1); });
