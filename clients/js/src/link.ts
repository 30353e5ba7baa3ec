/** What the client's parts (topics, operations) need from the connection that carries them. */

/** Timers and time, replaceable for tests of the timings. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface Link {
  readonly clock: Clock;
  /** a fresh request id (unique for the client's life, across connections) */
  id(): string;
  /** writes an envelope on the current connection (nothing when there is none) */
  write(msg: Record<string, unknown>): void;
  /** a request with its one terminal, waiting for a connection when there is none */
  call<R>(method: string, params?: Record<string, unknown>): Promise<R>;
  /** runs `fn` once connected (now, when connected) */
  whenConnected(fn: () => void): void;
  connected(): boolean;
  /** there is a session a later connection may resume (it still holds what we let go) */
  hasSession(): boolean;
  /** a delay before retrying what failed retryably without saying when */
  retryDelay(): number;
}

/** Runs an application callback; one that throws is reported and does not stop the SDK. */
export function callApp<A extends unknown[]>(fn: ((...a: A) => void) | undefined, ...args: A): void {
  if (!fn) return;
  try {
    fn(...args);
  } catch (err) {
    reportListenerError(err);
  }
}

/** An application callback threw: surface it without breaking the SDK's own bookkeeping. */
export function reportListenerError(err: unknown): void {
  const g = globalThis as { reportError?: (e: unknown) => void };
  if (typeof g.reportError === 'function') g.reportError(err);
  else console.error(err);
}
