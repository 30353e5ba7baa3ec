/** Reconnect delays: full-jitter exponential backoff ("Exponential Backoff And Jitter", AWS). */
export interface BackoffOptions {
  /** base of the exponential, and the cap of the first attempt's delay (default 500 ms) */
  minMs?: number;
  /** the cap of any delay (default 20 s) */
  maxMs?: number;
}

export const DEFAULT_BACKOFF_MIN_MS = 500;
export const DEFAULT_BACKOFF_MAX_MS = 20_000;

/**
 * The delay before reconnect attempt `attempt` (0 for the first after a drop): uniformly random
 * in [0, min(maxMs, minMs * 2^attempt)). Full jitter spreads a whole fleet of clients dropped at
 * the same instant (a node crash) over the window instead of sending them back in waves.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const min = opts.minMs ?? DEFAULT_BACKOFF_MIN_MS;
  const max = opts.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  const cap = Math.min(max, min * Math.pow(2, Math.min(attempt, 30)));
  return Math.floor(random() * cap);
}
