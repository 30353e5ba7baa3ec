// The optional CBOR codec (`@switchboard/client/cbor`): its encoder and decoder on their own, then
// a connection to a real node that speaks `switchboard.v1.cbor` end to end (binary frames both
// ways): subscribe, events published over HTTP (JSON) and over the socket, an operation with
// progress to its result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard } from '../dist/index.js';
import { cbor, encode, decode } from '../dist/cbor.js';
import { api, nodes, token, until } from './harness.mjs';

const { a } = nodes();
const uniq = () => Math.random().toString(36).slice(2, 10);
const hex = (s) => Uint8Array.from((s.match(/../g) ?? []).map((b) => parseInt(b, 16)));
const toHex = (b) => Buffer.from(b).toString('hex');

test('cbor: RFC 8949 vectors, round trips, indefinite lengths, and malformed input refused', () => {
  // RFC 8949 appendix A
  for (const [v, h] of [[0, '00'], [23, '17'], [24, '1818'], [1000, '1903e8'], [1000000, '1a000f4240'], [1e12, '1b000000e8d4a51000'], [-1, '20'], [-1000, '3903e7'], [1.1, 'fb3ff199999999999a'], [false, 'f4'], [true, 'f5'], [null, 'f6'], ['', '60'], ['IETF', '6449455446'], ['\u00fc', '62c3bc'], ['\ud800\udd51', '64f0908591'], [[], '80'], [[1, [2, 3], [4, 5]], '8301820203820405'], [{ a: 1, b: [2, 3] }, 'a26161016162820203']]) {
    assert.equal(toHex(encode(v)), h, JSON.stringify(v));
    assert.deepEqual(decode(hex(h)), v, h);
  }
  assert.equal(decode(hex('f93c00')), 1); // float16
  assert.equal(decode(hex('f97bff')), 65504);
  assert.equal(decode(hex('fa47c35000')), 100000); // float32
  assert.equal(decode(hex('1bffffffffffffffff')), 18446744073709551615n);
  assert.equal(decode(hex('c11a514b67b0')), 1363896240); // a tag: its content
  assert.deepEqual(decode(hex('9f018202039f0405ffff')), [1, [2, 3], [4, 5]]); // indefinite lengths
  assert.deepEqual(decode(hex('bf61610161629f0203ffff')), { a: 1, b: [2, 3] });
  assert.equal(decode(hex('7f657374726561646d696e67ff')), 'streaming');
  assert.deepEqual(decode(hex('5f42010243030405ff')), Uint8Array.of(1, 2, 3, 4, 5));
  const v = { id: 'r1', method: 'topic.publish', params: { topic: 'chat:x', data: { text: 'héllo 🎉', n: -123456789012, f: -0.5, ok: true, none: null, bytes: Uint8Array.of(0, 255), list: [1, 'two', [3]] } } };
  assert.deepEqual(decode(encode(v)), v);
  assert.deepEqual(decode(encode({ a: undefined, b: 1 })), { b: 1 }, 'undefined members left out, as JSON does');
  const p = decode(hex('a1695f5f70726f746f5f5fa16178f5')); // {"__proto__": {"x": true}}
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.deepEqual(Object.keys(p), ['__proto__']);
  for (const bad of ['', '18', '1a0000', '62c3', 'ff', '8201', '0000', '62ffff', '9f01']) {
    assert.throws(() => decode(hex(bad)), `malformed ${bad}`);
  }
});

test('a CBOR connection to a real node: binary frames both ways, subscribe, events, an operation', async (t) => {
  let encoded = 0;
  let decoded = 0;
  // the shipped codec, counting: proves every frame went through it (JSON would bypass it)
  const counting = { ...cbor, encode: (m) => (encoded++, cbor.encode(m)), decode: (d) => (assert.ok(d instanceof Uint8Array), decoded++, cbor.decode(d)) };
  const user = 'cbor-' + uniq();
  const sb = new Switchboard(a.url, { getToken: async () => token(user), codec: counting });
  t.after(() => sb.close());
  const info = await sb.connect();
  assert.equal(info.user_id, user);
  assert.equal(decoded, 1, 'the connected frame came as CBOR');
  assert.equal((await sb.call('system.info')).protocol_version, 1);

  const topic = 'chat:cbor-' + uniq();
  const events = [];
  await new Promise((resolve, reject) => sb.subscribe(topic, { onEvent: (e) => events.push(e), onSubscribed: resolve, onError: reject }));
  const sent = [{ text: 'héllo 🎉', n: 1 }, { nested: { deep: [1, 2.5, null, true] }, n: 2 }, { big: 2 ** 40, neg: -7, n: 3 }];
  for (const data of sent) await api(a, '/publish', { topic, data });
  // over the socket (a CBOR request). Not a byte string: the node keeps event data as JSON, and a
  // byte string published comes back as its base64 text
  await sb.publish(topic, { n: 4, f: 0.1, s: '\u00e9\ud83c\udf89' });
  await until(() => events.length === 4, () => `4 events, got ${events.length}`);
  assert.deepEqual(events.map((e) => e.offset), [1, 2, 3, 4]);
  assert.deepEqual(events.slice(0, 3).map((e) => e.data), sent);
  assert.deepEqual(events[3].data, { n: 4, f: 0.1, s: 'é🎉' });

  const op = sb.start('demo.primes', { limit: 100_000, batch: 1000 });
  const primes = [];
  let progress = 0;
  for await (const f of op) {
    if (f.type === 'stream') primes.push(...f.data);
    else progress++;
  }
  assert.deepEqual(await op.result, { count: 9592 });
  assert.equal(primes.length, 9592);
  assert.deepEqual(primes.slice(0, 5), [2, 3, 5, 7, 11]);
  assert.ok(primes.every((p, i) => i === 0 || p > primes[i - 1]), 'ascending');
  assert.ok(progress >= 1, 'progress frames (queued at least)');
  assert.ok(encoded >= 4, `requests went as CBOR (${encoded})`);
  assert.ok(decoded >= 10, `frames came as CBOR (${decoded})`);
});

test('CBOR over the standard WebSocket API (binary frames as ArrayBuffer): a call, an event, an operation', { skip: !globalThis.WebSocket && 'no global WebSocket' }, async (t) => {
  let decoded = 0;
  const counting = { ...cbor, decode: (d) => (decoded++, cbor.decode(d)) };
  const sb = new Switchboard(a.url, { getToken: async () => token('cbor-std-' + uniq()), codec: counting, WebSocket: globalThis.WebSocket });
  t.after(() => sb.close());
  await sb.connect();
  assert.equal((await sb.call('system.info')).node_id, 'a');
  const topic = 'chat:cbor-std-' + uniq();
  const events = [];
  await new Promise((resolve, reject) => sb.subscribe(topic, { onEvent: (e) => events.push(e.data), onSubscribed: resolve, onError: reject }));
  await sb.publish(topic, { text: 'ünïcödé', n: 1.5 });
  await until(() => events.length === 1, 'the event');
  assert.deepEqual(events, [{ text: 'ünïcödé', n: 1.5 }]);
  const data = [];
  const op = sb.start('demo.count', { to: 5, interval_ms: 0 });
  for await (const f of op) if (f.type === 'stream') data.push(...f.data);
  assert.deepEqual(data, [1, 2, 3, 4, 5]);
  assert.deepEqual(await op.result, { count: 5 });
  assert.ok(decoded >= 8, `frames came as CBOR (${decoded})`);
});
