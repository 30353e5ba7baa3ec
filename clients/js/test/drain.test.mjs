// Node b drains (SIGTERM) under a live subscription: `reconnect` then close 1012; the client waits
// the frame's delay plus jitter, resumes on node a and sees every event exactly once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard } from '../dist/index.js';
import { alive, assertContiguous, nextEvent, nodes, publisher, token, until } from './harness.mjs';

const { a, b } = nodes();

test('1012 drain of the client\'s node: resume on another node, every event once and in order', async (t) => {
  const topic = 'chat:drain-' + Date.now();
  let target = b.url;
  const sb = new Switchboard(() => target, { getToken: async () => token('dora'), drainJitterMs: 200 });
  const pub = new Switchboard(a.url, { getToken: async () => token('pete') });
  t.after(() => {
    sb.close();
    pub.close();
  });
  assert.equal((await sb.connect()).node_id, 'b');
  await pub.connect();
  const offsets = [];
  const start = await new Promise((resolve, reject) => {
    sb.subscribe(topic, { onEvent: (e) => offsets.push(e.offset), onSubscribed: (i) => resolve(i.position.offset), onError: reject, onReset: (i) => assert.fail('unexpected reset ' + JSON.stringify(i)) });
  });
  const p = publisher(pub, topic);
  await until(() => offsets.length >= 20, '20 events on node b');
  target = a.url;
  const dropped = nextEvent(sb, 'disconnected', () => true, 15_000);
  const resumed = nextEvent(sb, 'connected', (i) => i.node_id === 'a', 15_000);
  process.kill(b.pid, 'SIGTERM');
  const d = await dropped;
  assert.equal(d.code, 1012);
  assert.equal(d.willReconnect, true);
  assert.ok(d.delayMs >= 0 && d.delayMs < 200 + 1, `the reconnect frame's delay (0) plus jitter < 200 ms, was ${d.delayMs}`);
  const info = await resumed;
  assert.equal(info.resumed, true);
  await until(() => offsets.length >= 60, '40 more events after the resume', 15_000);
  const last = await p.stop();
  await until(() => offsets.at(-1) === last, `the last published offset ${last}`);
  assertContiguous(assert, offsets, start + 1, last, 'topic events across the drain');
  await until(() => !alive(b.pid), 'node b to exit after its drain', 15_000);
});
