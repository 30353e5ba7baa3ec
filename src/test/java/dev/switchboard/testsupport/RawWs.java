package dev.switchboard.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client on a plain blocking socket, for what a well-behaved client library will not
 * do: stay silent (no pongs), send invalid UTF-8, announce oversized frames, fragment by hand.
 */
public final class RawWs implements AutoCloseable {
  public static final int TEXT = 1;
  public static final int BINARY = 2;
  public static final int CONTINUATION = 0;
  public static final int CLOSE = 8;
  public static final int PING = 9;
  public static final int PONG = 10;

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  public final int status;

  /** A received frame. */
  public record Frame(int opcode, boolean fin, byte[] payload) {
    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    /** The close code of a close frame. */
    public int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
    }
  }

  public RawWs(int port, String uri) throws IOException {
    this(port, uri, 0);
  }

  /** With a small {@code receiveBuffer} (bytes, 0: the default) a client that stops reading stalls the sender soon. */
  public RawWs(int port, String uri, int receiveBuffer) throws IOException {
    this(port, uri, receiveBuffer, null);
  }

  /** Offering {@code subprotocol} (null: none). */
  public RawWs(int port, String uri, int receiveBuffer, String subprotocol) throws IOException {
    socket = new Socket();
    if (receiveBuffer > 0) {
      socket.setReceiveBufferSize(receiveBuffer);
    }
    socket.setTcpNoDelay(true); // small hand-written frames go out as written, not held by Nagle
    socket.connect(new java.net.InetSocketAddress("127.0.0.1", port));
    socket.setSoTimeout(15_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
    byte[] key = new byte[16];
    ThreadLocalRandom.current().nextBytes(key);
    String req = "GET " + uri + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n"
        + (subprotocol == null ? "" : "Sec-WebSocket-Protocol: " + subprotocol + "\r\n") + "\r\n";
    out.write(req.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    String statusLine = readLine();
    status = Integer.parseInt(statusLine.split(" ")[1]);
    String line;
    while (!(line = readLine()).isEmpty()) {
      // headers are not needed
      continue;
    }
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1 && c != '\n') {
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.US_ASCII);
  }

  public void send(int opcode, boolean fin, byte[] payload) throws IOException {
    sendHeader(opcode, fin, payload.length);
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    out.write(mask);
    byte[] masked = new byte[payload.length];
    for (int i = 0; i < payload.length; i++) {
      masked[i] = (byte) (payload[i] ^ mask[i & 3]);
    }
    out.write(masked);
    out.flush();
  }

  /** Writes several whole, masked frames with one socket write (a pipelined burst in one segment). */
  public void sendBatch(int opcode, java.util.List<byte[]> payloads) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] payload : payloads) {
      all.write(0x80 | opcode);
      int n = payload.length;
      if (n < 126) {
        all.write(0x80 | n);
      } else if (n < 65536) {
        all.write(0x80 | 126);
        all.write((n >> 8) & 0xff);
        all.write(n & 0xff);
      } else {
        all.write(0x80 | 127);
        for (int i = 7; i >= 0; i--) {
          all.write((int) ((long) n >> (8 * i)) & 0xff);
        }
      }
      byte[] mask = new byte[4];
      ThreadLocalRandom.current().nextBytes(mask);
      all.write(mask);
      for (int i = 0; i < n; i++) {
        all.write(payload[i] ^ mask[i & 3]);
      }
    }
    out.write(all.toByteArray());
    out.flush();
  }

  /** Writes only a frame header announcing {@code length} bytes (to test frame limits). */
  public void sendHeader(int opcode, boolean fin, long length) throws IOException {
    out.write((fin ? 0x80 : 0) | opcode);
    if (length < 126) {
      out.write(0x80 | (int) length);
    } else if (length < 65536) {
      out.write(0x80 | 126);
      out.write((int) (length >> 8) & 0xff);
      out.write((int) length & 0xff);
    } else {
      out.write(0x80 | 127);
      for (int i = 7; i >= 0; i--) {
        out.write((int) (length >> (8 * i)) & 0xff);
      }
    }
  }

  /** Writes bytes as they are (hand-built frames, or part of one) and flushes. */
  public void writeRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Ends the client's side of the TCP connection (FIN) while still reading. */
  public void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  public void flush() throws IOException {
    out.flush();
  }

  public void sendText(String s) throws IOException {
    send(TEXT, true, s.getBytes(StandardCharsets.UTF_8));
  }

  /** The next frame, or null when nothing arrives within the timeout. Throws on EOF. */
  public Frame read(Duration timeout) throws IOException {
    socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
    int b0;
    try {
      b0 = in.read();
    } catch (SocketTimeoutException e) {
      return null;
    }
    if (b0 < 0) {
      throw new java.io.EOFException("connection closed without a close frame");
    }
    socket.setSoTimeout(15_000);
    int b1 = in.readUnsignedByte();
    long len = b1 & 0x7f;
    if (len == 126) {
      len = in.readUnsignedShort();
    } else if (len == 127) {
      len = in.readLong();
    }
    byte[] payload = new byte[(int) len];
    in.readFully(payload);
    return new Frame(b0 & 0x0f, (b0 & 0x80) != 0, payload);
  }

  /** Reads frames until a close frame arrives (skipping others); fails after the timeout. */
  public Frame awaitClose(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Frame f = read(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
      if (f != null && f.opcode() == CLOSE) {
        return f;
      }
    }
    throw new AssertionError("no close frame within " + timeout);
  }

  /** Drops the TCP connection with a reset (SO_LINGER 0): no close frame, unread data discarded. */
  public void abort() {
    try {
      socket.setSoLinger(true, 0);
      socket.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing
    }
  }
}
