package dev.switchboard.auth;

import dev.switchboard.config.SwitchboardConfig.AuthOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Verifies connection tokens. Our own checks run first (shape, {@code alg} allow-list, required
 * {@code exp}, {@code sub}, time, issuer, audience) so every refusal has a precise reason; the
 * library then checks the signature. Only the algorithms of the configured keys are accepted, which
 * rules out {@code alg: none} and HS/RS confusion whatever the library would do.
 */
public final class TokenVerifier {
  public static final int MAX_TOKEN_CHARS = 8192;
  public static final int MAX_SUB_CHARS = dev.switchboard.protocol.Ids.MAX_USER_CHARS;
  private static final int MAX_GLOBS = 256;

  private final Vertx vertx;
  private final AuthOptions options;
  private final JWTAuth jwt;
  private final Set<String> algorithms = new LinkedHashSet<>();
  /**
   * HS256 is checked here (one HMAC over the signed part, compared in constant time) rather than by
   * the library, which would decode the header and claims a second time; the claims were already
   * checked by {@link #checkClaims}. One Mac per thread: Mac is not thread-safe.
   */
  private final ThreadLocal<javax.crypto.Mac> hs256;

  public TokenVerifier(Vertx vertx, AuthOptions options) {
    this.vertx = vertx;
    this.options = options;
    JWTAuthOptions auth = new JWTAuthOptions();
    if (!options.secret().isEmpty()) {
      auth.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(options.secret()));
      algorithms.add("HS256");
      javax.crypto.spec.SecretKeySpec key = new javax.crypto.spec.SecretKeySpec(
          options.secret().getBytes(java.nio.charset.StandardCharsets.UTF_8), "HmacSHA256");
      this.hs256 = ThreadLocal.withInitial(() -> {
        try {
          javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
          mac.init(key);
          return mac;
        } catch (java.security.GeneralSecurityException e) {
          throw new IllegalStateException("HmacSHA256 is not available", e);
        }
      });
    } else {
      this.hs256 = null;
    }
    if (!options.publicKey().isEmpty()) {
      String pem = KeyMaterial.pem("jwt.public_key (SB_JWT_PUBLIC_KEY)", options.publicKey());
      String alg = KeyMaterial.algorithmOfPublicKey("jwt.public_key (SB_JWT_PUBLIC_KEY)", pem);
      auth.addPubSecKey(new PubSecKeyOptions().setAlgorithm(alg).setBuffer(pem));
      algorithms.add(alg);
    }
    JWTOptions jwtOptions = new JWTOptions().setLeeway(options.leewaySeconds());
    if (!options.issuer().isEmpty()) {
      jwtOptions.setIssuer(options.issuer());
    }
    if (!options.audience().isEmpty()) {
      jwtOptions.setAudience(List.of(options.audience()));
    }
    auth.setJWTOptions(jwtOptions);
    // With no keys at all the library would accept alg:none; we never call it in that case.
    this.jwt = algorithms.isEmpty() ? null : JWTAuth.create(vertx, auth);
  }

  /**
   * Checks the configured public key without starting anything, so that a bad key stops the node
   * before it joins the cluster (one line, no library output before it). Throws ConfigException.
   */
  public static void checkKeys(AuthOptions options) {
    if (!options.publicKey().isEmpty()) {
      String pem = KeyMaterial.pem("jwt.public_key (SB_JWT_PUBLIC_KEY)", options.publicKey());
      KeyMaterial.algorithmOfPublicKey("jwt.public_key (SB_JWT_PUBLIC_KEY)", pem);
    }
  }

  public boolean hasKeys() {
    return jwt != null;
  }

  /** Verifies a token; fails with {@link AuthFailure}. */
  public Future<Principal> verify(String token) {
    final JsonObject claims;
    final String alg;
    try {
      if (token == null || token.isEmpty()) {
        throw new AuthFailure("missing", "a token is required");
      }
      if (jwt == null) {
        throw new AuthFailure("no_key", "tokens cannot be verified on this node");
      }
      if (token.length() > MAX_TOKEN_CHARS) {
        throw new AuthFailure("malformed", "token is too long");
      }
      String[] parts = token.split("\\.", -1);
      if (parts.length != 3 || parts[2].isEmpty()) {
        throw new AuthFailure("malformed", "token is malformed");
      }
      JsonObject header = decodePart(parts[0]);
      Object a = header.getValue("alg");
      if (!(a instanceof String) || !algorithms.contains(a)) {
        throw new AuthFailure("algorithm", "token algorithm is not accepted");
      }
      alg = (String) a;
      claims = decodePart(parts[1]);
      checkClaims(claims, System.currentTimeMillis());
    } catch (AuthFailure f) {
      return Future.failedFuture(f);
    }
    Future<Void> checked;
    if ("HS256".equals(alg)) {
      checked = hs256Valid(token) ? Future.succeededFuture()
          : Future.failedFuture(new AuthFailure("signature", "token signature is invalid"));
    } else if ("ES256".equals(alg)) {
      // ~1.4 ms per verify here: keep it off the event loop during connection storms. The library
      // verifies synchronously inside authenticate(), so the work happens on the worker thread.
      checked = vertx.executeBlocking(() -> signature(token), false).compose(f -> f);
    } else {
      checked = signature(token);
    }
    return checked.map(v -> principal(claims));
  }

  /** HMAC-SHA256 of {@code header.claims} against the token's signature, in constant time. */
  private boolean hs256Valid(String token) {
    int dot = token.lastIndexOf('.');
    byte[] given;
    try {
      given = java.util.Base64.getUrlDecoder().decode(token.substring(dot + 1));
    } catch (IllegalArgumentException notBase64Url) {
      return false;
    }
    javax.crypto.Mac mac = hs256.get();
    byte[] expected = mac.doFinal(token.substring(0, dot).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    return java.security.MessageDigest.isEqual(expected, given);
  }

  private Future<Void> signature(String token) {
    return jwt.authenticate(new TokenCredentials(token))
        .recover(err -> Future.failedFuture(new AuthFailure("signature", "token signature is invalid")))
        .mapEmpty();
  }

  private void checkClaims(JsonObject claims, long nowMs) {
    long leewayMs = options.leewaySeconds() * 1000L;
    Object exp = claims.getValue("exp");
    if (!(exp instanceof Number)) {
      throw new AuthFailure("missing_exp", "token has no exp claim");
    }
    if (((Number) exp).doubleValue() * 1000 + leewayMs < nowMs) {
      throw new AuthFailure("expired", "token has expired");
    }
    Object iat = claims.getValue("iat");
    if (iat instanceof Number && ((Number) iat).doubleValue() * 1000 - leewayMs > nowMs) {
      throw new AuthFailure("not_yet_valid", "token is issued in the future");
    }
    Object nbf = claims.getValue("nbf");
    if (nbf instanceof Number && ((Number) nbf).doubleValue() * 1000 - leewayMs > nowMs) {
      throw new AuthFailure("not_yet_valid", "token is not valid yet");
    }
    Object sub = claims.getValue("sub");
    if (!(sub instanceof String) || ((String) sub).isEmpty() || ((String) sub).length() > MAX_SUB_CHARS) {
      throw new AuthFailure("malformed", "token has no valid sub claim");
    }
    if (!options.issuer().isEmpty() && !options.issuer().equals(claims.getValue("iss"))) {
      throw new AuthFailure("issuer", "token issuer is not accepted");
    }
    if (!options.audience().isEmpty() && !audienceMatches(claims.getValue("aud"))) {
      throw new AuthFailure("audience", "token audience is not accepted");
    }
  }

  private boolean audienceMatches(Object aud) {
    if (aud instanceof String) {
      return aud.equals(options.audience());
    }
    return aud instanceof JsonArray && ((JsonArray) aud).contains(options.audience());
  }

  private static JsonObject decodePart(String part) {
    try {
      byte[] bytes = Base64.getUrlDecoder().decode(part);
      return new JsonObject(new String(bytes, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | DecodeException | ClassCastException e) {
      throw new AuthFailure("malformed", "token is malformed");
    }
  }

  /** Claims → principal (PROTOCOL.md section 10). Only called once the claims were checked. */
  static Principal principal(JsonObject claims) {
    Set<String> roles = new LinkedHashSet<>(strings(claims.getValue("roles")));
    Object role = claims.getValue("role");
    if (role instanceof String) {
      roles.add((String) role);
    }
    Object device = claims.getValue("device_id");
    long expMs = (long) (claims.getNumber("exp").doubleValue() * 1000);
    return new Principal(claims.getString("sub"), device instanceof String ? (String) device : null,
        Set.copyOf(roles), globs(claims.getValue("subs")), globs(claims.getValue("pubs")), expMs, false);
  }

  private static List<String> strings(Object v) {
    List<String> out = new ArrayList<>();
    if (v instanceof JsonArray) {
      for (Object o : (JsonArray) v) {
        if (o instanceof String && out.size() < MAX_GLOBS) {
          out.add((String) o);
        }
      }
    }
    return out;
  }

  private static List<Glob> globs(Object v) {
    List<Glob> out = new ArrayList<>();
    for (String s : strings(v)) {
      out.add(Glob.of(s));
    }
    return List.copyOf(out);
  }
}
