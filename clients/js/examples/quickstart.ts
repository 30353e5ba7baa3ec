// The README's Node quick start, type-checked by the build (`tsc -p tsconfig.examples.json`).
import { Switchboard, SwitchboardError } from '@switchboard/client';

export async function quickstart(): Promise<void> {
  const sb = new Switchboard('ws://localhost:8080/ws', { getToken: async () => process.env.TOKEN!, deviceId: 'worker-1' });
  sb.on('state', (s) => console.log('state', s)); // 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'closed'
  await sb.connect();

  const sub = sb.subscribe<{ text: string }>('chat:lobby', {
    onEvent: (e) => console.log(e.offset, e.data.text),
    onReset: (info) => console.log('gap, reload', info),
  });
  console.log(await sb.call('system.info'));

  const ac = new AbortController();
  const op = sb.start<{ count: number }>('demo.primes', { limit: 1_000_000 }, { signal: ac.signal });
  for await (const frame of op) {
    // progress and stream frames, in seq order
    if (frame.type === 'progress') console.log(frame.stage, frame.progress.done, '/', frame.progress.total);
  }
  try {
    console.log((await op.result).count);
  } catch (e) {
    if (e instanceof SwitchboardError) console.log(e.code, e.retryable, e.details);
  }
  await op.cancel(); // or ac.abort()
  sub.unsubscribe();
  sb.close();
}
