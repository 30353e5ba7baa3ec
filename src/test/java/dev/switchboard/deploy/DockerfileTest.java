package dev.switchboard.deploy;

import dev.switchboard.api.HttpRoutes;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.KnownSettings;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.testsupport.TestNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The image cannot be built here (no registry), so the Dockerfile is read as text and checked against
 * what the build and the node really do: the jar the shade plugin writes, the ports a node started with
 * the image's environment binds, the health path it serves, a non-root user, and a build context
 * (.dockerignore) that holds what the build stage copies.
 */
class DockerfileTest {
  /** One Dockerfile instruction: keyword and its text, continuation lines joined. */
  record Instruction(String keyword, String args) {
  }

  static List<Instruction> instructions() throws IOException {
    List<Instruction> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : Files.readAllLines(Path.of("Dockerfile"))) {
      String t = line.strip();
      if (cur.length() == 0 && (t.isEmpty() || t.startsWith("#"))) {
        continue;
      }
      if (t.endsWith("\\")) {
        cur.append(t, 0, t.length() - 1).append(' ');
        continue;
      }
      cur.append(t);
      String[] kv = cur.toString().split("\\s+", 2);
      out.add(new Instruction(kv[0].toUpperCase(), kv.length > 1 ? kv[1] : ""));
      cur.setLength(0);
    }
    return out;
  }

  static List<String> all(List<Instruction> in, String keyword) {
    return in.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::args).toList();
  }

  /** The file the shade plugin writes (pom.xml): what {@code mvn package} produces to run. */
  static String shadedJar() throws IOException {
    Matcher m = Pattern.compile("<outputFile>\\$\\{project.build.directory}/([^<]+)</outputFile>")
        .matcher(Files.readString(Path.of("pom.xml")));
    assertTrue(m.find(), "pom.xml: the shade plugin's outputFile");
    return m.group(1);
  }

  /** The image's ENV, as KEY=value pairs (quoted values unquoted). */
  static Map<String, String> env(List<Instruction> in) {
    Map<String, String> env = new HashMap<>();
    Matcher m = Pattern.compile("(\\w+)=(\"[^\"]*\"|\\S+)").matcher(String.join(" ", all(in, "ENV")));
    while (m.find()) {
      env.put(m.group(1), m.group(2).replaceAll("^\"|\"$", ""));
    }
    return env;
  }

  @Test
  void runtimeStageRunsTheJarTheBuildProduces() throws IOException {
    List<Instruction> in = instructions();
    String jar = shadedJar();
    assertEquals("switchboard.jar", jar);
    List<String> froms = all(in, "FROM");
    assertEquals(2, froms.size(), "two stages: " + froms);
    assertTrue(froms.get(0).matches("maven:\\S+ AS build"), froms.get(0));
    assertTrue(froms.get(1).contains("-jre"), "runs on a JRE image: " + froms.get(1));
    String buildDir = all(in, "WORKDIR").get(0);
    assertTrue(all(in, "RUN").stream().anyMatch(r -> r.contains("mvn") && r.contains(" package")), "the build runs mvn package");
    String copy = all(in, "COPY").stream().filter(c -> c.startsWith("--from=build")).findFirst().orElse(null);
    assertNotNull(copy, "the runtime stage copies from the build stage");
    String[] parts = copy.split("\\s+");
    assertEquals(buildDir + "/target/" + jar, parts[1], "copies the shaded jar");
    String entry = String.join(" ", all(in, "ENTRYPOINT"));
    assertTrue(entry.contains("exec java") && entry.contains("-jar " + parts[2]), "runs the copied jar as PID 1: " + entry);
  }

  @Test
  void exposedPortsAreTheOnesANodeWithTheImageEnvironmentUses() throws IOException {
    List<Instruction> in = instructions();
    Map<String, String> env = new HashMap<>(env(in));
    for (String name : env.keySet()) {
      if (name.startsWith("SB_")) {
        assertTrue(KnownSettings.names().contains(name), name + " is a setting");
      }
    }
    env.put("SB_JWT_SECRET", TestNode.SECRET);
    SwitchboardConfig c = ConfigLoader.load(env);
    Set<Integer> expected = new TreeSet<>(List.of(c.http().port(), c.cluster().port(), c.cluster().busPort()));
    assertFalse(expected.contains(0), "every port fixed (no random event-bus port): " + expected);
    Set<Integer> exposed = new TreeSet<>();
    for (String e : all(in, "EXPOSE")) {
      for (String p : e.split("\\s+")) {
        exposed.add(Integer.parseInt(p.replace("/tcp", "")));
      }
    }
    assertEquals(expected, exposed);
  }

  @Test
  void healthCheckAsksTheLivenessPathOnTheHttpPort() throws IOException {
    List<String> checks = all(instructions(), "HEALTHCHECK");
    assertEquals(1, checks.size());
    String check = checks.get(0);
    assertTrue(check.contains("GET " + HttpRoutes.LIVE + " "), check);
    assertTrue(check.contains("/dev/tcp/127.0.0.1/${SB_HTTP_PORT}"), "asks the configured HTTP port: " + check);
    assertTrue(check.contains("--start-period="), "no failure counted while the node joins and warms up");
  }

  @Test
  void runsAsANonRootUserItCreates() throws IOException {
    List<Instruction> in = instructions();
    List<String> users = all(in, "USER");
    assertEquals(1, users.size(), "one USER, in the runtime stage");
    String uid = users.get(0).split(":")[0];
    assertTrue(uid.matches("[1-9][0-9]*"), "a numeric non-zero uid (runAsNonRoot checks it): " + users.get(0));
    assertTrue(all(in, "RUN").stream().anyMatch(r -> r.contains("useradd") && r.contains("--uid " + uid)),
        "the image creates user " + uid);
    int userAt = in.indexOf(in.stream().filter(i -> i.keyword().equals("USER")).findFirst().orElseThrow());
    int entryAt = in.indexOf(in.stream().filter(i -> i.keyword().equals("ENTRYPOINT")).findFirst().orElseThrow());
    assertTrue(userAt < entryAt, "USER before ENTRYPOINT");
  }

  @Test
  void buildContextHoldsWhatTheBuildStageCopies() throws IOException {
    List<String> ignore = Files.readAllLines(Path.of(".dockerignore")).stream().map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    assertEquals("*", ignore.get(0), "an allowlist: everything excluded first");
    List<String> allowed = ignore.stream().filter(l -> l.startsWith("!")).map(l -> l.substring(1)).toList();
    for (String copy : all(instructions(), "COPY")) {
      if (copy.startsWith("--from=")) {
        continue;
      }
      String[] parts = copy.split("\\s+");
      for (int i = 0; i < parts.length - 1; i++) {
        String src = parts[i];
        assertTrue(allowed.stream().anyMatch(a -> src.equals(a) || src.equals(a.replaceAll("/$", ""))
            || src.startsWith(a.endsWith("/") ? a : a + "/")), src + " is in the build context: " + allowed);
        assertTrue(Files.exists(Path.of(src)), src + " exists");
      }
    }
  }
}
