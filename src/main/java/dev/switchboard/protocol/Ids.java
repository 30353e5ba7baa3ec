package dev.switchboard.protocol;

import java.util.regex.Pattern;

/**
 * The shape of user and device ids, one rule wherever they enter: the WebSocket upgrade, tokens,
 * the HTTP API and the event-bus API. A device id ends up in keys, frames and logs, so it is a
 * short plain token; a user id is whatever the token's {@code sub} may be.
 */
public final class Ids {
  /** 1–128 of {@code A-Z a-z 0-9 _ . : @ -}. */
  public static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9_.:@-]{1,128}");

  /** A user id ({@code sub}) is a non-empty string of at most this many characters. */
  public static final int MAX_USER_CHARS = 256;

  /** Non-empty; pair with a {@code maxLength(MAX_USER_CHARS)} check (length in chars, as for tokens). */
  public static final Pattern NON_EMPTY = Pattern.compile("(?s).+");

  private Ids() {
  }

  public static boolean isUserId(String s) {
    return s != null && !s.isEmpty() && s.length() <= MAX_USER_CHARS;
  }

  public static boolean isDeviceId(String s) {
    return s != null && DEVICE_ID.matcher(s).matches();
  }
}
