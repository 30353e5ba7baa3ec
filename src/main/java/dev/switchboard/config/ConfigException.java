package dev.switchboard.config;

/** A setting that is missing, malformed or out of range. The message is one line for the operator. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message, null, false, false);
  }
}
