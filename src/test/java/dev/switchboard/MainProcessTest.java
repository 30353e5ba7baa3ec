package dev.switchboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dev.switchboard.Main} as a child process (PROTOCOL.md section 9): an invalid setting stops it
 * with one clear line and a non-zero exit, {@code token} prints one signed token, and SIGTERM drains
 * (reconnect, close 1012) and exits 0.
 */
class MainProcessTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  static Vertx vertx;

  @BeforeAll
  static void up() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    vertx.close();
  }

  /** Output of a finished child process. */
  record Outcome(int exit, String stdout, String stderr) {
    List<String> stderrLines() {
      return nonEmptyLines(stderr);
    }

    List<String> stdoutLines() {
      return nonEmptyLines(stdout);
    }

    private static List<String> nonEmptyLines(String s) {
      return Arrays.stream(s.split("\\R")).filter(l -> !l.isBlank()).toList();
    }
  }

  /** A running child: stdout and stderr go to files, so a chatty child never blocks on a full pipe. */
  record Child(Process process, Path out, Path err) {
    String stdout() throws IOException {
      return Files.readString(out, StandardCharsets.UTF_8);
    }

    String stderr() throws IOException {
      return Files.readString(err, StandardCharsets.UTF_8);
    }

    Outcome await(Duration within) throws Exception {
      if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError("process did not exit within " + within + "; stderr: " + stderr());
      }
      return new Outcome(process.exitValue(), stdout(), stderr());
    }
  }

  /**
   * {@code java -cp <this classpath> dev.switchboard.Main args…} in the project directory with no
   * inherited SB_* variables (nor JVM option variables, whose "Picked up" notice goes to stderr).
   */
  static Child launch(Map<String, String> env, String... args) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // C1 only and the serial collector: half the start-up CPU (see ChildNode), the same Main
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    cmd.addAll(dev.switchboard.testsupport.ChildNode.HAZELCAST_ACCESS);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.switchboard.Main"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(new File(System.getProperty("user.dir")));
    Map<String, String> e = pb.environment();
    e.keySet().removeIf(k -> k.startsWith("SB_"));
    e.remove("JAVA_TOOL_OPTIONS");
    e.remove("_JAVA_OPTIONS");
    e.remove("JDK_JAVA_OPTIONS");
    e.putAll(env);
    Path out = Files.createTempFile("sb-main-", ".out");
    Path err = Files.createTempFile("sb-main-", ".err");
    out.toFile().deleteOnExit();
    err.toFile().deleteOnExit();
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    return new Child(pb.start(), out, err);
  }

  static void assertOneCleanLine(Outcome o, String mustName) {
    List<String> lines = o.stderrLines();
    assertEquals(1, lines.size(), "exactly one stderr line, got: " + o.stderr());
    String line = lines.get(0);
    assertTrue(line.contains(mustName), "names " + mustName + ": " + line);
    assertFalse(line.contains("Exception"), "no exception: " + line);
    assertFalse(o.stderr().contains("Exception"), "no exception anywhere: " + o.stderr());
    assertFalse(o.stderr().lines().anyMatch(l -> l.stripLeading().startsWith("at ")), "no stack lines: " + o.stderr());
  }

  // ---- start-up failures ----

  @Test
  void invalidPortExitsNonZeroWithOneLineNamingIt() throws Exception {
    Outcome o = launch(Map.of("SB_JWT_SECRET", TestNode.SECRET, "SB_HTTP_PORT", "abc")).await(Duration.ofSeconds(30));
    assertNotEquals(0, o.exit, "exit code");
    assertOneCleanLine(o, "SB_HTTP_PORT");
  }

  @Test
  void authRequiredWithoutKeyExitsNonZeroWithOneLine() throws Exception {
    Outcome o = launch(Map.of()).await(Duration.ofSeconds(30));
    assertNotEquals(0, o.exit, "exit code");
    assertOneCleanLine(o, "SB_JWT_SECRET");
  }

  @Test
  void invalidPublicKeyExitsNonZeroWithOneLineBeforeJoining() throws Exception {
    int cluster = TestNode.freePort();
    Outcome o = launch(Map.of(
        "SB_JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----",
        "SB_HTTP_PORT", String.valueOf(TestNode.freePort()),
        "SB_CLUSTER_PORT", String.valueOf(cluster),
        "SB_CLUSTER_MEMBERS", "127.0.0.1:" + cluster,
        "SB_CLUSTER_NAME", "sb-proc-" + UUID.randomUUID().toString().substring(0, 8)))
        .await(Duration.ofSeconds(30));
    assertNotEquals(0, o.exit, "exit code");
    // exactly one line: nothing from Hazelcast, so the key was checked before the node joined
    assertOneCleanLine(o, "SB_JWT_PUBLIC_KEY");
  }

  // ---- token command ----

  @Test
  void tokenCommandPrintsOneSignedJwt() throws Exception {
    long before = Tokens.now();
    Outcome o = launch(Map.of("SB_JWT_SECRET", TestNode.SECRET),
        "token", "--sub", "alice", "--claim", "subs=chat:*", "--claim", "roles=service").await(Duration.ofSeconds(30));
    long after = Tokens.now();
    assertEquals(0, o.exit, "exit code; stderr: " + o.stderr());
    List<String> lines = o.stdoutLines();
    assertEquals(1, lines.size(), "one line on stdout: " + o.stdout());
    String token = lines.get(0).trim();
    String[] parts = token.split("\\.");
    assertEquals(3, parts.length, "a JWT: " + token);
    Base64.Decoder d = Base64.getUrlDecoder();
    JsonNode header = JSON.readTree(d.decode(parts[0]));
    JsonNode payload = JSON.readTree(d.decode(parts[1]));
    assertEquals("HS256", header.path("alg").asText());
    assertEquals("alice", payload.path("sub").asText());
    assertEquals(JSON.readTree("[\"chat:*\"]"), payload.path("subs"));
    assertEquals(JSON.readTree("[\"service\"]"), payload.path("roles"));
    long exp = payload.path("exp").asLong();
    assertTrue(exp >= before + 3600 - 5 && exp <= after + 3600 + 5, "exp ≈ now + 3600: " + exp);
    // signed with the configured secret
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(TestNode.SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    String sig = Base64.getUrlEncoder().withoutPadding()
        .encodeToString(mac.doFinal((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII)));
    assertEquals(sig, parts[2], "HS256 signature with SB_JWT_SECRET");
  }

  // ---- SIGTERM drain ----

  static int status(int port, String path) {
    try {
      HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(2)).GET().build();
      return HTTP.send(r, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1; // not listening yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void sigtermDrainsClientsAndExitsZero() throws Exception {
    int http = TestNode.freePort();
    int cluster = TestNode.freePort();
    Child child = launch(Map.of(
        "SB_HTTP_PORT", String.valueOf(http),
        "SB_HTTP_HOST", "127.0.0.1",
        "SB_CLUSTER_PORT", String.valueOf(cluster),
        "SB_CLUSTER_MEMBERS", "127.0.0.1:" + cluster,
        "SB_CLUSTER_NAME", "sb-proc-" + UUID.randomUUID().toString().substring(0, 8),
        "SB_JWT_SECRET", TestNode.SECRET,
        "SB_DRAIN_MS", "500",
        // no start-up warm-up (15 s budget by default, WarmUpTest's subject): ready as soon as it joined
        "SB_NODE_WARMUP_MS", "0"));
    Process p = child.process();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      int ready = -1;
      while (ready != 200) {
        if (!p.isAlive()) {
          throw new AssertionError("node exited with " + p.exitValue() + " before ready; stderr: " + child.stderr());
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError("not ready within 60 s (last status " + ready + "); stderr: " + child.stderr());
        }
        ready = status(http, "/health/ready");
        if (ready != 200) {
          Thread.sleep(100); // poll interval of a bounded wait
        }
      }
      try (WsClient c = WsClient.connect(vertx, http, Tokens.user("drainee", "chat:*"))) {
        assertEquals("drainee", c.connected().path("user_id").asText());
        p.destroy(); // SIGTERM
        JsonNode reconnect = c.await(f -> "reconnect".equals(f.path("type").asText()), Duration.ofSeconds(15));
        assertTrue(reconnect.has("reason"), "reconnect frame has a reason: " + reconnect);
        assertTrue(reconnect.path("after_ms").isIntegralNumber(), "reconnect frame has after_ms: " + reconnect);
        assertEquals(1012, c.awaitClose(Duration.ofSeconds(15)), "close code");
      }
      Outcome o = child.await(Duration.ofSeconds(30));
      assertEquals(0, o.exit, "exit code after SIGTERM; stderr: " + o.stderr());
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
