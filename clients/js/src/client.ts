import { backoffDelay, type BackoffOptions } from './backoff.js';
import { afterClose, afterRefusal, refusesToken, refusesTokenStatus, type Circumstances, type Next } from './close-codes.js';
import { Emitter } from './emitter.js';
import { SwitchboardError } from './errors.js';
import { realClock, type Clock, type Link } from './link.js';
import type { Operation } from './operation-handle.js';
import { Operations } from './operations.js';
import type { PresenceChange, SubscribeOptions, Subscription, TopicEvent } from './subscription.js';
import { Topics } from './topics.js';
import { Transport, type Codec, type WebSocketCtor } from './transport.js';

export type State = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** The node's `connected` frame. */
export interface ConnectedInfo {
  connection_id: string;
  session_id: string;
  node_id: string;
  user_id: string;
  device_id: string;
  protocol_version: number;
  server_version: string;
  heartbeat_ms: number;
  resumed: boolean;
}

export interface DirectMessage {
  data: unknown;
  from_user: string;
  from_device?: string;
}

export interface SwitchboardOptions {
  /** a fixed token (no refresh possible), or: */
  token?: string;
  /** asked for a token at the first connect, after 401/403 and 4001, and on `token_expiring` (one call at a time) */
  getToken?: () => Promise<string>;
  /** this device's id; default: the one the first `connected` frame names, kept for every reconnect */
  deviceId?: string;
  /** reconnect backoff (full jitter; 500 ms … 20 s) */
  backoff?: BackoffOptions;
  /** after a drain (1012) the `reconnect` frame's delay plus up to this much (default 1000 ms) */
  drainJitterMs?: number;
  /** no frame nor ping for heartbeat_ms + this → the connection is dead (default 10 s) */
  heartbeatGraceMs?: number;
  /** default timeout of `call` (default 30 s) */
  callTimeoutMs?: number;
  /** refused upgrades (401/403) or token refreshes in a row before giving up (default 3) */
  maxAuthFailures?: number;
  /** the WebSocket class (default: the global one, else the `ws` package) */
  WebSocket?: WebSocketCtor;
  /** a wire format other than JSON, e.g. `cbor` from `@switchboard/client/cbor` (JSON when the node does not select it) */
  codec?: Codec;
  /**
   * where `online`, `offline` and `visibilitychange` come from (default: the window, in browsers;
   * none in Node). `online` tries at once, `offline` pauses the attempts, `visibilitychange`
   * checks the connection and a due attempt at once (timers of background tabs run late).
   */
  events?: BrowserEvents | null;
  /** for tests */
  clock?: Clock;
  /** for tests: the random source of the jitter */
  random?: () => number;
}

/** The few members of a window the client listens to. */
export interface BrowserEvents {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
  /** false when the browser knows it is offline (navigator.onLine) */
  readonly navigator?: { readonly onLine?: boolean };
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ClientEvents {
  state: (s: State) => void;
  connected: (info: ConnectedInfo) => void;
  /** a connection ended; `willReconnect` false when the SDK stopped (4009, auth, app close) */
  disconnected: (info: { code: number; reason: string; willReconnect: boolean; delayMs?: number }) => void;
  error: (err: SwitchboardError) => void;
  direct: (m: DirectMessage) => void;
  /** topics a token refresh no longer allows (their subscriptions ended) */
  unsubscribed: (topics: string[]) => void;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  /** written to the current connection (a lost connection fails it) */
  sent?: boolean;
}

/**
 * A Switchboard connection that stays up: reconnects with backoff, resumes its session on any
 * node, carries subscriptions and operations across, and hands every topic event to the
 * application exactly once, in offset order. All state lives on the caller's event loop.
 */
export class Switchboard extends Emitter<ClientEvents> {
  private _state: State = 'disconnected';
  private transport: Transport | undefined;
  private info: ConnectedInfo | undefined;
  private sessionId: string | undefined;
  private deviceId: string | undefined;
  private token: string | undefined;
  private tokenFlight: Promise<string> | undefined;
  private attempt = 0;
  private authFailures = 0;
  private drainAfterMs: number | undefined;
  private reconnectTimer: unknown;
  /** when the next attempt is due (clock time); undefined while none waits (one is under way, or none is needed) */
  private reconnectDue: number | undefined;
  private heartbeatTimer: unknown;
  private lastInbound = 0;
  private pingSent = false;
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  /** calls waiting for a connection */
  private readonly outbox: Array<() => void> = [];
  private readonly topics: Topics;
  private readonly ops: Operations;
  private connectWaiters: Pending[] = [];
  private wsCtor: WebSocketCtor | undefined;
  private readonly clock: Clock;
  private readonly random: () => number;
  private offline = false;
  /** removes the browser listeners (online/offline/visibility) */
  private unlisten: () => void = () => undefined;

  constructor(
    private readonly url: string | (() => string),
    private readonly opts: SwitchboardOptions = {},
  ) {
    super();
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.token = opts.token;
    this.deviceId = opts.deviceId;
    this.wsCtor = opts.WebSocket;
    const link: Link = {
      clock: this.clock,
      id: () => 'r' + this.nextId++,
      write: (msg) => this.write(msg),
      call: (method, params) => this.call(method, params),
      whenConnected: (fn) => this.whenConnected(fn),
      connected: () => this._state === 'connected',
      hasSession: () => this.sessionId !== undefined,
      retryDelay: () => backoffDelay(2, this.opts.backoff, this.random),
    };
    this.topics = new Topics(link);
    this.ops = new Operations(link);
    const g = opts.events === undefined ? browserWindow() : opts.events;
    if (g) {
      this.offline = g.navigator?.onLine === false;
      const listeners: Record<string, () => void> = {
        // attempts pause while offline (each would fail); `online` resumes them at once
        offline: () => (this.offline = true),
        online: () => {
          this.offline = false;
          if (this.reconnectDue !== undefined) this.reconnectNow();
        },
        // a background tab's timers are throttled: check the connection (and a due attempt) as soon as it is shown
        visibilitychange: () => this.wake(),
      };
      for (const [type, fn] of Object.entries(listeners)) g.addEventListener(type, fn);
      this.unlisten = () => {
        for (const [type, fn] of Object.entries(listeners)) g.removeEventListener(type, fn);
      };
    }
  }

  get state(): State {
    return this._state;
  }

  /** The current connection's `connected` frame, while connected. */
  get connection(): ConnectedInfo | undefined {
    return this._state === 'connected' ? this.info : undefined;
  }

  /** Resolves once connected (reconnecting as long as it takes); rejects when the SDK gives up. */
  connect(): Promise<ConnectedInfo> {
    if (this._state === 'closed') return Promise.reject(new SwitchboardError('CLOSED', 'the client was closed'));
    if (this._state === 'connected' && this.info) return Promise.resolve(this.info);
    const p = new Promise<ConnectedInfo>((resolve, reject) => this.connectWaiters.push({ resolve: resolve as (v: unknown) => void, reject }));
    if (this._state === 'disconnected') {
      this.setState('connecting');
      void this.open();
    }
    return p;
  }

  /** Ends the session (close 1000) and everything in it; final. */
  close(): void {
    if (this._state === 'closed') return;
    const t = this.transport;
    this.transport = undefined;
    t?.close(1000);
    this.stopTimers();
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.reconnectDue = undefined;
    this.unlisten();
    const err = new SwitchboardError('CLOSED', 'the client was closed');
    this.failAll(err);
    this.topics.closed();
    this.setState('closed');
    this.emit('disconnected', { code: 1000, reason: 'closed by the application', willReconnect: false });
    for (const w of this.connectWaiters.splice(0)) w.reject(err);
  }

  // ---------------------------------------------------------------- requests

  /** One request, one terminal: the result, or a SwitchboardError. Waits for a connection. */
  call<R = unknown>(method: string, params?: Record<string, unknown>, options: CallOptions = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this._state === 'closed') return reject(new SwitchboardError('CLOSED', 'the client was closed'));
      const id = 'r' + this.nextId++;
      const signal = options.signal;
      let timer: unknown;
      const done = (): void => {
        this.pending.delete(id);
        if (timer !== undefined) this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(new SwitchboardError('ABORTED', 'the call was aborted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = this.clock.setTimeout(() => {
        done();
        reject(new SwitchboardError('TIMEOUT', `no answer to ${method} in time`, true));
      }, options.timeoutMs ?? this.opts.callTimeoutMs ?? 30_000);
      const entry: Pending = {
        resolve: (v) => {
          done();
          resolve(v as R);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      this.pending.set(id, entry);
      this.whenConnected(() => {
        if (!this.pending.has(id)) return;
        entry.sent = true;
        this.write({ id, method, ...(params ? { params } : {}) });
      });
    });
  }

  /** Starts an operation (a streaming method); the handle follows it across reconnects. */
  start<R = unknown>(method: string, params?: Record<string, unknown>, options: { signal?: AbortSignal } = {}): Operation<R> {
    if (this._state === 'closed') throw new SwitchboardError('CLOSED', 'the client was closed');
    return this.ops.start<R>(method, params, options.signal);
  }

  /** Shares one server subscription per topic; events from the current position (or `since`) on. */
  subscribe<T = unknown>(topic: string, options: SubscribeOptions<T> = {}): Subscription {
    if (this._state === 'closed') throw new SwitchboardError('CLOSED', 'the client was closed');
    return this.topics.subscribe(topic, options);
  }

  presence(topic: string): Promise<{ members: Array<{ user_id: string; devices: string[] }>; count: number }> {
    return this.call('topic.presence', { topic });
  }

  publish(topic: string, data: unknown): Promise<{ offset: number; epoch: string }> {
    return this.call('topic.publish', { topic, data });
  }

  /**
   * `user.send`: a `direct` frame to `user`'s other connections (or one device, or all with
   * `includeSelf`). The contract's `user.send` reaches only the caller's own user (PROTOCOL.md §4):
   * another user is refused here with FORBIDDEN; services address any user over HTTP.
   */
  send(user: string, data: unknown, options: { deviceId?: string; includeSelf?: boolean } = {}): Promise<{ delivered: number }> {
    const me = this.info?.user_id;
    if (me !== undefined && user !== me) {
      return Promise.reject(new SwitchboardError('FORBIDDEN', 'user.send reaches only this connection\'s own user'));
    }
    return this.call('user.send', { data, ...(options.deviceId ? { device_id: options.deviceId } : {}), ...(options.includeSelf ? { include_self: true } : {}) });
  }

  onDirect(handler: (m: DirectMessage) => void): () => void {
    return this.on('direct', handler);
  }

  // ---------------------------------------------------------------- connection

  private setState(s: State): void {
    if (this._state === s) return;
    this._state = s;
    this.emit('state', s);
  }

  private async open(): Promise<void> {
    let token: string | undefined;
    try {
      token = this.token ?? (this.opts.getToken ? await this.refreshToken() : undefined);
    } catch (err) {
      this.emit('error', new SwitchboardError('AUTH_FAILED', 'getToken failed: ' + String(err), true));
      return this.scheduleReconnect(1006, 'getToken failed');
    }
    if (this._state !== 'connecting' && this._state !== 'reconnecting') return;
    const ctor = this.wsCtor ?? (this.wsCtor = await resolveWebSocket());
    if (this._state !== 'connecting' && this._state !== 'reconnecting') return;
    const base = typeof this.url === 'function' ? this.url() : this.url;
    const u = new URL(base);
    if (token) u.searchParams.set('token', token);
    if (this.deviceId) u.searchParams.set('device_id', this.deviceId);
    if (this.sessionId) u.searchParams.set('session_id', this.sessionId);
    // a newer attempt supersedes one still under way: dropped, never closed cleanly
    this.transport?.abort();
    const t: Transport = new Transport(ctor, u.toString(), {
      frame: (f) => this.onFrame(t, f),
      life: () => {
        if (t === this.transport) this.lastInbound = this.clock.now();
      },
      closed: (code, reason) => this.onClosed(t, code, reason),
      refused: (status, retryAfterMs) => this.onRefused(t, status, retryAfterMs),
    }, this.opts.codec);
    this.transport = t;
    this.lastInbound = this.clock.now();
  }

  private onFrame(t: Transport, f: Record<string, any>): void {
    const current = t === this.transport;
    if (current) {
      this.lastInbound = this.clock.now();
      this.pingSent = false;
    }
    switch (f.type) {
      case 'event':
        return this.topics.event(f as TopicEvent);
      case 'progress':
      case 'stream':
        return this.onReply(f, current);
      case 'result':
      case 'error':
        if (typeof f.op_id === 'string' || current) this.onReply(f, current);
        return;
    }
    if (!current) return;
    switch (f.type) {
      case 'connected':
        return this.onConnected(f as ConnectedInfo & { type: string });
      case 'presence':
        return this.topics.presence(f as PresenceChange);
      case 'direct':
        return this.emit('direct', { data: f.data, from_user: f.from_user, from_device: f.from_device });
      case 'token_expiring':
        return void this.refreshAuth();
      case 'reconnect':
        this.drainAfterMs = typeof f.after_ms === 'number' ? f.after_ms : 0;
        return;
    }
  }

  private onConnected(f: ConnectedInfo): void {
    const resumed = f.resumed === true && this.sessionId === f.session_id;
    this.info = f;
    this.sessionId = f.session_id;
    this.deviceId = f.device_id;
    this.attempt = 0;
    this.authFailures = 0;
    this.drainAfterMs = undefined;
    this.pingSent = false;
    this.setState('connected');
    this.armHeartbeat();
    // the session: topics and operations the node holds, or must be told again
    this.topics.restore(resumed);
    this.ops.restore(resumed);
    this.emit('connected', f);
    for (const w of this.connectWaiters.splice(0)) w.resolve(f);
    for (const fn of this.outbox.splice(0)) fn();
  }

  private onClosed(t: Transport, code: number, reason: string): void {
    if (t !== this.transport) return;
    this.transport = undefined;
    this.stopTimers();
    this.dropConnection();
    if (this._state === 'closed') return;
    if (refusesToken(code)) this.authFailures++;
    this.follow(afterClose(code, this.circumstances()), code, reason);
  }

  private onRefused(t: Transport, status: number, retryAfterMs: number | undefined): void {
    if (t !== this.transport) return;
    this.transport = undefined;
    this.stopTimers();
    if (refusesTokenStatus(status)) this.authFailures++;
    this.follow(afterRefusal(status, retryAfterMs, this.circumstances()), 1006, String(status));
  }

  private circumstances(): Circumstances {
    return {
      canRefreshToken: this.opts.getToken !== undefined,
      authFailures: this.authFailures,
      maxAuthFailures: this.opts.maxAuthFailures ?? 3,
      drainAfterMs: this.drainAfterMs,
      drainJitterMs: this.opts.drainJitterMs ?? 1000,
      retryJitterMs: this.opts.backoff?.minMs ?? 500,
      random: this.random,
    };
  }

  private follow(next: Next, code: number, reason: string): void {
    if ('stop' in next) return this.stop(next.stop, code, reason);
    if (next.newToken) this.token = undefined; // the next attempt asks getToken()
    this.scheduleReconnect(code, reason, next.delayMs);
  }

  private scheduleReconnect(code: number, reason: string, delayMs?: number): void {
    if (this._state === 'closed') return;
    const delay = delayMs ?? backoffDelay(this.attempt++, this.opts.backoff, this.random);
    this.setState('reconnecting');
    this.emit('disconnected', { code, reason, willReconnect: true, delayMs: delay });
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectDue = this.clock.now() + delay;
    this.reconnectTimer = this.clock.setTimeout(() => this.attemptIfDue(), delay);
  }

  /** The waiting attempt, when its time has come by the wall clock (timers of a throttled tab fire late, never early). */
  private attemptIfDue(): void {
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this._state !== 'reconnecting' || this.reconnectDue === undefined) return;
    const left = this.reconnectDue - this.clock.now();
    if (left > 0) this.reconnectTimer = this.clock.setTimeout(() => this.attemptIfDue(), left);
    else if (!this.offline) this.reconnectNow(); // offline: paused until `online`
  }

  /** The tab is shown again: its timers may have run late, so check the connection and a due attempt now. */
  private wake(): void {
    this.checkAlive();
    this.attemptIfDue();
  }

  private reconnectNow(): void {
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.reconnectDue = undefined;
    void this.open();
  }

  /** Gives up for good until the application calls connect() again (4009, auth). */
  private stop(err: SwitchboardError, code: number, reason: string): void {
    this.reconnectDue = undefined;
    this.failAll(err);
    this.setState('disconnected');
    this.emit('error', err);
    this.emit('disconnected', { code, reason, willReconnect: false });
    for (const w of this.connectWaiters.splice(0)) w.reject(err);
  }

  /** What a lost connection takes with it: its plain requests (not operations or topics). */
  private dropConnection(): void {
    const err = new SwitchboardError('DISCONNECTED', 'the connection was lost before the answer', true);
    for (const [id, p] of [...this.pending]) {
      if (!p.sent) continue; // still waiting for a connection
      this.pending.delete(id);
      p.reject(err);
    }
    this.topics.disconnected();
  }

  private failAll(err: SwitchboardError): void {
    this.dropConnection();
    for (const p of [...this.pending.values()]) p.reject(err);
    this.topics.stopped();
    this.ops.failAll(err);
    this.outbox.length = 0;
  }

  private stopTimers(): void {
    if (this.heartbeatTimer !== undefined) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /**
   * Dead-connection detection: after heartbeat_ms without a frame or ping a `system.ping` asks
   * for one (browsers do not show pings); after heartbeat_ms + grace the connection is dropped
   * (reset, never a clean close: see Transport.abort) and a new one resumes the session.
   */
  private armHeartbeat(): void {
    this.stopTimers();
    const hb = this.info?.heartbeat_ms || 25_000;
    const step = Math.max(100, Math.min(1000, hb / 4));
    const tick = (): void => {
      this.heartbeatTimer = undefined;
      if (this._state !== 'connected') return;
      this.checkAlive();
      if (this._state === 'connected') this.heartbeatTimer = this.clock.setTimeout(tick, step);
    };
    this.heartbeatTimer = this.clock.setTimeout(tick, step);
  }

  private checkAlive(): void {
    const t = this.transport;
    if (this._state !== 'connected' || !t) return;
    const hb = this.info?.heartbeat_ms || 25_000;
    const idle = this.clock.now() - this.lastInbound;
    if (idle > hb + (this.opts.heartbeatGraceMs ?? 10_000)) {
      this.abandon(t, 'no frame or ping from the node in time');
    } else if (idle > hb && !this.pingSent) {
      this.pingSent = true;
      this.write({ id: 'r' + this.nextId++, method: 'system.ping' });
    }
  }

  /** Leaves a connection that may hold unread frames, and reconnects. */
  private abandon(t: Transport, reason: string): void {
    this.transport = undefined;
    t.abort();
    this.stopTimers();
    this.dropConnection();
    this.scheduleReconnect(1006, reason);
  }

  private whenConnected(fn: () => void): void {
    if (this._state === 'connected' && this.transport) fn();
    else this.outbox.push(fn);
  }

  private write(msg: Record<string, unknown>): void {
    this.transport?.send(msg);
  }

  // ---------------------------------------------------------------- auth

  /** A new token from getToken(), one call at a time (4001, 401/403 and token_expiring share it). */
  private refreshToken(): Promise<string> {
    if (!this.tokenFlight) {
      const get = this.opts.getToken;
      if (!get) return this.token ? Promise.resolve(this.token) : Promise.reject(new SwitchboardError('UNAUTHORIZED', 'no token'));
      this.tokenFlight = get().then(
        (tok) => {
          this.tokenFlight = undefined;
          this.token = tok;
          return tok;
        },
        (err) => {
          this.tokenFlight = undefined;
          throw err;
        },
      );
    }
    return this.tokenFlight;
  }

  private refreshing: Promise<void> | undefined;

  /** token_expiring: a new token, then auth.refresh on this connection (single-flight). */
  private refreshAuth(): Promise<void> {
    if (!this.opts.getToken) return Promise.resolve();
    if (!this.refreshing) {
      this.refreshing = (async () => {
        try {
          const token = await this.refreshToken();
          const r = await this.call<{ unsubscribed?: string[] }>('auth.refresh', { token });
          const dropped = this.topics.revoked(r.unsubscribed ?? []);
          if (dropped.length) this.emit('unsubscribed', dropped);
        } catch (err) {
          this.emit('error', err instanceof SwitchboardError ? err : new SwitchboardError('AUTH_FAILED', String(err), true));
        } finally {
          this.refreshing = undefined;
        }
      })();
    }
    return this.refreshing;
  }

  /** Replies: an operation's frames to it, the rest to the waiting call (current connection only). */
  private onReply(f: Record<string, any>, current: boolean): void {
    const p = this.pending.get(String(f.id));
    if (this.ops.route(f, p !== undefined) || !current || !p) return;
    if (f.type === 'result') p.resolve(f.result);
    else if (f.type === 'error') p.reject(SwitchboardError.fromWire(f.error));
  }
}

/** The window (or a worker's global scope: it has online/offline too) in a browser; none in Node. */
function browserWindow(): BrowserEvents | null {
  const g = globalThis as { addEventListener?: unknown; navigator?: unknown };
  return typeof g.addEventListener === 'function' && typeof g.navigator === 'object' ? (globalThis as unknown as BrowserEvents) : null;
}

/**
 * Node: the `ws` package when installed (it can reset a connection, see Transport.abort), else
 * Node's global WebSocket. Browsers: the global WebSocket.
 */
async function resolveWebSocket(): Promise<WebSocketCtor> {
  const g = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (isNode || typeof g !== 'function') {
    const name = 'ws'; // a variable: bundlers for browsers must not try to resolve it
    try {
      const mod = (await import(/* @vite-ignore */ name)) as { WebSocket?: WebSocketCtor; default?: WebSocketCtor };
      const ctor = mod.WebSocket ?? mod.default;
      if (ctor) return ctor;
    } catch {
      /* below */
    }
  }
  if (typeof g === 'function') return g;
  throw new SwitchboardError('NO_WEBSOCKET', 'no global WebSocket: install the ws package or pass options.WebSocket');
}
