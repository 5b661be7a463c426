// The OpenFeature server SDK (@openfeature/server-sdk) with the OFREP
// provider (@openfeature/ofrep-provider) against statsig_ofrep: sets the
// provider, then evaluates the steps of STEPS (JSON lines) and prints one
// JSON line per step, in order:
//
//   {"type":"boolean"|"object"|"string"|"number","key":K,"default":D,
//    "context":C}
//     -> {"i":I,"value":V,"reason":R,"variant":X,"errorCode":E,
//         "errorMessage":M,"flagMetadata":{...}}
//
// (the SDK's evaluation details: on an error, the default value with
// reason ERROR and the error's code).  Steps run 16 at a time.
//
//   NODE_PATH=build/clients/node_modules \
//       node t/ofrep-client.js BASE_URL KEY bearer|header STEPS
'use strict';

const fs = require('fs');
const { OpenFeature } = require('@openfeature/server-sdk');
const { OFREPProvider } = require('@openfeature/ofrep-provider');

const METHODS = {
    boolean: 'getBooleanDetails',
    object: 'getObjectDetails',
    string: 'getStringDetails',
    number: 'getNumberDetails',
};

async function main() {
    const [baseUrl, key, mode, stepsFile] = process.argv.slice(2);
    const steps = fs.readFileSync(stepsFile, 'utf8').split('\n')
        .filter((l) => l.trim()).map((l) => JSON.parse(l));

    const headers = mode === 'bearer'
        ? { Authorization: `Bearer ${key}` } : { 'statsig-api-key': key };

    await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl,
                                                             headers }));
    const client = OpenFeature.getClient();

    const out = new Array(steps.length);
    let next = 0;

    async function worker() {
        while (next < steps.length) {
            const i = next++;
            const s = steps[i];
            try {
                const d = await client[METHODS[s.type]](s.key, s.default,
                                                        s.context);
                out[i] = { i, value: d.value, reason: d.reason,
                           variant: d.variant === undefined ? null : d.variant,
                           errorCode: d.errorCode || null,
                           errorMessage: d.errorMessage || null,
                           flagMetadata: d.flagMetadata };
            } catch (e) {
                out[i] = { i, thrown: String(e && e.message || e) };
            }
        }
    }

    await Promise.all(Array.from({ length: 16 }, worker));

    for (const o of out) {
        console.log(JSON.stringify(o));
    }

    await OpenFeature.close();
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
