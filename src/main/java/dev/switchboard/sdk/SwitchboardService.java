package dev.switchboard.sdk;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

/**
 * What a JVM service that joined the Switchboard cluster (clustered Vert.x on the same Hazelcast
 * cluster, as a lite member: HazelcastSetup#serviceConfig) uses to publish to topics, address users
 * and cancel operations. Addresses and shapes: docs/services.md.
 *
 * <pre>
 *   SwitchboardService sb = new SwitchboardService(clusteredVertx);
 *   sb.publish("chat:lobby", new JsonObject().put("text", "hi")).onSuccess(pos -> …pos.getLong("offset")…);
 *   sb.sendToUser("alice", null, new JsonObject().put("ping", 1));
 * </pre>
 */
public final class SwitchboardService {
  /** Same values as dev.switchboard.cluster.Addresses (kept in one place there; repeated for services). */
  public static final String PUBLISH = "sb.api.publish";
  public static final String SEND = "sb.api.send";
  public static final String PRESENCE = "sb.api.presence";
  public static final String CANCEL = "sb.api.cancel";

  private final Vertx vertx;
  private final DeliveryOptions options;
  private final String from;

  public SwitchboardService(Vertx clusteredVertx) {
    this(clusteredVertx, "service", 10_000);
  }

  /** @param from the name shown as {@code from} / {@code from_user} on what this service sends */
  public SwitchboardService(Vertx clusteredVertx, String from, long timeoutMs) {
    this.vertx = clusteredVertx;
    this.from = from;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMs);
  }

  /** Publishes {@code data} (any JSON value) to a topic; completes with {@code {offset, epoch}}. */
  public Future<JsonObject> publish(String topic, Object data) {
    return call(PUBLISH, new JsonObject().put("topic", topic).put("data", data).put("from", from));
  }

  /** A {@code direct} frame to all of a user's devices, or one ({@code deviceId}); completes with {@code {delivered}}. */
  public Future<JsonObject> sendToUser(String user, String deviceId, Object data) {
    JsonObject req = new JsonObject().put("user", user).put("data", data).put("from", from);
    if (deviceId != null) {
      req.put("device_id", deviceId);
    }
    return call(SEND, req);
  }

  /** The topic's members: {@code {members:[{user_id, devices}], count}}. */
  public Future<JsonObject> presence(String topic) {
    return call(PRESENCE, new JsonObject().put("topic", topic));
  }

  /**
   * Cancels an operation (any user's, running on any node): completes with {@code {op_id, state}};
   * fails with 404 {@code UNKNOWN_OPERATION} when the id is unknown or forgotten.
   */
  public Future<JsonObject> cancel(String opId) {
    return call(CANCEL, new JsonObject().put("op_id", opId));
  }

  private Future<JsonObject> call(String address, JsonObject body) {
    return vertx.eventBus().<JsonObject>request(address, body, options).map(m -> m.body());
  }
}
