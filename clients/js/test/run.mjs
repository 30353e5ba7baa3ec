// `npm test`: starts three real nodes (one cluster) once, runs every test file against them with
// node's test runner, then stops the nodes. Node `a` stays up; `b` is drained and `c` SIGKILLed by
// the tests that say so (each file touches only its own victims).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startCluster, stopCluster } from './harness.mjs';

const dir = fileURLToPath(new URL('.', import.meta.url));
const started = Date.now();
const only = process.argv.slice(2);
const files = (only.length ? only : readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => dir + f));

// unit tests need no node
const nodes = await startCluster(['a', 'b', 'c']);
console.log(`# nodes a, b, c ready in ${Date.now() - started} ms`);
const cleanup = () => stopCluster(nodes);
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// Node 20 has its standard (global) WebSocket behind a flag: standard-api.test.mjs uses it
const wsFlag = typeof WebSocket === 'undefined' && process.allowedNodeEnvironmentFlags.has('--experimental-websocket') ? ' --experimental-websocket' : '';
const env = { ...process.env, NODE_OPTIONS: (process.env.NODE_OPTIONS ?? '') + wsFlag, SB_TEST_NODES: JSON.stringify(Object.fromEntries(nodes.map((n) => [n.name, { url: n.url, port: n.port, pid: n.pid, log: n.log }]))) };
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=60000', ...files], { env, stdio: 'inherit' });
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
console.log(`# SDK tests: ${Math.round((Date.now() - started) / 100) / 10} s in all`);
if (code !== 0) for (const n of nodes) console.log(`# node ${n.name} log: ${n.log}`);
process.exit(code);
