// Tokens: a refresh before expiry keeps the connection (token_expiring → getToken → auth.refresh),
// and a 4001 at expiry asks getToken() again and resumes. Nodes send token_expiring 3 s before exp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard } from '../dist/index.js';
import { nextEvent, nodes, token, until } from './harness.mjs';

const { a } = nodes();
const uniq = () => Math.random().toString(36).slice(2, 10);
const expOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).exp * 1000;

test('token_expiring: one getToken() and auth.refresh, and the connection outlives the first token', async (t) => {
  const user = 'zoe-' + uniq();
  const tokens = [token(user, { ttlS: 4 })];
  let calls = 0;
  const sb = new Switchboard(a.url, {
    getToken: async () => {
      calls++;
      return tokens[calls - 1] ?? token(user);
    },
  });
  t.after(() => sb.close());
  const drops = [];
  sb.on('disconnected', (d) => drops.push(d));
  const errors = [];
  sb.on('error', (e) => errors.push(e));
  const first = await sb.connect();
  await until(() => calls === 2, 'the refresh at token_expiring', 5_000);
  await until(() => Date.now() > expOf(tokens[0]) + 500, 'the first token to expire', 6_000);
  const info = await sb.call('system.info');
  assert.equal(info.node_id, 'a');
  assert.deepEqual(drops, []);
  assert.deepEqual(errors, []);
  assert.equal(sb.connection.connection_id, first.connection_id, 'the same connection');
  assert.equal(calls, 2);
});

test('4001 at expiry (the refresh was refused): a new token, then the session resumes', async (t) => {
  const user = 'amy-' + uniq();
  const first = token(user, { ttlS: 4 });
  let calls = 0;
  const sb = new Switchboard(a.url, {
    getToken: async () => {
      calls++;
      if (calls === 1) return first;
      if (calls === 2) return token('someone-else'); // auth.refresh requires the same sub: refused
      return token(user);
    },
  });
  t.after(() => sb.close());
  const refused = nextEvent(sb, 'error', () => true, 5_000);
  const c1 = await sb.connect();
  // a session with something in it (the node keeps only those for resume)
  await new Promise((resolve) => sb.subscribe('chat:' + user, { onSubscribed: resolve }));
  assert.equal((await refused).code, 'UNAUTHORIZED');
  const dropped = nextEvent(sb, 'disconnected', () => true, 8_000);
  const resumed = nextEvent(sb, 'connected', () => true, 10_000);
  const d = await dropped;
  assert.equal(d.code, 4001);
  assert.equal(d.willReconnect, true);
  const c2 = await resumed;
  assert.equal(c2.resumed, true);
  assert.equal(c2.session_id, c1.session_id);
  assert.equal(calls, 3);
});

test('401 at the upgrade: getToken() is asked again, and the SDK gives up after maxAuthFailures', async (t) => {
  let calls = 0;
  const sb = new Switchboard(a.url, {
    getToken: async () => {
      calls++;
      return token('bea', { ttlS: -60 }); // expired beyond the leeway: 401
    },
    maxAuthFailures: 2,
    backoff: { minMs: 10, maxMs: 50 },
  });
  t.after(() => sb.close());
  const errored = nextEvent(sb, 'error', (e) => e.code === 'AUTH_FAILED');
  await assert.rejects(sb.connect(), (e) => e.code === 'AUTH_FAILED' && e.details?.status === 401);
  await errored;
  assert.equal(sb.state, 'disconnected');
  assert.equal(calls, 3, 'the first token and one per allowed refusal');
});
