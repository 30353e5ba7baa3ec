package dev.switchboard.config;

import dev.switchboard.testsupport.TestNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Settings (PROTOCOL.md section 9): defaults, then the config file, then the environment; an invalid
 * value is a {@link ConfigException} whose one-line message names the setting and its variable.
 */
class ConfigTest {

  @TempDir
  Path dir;

  /** A valid environment: the HS256 test secret and nothing else. */
  private static Map<String, String> env(String... kv) {
    Map<String, String> env = new HashMap<>();
    env.put("SB_JWT_SECRET", TestNode.SECRET);
    for (int i = 0; i < kv.length; i += 2) {
      if (kv[i + 1] == null) {
        env.remove(kv[i]);
      } else {
        env.put(kv[i], kv[i + 1]);
      }
    }
    return env;
  }

  private static ConfigException fails(Map<String, String> env) {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(env));
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e;
  }

  private static void assertNames(ConfigException e, String... parts) {
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "'" + p + "' in: " + e.getMessage());
    }
  }

  private Path file(String json) throws IOException {
    Path f = dir.resolve("switchboard-" + System.nanoTime() + ".json");
    Files.writeString(f, json, StandardCharsets.UTF_8);
    return f;
  }

  @Test
  void validEnvironmentLoadsTheDefaults() {
    SwitchboardConfig c = ConfigLoader.load(env());
    assertTrue(c.auth().required());
    assertEquals(8080, c.http().port());
    assertEquals(65536, c.limits().maxMessageBytes());
    assertEquals(5, c.auth().leewaySeconds());
  }

  @Test
  void nonNumericPortNamesTheSettingAndVariable() {
    assertNames(fails(env("SB_HTTP_PORT", "abc")), "http.port", "SB_HTTP_PORT");
  }

  @Test
  void outOfRangePortNamesTheSettingAndVariable() {
    assertNames(fails(env("SB_HTTP_PORT", "70000")), "http.port", "SB_HTTP_PORT");
  }

  @Test
  void negativeMaxMessageBytesNamesTheSettingAndVariable() {
    assertNames(fails(env("SB_MAX_MESSAGE_BYTES", "-1")), "limits.max_message_bytes", "SB_MAX_MESSAGE_BYTES");
  }

  @Test
  void nonBooleanAuthRequiredNamesTheSettingAndVariable() {
    assertNames(fails(env("SB_AUTH_REQUIRED", "maybe")), "auth.required", "SB_AUTH_REQUIRED");
  }

  @Test
  void invalidAliasValueNamesTheAlias() {
    assertNames(fails(env("SB_DRAIN_MS", "soon")), "shutdown.drain_ms", "SB_DRAIN_MS");
    assertNames(fails(env("SB_MAX_CONNECTIONS", "0")), "limits.max_connections", "SB_MAX_CONNECTIONS");
  }

  @Test
  void authRequiredWithoutAnyKeyIsAnError() {
    ConfigException e = fails(env("SB_JWT_SECRET", null));
    assertNames(e, "SB_JWT_SECRET", "SB_JWT_PUBLIC_KEY");
    // an empty value is no key either
    fails(env("SB_JWT_SECRET", ""));
  }

  @Test
  void authNotRequiredNeedsNoKey() {
    SwitchboardConfig c = ConfigLoader.load(env("SB_JWT_SECRET", null, "SB_AUTH_REQUIRED", "false"));
    assertFalse(c.auth().required());
    assertTrue(c.auth().secret().isEmpty());
  }

  @Test
  void roleDefaultsToAllAndTakesTheThreeRoles() {
    assertEquals(NodeRole.ALL, ConfigLoader.load(env()).node().role());
    assertEquals(NodeRole.GATEWAY, ConfigLoader.load(env("SB_NODE_ROLE", "gateway")).node().role());
    assertEquals(NodeRole.DATA, ConfigLoader.load(env("SB_NODE_ROLE", "data")).node().role());
    assertTrue(NodeRole.GATEWAY.liteMember() && !NodeRole.ALL.liteMember() && !NodeRole.DATA.liteMember());
    assertTrue(NodeRole.GATEWAY.servesClients() && NodeRole.ALL.servesClients() && !NodeRole.DATA.servesClients());
  }

  @Test
  void unknownRoleNamesTheSettingAndVariable() {
    assertNames(fails(env("SB_NODE_ROLE", "lite")), "node.role", "SB_NODE_ROLE", "all, gateway or data");
  }

  @Test
  void dataRoleNeedsNoKeyButGatewayRoleDoes() {
    SwitchboardConfig c = ConfigLoader.load(env("SB_JWT_SECRET", null, "SB_NODE_ROLE", "data"));
    assertTrue(c.auth().required());
    assertNames(fails(env("SB_JWT_SECRET", null, "SB_NODE_ROLE", "gateway")), "SB_JWT_SECRET");
  }

  @Test
  void shortSecretIsAnErrorThatNeverShowsTheSecret() {
    String secret = "s3cr3t-but-only-31-bytes-long!!";
    assertEquals(31, secret.getBytes(StandardCharsets.UTF_8).length);
    ConfigException e = fails(env("SB_JWT_SECRET", secret));
    assertNames(e, "SB_JWT_SECRET");
    assertFalse(e.getMessage().contains(secret), "secret leaked: " + e.getMessage());
    assertFalse(e.getMessage().contains("s3cr3t"), "part of the secret leaked: " + e.getMessage());
  }

  @Test
  void secretLengthCountsUtf8Bytes() {
    String thirtyTwo = "k".repeat(32);
    assertEquals(thirtyTwo, ConfigLoader.load(env("SB_JWT_SECRET", thirtyTwo)).auth().secret());
    // 16 characters, 32 UTF-8 bytes: long enough
    String accented = "é".repeat(16);
    assertEquals(accented, ConfigLoader.load(env("SB_JWT_SECRET", accented)).auth().secret());
    // 31 characters, but the rule is bytes: 31 ASCII bytes is too short
    fails(env("SB_JWT_SECRET", "k".repeat(31)));
  }

  @Test
  void badSecretTypeInFileNeverShowsTheSecret() throws IOException {
    Path f = file("{\"jwt\": {\"secret\": 987654321987654321}}");
    ConfigException e = fails(env("SB_JWT_SECRET", null, "SB_CONF", f.toString()));
    assertNames(e, "jwt.secret");
    assertFalse(e.getMessage().contains("987654321"), "secret leaked: " + e.getMessage());
  }

  @Test
  void unknownKeyInConfigFileIsNamed() throws IOException {
    Path f = file("{\"limits\": {\"max_mesage_bytes\": 1000}}");
    assertNames(fails(env("SB_CONF", f.toString())), "limits.max_mesage_bytes");
    Path top = file("{\"bogus_section\": {\"x\": 1}}");
    assertNames(fails(env("SB_CONF", top.toString())), "bogus_section");
  }

  @Test
  void missingConfigFileIsAnError() {
    String missing = dir.resolve("does-not-exist.json").toString();
    assertNames(fails(env("SB_CONF", missing)), "SB_CONF", missing);
  }

  @Test
  void configFileThatIsNotJsonIsAnError() throws IOException {
    Path f = file("{ this is not json");
    assertNames(fails(env("SB_CONF", f.toString())), "SB_CONF");
  }

  @Test
  void configFileValuesApplyAndTheEnvironmentOverridesThem() throws IOException {
    Path f = file("{\"limits\": {\"max_connections\": 7, \"rate_burst\": 9}, \"shutdown\": {\"drain_ms\": 1500}}");
    SwitchboardConfig fromFile = ConfigLoader.load(env("SB_CONF", f.toString()));
    assertEquals(7, fromFile.limits().maxConnections());
    assertEquals(9, fromFile.limits().rateBurst());
    assertEquals(1500, fromFile.lifecycle().drainMs());
    SwitchboardConfig overridden = ConfigLoader.load(env("SB_CONF", f.toString(), "SB_MAX_CONNECTIONS", "11"));
    assertEquals(11, overridden.limits().maxConnections());
    assertEquals(9, overridden.limits().rateBurst());
  }

  @Test
  void fixedAliasesApply() {
    SwitchboardConfig c = ConfigLoader.load(env(
        "SB_DRAIN_MS", "1234",
        "SB_OP_RETENTION_MS", "4321",
        "SB_ALLOWED_ORIGINS", "https://a.example, https://b.example"));
    assertEquals(1234, c.lifecycle().drainMs());
    assertEquals(4321, c.lifecycle().opRetentionMs());
    assertEquals(List.of("https://a.example", "https://b.example"), c.http().allowedOrigins());
  }

  @Test
  void genericNamesApply() {
    SwitchboardConfig c = ConfigLoader.load(env(
        "SB_LIMITS_MAX_FRAME_BYTES", "300000",
        "SB_SHUTDOWN_DRAIN_MS", "2345",
        "SB_OPS_RETENTION_MS", "5432",
        "SB_HTTP_ALLOWED_ORIGINS", "https://c.example",
        "SB_LIMITS_MAX_MESSAGE_BYTES", "1024",
        "SB_JWT_LEEWAY_S", "7"));
    assertEquals(300000, c.limits().maxFrameBytes());
    assertEquals(2345, c.lifecycle().drainMs());
    assertEquals(5432, c.lifecycle().opRetentionMs());
    assertEquals(List.of("https://c.example"), c.http().allowedOrigins());
    assertEquals(1024, c.limits().maxMessageBytes());
    assertEquals(7, c.auth().leewaySeconds());
  }

  @Test
  void protocolNamedVariablesApply() {
    SwitchboardConfig c = ConfigLoader.load(env(
        "SB_HTTP_PORT", "9090",
        "SB_CLUSTER_PORT", "5801",
        "SB_CLUSTER_MEMBERS", "10.0.0.1:5701,10.0.0.2:5701",
        "SB_NODE_ID", "node-a",
        "SB_JWT_ISSUER", "iss",
        "SB_JWT_AUDIENCE", "aud",
        "SB_MAX_CONNECTIONS_PER_USER", "3",
        "SB_CONNECT_RATE_PER_IP", "4",
        "SB_HEARTBEAT_MS", "1000",
        "SB_IDLE_TIMEOUT_MS", "3000",
        "SB_SESSION_TTL_MS", "6000",
        "SB_SHUTDOWN_GRACE_MS", "7000"));
    assertEquals(9090, c.http().port());
    assertEquals(5801, c.cluster().port());
    assertEquals(List.of("10.0.0.1:5701", "10.0.0.2:5701"), c.cluster().members());
    assertEquals("node-a", c.node().id());
    assertEquals("iss", c.auth().issuer());
    assertEquals("aud", c.auth().audience());
    assertEquals(3, c.limits().maxConnectionsPerUser());
    assertEquals(4, c.limits().connectRatePerIp());
    assertEquals(1000, c.limits().heartbeatMs());
    assertEquals(3000, c.limits().idleTimeoutMs());
    assertEquals(6000, c.lifecycle().sessionTtlMs());
    assertEquals(7000, c.lifecycle().shutdownGraceMs());
  }

  @Test
  void configToStringHidesTheSecret() {
    SwitchboardConfig c = ConfigLoader.load(env());
    assertFalse(c.toString().contains(TestNode.SECRET), c.toString());
  }
}
