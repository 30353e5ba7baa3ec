package dev.switchboard.topics;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.cluster.Directory;
import dev.switchboard.protocol.Json;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;

import java.util.List;

/**
 * Presence of topics whose namespace enables it: members recorded in the cluster directory, and
 * join/leave frames published on the topic's address (header {@code k=p}, no offset: they are not
 * part of the history) to every node with subscribers.
 */
final class PresenceRelay {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PresenceRelay.class);
  private final Vertx vertx;
  private final Namespaces namespaces;
  private final Context hub;
  private volatile Directory directory;

  PresenceRelay(Vertx vertx, Namespaces namespaces, Context hub) {
    this.vertx = vertx;
    this.namespaces = namespaces;
    this.hub = hub;
  }

  void directory(Directory directory) {
    this.directory = directory;
  }

  /**
   * Records the member; completes once the record is in the cluster (a subscriber answered
   * "subscribed" is in the presence list), never failed: presence is best effort.
   */
  io.vertx.core.Future<Void> joined(Subscriber s, String topic) {
    Namespaces.Options ns = namespaces.of(topic);
    if (!ns.presence() || directory == null) {
      return io.vertx.core.Future.succeededFuture();
    }
    return directory.joined(hub, topic, s.userId(), s.deviceId(), s.connectionId()).map(prev -> {
      if (prev == null && ns.joinLeave()) {
        presence(topic, "join", s.userId(), s.deviceId());
      }
      return (Void) null;
    }); // a record that cannot be written fails the subscribe (UNAVAILABLE, retryable): never subscribed yet absent
  }

  void left(Subscriber s, String topic) {
    Namespaces.Options ns = namespaces.of(topic);
    if (!ns.presence() || directory == null) {
      return;
    }
    directory.left(hub, topic, s.connectionId()).onSuccess(was -> {
      if (was && ns.joinLeave()) {
        presence(topic, "leave", s.userId(), s.deviceId());
      }
    });
  }

  /**
   * Writes back the presence records of this node's subscribers that the cluster lost (see
   * Directory#reassertPresence) and sends a join for each one written back: the members' lists and
   * join/leave frames then agree with who is subscribed again. A join can repeat one a client saw
   * (the record was lost without a leave): a member list is a set, a repeated join does no harm,
   * a missing one would hide a subscriber. On the hub's context.
   */
  void reassert(java.util.Map<String, TopicState> topics) {
    Directory d = directory;
    if (d == null) {
      return;
    }
    List<Directory.Present> held = new java.util.ArrayList<>();
    for (TopicState st : topics.values()) {
      if (!namespaces.of(st.topic).presence()) {
        continue;
      }
      for (Subscriber[] loop : st.byLoop.values()) {
        for (Subscriber s : loop) {
          held.add(new Directory.Present(st.topic, s.userId(), s.deviceId(), s.connectionId()));
        }
      }
      for (Subscriber s : st.replaying.keySet()) {
        held.add(new Directory.Present(st.topic, s.userId(), s.deviceId(), s.connectionId()));
      }
    }
    if (held.isEmpty()) {
      return;
    }
    d.reassertPresence(hub, held, p -> subscribed(topics.get(p.topic()), p.conn())).onSuccess(added -> {
      for (Directory.Member m : added) {
        if (namespaces.of(m.topic()).joinLeave()) {
          presence(m.topic(), "join", m.user(), m.device());
        }
      }
      if (!added.isEmpty()) {
        LOG.atWarn().addKeyValue("members", added.size())
            .log("{} topic member(s) of this node were missing from presence and were written back", added.size());
      }
    });
  }

  private static boolean subscribed(TopicState st, String conn) {
    if (st == null) {
      return false;
    }
    for (Subscriber[] loop : st.byLoop.values()) {
      for (Subscriber s : loop) {
        if (s.connectionId().equals(conn)) {
          return true;
        }
      }
    }
    for (Subscriber s : st.replaying.keySet()) {
      if (s.connectionId().equals(conn)) {
        return true;
      }
    }
    return false;
  }

  void membersLost(List<Directory.Member> lost) {
    for (Directory.Member m : lost) {
      if (namespaces.of(m.topic()).joinLeave()) {
        presence(m.topic(), "leave", m.user(), m.device());
      }
    }
  }

  /** A presence frame to every node with subscribers of the topic (no offset: not part of the history). */
  private void presence(String topic, String action, String user, String device) {
    ObjectNode f = Json.MAPPER.createObjectNode().put("type", "presence").put("topic", topic).put("action", action)
        .put("user_id", user).put("device_id", device);
    vertx.eventBus().publish(Addresses.topic(topic), f.toString(), new DeliveryOptions().addHeader("k", "p"));
  }

}
