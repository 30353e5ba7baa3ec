// Smoke test of the bundled SDK (dist/switchboard.min.js, the file the size budget measures) in
// headless Chromium (Debian's `chromium`, driven by playwright-core) against a real node: a page
// served from loopback connects with a real JWT, subscribes, receives events published over
// HTTP, runs demo.primes with progress to its result, and comes back at once on `online` after
// the connection was lost while offline (the backoff delay would have been ~30 s); a second client
// speaks CBOR through the optional entry (dist/cbor.min.js). Any console
// error or uncaught page error fails it; so would an attempt while offline (Chromium logs each
// failed WebSocket as a console error).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { api, nodes, token } from './harness.mjs';
import { blackholeProxy } from './proxy.mjs';

const { a } = nodes();
const CHROMIUM = process.env.SB_CHROMIUM ?? '/usr/bin/chromium';
const BUNDLE = fileURLToPath(new URL('../dist/switchboard.min.js', import.meta.url));
const CBOR_BUNDLE = fileURLToPath(new URL('../dist/cbor.min.js', import.meta.url));
const uniq = () => Math.random().toString(36).slice(2, 10);

// The application: what a web page does with the SDK, driven by the test through window.app.
const APP = `
import { Switchboard } from '/switchboard.js';
const app = (window.app = { states: [], connects: [], events: [], resets: 0, errors: [] });
app.start = async ({ url, user, topic }) => {
  const sb = (app.sb = new Switchboard(url, {
    getToken: async () => (await fetch('/token?user=' + encodeURIComponent(user))).text(),
    deviceId: 'chromium-1',
    // after a loss the next attempt is ~30 s away: only the browser's 'online' brings it back sooner
    backoff: { minMs: 30000, maxMs: 30000 },
    random: () => 0.99,
  }));
  sb.on('state', (s) => app.states.push(s));
  sb.on('connected', (c) => app.connects.push({ resumed: c.resumed, session: c.session_id, at: Date.now() }));
  sb.on('error', (e) => app.errors.push(e.code));
  const info = await sb.connect();
  await new Promise((resolve, reject) =>
    sb.subscribe(topic, { onEvent: (e) => app.events.push([e.offset, e.data.n]), onReset: () => app.resets++, onSubscribed: resolve, onError: reject }),
  );
  return { user: info.user_id, node: info.node_id, resumed: info.resumed };
};
app.primes = async (limit) => {
  const op = app.sb.start('demo.primes', { limit, batch: 1000 });
  const seqs = [];
  const stages = new Set();
  let done = 0, streamed = 0, last = 0;
  for await (const f of op) {
    seqs.push(f.seq);
    if (f.type === 'progress') {
      stages.add(f.stage);
      if (typeof f.progress.done === 'number') done = Math.max(done, f.progress.done);
    } else {
      for (const p of f.data) {
        if (p <= last) throw new Error('primes out of order');
        last = p;
        streamed++;
      }
    }
  }
  return { opId: op.opId, result: await op.result, stages: [...stages], done, streamed, ascendingSeq: seqs.every((s, i) => i === 0 || s > seqs[i - 1]) };
};
// a second client that speaks CBOR (the optional entry), binary frames arriving as ArrayBuffers
app.cbor = async ({ url, user, topic }) => {
  const { cbor } = await import('/cbor.js');
  let binary = 0;
  const codec = { ...cbor, decode: (d) => (d instanceof Uint8Array && binary++, cbor.decode(d)) };
  const sb = new Switchboard(url, { getToken: async () => (await fetch('/token?user=' + encodeURIComponent(user))).text(), deviceId: 'chromium-cbor', codec });
  await sb.connect();
  const got = [];
  await new Promise((resolve, reject) => sb.subscribe(topic, { onEvent: (e) => got.push(e.data), onSubscribed: resolve, onError: reject }));
  await sb.publish(topic, { via: 'cbor', s: 'é🎉', f: 0.25 });
  const info = await sb.call('system.info');
  for (const deadline = Date.now() + 5000; got.length < 1 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
  sb.close();
  return { got, binary, node: info.node_id };
};
`;

/** The page's origin: a loopback HTTP server with the page, the bundle and a token endpoint. */
async function pageServer() {
  const bundle = readFileSync(BUNDLE);
  const cborBundle = readFileSync(CBOR_BUNDLE);
  const server = createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    const send = (type, body) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (u.pathname === '/') send('text/html; charset=utf-8', '<!doctype html><meta charset="utf-8"><title>switchboard smoke</title><script type="module" src="/app.js"></script>');
    else if (u.pathname === '/app.js') send('text/javascript; charset=utf-8', APP);
    else if (u.pathname === '/switchboard.js') send('text/javascript; charset=utf-8', bundle);
    else if (u.pathname === '/cbor.js') send('text/javascript; charset=utf-8', cborBundle);
    else if (u.pathname === '/token') send('text/plain', token(u.searchParams.get('user')));
    else if (u.pathname === '/favicon.ico') res.writeHead(204).end();
    else res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

test('the bundled SDK in headless Chromium: real JWT, events over HTTP, an operation with progress, online after offline', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does)`, timeout: 90_000 }, async (t) => {
  const server = await pageServer();
  const proxy = await blackholeProxy(a.port); // lets the test cut the page's connection
  const browser = await chromium.launch({ executablePath: CHROMIUM, timeout: 30_000 });
  t.after(async () => {
    await browser.close();
    server.close();
    proxy.server.close();
    for (const c of proxy.conns) c.down.destroy();
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => typeof window.app?.start === 'function', null, { timeout: 10_000 });

  const user = 'chromium-' + uniq();
  const topic = 'chat:chromium-' + uniq();
  const started = await page.evaluate((cfg) => window.app.start(cfg), { url: `ws://127.0.0.1:${proxy.port}/ws`, user, topic });
  assert.deepEqual(started, { user, node: 'a', resumed: false });

  for (let n = 1; n <= 5; n++) await api(a, '/publish', { topic, data: { n } });
  await page.waitForFunction(() => window.app.events.length >= 5, null, { timeout: 10_000 });

  const op = await page.evaluate(() => window.app.primes(200_000));
  assert.deepEqual(op.result, { count: 17984 });
  assert.equal(op.streamed, 17984);
  assert.ok(op.stages.includes('queued'), `stages ${op.stages}`);
  assert.ok(op.done > 0 && op.done <= 200_000, `progress done ${op.done}`);
  assert.ok(op.ascendingSeq, 'frames in seq order');
  assert.match(op.opId, /./);

  // offline, and the connection is lost: no attempt while offline; 'online' → an attempt at once
  await context.setOffline(true);
  await page.waitForFunction(() => navigator.onLine === false, null, { timeout: 5_000 });
  for (const c of proxy.conns) c.down.destroy();
  await page.waitForFunction(() => window.app.states.at(-1) === 'reconnecting', null, { timeout: 10_000 });
  for (let n = 6; n <= 8; n++) await api(a, '/publish', { topic, data: { n } });
  const onlineAt = Date.now();
  await context.setOffline(false);
  await page.waitForFunction(() => window.app.connects.length === 2 && window.app.events.length >= 8, null, { timeout: 10_000 });
  const app = await page.evaluate(() => ({ states: window.app.states, connects: window.app.connects, events: window.app.events, resets: window.app.resets, errors: window.app.errors }));
  assert.ok(app.connects[1].at - onlineAt < 10_000, 'back well before the 30 s backoff delay');
  assert.equal(app.connects[1].resumed, true);
  assert.equal(app.connects[1].session, app.connects[0].session);
  assert.deepEqual(app.events, [1, 2, 3, 4, 5, 6, 7, 8].map((n) => [n, n]), 'every event once, in offset order');
  assert.equal(app.resets, 0);
  assert.deepEqual(app.errors, []);
  assert.deepEqual(app.states, ['connecting', 'connected', 'reconnecting', 'connected']);

  const viaCbor = await page.evaluate((cfg) => window.app.cbor(cfg), { url: a.url, user, topic: 'chat:chromium-cbor-' + uniq() });
  assert.deepEqual(viaCbor.got, [{ via: 'cbor', s: 'é🎉', f: 0.25 }]);
  assert.equal(viaCbor.node, 'a');
  assert.ok(viaCbor.binary >= 4, `frames came as CBOR (${viaCbor.binary})`);

  await page.evaluate(() => window.app.sb.close());
  assert.deepEqual(problems, [], 'no console error, no page error');
});
