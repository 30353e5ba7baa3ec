package dev.switchboard.routing;

import dev.switchboard.auth.Access;

/**
 * A request method. A new method is one class implementing this (usually through
 * {@link SimpleMethod}) plus one registration in {@link MethodRegistry}; params are validated
 * against {@link #params()} and {@link #access()} is checked by the policy before {@link #handle} runs.
 */
public interface Method {
  String name();

  ParamSchema params();

  /** Who may call it; there is no default, so a method cannot be exposed by forgetting a rule. */
  Access access();

  /** True for methods that start an operation and stream frames before their terminal. */
  default boolean streaming() {
    return false;
  }

  /**
   * Handles a call on the connection's event loop. Must not block; answers through
   * {@link Call#reply()} exactly once (later answers are dropped). A thrown
   * {@link dev.switchboard.protocol.SwitchboardException} becomes the error reply.
   */
  void handle(Call call);
}
