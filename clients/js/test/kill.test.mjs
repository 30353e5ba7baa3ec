// Node c is SIGKILLed under a client that follows a topic and an operation: the client resumes its
// session on node a, sees every event exactly once in offset order, and exactly one terminal of
// the operation with no repeated seq.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard } from '../dist/index.js';
import { alive, assertContiguous, nextEvent, nodes, publisher, token, until } from './harness.mjs';

const { a, c } = nodes();

test('SIGKILL of the client\'s node: resume on another node, every event once and in order, one terminal per operation', async (t) => {
  const topic = 'chat:kill-' + Date.now();
  let target = c.url;
  const sb = new Switchboard(() => target, { getToken: async () => token('kim'), backoff: { minMs: 100, maxMs: 1000 } });
  const pub = new Switchboard(a.url, { getToken: async () => token('pat') });
  t.after(() => {
    sb.close();
    pub.close();
  });
  const first = await sb.connect();
  assert.equal(first.node_id, 'c');
  await pub.connect();

  const offsets = [];
  let start;
  await new Promise((resolve, reject) => {
    sb.subscribe(topic, { onEvent: (e) => offsets.push(e.offset), onSubscribed: (i) => resolve((start = i.position.offset)), onError: reject, onReset: (i) => assert.fail('unexpected reset ' + JSON.stringify(i)) });
  });

  // operations go round-robin to the nodes' workers: some run on c (lost), some elsewhere (re-attached)
  const ops = [80, 81, 82].map((to) => {
    const op = sb.start('demo.count', { to, interval_ms: 40 });
    const frames = [];
    const iterating = (async () => {
      for await (const f of op) frames.push(f);
    })();
    return { op, frames, iterating, to };
  });

  const p = publisher(pub, topic);
  await until(() => offsets.length >= 20 && ops.every((o) => o.frames.some((f) => f.type === 'stream')), () => `20 events and a stream frame of each operation on node c (${offsets.length} events, ops' frames ${ops.map((o) => o.frames.map((f) => f.type[0] + f.seq).join(' ')).join(' | ')}, published ${p.count})`);
  target = a.url; // the "load balancer" sends the next connection elsewhere
  const resumed = nextEvent(sb, 'connected', (i) => i.node_id === 'a', 20_000);
  process.kill(c.pid, 'SIGKILL');
  await until(() => !alive(c.pid), 'node c to die');
  const info = await resumed;
  assert.equal(info.resumed, true, 'the session resumes on node a');
  await until(() => offsets.length >= 60, '40 more events after the resume', 20_000);
  const last = await p.stop();
  await until(() => offsets.at(-1) === last, `the last published offset ${last}`, 20_000);
  assertContiguous(assert, offsets, start + 1, last, 'topic events across the kill');

  // each operation: exactly one terminal, seqs strictly increasing, stream data without repeats
  const outcomes = [];
  for (const { op, frames, iterating, to } of ops) {
    let outcome;
    try {
      outcome = { ok: await op.result };
    } catch (err) {
      outcome = { err };
    }
    await iterating;
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i].seq > frames[i - 1].seq, `seq ${frames[i].seq} after ${frames[i - 1].seq}`);
    const data = frames.filter((f) => f.type === 'stream').flatMap((f) => f.data);
    assert.deepEqual(data, Array.from({ length: data.length }, (_, i) => i + 1), 'stream data 1..k without repeats');
    if (outcome.err) {
      // it ran on node c: lost with it
      assert.equal(outcome.err.code, 'NODE_LOST', String(outcome.err));
      assert.equal(outcome.err.retryable, true);
      outcomes.push('NODE_LOST');
    } else {
      assert.deepEqual(outcome.ok, { count: to });
      assert.equal(data.length, to);
      outcomes.push('result');
    }
  }
  t.diagnostic(`operations ended: ${outcomes.join(', ')}`);
});
