// A Node client of a local Switchboard node: subscribes to a topic, publishes to it, runs
// demo.primes with progress and cancels it half way.
//
//   export SB_JWT_SECRET="$(head -c 32 /dev/urandom | base64)"
//   java -jar target/switchboard.jar &                      # from the repository root
//   TOKEN=$(java -jar target/switchboard.jar token --sub alice --claim subs=chat:* --claim pubs=chat:*)
//   (cd clients/js && npm ci && npm run build && TOKEN=$TOKEN node examples/node-demo.mjs)
import { Switchboard, SwitchboardError } from '../dist/index.js';

const url = process.env.SB_URL ?? 'ws://localhost:8080/ws';
const sb = new Switchboard(url, { getToken: async () => process.env.TOKEN, deviceId: 'node-demo' });
sb.on('state', (s) => console.log('[state]', s));
sb.on('error', (e) => console.log('[error]', e.code, e.message));

const info = await sb.connect();
console.log(`connected to ${info.node_id} as ${info.user_id} (session ${info.session_id})`);

// events come from the subscription's position on: publish once it is live
let sub;
await new Promise((resolve, reject) => {
  sub = sb.subscribe('chat:lobby', {
    onSubscribed: resolve,
    onError: reject,
    onEvent: (e) => console.log(`[chat:lobby #${e.offset}]`, e.data),
    onReset: (r) => console.log('[reset]', r),
  });
});
await sb.publish('chat:lobby', { text: 'hello from node-demo' });

const ac = new AbortController();
const op = sb.start('demo.primes', { limit: 50_000_000, batch: 1000 }, { signal: ac.signal });
let found = 0;
for await (const frame of op) {
  if (frame.type === 'stream') found += frame.data.length;
  if (frame.type === 'progress' && frame.progress.total) {
    const pct = Math.round((100 * (frame.progress.done ?? 0)) / frame.progress.total);
    console.log(`[${op.opId}] ${frame.stage} ${pct}% (${found} primes so far)`);
    if (pct >= 50) ac.abort(); // cancels the operation
  }
}
try {
  console.log('result', await op.result);
} catch (e) {
  if (e instanceof SwitchboardError) console.log(`ended with ${e.code} (retryable: ${e.retryable})`);
  else throw e;
}
sub.unsubscribe();
sb.close();
