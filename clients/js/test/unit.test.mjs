// Timings at unit level, with a fake clock and a fake WebSocket (no node): full-jitter backoff,
// the drain delay, timers checked against the clock (a late timer reconnects at once), and the
// browser's online/offline/visibilitychange events (a fake window).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard, backoffDelay } from '../dist/index.js';

test('backoffDelay: full jitter below min * 2^attempt, capped at max', () => {
  const opts = { minMs: 500, maxMs: 20_000 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 40].map((n) => backoffDelay(n, opts, () => 0.999999)), [499, 999, 1999, 3999, 7999, 15999, 19999, 19999, 19999]);
  assert.equal(backoffDelay(3, opts, () => 0), 0);
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelay(2, opts);
    assert.ok(d >= 0 && d < 2000);
  }
});

function fakeClock() {
  const timers = [];
  const clock = {
    t: 1_000_000,
    now: () => clock.t,
    setTimeout: (fn, ms) => {
      const h = { at: clock.t + ms, fn };
      timers.push(h);
      return h;
    },
    clearTimeout: (h) => {
      const i = timers.indexOf(h);
      if (i >= 0) timers.splice(i, 1);
    },
    /** moves time forward, running the timers due (in order) */
    advance(ms) {
      const end = clock.t + ms;
      for (;;) {
        timers.sort((x, y) => x.at - y.at);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        clock.t = next.at;
        next.fn();
      }
      clock.t = end;
    },
    /** a timer fires late (a throttled tab): jump the clock without running timers */
    jump(ms) {
      clock.t += ms;
    },
    runDue() {
      clock.advance(0);
    },
  };
  return clock;
}

/** A standard-API WebSocket that a script drives: each instance is kept in `sockets`. */
function fakeWebSocket() {
  const sockets = [];
  class FakeWs {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      sockets.push(this);
    }
    send(d) {
      this.sent.push(JSON.parse(d));
    }
    close() {}
    open(frame) {
      this.readyState = 1;
      this.onmessage?.({ data: JSON.stringify({ type: 'connected', connection_id: 'c1', session_id: 's_1', node_id: 'n', user_id: 'u', device_id: 'd_1', protocol_version: 1, server_version: '1', heartbeat_ms: 25000, resumed: false, ...frame }) });
    }
    message(f) {
      this.onmessage?.({ data: JSON.stringify(f) });
    }
    drop(code = 1006) {
      this.readyState = 3;
      this.onclose?.({ code, reason: '' });
    }
  }
  return { FakeWs, sockets };
}

const flush = () => new Promise((r) => setImmediate(r));

test('reconnect attempts follow the backoff, never before their time, and a late timer reconnects at once', async () => {
  const clock = fakeClock();
  const { FakeWs, sockets } = fakeWebSocket();
  const sb = new Switchboard('ws://x/ws', { token: 't', WebSocket: FakeWs, clock, random: () => 0.5, backoff: { minMs: 500, maxMs: 4000 } });
  const delays = [];
  sb.on('disconnected', (d) => delays.push(d.delayMs));
  void sb.connect();
  await flush();
  assert.equal(sockets.length, 1);
  assert.equal(sb.state, 'connecting');
  for (const expected of [250, 500, 1000, 2000, 2000]) {
    sockets.at(-1).drop();
    assert.equal(delays.at(-1), expected);
    assert.equal(sb.state, 'reconnecting');
    const n = sockets.length;
    clock.advance(expected - 1);
    await flush();
    assert.equal(sockets.length, n, `no attempt before ${expected} ms`);
    clock.advance(1);
    await flush();
    assert.equal(sockets.length, n + 1, `an attempt at ${expected} ms`);
  }
  // connected: the attempt counter starts again, and the session id and device id are carried
  sockets.at(-1).open();
  assert.equal(sb.state, 'connected');
  sockets.at(-1).drop();
  assert.equal(delays.at(-1), 250);
  // the timer of a throttled tab fires late: the wall clock says it is due, so it goes at once
  clock.jump(10_000);
  clock.runDue();
  await flush();
  const url = new URL(sockets.at(-1).url);
  assert.equal(url.searchParams.get('session_id'), 's_1');
  assert.equal(url.searchParams.get('device_id'), 'd_1');
  sb.close();
});

test('1012 after a reconnect frame waits its after_ms plus jitter; 4009 does not reconnect', async () => {
  const clock = fakeClock();
  const { FakeWs, sockets } = fakeWebSocket();
  const sb = new Switchboard('ws://x/ws', { token: 't', WebSocket: FakeWs, clock, random: () => 0.5, drainJitterMs: 1000 });
  const drops = [];
  sb.on('disconnected', (d) => drops.push(d));
  void sb.connect();
  await flush();
  sockets[0].open();
  sockets[0].message({ type: 'reconnect', reason: 'draining', after_ms: 3000 });
  sockets[0].drop(1012);
  assert.equal(drops.at(-1).delayMs, 3500);
  clock.advance(3499);
  await flush();
  assert.equal(sockets.length, 1);
  clock.advance(1);
  await flush();
  assert.equal(sockets.length, 2);
  sockets[1].open({ resumed: true });
  sockets[1].drop(4009);
  assert.equal(drops.at(-1).willReconnect, false);
  assert.equal(sb.state, 'disconnected');
  clock.advance(60_000);
  await flush();
  assert.equal(sockets.length, 2);
  sb.close();
});

test('4001 asks getToken() once and reconnects at once; 4008, 4000 and a 1000 from the node back off and resume', async () => {
  const clock = fakeClock();
  const { FakeWs, sockets } = fakeWebSocket();
  let calls = 0;
  const sb = new Switchboard('ws://x/ws', { getToken: async () => 'tok' + ++calls, WebSocket: FakeWs, clock, random: () => 0.5, backoff: { minMs: 500, maxMs: 4000 } });
  const drops = [];
  sb.on('disconnected', (d) => drops.push(d));
  void sb.connect();
  await flush();
  sockets[0].open();
  assert.equal(new URL(sockets[0].url).searchParams.get('token'), 'tok1');
  sockets[0].drop(4001);
  assert.deepEqual([drops.at(-1).code, drops.at(-1).delayMs, drops.at(-1).willReconnect], [4001, 0, true]);
  clock.advance(0);
  await flush();
  assert.equal(sockets.length, 2);
  assert.equal(new URL(sockets[1].url).searchParams.get('token'), 'tok2');
  assert.equal(new URL(sockets[1].url).searchParams.get('session_id'), 's_1');
  sockets[1].open({ resumed: true });
  for (const code of [4008, 4000, 1000]) {
    const n = sockets.length;
    sockets.at(-1).drop(code);
    assert.deepEqual([drops.at(-1).code, drops.at(-1).delayMs], [code, 250]);
    clock.advance(250);
    await flush();
    assert.equal(sockets.length, n + 1);
    assert.equal(new URL(sockets.at(-1).url).searchParams.get('session_id'), 's_1');
    sockets.at(-1).open({ resumed: true });
  }
  assert.equal(calls, 2, 'only the 4001 asked for a token');
  sb.close();
});

test('4001 without getToken stops with UNAUTHORIZED', async () => {
  const clock = fakeClock();
  const { FakeWs, sockets } = fakeWebSocket();
  const sb = new Switchboard('ws://x/ws', { token: 'fixed', WebSocket: FakeWs, clock });
  const errors = [];
  sb.on('error', (e) => errors.push(e.code));
  void sb.connect();
  await flush();
  sockets[0].open();
  sockets[0].drop(4001);
  assert.equal(sb.state, 'disconnected');
  assert.deepEqual(errors, ['UNAUTHORIZED']);
  sb.close();
});

/** A window as the client sees it: online/offline/visibilitychange listeners and navigator.onLine. */
function fakeWindow() {
  const listeners = new Map();
  return {
    navigator: { onLine: true },
    addEventListener: (type, fn) => (listeners.get(type) ?? listeners.set(type, new Set()).get(type)).add(fn),
    removeEventListener: (type, fn) => listeners.get(type)?.delete(fn),
    fire(type) {
      if (type === 'offline' || type === 'online') this.navigator.onLine = type === 'online';
      for (const fn of [...(listeners.get(type) ?? [])]) fn();
    },
    count: () => [...listeners.values()].reduce((n, s) => n + s.size, 0),
  };
}

test('offline pauses the attempts, online tries at once (before the backoff delay); close() stops listening', async () => {
  const clock = fakeClock();
  const win = fakeWindow();
  const { FakeWs, sockets } = fakeWebSocket();
  const sb = new Switchboard('ws://x/ws', { token: 't', WebSocket: FakeWs, clock, random: () => 0.5, backoff: { minMs: 10_000, maxMs: 60_000 }, events: win });
  assert.equal(win.count(), 3);
  void sb.connect();
  await flush();
  sockets[0].open();
  // offline, then the connection drops: the attempt that falls due is not made while offline
  win.fire('offline');
  sockets[0].drop();
  assert.equal(sb.state, 'reconnecting');
  clock.advance(5_000);
  await flush();
  assert.equal(sockets.length, 1, 'no attempt while offline, even once due');
  clock.advance(600_000);
  await flush();
  assert.equal(sockets.length, 1, 'paused, not retried on a timer');
  win.fire('online');
  await flush();
  assert.equal(sockets.length, 2, 'online → an attempt at once');
  assert.equal(new URL(sockets[1].url).searchParams.get('session_id'), 's_1');
  // online while a (long) backoff delay runs: the attempt goes at once, not after the delay
  sockets[1].drop();
  assert.equal(sb.state, 'reconnecting');
  win.fire('online');
  await flush();
  assert.equal(sockets.length, 3);
  assert.equal(clock.t, 1_000_000 + 605_000, 'no time passed');
  // the timer of the attempt made early does not make a second one
  clock.advance(60_000);
  await flush();
  assert.equal(sockets.length, 3);
  // online while connected changes nothing
  sockets[2].open({ resumed: true });
  win.fire('online');
  await flush();
  assert.equal(sockets.length, 3);
  sb.close();
  assert.equal(win.count(), 0, 'close() removes the listeners');
});

test('a tab shown again checks the dead-connection timers and a due attempt at once (wall clock)', async () => {
  const clock = fakeClock();
  const win = fakeWindow();
  const { FakeWs, sockets } = fakeWebSocket();
  const sb = new Switchboard('ws://x/ws', { token: 't', WebSocket: FakeWs, clock, random: () => 0.5, backoff: { minMs: 2_000, maxMs: 20_000 }, heartbeatGraceMs: 10_000, events: win });
  void sb.connect();
  await flush();
  sockets[0].open({ heartbeat_ms: 25_000 });
  // shown while the connection is fresh: nothing happens
  clock.jump(1_000);
  win.fire('visibilitychange');
  assert.equal(sb.state, 'connected');
  // hidden for a minute: no timer ran (throttled); shown → the silent connection is given up at once
  clock.jump(60_000);
  win.fire('visibilitychange');
  assert.equal(sb.state, 'reconnecting');
  await flush();
  assert.equal(sockets.length, 1, 'the attempt waits its backoff delay');
  // hidden again while the attempt waits; shown after its time → the attempt goes at once
  clock.jump(5_000);
  win.fire('visibilitychange');
  await flush();
  assert.equal(sockets.length, 2);
  assert.equal(new URL(sockets[1].url).searchParams.get('session_id'), 's_1');
  // shown while an attempt is under way: no second attempt
  win.fire('visibilitychange');
  clock.runDue();
  await flush();
  assert.equal(sockets.length, 2);
  sb.close();
});

test('offline at start: the first connect() still tries (navigator.onLine is a hint), later attempts wait for online', async () => {
  const clock = fakeClock();
  const win = fakeWindow();
  win.navigator.onLine = false;
  const { FakeWs, sockets } = fakeWebSocket();
  const sb = new Switchboard('ws://x/ws', { token: 't', WebSocket: FakeWs, clock, random: () => 0.5, events: win });
  const connecting = sb.connect();
  connecting.catch(() => undefined); // never connected: close() rejects it
  await flush();
  assert.equal(sockets.length, 1);
  sockets[0].drop();
  clock.advance(30_000);
  await flush();
  assert.equal(sockets.length, 1);
  win.fire('online');
  await flush();
  assert.equal(sockets.length, 2);
  sb.close();
});
