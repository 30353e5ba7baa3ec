package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.examples.ReportWorker;
import dev.switchboard.testsupport.ChildNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The example external worker (its own JVM) runs report.build for clients of two gateway nodes:
 * cancelled from a client on the other node and over HTTP, and NODE_LOST when it is SIGKILLed.
 */
@Cluster(nodes = 2, env = {
    "SB_OPS_EXTERNAL=" + ReportWorker.KIND, "SB_CLUSTER_QUORUM=" + ExternalWorkerTest.QUORUM})
class ExternalWorkerTest {
  /**
   * The tests kill members one after another (a gateway, then the worker service, a data member too):
   * under the majority rule the two gateways left of four expected would stop serving (docs/protocol.md,
   * "Partitions"). These tests are about operations across node deaths, so the rule is off.
   */
  static final String QUORUM = "1";
  static Nodes nodes;
  static ChildNode worker;

  @BeforeAll
  static void up() {
    worker = startWorker();
  }

  static ChildNode startWorker() {
    return ChildNode.start(ReportWorker.class.getName(), "report-1", nodes.members(), Map.of("SB_CLUSTER_QUORUM", QUORUM),
        "serving " + ReportWorker.KIND);
  }

  @AfterAll
  static void down() {
    if (worker != null) {
      worker.close();
    }
  }

  static WsClient connect(int node, String user) {
    return nodes.client(node, user);
  }

  @Test
  void theServiceRunsTheKindAndACancelFromAnotherNodeEndsIt() {
    try (WsClient a = connect(0, "ops1"); WsClient b = connect(1, "ops1")) {
      int id = a.request(ReportWorker.KIND, WsClient.params().put("rows", 1_000_000).put("delay_ms", 5));
      JsonNode first = a.await(x -> x.path("id").asInt(-1) == id, Duration.ofSeconds(15));
      assertEquals("queued", first.get("stage").asText(), first.toString());
      assertEquals(1_000_000, first.at("/progress/total").asLong(), "the kind's total from the start: " + first);
      assertEquals("rows", first.at("/progress/unit").asText(), first.toString());
      String opId = first.get("op_id").asText();
      JsonNode rows = a.await(x -> x.path("id").asInt(-1) == id && "stream".equals(x.path("type").asText()),
          Duration.ofSeconds(15));
      assertEquals(1, rows.at("/data/0/n").asInt());
      JsonNode status = b.call("op.status", WsClient.params().put("op_id", opId));
      assertEquals("report-1", status.at("/result/node_id").asText(), "runs in the service's node");
      assertEquals("result", b.call("op.cancel", WsClient.params().put("op_id", opId)).get("type").asText());
      JsonNode end = a.await(x -> x.path("id").asInt(-1) == id && WsClient.isTerminal(x), Duration.ofSeconds(10));
      assertEquals("CANCELLED", end.at("/error/code").asText());
    }
  }

  @Test
  void aServiceCancelsOverHttp() throws Exception {
    try (WsClient a = connect(1, "ops2")) {
      int id = a.request(ReportWorker.KIND, WsClient.params().put("rows", 1_000_000).put("delay_ms", 5));
      String opId = a.await(x -> x.path("id").asInt(-1) == id, Duration.ofSeconds(15)).get("op_id").asText();
      String token = Tokens.hs256(Tokens.claims("svc", 600).put("roles", new JsonArray().add("service")));
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + nodes.node(0).port() + "/api/v1/ops/" + opId + "/cancel"))
          .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody())
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      JsonNode end = a.await(x -> x.path("id").asInt(-1) == id && WsClient.isTerminal(x), Duration.ofSeconds(10));
      assertEquals("CANCELLED", end.at("/error/code").asText());
    }
  }

  @Test
  void whenTheClientsNodeIsKilledTheOperationGoesOnAndTheClientReattachesElsewhere() {
    String members = nodes.members();
    String opId;
    long lastSeq;
    int lastRow;
    try (ChildNode gateway = ChildNode.start("gw-child", members,
        Map.of("SB_OPS_EXTERNAL", ReportWorker.KIND, "SB_CLUSTER_QUORUM", QUORUM))) {
      WsClient c = WsClient.connect(nodes.vertx(), gateway.port, Tokens.user("ops4"));
      int id = c.request(ReportWorker.KIND, WsClient.params().put("rows", 3000).put("delay_ms", 20));
      JsonNode f = c.await(x -> x.path("id").asInt(-1) == id && "stream".equals(x.path("type").asText()),
          Duration.ofSeconds(15));
      opId = f.get("op_id").asText();
      lastSeq = f.get("seq").asLong();
      lastRow = f.at("/data/99/n").asInt();
      gateway.kill(); // SIGKILL the client's node; the operation runs in the worker service
      c.awaitClose(Duration.ofSeconds(15));
      c.close();
    }
    try (WsClient again = connect(0, "ops4")) {
      int id = again.request("op.attach", WsClient.params().put("op_id", opId).put("after_seq", lastSeq));
      int expect = lastRow + 1;
      while (true) {
        JsonNode f = again.await(x -> x.path("id").asInt(-1) == id, Duration.ofSeconds(30));
        if ("stream".equals(f.get("type").asText())) {
          assertEquals(expect, f.at("/data/0/n").asInt(), "no row lost or repeated across the crash");
          expect += f.get("data").size();
        }
        if (WsClient.isTerminal(f)) {
          assertEquals(3000, f.at("/result/rows").asInt(), f.toString());
          break;
        }
      }
      assertEquals(3001, expect);
    }
  }

  @Test
  void killingTheWorkersNodeEndsItsOperationsWithNodeLost() {
    try (WsClient a = connect(0, "ops3")) {
      int id = a.request(ReportWorker.KIND, WsClient.params().put("rows", 1_000_000).put("delay_ms", 5));
      a.await(x -> x.path("id").asInt(-1) == id && "stream".equals(x.path("type").asText()), Duration.ofSeconds(15));
      long t0 = System.nanoTime();
      worker.kill();
      JsonNode end = a.await(x -> x.path("id").asInt(-1) == id && WsClient.isTerminal(x), Duration.ofSeconds(20));
      assertEquals("NODE_LOST", end.at("/error/code").asText(), end.toString());
      assertTrue(end.at("/error/retryable").asBoolean());
      assertTrue(System.nanoTime() - t0 < 15_000_000_000L, "from the membership event, not a long timeout");
    } finally {
      worker = startWorker(); // for any test that runs after this one
    }
  }
}
