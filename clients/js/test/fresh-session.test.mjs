// A session the node no longer has (`resumed:false`): the SDK itself re-subscribes with `since` and
// re-attaches its operations after their last seq. The session is ended from outside the SDK: the
// test closes the SDK's socket with 1000 (which ends a session) through a WebSocket class it passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket as WsImpl } from 'ws';
import { Switchboard } from '../dist/index.js';
import { assertContiguous, nextEvent, nodes, publisher, token, until } from './harness.mjs';

const { a } = nodes();

test('resumed:false: subscriptions come back with since (every event once, in order) and operations re-attach (one terminal, no repeated seq)', async (t) => {
  const sockets = [];
  class TrackedWs extends WsImpl {
    constructor(url, protocols) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  const user = 'fay-' + Date.now();
  const topic = 'chat:' + user;
  // the reconnect waits ~495 ms, so the end of the session (written when the node reads the
  // close frame) has landed when the next connection asks for the session
  const sb = new Switchboard(a.url, { getToken: async () => token(user), WebSocket: TrackedWs, random: () => 0.99, backoff: { minMs: 500, maxMs: 500 } });
  const pub = new Switchboard(a.url, { getToken: async () => token('gil-' + Date.now()) });
  t.after(() => {
    sb.close();
    pub.close();
  });
  const c1 = await sb.connect();
  await pub.connect();
  const offsets = [];
  const resets = [];
  const start = await new Promise((resolve) => sb.subscribe(topic, { onEvent: (e) => offsets.push(e.offset), onReset: (i) => resets.push(i), onSubscribed: (i) => resolve(i.position.offset) }));
  const op = sb.start('demo.count', { to: 60, interval_ms: 30 });
  const frames = [];
  const iterating = (async () => {
    for await (const f of op) frames.push(f);
  })();
  const p = publisher(pub, topic, 10);
  await until(() => offsets.length >= 15 && frames.filter((f) => f.type === 'stream').length >= 5, '15 events and 5 stream frames');

  const dropped = nextEvent(sb, 'disconnected');
  const reconnected = nextEvent(sb, 'connected');
  sockets.at(-1).close(1000); // not the SDK's close(): the SDK sees the node's answer, 1000
  const d = await dropped;
  assert.equal(d.code, 1000);
  assert.equal(d.willReconnect, true);
  const c2 = await reconnected;
  assert.equal(c2.resumed, false, 'the ended session is not resumed');
  assert.notEqual(c2.session_id, c1.session_id);

  await until(() => offsets.length >= 50, 'events after the fresh session', 15_000);
  const last = await p.stop();
  await until(() => offsets.at(-1) === last, `the last offset ${last}`);
  assertContiguous(assert, offsets, start + 1, last, 'events across a fresh session');
  assert.deepEqual(resets, []);

  assert.deepEqual(await op.result, { count: 60 });
  await iterating;
  for (let i = 1; i < frames.length; i++) assert.ok(frames[i].seq > frames[i - 1].seq, `seq ${frames[i].seq} after ${frames[i - 1].seq}`);
  const data = frames.filter((f) => f.type === 'stream').flatMap((f) => f.data);
  assert.deepEqual(data, Array.from({ length: 60 }, (_, i) => i + 1));
  assert.equal(sb.state, 'connected');
});
