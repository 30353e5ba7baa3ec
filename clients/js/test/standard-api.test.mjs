// The standard WebSocket API (browsers, Node's global WebSocket: run.mjs enables it on Node 20),
// which shows no pings, no upgrade status, and cannot drop a connection without a close frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard } from '../dist/index.js';
import { assertContiguous, nextEvent, nodes, publisher, token, until } from './harness.mjs';
import { blackholeProxy } from './proxy.mjs';

const { a } = nodes();
const uniq = () => Math.random().toString(36).slice(2, 10);
const StandardWs = globalThis.WebSocket;

test('standard API: connect, call, subscribe, an operation, and a reconnect after the node closes (1009)', { skip: !StandardWs && 'no global WebSocket' }, async (t) => {
  const topic = 'chat:std-' + uniq();
  const sb = new Switchboard(a.url, { getToken: async () => token('std-' + uniq()), WebSocket: StandardWs, backoff: { minMs: 50, maxMs: 200 } });
  t.after(() => sb.close());
  const c1 = await sb.connect();
  assert.equal((await sb.call('system.info')).node_id, 'a');
  const offsets = [];
  const start = await new Promise((resolve) => sb.subscribe(topic, { onEvent: (e) => offsets.push(e.offset), onSubscribed: (i) => resolve(i.position.offset) }));
  const data = [];
  for await (const f of sb.start('demo.count', { to: 5, interval_ms: 0 })) if (f.type === 'stream') data.push(...f.data);
  assert.deepEqual(data, [1, 2, 3, 4, 5]);
  await sb.publish(topic, 1);
  await until(() => offsets.length === 1, 'the first event');
  const resumed = nextEvent(sb, 'connected');
  await assert.rejects(sb.call('system.ping', { pad: 'x'.repeat(300_000) }), (e) => e.code === 'DISCONNECTED');
  const c2 = await resumed;
  assert.equal(c2.resumed, true);
  assert.equal(c2.session_id, c1.session_id);
  await sb.publish(topic, 2);
  await until(() => offsets.length === 2, 'the event after the resume');
  assert.deepEqual(offsets, [start + 1, start + 2]);
});

test('standard API: a dead connection is abandoned without a close frame and the resume misses nothing', { skip: !StandardWs && 'no global WebSocket' }, async (t) => {
  const proxy = await blackholeProxy(a.port);
  const topic = 'chat:std-dead-' + uniq();
  let target = `ws://127.0.0.1:${proxy.port}/ws`;
  const sb = new Switchboard(() => target, { getToken: async () => token('std-' + uniq()), WebSocket: StandardWs, heartbeatGraceMs: 1000, backoff: { minMs: 50, maxMs: 500 } });
  const pub = new Switchboard(a.url, { getToken: async () => token('stdp-' + uniq()) });
  t.after(() => {
    sb.close();
    pub.close();
    proxy.server.close();
  });
  await sb.connect();
  await pub.connect();
  const offsets = [];
  const start = await new Promise((resolve) => sb.subscribe(topic, { onEvent: (e) => offsets.push(e.offset), onSubscribed: (i) => resolve(i.position.offset) }));
  const p = publisher(pub, topic, 10);
  await until(() => offsets.length >= 10, '10 events through the proxy');
  const conn = proxy.conns[0];
  conn.swallow = true;
  target = a.url;
  const dropped = nextEvent(sb, 'disconnected', () => true, 10_000);
  const resumed = nextEvent(sb, 'connected', () => true, 15_000);
  const d = await dropped;
  assert.match(d.reason, /no frame or ping/);
  const info = await resumed;
  assert.equal(info.resumed, true);
  await until(() => offsets.length >= 40, 'events after the resume', 15_000);
  const last = await p.stop();
  await until(() => offsets.at(-1) === last, `the last offset ${last}`);
  assertContiguous(assert, offsets, start + 1, last, 'events across the abandoned connection');
  assert.ok(!conn.opcodes.includes(0x8), `no close frame from the client (opcodes ${conn.opcodes})`);
});
