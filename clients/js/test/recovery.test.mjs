// Positions history no longer holds: `recovered:false` and a new epoch reach the application as a
// reset (onReset), then delivery goes on from the latest position. Namespace `tiny` keeps 5 events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard } from '../dist/index.js';
import { nodes, token, until } from './harness.mjs';

const { a } = nodes();

test('subscribe since a position history dropped: onReset (unrecoverable), then live events', async (t) => {
  const topic = 'tiny:' + Date.now();
  const sb = new Switchboard(a.url, { getToken: async () => token('rita') });
  t.after(() => sb.close());
  await sb.connect();
  let epoch;
  for (let n = 1; n <= 10; n++) epoch = (await sb.publish(topic, { n })).epoch;
  const resets = [];
  const offsets = [];
  const subscribed = new Promise((resolve) => {
    sb.subscribe(topic, { since: { offset: 2, epoch }, onReset: (i) => resets.push(i), onEvent: (e) => offsets.push(e.offset), onSubscribed: resolve });
  });
  const s = await subscribed;
  assert.equal(s.recovered, false);
  assert.deepEqual(resets, [{ topic, reason: 'unrecoverable', previous: { offset: 2, epoch }, position: { offset: 10, epoch } }]);
  await sb.publish(topic, { n: 11 });
  await until(() => offsets.length === 1, 'the next live event');
  assert.deepEqual(offsets, [11]);
});

test('subscribe since a position that history holds: the missed events, once, then live', async (t) => {
  const topic = 'tiny:' + Date.now() + 'b';
  const sb = new Switchboard(a.url, { getToken: async () => token('sam') });
  t.after(() => sb.close());
  await sb.connect();
  let epoch;
  for (let n = 1; n <= 4; n++) epoch = (await sb.publish(topic, { n })).epoch;
  const offsets = [];
  const resets = [];
  const s = await new Promise((resolve) => sb.subscribe(topic, { since: { offset: 1, epoch }, onReset: (i) => resets.push(i), onEvent: (e) => offsets.push(e.offset), onSubscribed: resolve }));
  assert.equal(s.recovered, true);
  await sb.publish(topic, { n: 5 });
  await until(() => offsets.length === 4, 'events 2..5');
  assert.deepEqual(offsets, [2, 3, 4, 5]);
  assert.deepEqual(resets, []);
});

test('subscribe since another epoch: onReset (epoch)', async (t) => {
  const topic = 'tiny:' + Date.now() + 'c';
  const sb = new Switchboard(a.url, { getToken: async () => token('tom') });
  t.after(() => sb.close());
  await sb.connect();
  const { epoch } = await sb.publish(topic, { n: 1 });
  const resets = [];
  await new Promise((resolve) => sb.subscribe(topic, { since: { offset: 1, epoch: 'not-' + epoch }, onReset: (i) => resets.push(i), onSubscribed: resolve }));
  assert.equal(resets.length, 1);
  assert.equal(resets[0].reason, 'epoch');
  assert.deepEqual(resets[0].position, { offset: 1, epoch });
});
