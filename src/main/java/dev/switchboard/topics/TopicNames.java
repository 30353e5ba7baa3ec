package dev.switchboard.topics;

import dev.switchboard.routing.ParamSchema;

import java.util.regex.Pattern;

/** Topic name rules (PROTOCOL.md section 4) and the shared params of the topic methods. */
public final class TopicNames {
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:@/-]{1,200}");

  private TopicNames() {
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
