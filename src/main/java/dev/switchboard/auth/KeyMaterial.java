package dev.switchboard.auth;

import dev.switchboard.config.ConfigException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/** PEM keys from settings: the PEM text itself (literal "\n" allowed, as env variables often carry it) or a file path. */
final class KeyMaterial {
  private KeyMaterial() {
  }

  static String pem(String setting, String value) {
    String v = value.trim();
    if (!v.startsWith("-----BEGIN")) {
      try {
        v = Files.readString(Path.of(v)).trim();
      } catch (IOException | RuntimeException e) {
        throw new ConfigException("invalid setting " + setting + ": neither PEM text nor a readable PEM file");
      }
    }
    return v.replace("\\n", "\n");
  }

  /** "RS256" or "ES256", from the key's own algorithm. */
  static String algorithmOfPublicKey(String setting, String pem) {
    byte[] der = der(setting, pem, "PUBLIC KEY");
    for (String[] kind : new String[][] {{"RSA", "RS256"}, {"EC", "ES256"}}) {
      try {
        KeyFactory.getInstance(kind[0]).generatePublic(new X509EncodedKeySpec(der));
        return kind[1];
      } catch (Exception ignored) {
        // try the next kind
      }
    }
    throw new ConfigException("invalid setting " + setting + ": not an RSA or EC public key");
  }

  static String algorithmOfPrivateKey(String setting, String pem) {
    byte[] der = der(setting, pem, "PRIVATE KEY");
    for (String[] kind : new String[][] {{"RSA", "RS256"}, {"EC", "ES256"}}) {
      try {
        KeyFactory.getInstance(kind[0]).generatePrivate(new PKCS8EncodedKeySpec(der));
        return kind[1];
      } catch (Exception ignored) {
        // try the next kind
      }
    }
    throw new ConfigException("invalid setting " + setting + ": not an RSA or EC private key (PKCS#8 PEM)");
  }

  private static byte[] der(String setting, String pem, String label) {
    String begin = "-----BEGIN " + label + "-----";
    String end = "-----END " + label + "-----";
    int b = pem.indexOf(begin);
    int e = pem.indexOf(end);
    if (b < 0 || e < b) {
      throw new ConfigException("invalid setting " + setting + ": expected a PEM block '" + begin + "'");
    }
    try {
      return Base64.getMimeDecoder().decode(pem.substring(b + begin.length(), e));
    } catch (IllegalArgumentException ex) {
      throw new ConfigException("invalid setting " + setting + ": the PEM block is not valid base64");
    }
  }
}
