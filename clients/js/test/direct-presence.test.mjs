// Direct messages and presence across two users, two clients, two nodes (a and b; b is drained
// later by drain.test.mjs, which runs after this file), real JWTs, through the public API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard } from '../dist/index.js';
import { api, nodes, token, until } from './harness.mjs';

const { a, b } = nodes();
const uniq = () => Math.random().toString(36).slice(2, 10);

function client(node, user, deviceId) {
  return new Switchboard(node.url, { getToken: async () => token(user), deviceId });
}

test('presence across nodes: join, leave on unsubscribe and on close, presence() from either side', async (t) => {
  const topic = 'chat:pres-' + uniq();
  const ann = 'ann-' + uniq();
  const ben = 'ben-' + uniq();
  const sa = client(a, ann, 'ann-web');
  const sb = client(b, ben, 'ben-phone');
  const sb2 = client(a, ben, 'ben-laptop');
  t.after(() => [sa, sb, sb2].forEach((c) => c.close()));
  await Promise.all([sa.connect(), sb.connect(), sb2.connect()]);
  const seen = [];
  await new Promise((resolve, reject) => sa.subscribe(topic, { onPresence: (p) => seen.push(`${p.action} ${p.user_id} ${p.device_id}`), onSubscribed: resolve, onError: reject }));
  const subB = await new Promise((resolve, reject) => {
    const s = sb.subscribe(topic, { onSubscribed: () => resolve(s), onError: reject });
  });
  await new Promise((resolve, reject) => sb2.subscribe(topic, { onSubscribed: resolve, onError: reject }));
  await until(() => seen.includes(`join ${ben} ben-phone`) && seen.includes(`join ${ben} ben-laptop`), () => `ben's two joins (seen ${JSON.stringify(seen)})`);
  for (const c of [sa, sb]) {
    const p = await c.presence(topic);
    assert.equal(p.count, 2, 'distinct users');
    const byUser = Object.fromEntries(p.members.map((m) => [m.user_id, [...m.devices].sort()]));
    assert.deepEqual(byUser, { [ann]: ['ann-web'], [ben]: ['ben-laptop', 'ben-phone'] });
  }
  subB.unsubscribe();
  await until(() => seen.includes(`leave ${ben} ben-phone`), () => `the leave of ben-phone (seen ${JSON.stringify(seen)})`);
  sb2.close(); // a client that goes away leaves too
  await until(() => seen.includes(`leave ${ben} ben-laptop`), () => `the leave of ben-laptop (seen ${JSON.stringify(seen)})`);
  const p = await sa.presence(topic);
  assert.deepEqual(p.members.map((m) => m.user_id), [ann]);
});

test('direct messages: one device of a user on another node, all its other devices, a service to another user', async (t) => {
  const ann = 'ann-' + uniq();
  const ben = 'ben-' + uniq();
  const annWeb = client(a, ann, 'web');
  const annPhone = client(b, ann, 'phone');
  const annTab = client(b, ann, 'tablet');
  const benWeb = client(a, ben, 'web');
  t.after(() => [annWeb, annPhone, annTab, benWeb].forEach((c) => c.close()));
  await Promise.all([annWeb, annPhone, annTab, benWeb].map((c) => c.connect()));
  const inbox = new Map([annWeb, annPhone, annTab, benWeb].map((c) => [c, []]));
  for (const [c, box] of inbox) c.onDirect((m) => box.push(m));

  // one device, on the other node
  assert.deepEqual(await annWeb.send(ann, { hi: 'phone' }, { deviceId: 'phone' }), { delivered: 1 });
  await until(() => inbox.get(annPhone).length === 1, 'the message to the phone');
  assert.deepEqual(inbox.get(annPhone)[0], { data: { hi: 'phone' }, from_user: ann, from_device: 'web' });
  // every other device of the user (not the sender's own connection)
  assert.deepEqual(await annWeb.send(ann, { hi: 'all' }), { delivered: 2 });
  await until(() => inbox.get(annTab).length === 1 && inbox.get(annPhone).length === 2, 'the message to all of ann\'s other devices');
  // an unknown device
  await assert.rejects(annWeb.send(ann, 1, { deviceId: 'toaster' }), (e) => e.code === 'NOT_FOUND');
  // user.send reaches only the caller's own user: another user is refused before anything is sent
  await assert.rejects(annWeb.send(ben, 1), (e) => e.code === 'FORBIDDEN' && e.retryable === false);
  // a service reaches any user over HTTP (PROTOCOL.md §8): ben gets it, ann does not
  assert.deepEqual(await api(b, `/users/${ben}/send`, { data: { from: 'service' } }), { delivered: 1 });
  await until(() => inbox.get(benWeb).length === 1, 'the service\'s message to ben');
  assert.deepEqual(inbox.get(benWeb)[0].data, { from: 'service' });
  assert.equal(inbox.get(annWeb).length, 0, 'the sender\'s own connection got nothing');
  assert.equal(inbox.get(annTab).length, 1);
});
