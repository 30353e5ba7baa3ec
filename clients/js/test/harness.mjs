// Real Switchboard nodes for the SDK's tests: the server jar the Maven build produced, each node in
// its own JVM on free loopback ports, and real HS256 JWTs signed with the nodes' secret.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const JAR = process.env.SB_JAR ?? join(REPO, 'target', 'switchboard.jar');
export const SECRET = 'sdk-test-secret-0123456789abcdef0123456789';

/** A free TCP port on loopback (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const b64 = (buf) => Buffer.from(buf).toString('base64url');

/** An HS256 JWT for `sub`: `subs`/`pubs` default to everything but other users' personal topics. */
export function token(sub, { ttlS = 3600, subs = ['*'], pubs = ['*'], ...claims } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64(JSON.stringify({ sub, iat: now, exp: now + ttlS, subs, pubs, ...claims }));
  const sig = createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** The config the nodes load: the shipped one plus a namespace `tiny` whose history keeps 5 events. */
function confFile(dir) {
  const conf = JSON.parse(readFileSync(join(REPO, 'conf', 'config.json'), 'utf8'));
  conf.namespaces.tiny = { history_size: 5, history_ttl_s: 300, presence: false, join_leave: false };
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(conf));
  return path;
}

/**
 * Starts `names.length` nodes that form one cluster, all at once, and resolves when every one is
 * ready. `cluster.quorum` 1: the tests kill and drain nodes of a small cluster and the survivors
 * must go on serving (the majority rule is the server's own tests' business).
 */
export async function startCluster(names, extraEnv = {}) {
  if (!existsSync(JAR)) throw new Error(`no server jar at ${JAR}: build it first (mvn -B -q -DskipTests package)`);
  const dir = mkdtempSync(join(tmpdir(), 'sb-sdk-'));
  const conf = confFile(dir);
  const ports = await Promise.all(names.map(async () => ({ http: await freePort(), cluster: await freePort() })));
  const members = ports.map((p) => `127.0.0.1:${p.cluster}`).join(',');
  const cluster = `sdk-${randomBytes(4).toString('hex')}`;
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const nodes = names.map((name, i) => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('SB_')) delete env[k];
    Object.assign(env, {
      SB_CONF: conf,
      SB_JWT_SECRET: SECRET,
      SB_NODE_ID: name,
      SB_HTTP_HOST: '127.0.0.1',
      SB_HTTP_PORT: String(ports[i].http),
      SB_CLUSTER_PORT: String(ports[i].cluster),
      SB_CLUSTER_MEMBERS: members,
      SB_CLUSTER_NAME: cluster,
      SB_CLUSTER_QUORUM: '1',
      SB_HTTP_EVENT_LOOPS: '1',
      SB_OPS_WORKERS: '2',
      SB_NODE_WARMUP_MS: '0',
      SB_HEARTBEAT_MS: '2000',
      SB_TOKEN_EXPIRING_MS: '3000',
      SB_DRAIN_MS: '500',
      SB_SHUTDOWN_GRACE_MS: '2000',
      SB_MAX_CONNECTIONS_PER_USER: '4', // reconnect.test.mjs meets the cap (429 with Retry-After)
      ...extraEnv,
    });
    const log = join(dir, `${name}.log`);
    const out = createWriteStream(log);
    const child = spawn(java, ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-jar', JAR], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    return { name, pid: child.pid, port: ports[i].http, url: `ws://127.0.0.1:${ports[i].http}/ws`, log, child };
  });
  try {
    await Promise.all(nodes.map((n) => awaitReady(n, 90_000)));
  } catch (err) {
    stopCluster(nodes);
    throw err;
  }
  return nodes;
}

async function awaitReady(node, ms) {
  const deadline = Date.now() + ms;
  let exited = false;
  node.child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`node ${node.name} exited at start: ${readFileSync(node.log, 'utf8').slice(-2000)}`);
    try {
      const r = await fetch(`http://127.0.0.1:${node.port}/health/ready`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node ${node.name} not ready within ${ms} ms: ${readFileSync(node.log, 'utf8').slice(-2000)}`);
}

export function stopCluster(nodes) {
  for (const n of nodes) {
    try {
      n.child.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** The nodes run.mjs started, as the test files see them (name → {url, port, pid}). */
export function nodes() {
  const raw = process.env.SB_TEST_NODES;
  if (!raw) throw new Error('SB_TEST_NODES is not set: run the tests with `npm test` (test/run.mjs starts the nodes)');
  return JSON.parse(raw);
}

/** Resolves when `cond()` holds; polls every 10 ms and fails after `ms` naming `what`. */
export async function until(cond, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves with the first `event` of `sb` satisfying `pred`; fails after `ms`. */
export function nextEvent(sb, event, pred = () => true, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${event}' event within ${ms} ms`));
    }, ms);
    const off = sb.on(event, (v) => {
      if (!pred(v)) return;
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

/** Whether the process `pid` is still alive. */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Publishes {n} to `topic` through `sb` one after another (a few ms apart) until stopped; retries
 * what fails retryably (a node was just lost). stop() resolves with the last offset acknowledged.
 */
export function publisher(sb, topic, gapMs = 5) {
  let stopped = false;
  let last = 0;
  let count = 0;
  let failure;
  const loop = (async () => {
    let n = 1;
    while (!stopped) {
      try {
        const r = await sb.publish(topic, { n });
        last = Math.max(last, r.offset);
        count++;
        n++;
      } catch (err) {
        if (!err.retryable) {
          failure = err;
          return;
        }
      }
      await new Promise((r) => setTimeout(r, gapMs));
    }
  })();
  return {
    get count() {
      return count;
    },
    async stop() {
      stopped = true;
      await loop;
      if (failure) throw failure;
      return last;
    },
  };
}

/** Offsets first..last, each once, in order. */
export function assertContiguous(assert, offsets, first, last, what) {
  const expected = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  if (offsets.length !== expected.length || offsets.some((o, i) => o !== expected[i])) {
    const dups = offsets.filter((o, i) => offsets.indexOf(o) !== i);
    const missing = expected.filter((o) => !offsets.includes(o));
    assert.fail(`${what}: expected offsets ${first}..${last} once each in order; got ${offsets.length} (repeats ${JSON.stringify(dups.slice(0, 10))}, missing ${JSON.stringify(missing.slice(0, 10))}, out of order at ${offsets.findIndex((o, i) => i > 0 && o <= offsets[i - 1])})`);
  }
}

/** A token with role `service`, for the HTTP API. */
export const serviceToken = () => token('svc-sdk-tests', { roles: ['service'] });

/** POSTs `body` to the node's HTTP API as a service; resolves with the JSON answer, fails on a non-2xx status. */
export async function api(node, path, body) {
  const r = await fetch(`http://127.0.0.1:${node.port}/api/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serviceToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}
