import { SwitchboardError } from './errors.js';
import type { Link } from './link.js';
import { OperationHandle, type Operation } from './operation-handle.js';

/**
 * The client's operations: starts, the routing of their frames, and their re-attach after a
 * reconnect (`resumed:true`: the node re-attached them under their request ids; `resumed:false`:
 * `op.attach` after the last seq seen). State lives on the caller's event loop.
 */
export class Operations {
  /** every request id an operation has been followed under (start, attaches) */
  private readonly byReq = new Map<string, OperationHandle<any>>();
  /** the first handle to learn each op_id (frames without a request id we know) */
  private readonly byId = new Map<string, OperationHandle<any>>();

  constructor(private readonly link: Link) {}

  start<R>(method: string, params: Record<string, unknown> | undefined, signal: AbortSignal | undefined): Operation<R> {
    const op = new OperationHandle<R>(method, params, this.link.id(), (o) => this.cancel(o));
    this.byReq.set(op.reqId, op);
    if (signal) {
      const onAbort = (): void => void op.cancel().catch(() => undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      const off = (): void => signal.removeEventListener('abort', onAbort);
      op.result.then(off, off);
      if (signal.aborted) {
        void op.cancel();
        return op;
      }
    }
    this.link.whenConnected(() => this.send(op));
    return op;
  }

  /** A new connection: re-attach (or re-send) what its session does not hold. */
  restore(resumed: boolean): void {
    for (const op of new Set(this.byReq.values())) {
      if (op.done || !op.sent) continue; // unsent ones wait in the outbox
      if (resumed) continue; // the session holds them: re-attached under their request ids
      if (op.opId === undefined) {
        // not known to have started: the same request again attaches to it if it did (dedupe)
        this.send(op);
      } else {
        const id = this.link.id();
        op.reqId = id;
        this.byReq.set(id, op);
        this.link.write({ id, method: 'op.attach', params: { op_id: op.opId, after_seq: op.lastSeq } });
      }
    }
  }

  /**
   * A frame that may be an operation's: to the operation followed under that request id, or (a
   * request id we do not know, `isCall` false) the one that has its op_id. Two handles may follow
   * one operation (a deduplicated start), so the op_id alone does not say which. True when taken.
   */
  route(f: Record<string, any>, isCall: boolean): boolean {
    let op = typeof f.id === 'string' ? this.byReq.get(f.id) : undefined;
    if (!op && typeof f.op_id === 'string' && !isCall) op = this.byId.get(f.op_id);
    if (!op) return false;
    if (op.opId === undefined && typeof f.op_id === 'string' && !this.byId.has(f.op_id)) this.byId.set(f.op_id, op);
    if (op.frame(f)) this.forget(op);
    return true;
  }

  /** Every live operation ends with `err` (the client was closed, or stopped for good). */
  failAll(err: SwitchboardError): void {
    for (const op of new Set(this.byReq.values())) op.finish({ ok: false, error: err });
    this.byReq.clear();
    this.byId.clear();
  }

  private send(op: OperationHandle<any>): void {
    if (op.done) return;
    if (op.sent) {
      // sent before on a connection that is gone: a new request id for the same start
      const id = this.link.id();
      op.reqId = id;
      this.byReq.set(id, op);
    }
    op.sent = true;
    this.link.write({ id: op.reqId, method: op.method, ...(op.params ? { params: op.params } : {}) });
  }

  private forget(op: OperationHandle<any>): void {
    for (const [k, v] of [...this.byReq]) if (v === op) this.byReq.delete(k);
    if (op.opId !== undefined && this.byId.get(op.opId) === op) this.byId.delete(op.opId);
  }

  private async cancel(op: OperationHandle<any>): Promise<void> {
    if (op.done) return;
    if (!op.sent) {
      this.forget(op);
      op.finish({ ok: false, error: new SwitchboardError('CANCELLED', 'cancelled before it started') });
      return;
    }
    await op.started();
    if (op.done || op.opId === undefined) return;
    try {
      await this.link.call('op.cancel', { op_id: op.opId });
    } catch (err) {
      // finished meanwhile: its terminal says how
      if (!(err instanceof SwitchboardError && err.code === 'UNKNOWN_OPERATION')) throw err;
    }
  }
}
