import { SwitchboardError } from './errors.js';

/**
 * What the client does when its connection ends (by close code) or its upgrade is refused (by
 * HTTP status): the one catalog of those decisions (PROTOCOL.md §1 and §3, issue 13).
 */
export type Next = { stop: SwitchboardError } | { delayMs: number | undefined; newToken: boolean };

export interface Circumstances {
  /** getToken() was given: a refused or expired token can be replaced */
  canRefreshToken: boolean;
  /** refusals of the token in a row, this one included */
  authFailures: number;
  maxAuthFailures: number;
  /** the `reconnect` frame's after_ms, when one came on this connection */
  drainAfterMs: number | undefined;
  drainJitterMs: number;
  /** jitter added to a 429's Retry-After */
  retryJitterMs: number;
  random: () => number;
}

const backoff = { delayMs: undefined, newToken: false };

/** 4001 counts as a refusal of the token (Circumstances.authFailures). */
export const refusesToken = (code: number): boolean => code === 4001;
export const refusesTokenStatus = (status: number): boolean => status === 401 || status === 403;

export function afterClose(code: number, c: Circumstances): Next {
  switch (code) {
    case 4009: // a newer connection of this device: reconnecting would replace it in turn
      return { stop: new SwitchboardError('REPLACED', 'a newer connection of this device replaced this one (4009)') };
    case 4001: // token expired or revoked: a new one (single-flight), then at once
      if (!c.canRefreshToken) return { stop: new SwitchboardError('UNAUTHORIZED', 'the token expired and no getToken was given') };
      if (c.authFailures > c.maxAuthFailures) return { stop: new SwitchboardError('AUTH_FAILED', 'the node keeps refusing the token (4001)') };
      return { delayMs: 0, newToken: true };
    case 1012: // drain or minority: the reconnect frame's delay plus jitter, to any node
      if (c.drainAfterMs === undefined) return backoff;
      return { delayMs: c.drainAfterMs + Math.floor(c.random() * c.drainJitterMs), newToken: false };
    default: // a drop, 1000/1001 from the node, 1006-1011, 4000 idle, 4008 slow consumer: backoff and resume
      return backoff;
  }
}

export function afterRefusal(status: number, retryAfterMs: number | undefined, c: Circumstances): Next {
  if (refusesTokenStatus(status)) {
    if (!c.canRefreshToken || c.authFailures > c.maxAuthFailures) {
      return { stop: new SwitchboardError('AUTH_FAILED', `the upgrade was refused with ${status}`, false, { status }) };
    }
    return { delayMs: undefined, newToken: true };
  }
  if (status === 400) return { stop: new SwitchboardError('UPGRADE_REFUSED', 'the upgrade was refused with 400', false, { status }) };
  if (status === 429 && retryAfterMs !== undefined) return { delayMs: retryAfterMs + Math.floor(c.random() * c.retryJitterMs), newToken: false };
  return backoff; // 503 (draining, node full), 429 without Retry-After, anything else
}
