package dev.switchboard.topics;

import dev.switchboard.routing.ParamSchema;

import java.util.regex.Pattern;

/** Topic name rules (PROTOCOL.md section 4) and the shared params of the topic methods. */
public final class TopicNames {
  /**
   * Client topic names, or one of the reserved system topics. {@code $} is in no other name, so a
   * reserved topic can never be created by a client under another spelling.
   */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:@/-]{1,200}|\\$sys:(nodes|ops)");
  /** The prefix of the reserved system topics: only the nodes publish there, only role admin subscribes. */
  public static final String RESERVED_PREFIX = "$sys:";
  /** Every node's own figures, about once a second while anyone subscribes (see api/SysFeed). */
  public static final String SYS_NODES = "$sys:nodes";
  /** Every node's running operations, about once a second while anyone subscribes. */
  public static final String SYS_OPS = "$sys:ops";

  private TopicNames() {
  }

  /** Whether the topic is a reserved system topic. */
  public static boolean reserved(String topic) {
    return topic != null && topic.startsWith(RESERVED_PREFIX);
  }

  public static ParamSchema.Param topicParam() {
    return ParamSchema.string("topic").required().maxLength(200).pattern(NAME);
  }

  /** {@code since {offset, epoch}}: the last offset the client has seen and the epoch it belongs to. */
  public static ParamSchema.Param sinceParam() {
    return ParamSchema.object("since").fields(ParamSchema.of(
        ParamSchema.integer("offset").required().range(0, Long.MAX_VALUE),
        ParamSchema.string("epoch").required().maxLength(64)));
  }
}
