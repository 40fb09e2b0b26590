// Drives the unmodified npm OFREP provider (@openfeature/ofrep-provider) with the OpenFeature
// server SDK for tests/integration/test_ofrep_node.py. Reads one JSON request per stdin line:
//   {"token": "...", "key": "llm.model_tier", "type": "string|boolean|number", "default": ...}
// and prints one JSON line with the evaluation details (value, reason, errorCode, flagMetadata).
// Run with NODE_PATH pointing at the node_modules that tests/run installs (.cache/npm).
'use strict';
const readline = require('node:readline');
const { OpenFeature } = require('@openfeature/server-sdk');
const { OFREPProvider } = require('@openfeature/ofrep-provider');

const baseUrl = process.argv[2];
const clients = new Map();
let lastError = null;
// The SDK turns a provider's exception into errorCode GENERAL; an error hook (public SDK API)
// shows which exception it was (OFREPApiUnauthorizedError for a refused token).
OpenFeature.addHooks({ error: (_context, error) => { lastError = error?.name ?? String(error); } });

function clientFor(token) {
  if (!clients.has(token)) {
    const domain = `token-${clients.size}`;
    OpenFeature.setProvider(
      domain,
      new OFREPProvider({ baseUrl, headers: [['Authorization', `Bearer ${token}`]] }),
    );
    clients.set(token, OpenFeature.getClient(domain));
  }
  return clients.get(token);
}

const methods = { string: 'getStringDetails', boolean: 'getBooleanDetails', number: 'getNumberDetails' };

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const request = JSON.parse(line);
  lastError = null;
  try {
    const details = await clientFor(request.token)[methods[request.type]](request.key, request.default);
    process.stdout.write(
      JSON.stringify({
        value: details.value,
        reason: details.reason,
        errorCode: details.errorCode ?? null,
        errorMessage: details.errorMessage ?? null,
        flagMetadata: details.flagMetadata,
        errorName: lastError,
      }) + '\n',
    );
  } catch (error) {
    // An OpenFeature client never throws from an evaluation: reaching here is a test failure.
    process.stdout.write(JSON.stringify({ thrown: String(error) }) + '\n');
  }
});
