/**
 * `@switchboard/client/cbor`: the CBOR codec (RFC 8949) for the subprotocol `switchboard.v1.cbor`,
 * kept out of the core so that applications that speak JSON do not carry it:
 *
 *   import { cbor } from '@switchboard/client/cbor';
 *   new Switchboard(url, { getToken, codec: cbor });
 *
 * It maps the JSON data model plus byte strings: null, booleans, numbers (integers as CBOR
 * integers, the rest as float64), strings, arrays, plain objects, and Uint8Array (a byte string,
 * decoded as a Uint8Array). Integers beyond 2^53 decode to bigint; `undefined` object members are
 * left out and `undefined` elsewhere is written as null, as JSON.stringify does. The decoder reads
 * what the node's Jackson writes (definite and indefinite lengths, float16/32/64) and skips tags.
 */
import type { Codec } from './transport.js';

export const cbor: Codec = {
  name: 'cbor',
  subprotocol: 'switchboard.v1.cbor',
  binary: true,
  encode: (msg) => encode(msg),
  decode: (data) => decode(typeof data === 'string' ? utf8.encode(data) : data),
};

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: true });

/** The CBOR encoding of `value`. */
export function encode(value: unknown): Uint8Array {
  const w = new Writer();
  w.value(value, 0);
  return w.done();
}

/** The value of one CBOR data item that fills `bytes` (throws on malformed or trailing input). */
export function decode(bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  const v = r.item(0);
  if (v === BREAK) throw new Error('cbor: unexpected break');
  if (r.at !== bytes.length) throw new Error('cbor: trailing bytes');
  return v;
}

const MAX_DEPTH = 64;

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private at = 0;

  done(): Uint8Array {
    return this.buf.slice(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  /** A head: major type and argument, in the shortest form. */
  private head(major: number, n: number | bigint): void {
    const m = major << 5;
    if (typeof n === 'bigint' || n > 0xffffffff) {
      this.room(9);
      this.buf[this.at++] = m | 27;
      this.view.setBigUint64(this.at, BigInt(n));
      this.at += 8;
    } else if (n < 24) {
      this.byte(m | n);
    } else if (n < 0x100) {
      this.room(2);
      this.buf[this.at++] = m | 24;
      this.buf[this.at++] = n;
    } else if (n < 0x10000) {
      this.room(3);
      this.buf[this.at++] = m | 25;
      this.view.setUint16(this.at, n);
      this.at += 2;
    } else {
      this.room(5);
      this.buf[this.at++] = m | 26;
      this.view.setUint32(this.at, n);
      this.at += 4;
    }
  }

  private bytes(major: number, b: Uint8Array): void {
    this.head(major, b.length);
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  value(v: unknown, depth: number): void {
    if (depth > MAX_DEPTH) throw new Error('cbor: nesting too deep');
    switch (typeof v) {
      case 'string':
        return this.bytes(3, utf8.encode(v));
      case 'number':
        if (Number.isSafeInteger(v)) return v >= 0 ? this.head(0, v) : this.head(1, -1 - v);
        if (!Number.isFinite(v)) return this.byte(0xf6); // JSON.stringify writes null too
        this.room(9);
        this.buf[this.at++] = 0xfb;
        this.view.setFloat64(this.at, v);
        this.at += 8;
        return;
      case 'bigint':
        if (v >= 0n && v < 1n << 64n) return this.head(0, v);
        if (v < 0n && v >= -(1n << 64n)) return this.head(1, -1n - v);
        throw new Error('cbor: bigint out of range');
      case 'boolean':
        return this.byte(v ? 0xf5 : 0xf4);
      case 'undefined':
        return this.byte(0xf6);
      case 'object': {
        if (v === null) return this.byte(0xf6);
        if (v instanceof Uint8Array) return this.bytes(2, v);
        if (Array.isArray(v)) {
          this.head(4, v.length);
          for (const x of v) this.value(x, depth + 1);
          return;
        }
        const toJSON = (v as { toJSON?: () => unknown }).toJSON;
        if (typeof toJSON === 'function') return this.value(toJSON.call(v), depth + 1);
        const entries = Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function');
        this.head(5, entries.length);
        for (const [k, x] of entries) {
          this.bytes(3, utf8.encode(k));
          this.value(x, depth + 1);
        }
        return;
      }
      default:
        throw new Error('cbor: cannot encode a ' + typeof v);
    }
  }
}

/** Marks the "break" stop code of an indefinite-length item. */
const BREAK = Symbol('break');

class Reader {
  at = 0;
  private readonly view: DataView;

  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.b.length) throw new Error('cbor: truncated');
  }

  /** The argument of a head whose additional information is `info` (undefined: indefinite). */
  private arg(info: number): number | bigint | undefined {
    if (info < 24) return info;
    if (info === 31) return undefined;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (!size) throw new Error('cbor: reserved additional information');
    this.need(size);
    const at = this.at;
    this.at += size;
    if (size === 1) return this.b[at]!;
    if (size === 2) return this.view.getUint16(at);
    if (size === 4) return this.view.getUint32(at);
    const big = this.view.getBigUint64(at);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }

  private length(n: number | bigint | undefined): number {
    if (typeof n !== 'number' || n > this.b.length - this.at) throw new Error('cbor: bad length');
    return n;
  }

  item(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new Error('cbor: nesting too deep');
    this.need(1);
    const ib = this.b[this.at++]!;
    const major = ib >> 5;
    const info = ib & 31;
    if (major === 7) return this.simple(info);
    const n = this.arg(info);
    switch (major) {
      case 0:
        if (n === undefined) throw new Error('cbor: indefinite integer');
        return n;
      case 1:
        if (n === undefined) throw new Error('cbor: indefinite integer');
        return typeof n === 'bigint' ? -1n - n : n < Number.MAX_SAFE_INTEGER ? -1 - n : -1n - BigInt(n);
      case 2:
      case 3: {
        let bytes: Uint8Array;
        if (n === undefined) {
          const parts: Uint8Array[] = [];
          for (;;) {
            const part = this.item(depth + 1);
            if (part === BREAK) break;
            if (major === 3 ? typeof part !== 'string' : !(part instanceof Uint8Array)) throw new Error('cbor: bad chunk');
            parts.push(typeof part === 'string' ? utf8.encode(part) : (part as Uint8Array));
          }
          bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
          let o = 0;
          for (const p of parts) {
            bytes.set(p, o);
            o += p.length;
          }
        } else {
          const len = this.length(n);
          bytes = this.b.slice(this.at, this.at + len);
          this.at += len;
        }
        return major === 2 ? bytes : utf8d.decode(bytes);
      }
      case 4: {
        const out: unknown[] = [];
        if (n === undefined) {
          for (let v = this.item(depth + 1); v !== BREAK; v = this.item(depth + 1)) out.push(v);
        } else {
          for (let i = this.length(n); i > 0; i--) out.push(this.value(depth + 1));
        }
        return out;
      }
      case 5: {
        const out: Record<string, unknown> = {};
        const put = (k: unknown): void => {
          const key = typeof k === 'string' ? k : typeof k === 'number' || typeof k === 'bigint' ? String(k) : undefined;
          if (key === undefined) throw new Error('cbor: map key is not a string');
          // own data properties only: a key "__proto__" must not reach the prototype
          Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
        };
        if (n === undefined) {
          for (let k = this.item(depth + 1); k !== BREAK; k = this.item(depth + 1)) put(k);
        } else {
          for (let i = this.length(n); i > 0; i--) put(this.value(depth + 1));
        }
        return out;
      }
      default: // 6: a tag; its content stands for it
        if (n === undefined) throw new Error('cbor: indefinite tag');
        return this.value(depth + 1);
    }
  }

  /** An item that must not be a break. */
  private value(depth: number): unknown {
    const v = this.item(depth);
    if (v === BREAK) throw new Error('cbor: unexpected break');
    return v;
  }

  private simple(info: number): unknown {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
      case 23: // undefined: JSON has none
        return null;
      case 24:
        this.need(1);
        this.at++;
        return null;
      case 25: {
        this.need(2);
        const h = this.view.getUint16(this.at);
        this.at += 2;
        return half(h);
      }
      case 26:
        this.need(4);
        this.at += 4;
        return this.view.getFloat32(this.at - 4);
      case 27:
        this.need(8);
        this.at += 8;
        return this.view.getFloat64(this.at - 8);
      case 31:
        return BREAK;
      default:
        if (info < 20) return null; // unassigned simple values
        throw new Error('cbor: reserved simple value');
    }
  }
}

/** An IEEE 754 half-precision float. */
function half(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const v = exp === 0 ? mant * 2 ** -24 : exp === 31 ? (mant ? NaN : Infinity) : (mant + 1024) * 2 ** (exp - 25);
  return h & 0x8000 ? -v : v;
}
