// A TCP proxy for the dead-connection tests.
import { createServer, connect } from 'node:net';

/**
 * A TCP proxy in front of node a that can swallow what the node sends (a connection that died on
 * the way to the client) while it still forwards the client's bytes. It records the opcodes of the
 * client's WebSocket frames and how the client's side ended (a reset or a FIN).
 */
export function blackholeProxy(port) {
  const conns = [];
  const server = createServer((down) => {
    const up = connect(port, '127.0.0.1');
    const c = { down, up, swallow: false, opcodes: [], end: undefined, buf: Buffer.alloc(0), upgraded: false };
    conns.push(c);
    down.on('data', (d) => {
      c.buf = Buffer.concat([c.buf, d]);
      parseClientFrames(c);
      up.write(d);
    });
    up.on('data', (d) => {
      if (!c.swallow) down.write(d);
    });
    down.on('error', (e) => (c.end ??= e.code));
    down.on('end', () => (c.end ??= 'FIN'));
    down.on('close', () => up.destroy());
    up.on('error', () => down.destroy());
    up.on('close', () => down.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, conns, port: server.address().port })));
}

function parseClientFrames(c) {
  if (!c.upgraded) {
    const i = c.buf.indexOf('\r\n\r\n');
    if (i < 0) return;
    c.buf = c.buf.subarray(i + 4);
    c.upgraded = true;
  }
  for (;;) {
    if (c.buf.length < 2) return;
    let len = c.buf[1] & 0x7f;
    let off = 2;
    if (len === 126) {
      if (c.buf.length < 4) return;
      len = c.buf.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (c.buf.length < 10) return;
      len = Number(c.buf.readBigUInt64BE(2));
      off = 10;
    }
    off += c.buf[1] & 0x80 ? 4 : 0;
    if (c.buf.length < off + len) return;
    c.opcodes.push(c.buf[0] & 0x0f);
    c.buf = c.buf.subarray(off + len);
  }
}
