// Live figures: one SDK client subscribed to `$sys:nodes` (role admin only), while the page is visible.
import { Switchboard } from '@switchboard/client';
import type { NodeFigures } from './api.js';

export function wsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

/** Starts following every node's figures; returns what stops it (closes the client). */
export function followNodes(token: string, onFigures: (f: NodeFigures) => void, onTrouble: (why: string) => void): () => void {
  const sb = new Switchboard(wsUrl(), { token, deviceId: `dashboard-${crypto.randomUUID().slice(0, 8)}` });
  sb.on('state', (s) => {
    if (s === 'reconnecting') onTrouble('reconnecting…');
    if (s === 'connected') onTrouble('');
  });
  sb.connect().catch((e: unknown) => onTrouble(e instanceof Error ? e.message : 'cannot connect'));
  sb.subscribe<NodeFigures>('$sys:nodes', {
    onEvent: (e) => onFigures(e.data),
    onError: (e) => onTrouble(e.message),
  });
  return () => sb.close();
}
