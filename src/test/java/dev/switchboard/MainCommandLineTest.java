package dev.switchboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testsupport.TestNode;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Base64;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line, in process: the token command's options, and one line with exit code 2 for each bad argument. */
class MainCommandLineTest {
  private static final Map<String, String> ENV = Map.of("SB_JWT_SECRET", TestNode.SECRET);

  record Run(int exit, String out, String err) {
  }

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cl = Main.commandLine(ENV);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void tokenTakesRepeatedAndCommaSeparatedArrayClaimsNumbersAndBooleans() throws Exception {
    Run r = run("token", "--sub", "alice", "--ttl", "60", "--claim", "roles=service,admin", "--claim", "subs=chat:*",
        "--claim", "subs=room:*", "--claim", "tier=3", "--claim", "beta=true", "--claim", "team=blue");
    assertEquals(0, r.exit(), r.err());
    String[] lines = r.out().strip().split("\n");
    assertEquals(1, lines.length, "the token alone on one line: " + r.out());
    JsonNode claims = new ObjectMapper().readTree(Base64.getUrlDecoder().decode(lines[0].split("\\.")[1]));
    assertEquals("alice", claims.path("sub").asText());
    assertEquals("[\"service\",\"admin\"]", claims.path("roles").toString());
    assertEquals("[\"chat:*\",\"room:*\"]", claims.path("subs").toString());
    assertEquals(3, claims.path("tier").asInt());
    assertTrue(claims.path("beta").isBoolean());
    assertEquals("blue", claims.path("team").asText());
    assertEquals(60, claims.path("exp").asLong() - claims.path("iat").asLong(claims.path("exp").asLong() - 60));
  }

  @Test
  void badArgumentsExitTwoWithOneLine() {
    assertOneLine(run("token"), "Missing required option: '--sub=USER'");
    assertOneLine(run("token", "--sub", "alice", "--ttl", "0"), "token: --ttl must be positive");
    assertOneLine(run("token", "--sub", "alice", "--ttl", "soon"), "--ttl");
    assertOneLine(run("token", "--sub", "alice", "--claim", "novalue"), "--claim takes key=value");
    assertOneLine(run("token", "--sub", "alice", "--colour", "red"), "Unknown options: '--colour'");
    assertOneLine(run("serve"), "Unmatched argument at index 0: 'serve'");
  }

  @Test
  void helpListsTheTokenCommand() {
    Run r = run("--help");
    assertEquals(0, r.exit());
    assertTrue(r.out().contains("token"), r.out());
    Run t = run("token", "--help");
    assertEquals(0, t.exit());
    assertTrue(t.out().contains("--sub=USER") && t.out().contains("--claim=KEY=VALUE"), t.out());
  }

  private static void assertOneLine(Run r, String says) {
    assertEquals(2, r.exit(), "exit code; stderr: " + r.err());
    String[] lines = r.err().strip().split("\n");
    assertEquals(1, lines.length, "one line: " + r.err());
    assertTrue(lines[0].startsWith("switchboard: ") && lines[0].contains(says), lines[0]);
    assertEquals("", r.out());
  }
}
