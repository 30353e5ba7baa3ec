/**
 * One WebSocket, behind the few things the client needs from it, over either API it may come
 * with: the standard one (browsers, Node's global WebSocket) or the `ws` package's (Node 20),
 * which also shows pings, the status of a refused upgrade, and lets us reset the TCP connection.
 */

/** A WebSocket constructor: the global one, `ws`'s, or one the application passes. */
export type WebSocketCtor = new (url: string, protocols?: string | string[]) => unknown;

/**
 * A wire format other than JSON, passed by the application (the core ships none: CBOR lives in
 * the separate entry `@switchboard/client/cbor`). The SDK offers `subprotocol` at the upgrade and
 * uses the codec only when the node selects it; otherwise the connection speaks JSON.
 */
export interface Codec {
  /** a short name for logs and errors, e.g. 'cbor' */
  readonly name: string;
  /** the WebSocket subprotocol that selects this format, e.g. 'switchboard.v1.cbor' */
  readonly subprotocol: string;
  /** true when its frames travel as binary WebSocket messages */
  readonly binary: boolean;
  /** one envelope → one message */
  encode(msg: Record<string, unknown>): Uint8Array | string;
  /** one message → one envelope (throws on malformed input: the message is then ignored) */
  decode(data: Uint8Array | string): unknown;
}

export interface TransportHandlers {
  /** One decoded envelope. */
  frame(f: Record<string, any>): void;
  /** Something arrived that is not a message (a ping): the connection is alive. */
  life(): void;
  /** The socket ended (once), with the close code seen (1006 when none). */
  closed(code: number, reason: string): void;
  /** The upgrade was refused with an HTTP status (only where the WebSocket API shows it). */
  refused(status: number, retryAfterMs: number | undefined): void;
}

interface StandardSocket {
  readyState: number;
  protocol?: string;
  binaryType?: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

interface NodeWsSocket extends StandardSocket {
  on(event: string, fn: (...args: any[]) => void): void;
  removeAllListeners(): void;
  terminate(): void;
  _socket?: { resetAndDestroy?: () => void; destroy?: () => void };
}

export class Transport {
  private readonly sock: StandardSocket;
  private ended = false;
  /** Set once the client gave up on this socket: nothing of it reaches the client any more. */
  private detached = false;

  constructor(ctor: WebSocketCtor, url: string, private readonly h: TransportHandlers, private readonly codec?: Codec) {
    this.sock = (codec ? new ctor(url, [codec.subprotocol]) : new ctor(url)) as StandardSocket;
    const s = this.sock as NodeWsSocket;
    if (typeof s.on === 'function' && typeof s.terminate === 'function') {
      s.on('message', (data: unknown, isBinary: boolean) => {
        this.onMessage(isBinary ? toBytes(data) : String(data));
      });
      s.on('ping', () => this.onLife());
      s.on('pong', () => this.onLife());
      s.on('close', (code: number, reason: unknown) => this.onClosed(code, String(reason ?? '')));
      s.on('error', () => {
        /* 'close' follows */
      });
      s.on('unexpected-response', (req: { destroy(): void }, res: { statusCode?: number; headers: Record<string, unknown>; resume?(): void }) => {
        const status = res.statusCode ?? 0;
        const ra = Number(res.headers['retry-after']);
        res.resume?.();
        req.destroy();
        if (!this.ended) {
          this.ended = true;
          if (!this.detached) this.h.refused(status, Number.isFinite(ra) ? ra * 1000 : undefined);
        }
      });
    } else {
      this.sock.binaryType = 'arraybuffer';
      this.sock.onmessage = (ev) => {
        const d = ev.data;
        this.onMessage(typeof d === 'string' ? d : toBytes(d));
      };
      this.sock.onclose = (ev) => this.onClosed(ev.code, ev.reason);
      this.sock.onerror = () => {
        /* onclose follows */
      };
    }
  }

  /** The codec in use: the application's when the node selected its subprotocol, else none (JSON). */
  private selected(): Codec | undefined {
    const c = this.codec;
    return c && this.sock.protocol === c.subprotocol ? c : undefined;
  }

  /** Encodes and sends one envelope; false when the socket is not open (nothing is sent). */
  send(msg: Record<string, unknown>): boolean {
    if (this.ended || this.sock.readyState !== 1) return false;
    const c = this.selected();
    this.sock.send(c ? c.encode(msg) : JSON.stringify(msg));
    return true;
  }

  /**
   * A clean close: the closing handshake tells the node that every frame it wrote was read, and
   * 1000 ends the session. Only for the application's own close, or a socket still connecting.
   */
  close(code: number): void {
    this.detached = true;
    try {
      this.sock.close(code);
    } catch {
      /* already closing */
    }
  }

  /**
   * Gives up on a socket whose frames may not all have been read (dead-connection detection, a
   * newer attempt): never a closing handshake, which would tell the node that everything it wrote
   * was read and let a resume skip what was not (docs/protocol.md, "Sessions"). With `ws` the TCP
   * connection is reset. The standard API cannot drop a connection without a close frame: the
   * socket is left to the node, which closes it with 4009 once the next connection of the same
   * device arrives (the client keeps the device id from the first `connected`), and its topic
   * events and operation frames are still read meanwhile (repeats are dropped by offset and seq),
   * so nothing it delivers is lost. Returns true when the connection was dropped here.
   */
  abort(): boolean {
    const s = this.sock as NodeWsSocket;
    if (typeof s.terminate === 'function') {
      this.detached = true;
      this.ended = true;
      const raw = s._socket;
      if (raw && typeof raw.resetAndDestroy === 'function') raw.resetAndDestroy();
      else s.terminate();
      return true;
    }
    this.lingering = true;
    return false;
  }

  /** Abandoned but still open (standard API): its topic and operation frames are still wanted. */
  lingering = false;

  private onMessage(data: string | Uint8Array | undefined): void {
    if (data === undefined || (this.detached && !this.lingering)) return;
    const c = this.selected();
    let f: unknown;
    try {
      // a connection speaks one format: text is JSON, binary is the codec's (docs/protocol.md)
      f = typeof data === 'string' ? (c && !c.binary ? c.decode(data) : JSON.parse(data)) : c?.binary ? c.decode(data) : undefined;
    } catch {
      return;
    }
    if (f && typeof f === 'object') this.h.frame(f as Record<string, any>);
  }

  private onLife(): void {
    if (!this.detached) this.h.life();
  }

  private onClosed(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.detached || this.lingering) this.h.closed(code || 1006, reason);
  }
}

/** A binary message as bytes: ws gives a Buffer (a Uint8Array) or Buffer[], the standard API an ArrayBuffer. */
function toBytes(d: unknown): Uint8Array | undefined {
  if (d instanceof Uint8Array) return d;
  if (d instanceof ArrayBuffer) return new Uint8Array(d);
  if (Array.isArray(d)) {
    const out = new Uint8Array(d.reduce((n: number, b: Uint8Array) => n + b.length, 0));
    let at = 0;
    for (const b of d as Uint8Array[]) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  }
  return undefined;
}
