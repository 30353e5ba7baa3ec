import { SwitchboardError } from './errors.js';

/** A non-terminal frame of an operation, as the application iterates them. */
export type OperationFrame =
  | { type: 'progress'; seq: number; stage: string; progress: { done?: number; total?: number; unit?: string; eta_ms?: number; message?: string } }
  | { type: 'stream'; seq: number; data: unknown };

export interface Operation<R = unknown> extends AsyncIterable<OperationFrame> {
  /** known from the operation's first frame on */
  readonly opId: string | undefined;
  /** the terminal outcome: the result, or a SwitchboardError (code, retryable, details) */
  readonly result: Promise<R>;
  /** true once the terminal outcome is known */
  readonly done: boolean;
  /** asks the server to cancel; the result then rejects with CANCELLED (unless it finished first) */
  cancel(): Promise<void>;
}

/**
 * The client's side of one operation: frames deduplicated by seq, exactly one terminal, a queue
 * for the async iterator. Owned by the client, which routes frames here and re-attaches it.
 */
export class OperationHandle<R = unknown> implements Operation<R> {
  opId: string | undefined;
  done = false;
  lastSeq = 0;
  /** the request whose frames currently follow the operation (the start, then each attach) */
  reqId: string;
  /** the start was written to some connection */
  sent = false;
  readonly result: Promise<R>;
  private resolveResult!: (r: R) => void;
  private rejectResult!: (e: unknown) => void;
  private readonly queue: OperationFrame[] = [];
  private wake: (() => void) | undefined;
  private startedWaiters: Array<() => void> = [];

  constructor(
    readonly method: string,
    readonly params: Record<string, unknown> | undefined,
    reqId: string,
    private readonly cancelFn: (op: OperationHandle<R>) => Promise<void>,
  ) {
    this.reqId = reqId;
    this.result = new Promise<R>((res, rej) => {
      this.resolveResult = res;
      this.rejectResult = rej;
    });
    // an application that only iterates must not see an unhandled rejection
    this.result.catch(() => undefined);
  }

  /** A frame for this operation; returns true when it was its terminal. */
  frame(f: Record<string, any>): boolean {
    if (this.done) return false;
    if (typeof f.op_id === 'string' && this.opId === undefined) {
      this.opId = f.op_id;
      for (const w of this.startedWaiters.splice(0)) w();
    }
    if (f.type === 'result' || f.type === 'error') {
      this.finish(f.type === 'result' ? { ok: true, value: f.result } : { ok: false, error: SwitchboardError.fromWire(f.error) });
      return true;
    }
    const seq = typeof f.seq === 'number' ? f.seq : this.lastSeq + 1;
    if (seq <= this.lastSeq) return false; // a repeat after a re-attach or a resume
    this.lastSeq = seq;
    if (f.type === 'progress') this.push({ type: 'progress', seq, stage: f.stage, progress: f.progress ?? {} });
    else if (f.type === 'stream') this.push({ type: 'stream', seq, data: f.data });
    return false;
  }

  finish(outcome: { ok: true; value: unknown } | { ok: false; error: unknown }): void {
    if (this.done) return;
    this.done = true;
    if (outcome.ok) this.resolveResult(outcome.value as R);
    else this.rejectResult(outcome.error);
    for (const w of this.startedWaiters.splice(0)) w();
    this.wake?.();
  }

  /** Resolves once the op_id is known or the operation ended. */
  started(): Promise<void> {
    if (this.opId !== undefined || this.done) return Promise.resolve();
    return new Promise((res) => this.startedWaiters.push(res));
  }

  cancel(): Promise<void> {
    return this.cancelFn(this);
  }

  private push(f: OperationFrame): void {
    this.queue.push(f);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<OperationFrame> {
    for (;;) {
      const f = this.queue.shift();
      if (f) {
        yield f;
        continue;
      }
      if (this.done) return;
      await new Promise<void>((res) => (this.wake = res));
      this.wake = undefined;
    }
  }
}
