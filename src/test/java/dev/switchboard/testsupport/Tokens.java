package dev.switchboard.testsupport;

import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

/** Real JWTs for tests, signed here with java.security (HS256, RS256, ES256), plus broken ones on purpose. */
public final class Tokens {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private Tokens() {
  }

  public static long now() {
    return System.currentTimeMillis() / 1000;
  }

  /** Claims with sub, iat and exp = now + ttl; add subs/pubs/roles as needed. */
  public static JsonObject claims(String sub, long ttlSeconds) {
    return new JsonObject().put("sub", sub).put("iat", now()).put("exp", now() + ttlSeconds);
  }

  public static String hs256(JsonObject claims) {
    return hs256(claims, TestNode.SECRET);
  }

  public static String hs256(JsonObject claims, String secret) {
    String input = part(new JsonObject().put("alg", "HS256").put("typ", "JWT")) + "." + part(claims);
    return input + "." + B64.encodeToString(hmac(secret.getBytes(StandardCharsets.UTF_8), input));
  }

  /** A token for user {@code sub} valid for an hour with the given subscribe/publish globs. */
  public static String user(String sub, String... subsAndPubs) {
    io.vertx.core.json.JsonArray globs = new io.vertx.core.json.JsonArray();
    for (String g : subsAndPubs) {
      globs.add(g);
    }
    return hs256(claims(sub, 3600).put("subs", globs).put("pubs", globs.copy()));
  }

  public static String unsigned(JsonObject claims) {
    return part(new JsonObject().put("alg", "none").put("typ", "JWT")) + "." + part(claims) + ".";
  }

  /** HS256 over the given key bytes but with an arbitrary alg header (for HS/RS confusion). */
  public static String hmacWithAlg(String alg, byte[] key, JsonObject claims) {
    String input = part(new JsonObject().put("alg", alg).put("typ", "JWT")) + "." + part(claims);
    return input + "." + B64.encodeToString(hmac(key, input));
  }

  public static String signed(String alg, PrivateKey key, JsonObject claims) {
    String input = part(new JsonObject().put("alg", alg).put("typ", "JWT")) + "." + part(claims);
    try {
      Signature s = Signature.getInstance("RS256".equals(alg) ? "SHA256withRSA" : "SHA256withECDSAinP1363Format");
      s.initSign(key);
      s.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + B64.encodeToString(s.sign());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static KeyPair rsa() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static KeyPair ec() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static String publicPem(KeyPair kp) {
    return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(kp.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
  }

  public static String privatePem(KeyPair kp) {
    return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(kp.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
  }

  private static String part(JsonObject o) {
    return B64.encodeToString(o.encode().getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] hmac(byte[] key, String input) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(input.getBytes(StandardCharsets.US_ASCII));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
