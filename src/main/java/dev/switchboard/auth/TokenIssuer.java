package dev.switchboard.auth;

import dev.switchboard.config.ConfigException;
import dev.switchboard.config.SwitchboardConfig.AuthOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

/** Signs development tokens with the configured key: the HS256 secret, or a PEM private key (RS256/ES256). */
public final class TokenIssuer {
  private final JWTAuth jwt;
  private final String algorithm;

  public TokenIssuer(Vertx vertx, AuthOptions options) {
    JWTAuthOptions auth = new JWTAuthOptions();
    if (!options.secret().isEmpty()) {
      algorithm = "HS256";
      auth.addPubSecKey(new PubSecKeyOptions().setAlgorithm(algorithm).setBuffer(options.secret()));
    } else if (!options.privateKey().isEmpty()) {
      String pem = KeyMaterial.pem("jwt.private_key (SB_JWT_PRIVATE_KEY)", options.privateKey());
      algorithm = KeyMaterial.algorithmOfPrivateKey("jwt.private_key (SB_JWT_PRIVATE_KEY)", pem);
      auth.addPubSecKey(new PubSecKeyOptions().setAlgorithm(algorithm).setBuffer(pem));
    } else {
      throw new ConfigException("no signing key: set SB_JWT_SECRET (HS256) or SB_JWT_PRIVATE_KEY (PEM, RS256/ES256)");
    }
    this.jwt = JWTAuth.create(vertx, auth);
  }

  /** A token with the given claims plus {@code iat} and {@code exp} = now + ttl. */
  public String issue(JsonObject claims, long ttlSeconds) {
    long now = System.currentTimeMillis() / 1000;
    JsonObject c = claims.copy().put("iat", now).put("exp", now + ttlSeconds);
    return jwt.generateToken(c, new JWTOptions().setAlgorithm(algorithm).setNoTimestamp(true));
  }
}
