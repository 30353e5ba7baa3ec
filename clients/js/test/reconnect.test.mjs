// Reconnects on node a: the node closing the socket (1009), a dead connection the client detects
// itself (and drops with a TCP reset, never a clean close), and 4009 (replaced: no reconnect).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard } from '../dist/index.js';
import { assertContiguous, nextEvent, nodes, publisher, token, until } from './harness.mjs';
import { blackholeProxy } from './proxy.mjs';

const { a } = nodes();
const uniq = () => Math.random().toString(36).slice(2, 10);

test('the node closes the socket (1009): the client reconnects, resumes, and misses nothing', async (t) => {
  const topic = 'chat:close-' + uniq();
  const sb = new Switchboard(a.url, { getToken: async () => token('uma-' + uniq()), backoff: { minMs: 50, maxMs: 500 } });
  const pub = new Switchboard(a.url, { getToken: async () => token('vic-' + uniq()) });
  t.after(() => {
    sb.close();
    pub.close();
  });
  const first = await sb.connect();
  await pub.connect();
  const offsets = [];
  const start = await new Promise((resolve) => sb.subscribe(topic, { onEvent: (e) => offsets.push(e.offset), onSubscribed: (i) => resolve(i.position.offset) }));
  const p = publisher(pub, topic);
  await until(() => offsets.length >= 15, '15 events');
  const dropped = nextEvent(sb, 'disconnected');
  const resumed = nextEvent(sb, 'connected');
  // a frame over limits.max_frame_bytes: the node closes with 1009; the call fails with the connection
  await assert.rejects(sb.call('system.ping', { pad: 'x'.repeat(300_000) }), (e) => e.code === 'DISCONNECTED' && e.retryable === true);
  const d = await dropped;
  assert.equal(d.code, 1009);
  assert.equal(d.willReconnect, true);
  const info = await resumed;
  assert.equal(info.resumed, true);
  assert.equal(info.session_id, first.session_id);
  assert.equal(info.device_id, first.device_id, 'the device id of the first connection is kept');
  await until(() => offsets.length >= 40, '25 more events after the resume');
  const last = await p.stop();
  await until(() => offsets.at(-1) === last, `the last offset ${last}`);
  assertContiguous(assert, offsets, start + 1, last, 'events across the 1009 close');
  assert.equal(sb.state, 'connected');
});

test('a dead connection (nothing from the node for heartbeat + grace) is reset, never closed cleanly, and the resume misses nothing', async (t) => {
  const proxy = await blackholeProxy(a.port);
  const topic = 'chat:dead-' + uniq();
  let target = `ws://127.0.0.1:${proxy.port}/ws`;
  const sb = new Switchboard(() => target, { getToken: async () => token('wes-' + uniq()), heartbeatGraceMs: 1000, backoff: { minMs: 50, maxMs: 500 } });
  const pub = new Switchboard(a.url, { getToken: async () => token('xia-' + uniq()) });
  t.after(() => {
    sb.close();
    pub.close();
    proxy.server.close();
  });
  const first = await sb.connect();
  assert.equal(first.heartbeat_ms, 2000);
  await pub.connect();
  const offsets = [];
  const start = await new Promise((resolve) => sb.subscribe(topic, { onEvent: (e) => offsets.push(e.offset), onSubscribed: (i) => resolve(i.position.offset) }));
  const p = publisher(pub, topic, 10);
  await until(() => offsets.length >= 10, '10 events through the proxy');
  // the node's frames stop reaching the client: events published now are written but never read
  const conn = proxy.conns[0];
  conn.swallow = true;
  const swallowedFrom = offsets.at(-1);
  target = a.url;
  const dropped = nextEvent(sb, 'disconnected', () => true, 10_000);
  const resumed = nextEvent(sb, 'connected', () => true, 15_000);
  const d = await dropped;
  assert.equal(d.code, 1006);
  assert.match(d.reason, /no frame or ping/);
  await until(() => conn.end !== undefined, 'the proxy to see how the client left');
  assert.equal(conn.end, 'ECONNRESET', 'the client resets the TCP connection');
  assert.ok(!conn.opcodes.includes(0x8), `no close frame from the client (opcodes ${conn.opcodes})`);
  const info = await resumed;
  assert.equal(info.resumed, true);
  await until(() => offsets.length >= 40, 'events after the resume', 15_000);
  const last = await p.stop();
  await until(() => offsets.at(-1) === last, `the last offset ${last}`);
  assert.ok(last > swallowedFrom + 5, 'events were published while the connection was dead');
  assertContiguous(assert, offsets, start + 1, last, 'events across the dead connection');
});

test('4009: a newer connection of the same device replaces this one, and the SDK does not reconnect', async (t) => {
  const user = 'yan-' + uniq();
  const older = new Switchboard(a.url, { getToken: async () => token(user), deviceId: 'phone-1' });
  const newer = new Switchboard(a.url, { getToken: async () => token(user), deviceId: 'phone-1' });
  t.after(() => {
    older.close();
    newer.close();
  });
  await older.connect();
  const states = [];
  older.on('state', (s) => states.push(s));
  const errored = nextEvent(older, 'error');
  const dropped = nextEvent(older, 'disconnected');
  await newer.connect();
  const d = await dropped;
  assert.equal(d.code, 4009);
  assert.equal(d.willReconnect, false);
  assert.equal((await errored).code, 'REPLACED');
  assert.equal(older.state, 'disconnected');
  // the newer one keeps working, and the older one stays down
  await newer.call('system.ping');
  await newer.call('system.ping');
  assert.deepEqual(states, ['disconnected']);
  assert.equal(newer.state, 'connected');
});

test('429 at the upgrade (the per-user connection cap): the SDK waits Retry-After, then connects once there is room', async (t) => {
  const user = 'quinn-' + uniq();
  const four = [1, 2, 3, 4].map((i) => new Switchboard(a.url, { getToken: async () => token(user), deviceId: 'd' + i }));
  const fifth = new Switchboard(a.url, { getToken: async () => token(user), deviceId: 'd5', backoff: { minMs: 10, maxMs: 20 } });
  t.after(() => {
    for (const sb of four) sb.close();
    fifth.close();
  });
  await Promise.all(four.map((sb) => sb.connect()));
  const refused = nextEvent(fifth, 'disconnected');
  const connected = fifth.connect();
  const d = await refused;
  assert.equal(d.reason, '429');
  assert.equal(d.willReconnect, true);
  assert.ok(d.delayMs >= 1000, `Retry-After (1 s) is honoured, not the 10 ms backoff: ${d.delayMs} ms`);
  four[0].close();
  const info = await connected;
  assert.equal(info.device_id, 'd5');
});
