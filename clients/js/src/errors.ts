/**
 * A failure the application can act on: the server's error frames keep their wire `code`,
 * `retryable`, `retry_after_ms` and `details`; the SDK's own failures use codes of their own
 * (DISCONNECTED, CLOSED, ABORTED, REPLACED, AUTH_FAILED, UPGRADE_REFUSED).
 */
export class SwitchboardError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, retryable = false, details?: Record<string, unknown>, retryAfterMs?: number) {
    super(message);
    this.name = 'SwitchboardError';
    this.code = code;
    this.retryable = retryable;
    this.details = details;
    this.retryAfterMs = retryAfterMs;
  }

  /** From the `error` object of a server error frame. */
  static fromWire(e: { code?: unknown; message?: unknown; retryable?: unknown; retry_after_ms?: unknown; details?: unknown } | undefined): SwitchboardError {
    const o = e ?? {};
    return new SwitchboardError(
      typeof o.code === 'string' ? o.code : 'INTERNAL',
      typeof o.message === 'string' ? o.message : 'error',
      o.retryable === true,
      o.details && typeof o.details === 'object' ? (o.details as Record<string, unknown>) : undefined,
      typeof o.retry_after_ms === 'number' ? o.retry_after_ms : undefined,
    );
  }
}
