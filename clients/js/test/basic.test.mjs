// Connect, call, subscribe and operations against one real node (a), through the public API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard, SwitchboardError } from '../dist/index.js';
import { nodes, token, until } from './harness.mjs';

const { a } = nodes();
const uniq = () => Math.random().toString(36).slice(2, 10);

function client(user, opts = {}) {
  return new Switchboard(a.url, { getToken: async () => token(user), ...opts });
}

test('connect goes connecting → connected and call answers', async (t) => {
  const sb = client('alice-' + uniq());
  t.after(() => sb.close());
  const states = [];
  sb.on('state', (s) => states.push(s));
  const info = await sb.connect();
  assert.equal(info.resumed, false);
  assert.match(info.session_id, /^s_/);
  assert.deepEqual(states, ['connecting', 'connected']);
  const sys = await sb.call('system.info');
  assert.equal(sys.protocol_version, 1);
  assert.equal(sys.node_id, 'a');
  sb.close();
  assert.equal(sb.state, 'closed');
  assert.deepEqual(states, ['connecting', 'connected', 'closed']);
  await assert.rejects(sb.call('system.ping'), (e) => e instanceof SwitchboardError && e.code === 'CLOSED');
});

test('error frames become typed errors with code, retryable and details', async (t) => {
  const sb = client('bob-' + uniq());
  t.after(() => sb.close());
  await sb.connect();
  await assert.rejects(sb.call('no.such.method'), (e) => e instanceof SwitchboardError && e.code === 'UNKNOWN_METHOD' && e.retryable === false);
  await assert.rejects(sb.call('topic.publish', { topic: 'x:y', data: 1, nope: true }), (e) => e.code === 'INVALID_PARAMS' && e.details?.field === 'nope');
  await assert.rejects(sb.start('demo.count', { to: 0 }).result, (e) => e.code === 'INVALID_PARAMS' && e.details?.field === 'to');
});

test('calls made before connect() wait for the connection', async (t) => {
  const sb = client('carol-' + uniq());
  t.after(() => sb.close());
  const p = sb.call('system.ping');
  void sb.connect();
  const r = await p;
  assert.equal(typeof r.ts, 'number');
});

test('subscribe delivers every event once, in offset order; two subscriptions share one', async (t) => {
  const topic = 'chat:' + uniq();
  const sub = client('dave-' + uniq());
  const pub = client('erin-' + uniq());
  t.after(() => {
    sub.close();
    pub.close();
  });
  await Promise.all([sub.connect(), pub.connect()]);
  const seen1 = [];
  const seen2 = [];
  const subscribed = new Promise((resolve) => {
    sub.subscribe(topic, { onEvent: (e) => seen1.push(e.offset), onSubscribed: resolve });
  });
  const s2 = sub.subscribe(topic, { onEvent: (e) => seen2.push(e.data.n) });
  const { position } = await subscribed;
  for (let n = 1; n <= 20; n++) await pub.publish(topic, { n });
  await until(() => seen1.length === 20 && seen2.length === 20, '20 events on both subscriptions');
  const first = position.offset + 1;
  assert.deepEqual(seen1, Array.from({ length: 20 }, (_, i) => first + i));
  assert.deepEqual(seen2, Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal(s2.state, 'subscribed');
  assert.equal(s2.position.offset, first + 19);
  // the last reference ends the server subscription; the first still holds it
  s2.unsubscribe();
  await pub.publish(topic, { n: 21 });
  await until(() => seen1.length === 21, 'the 21st event');
  assert.equal(seen2.length, 20);
});

test('a forbidden subscribe fails the subscription with FORBIDDEN', async (t) => {
  const sb = new Switchboard(a.url, { getToken: async () => token('frank-' + uniq(), { subs: ['chat:*'] }) });
  t.after(() => sb.close());
  await sb.connect();
  const err = await new Promise((resolve) => sb.subscribe('secret:' + uniq(), { onError: resolve }));
  assert.equal(err.code, 'FORBIDDEN');
});

test('an operation yields its frames in seq order, then its result', async (t) => {
  const sb = client('gina-' + uniq());
  t.after(() => sb.close());
  await sb.connect();
  const op = sb.start('demo.count', { to: 25, interval_ms: 0 });
  const seqs = [];
  const data = [];
  for await (const f of op) {
    seqs.push(f.seq);
    if (f.type === 'stream') data.push(...f.data);
  }
  assert.deepEqual(await op.result, { count: 25 });
  assert.match(op.opId, /.+/);
  assert.equal(op.done, true);
  assert.deepEqual(data, Array.from({ length: 25 }, (_, i) => i + 1));
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `seq ${seqs[i]} after ${seqs[i - 1]}`);
  assert.equal(seqs[0], 1);
});

test('cancel() and an AbortSignal end an operation with CANCELLED', async (t) => {
  const sb = client('hank-' + uniq());
  t.after(() => sb.close());
  await sb.connect();
  const op = sb.start('demo.count', { to: 1000, interval_ms: 50 });
  for await (const f of op) {
    if (f.type === 'stream') break;
  }
  await op.cancel();
  await assert.rejects(op.result, (e) => e instanceof SwitchboardError && e.code === 'CANCELLED');

  const ac = new AbortController();
  const op2 = sb.start('demo.primes', { limit: 1_000_000_000, batch: 10 }, { signal: ac.signal });
  for await (const f of op2) {
    if (f.type === 'stream') break;
  }
  ac.abort();
  await assert.rejects(op2.result, (e) => e.code === 'CANCELLED');

  // aborted before it was even sent: never reaches the node
  const ac3 = new AbortController();
  ac3.abort();
  const op3 = sb.start('demo.count', { to: 5 }, { signal: ac3.signal });
  await assert.rejects(op3.result, (e) => e.code === 'CANCELLED');
  assert.equal(op3.opId, undefined);
});

test('call honours its AbortSignal and timeoutMs', async (t) => {
  const sb = client('ivy-' + uniq());
  t.after(() => sb.close());
  const ac = new AbortController();
  const p = sb.call('system.ping', undefined, { signal: ac.signal }); // not connected: waits
  ac.abort();
  await assert.rejects(p, (e) => e.code === 'ABORTED');
  await assert.rejects(sb.call('system.ping', undefined, { timeoutMs: 50 }), (e) => e.code === 'TIMEOUT');
});

test('two identical starts share one operation (dedupe) and each handle gets every frame', async (t) => {
  const sb = client('jack-' + uniq());
  t.after(() => sb.close());
  await sb.connect();
  const op1 = sb.start('demo.count', { to: 10, interval_ms: 20 });
  const op2 = sb.start('demo.count', { to: 10, interval_ms: 20 });
  const collect = async (op) => {
    const data = [];
    for await (const f of op) if (f.type === 'stream') data.push(...f.data);
    return data;
  };
  const [d1, d2] = await Promise.all([collect(op1), collect(op2)]);
  assert.deepEqual(await op1.result, { count: 10 });
  assert.deepEqual(await op2.result, { count: 10 });
  assert.equal(op1.opId, op2.opId);
  assert.deepEqual(d1, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(d2, d1);
});

test('presence: join and leave reach the subscription, presence() lists the members', async (t) => {
  const topic = 'chat:room-' + uniq();
  const u1 = 'kay-' + uniq();
  const u2 = 'lou-' + uniq();
  const s1 = client(u1);
  const s2 = client(u2);
  t.after(() => {
    s1.close();
    s2.close();
  });
  await Promise.all([s1.connect(), s2.connect()]);
  const changes = [];
  await new Promise((resolve) => s1.subscribe(topic, { onPresence: (p) => changes.push(`${p.action} ${p.user_id}`), onSubscribed: resolve }));
  const sub2 = await new Promise((resolve) => {
    const s = s2.subscribe(topic, { onSubscribed: () => resolve(s) });
  });
  await until(() => changes.includes(`join ${u2}`), `the join of ${u2}`);
  const p = await s1.presence(topic);
  assert.equal(p.count, 2);
  assert.deepEqual(p.members.map((m) => m.user_id).sort(), [u1, u2].sort());
  sub2.unsubscribe();
  await until(() => changes.includes(`leave ${u2}`), `the leave of ${u2}`);
});

test('direct messages between two devices of one user', async (t) => {
  const user = 'max-' + uniq();
  const phone = client(user, { deviceId: 'phone' });
  const laptop = client(user, { deviceId: 'laptop' });
  t.after(() => {
    phone.close();
    laptop.close();
  });
  await Promise.all([phone.connect(), laptop.connect()]);
  const got = new Promise((resolve) => laptop.onDirect(resolve));
  assert.deepEqual(await phone.send(user, { hi: 1 }, { deviceId: 'laptop' }), { delivered: 1 });
  assert.deepEqual(await got, { data: { hi: 1 }, from_user: user, from_device: 'phone' });
  await assert.rejects(phone.send('someone-else', 1), (e) => e.code === 'FORBIDDEN');
});
