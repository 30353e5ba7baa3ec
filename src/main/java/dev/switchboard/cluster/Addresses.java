package dev.switchboard.cluster;

/**
 * Every event-bus address and Hazelcast structure name the node uses, with the shape of what
 * travels on it. Nothing else in the code spells an address.
 */
public final class Addresses {
  private Addresses() {
  }

  /**
   * Publications of one topic, published (not sent) to every node that has local subscribers; each
   * node holds one clustered consumer per topic while it has subscribers.
   * Body: the stored item as a JSON string {@code {"data":…,"ts":…,"from":…}}; headers
   * {@code o} = offset, {@code e} = epoch, {@code t} = when the publishing node accepted it (µs since
   * the epoch; {@code ts} is the same instant in ms), for the publish→deliver histogram.
   */
  public static String topic(String topic) {
    return "sb.t." + topic;
  }

  /**
   * Hazelcast Ringbuffer holding a topic's history: sequence = offset − 1, items as above. The name
   * carries the topic as its partition key ({@code @…}), and the topic's epoch entry uses the same
   * key ({@link #epochKey}): ring and epoch live in one partition and its backups, so they are lost
   * together, and a lost history comes back with a new epoch.
   */
  public static String history(String topic) {
    return "sb.h." + partitionKey(topic) + "@" + partitionKey(topic);
  }

  /** The Ringbuffer configuration pattern of a namespace ({@code *}: every topic). */
  public static String historyPattern(String namespacePrefix) {
    return "sb.h." + namespacePrefix + "*";
  }

  /** Key of a topic's entry in {@link #EPOCHS}, in the partition of its history. */
  public static com.hazelcast.partition.PartitionAwareKey<String, String> epochKey(String topic) {
    return new com.hazelcast.partition.PartitionAwareKey<>(topic, partitionKey(topic));
  }

  /** Topic names allow {@code @}, which Hazelcast reads as a partition-key separator; {@code ~} is not allowed in names. */
  static String partitionKey(String topic) {
    return topic.replace('@', '~');
  }

  /** Hazelcast IMap {@link #epochKey}(topic) → epoch (a string that changes only when the topic's history is lost). */
  public static final String EPOCHS = "sb.epochs";

  /**
   * Topics whose epoch was replaced while their offsets go on (published, never sent): JsonArray of
   * topic names, at most 1,000. Every node forgets what it cached of their epochs and labels what it
   * delivers from then on with the new one. See TopicLog#merged.
   */
  public static final String EPOCHS_REPLACED = "sb.epochs.replaced";

  /**
   * Topics just retired, unused (published, never sent): JsonArray of topic names, at most 1,000. Their
   * epoch entries and histories are gone; every node forgets what it cached of their epochs, so that
   * its next append to one takes the new epoch at once. See topics/UnusedTopics.
   */
  public static final String EPOCHS_RETIRED = "sb.epochs.retired";

  /** Hazelcast IMap never written: reads of its keys ask their owners whether this node is still a member (MajorityProbe). */
  public static final String PROBES = "sb.probes";

  /**
   * Commands to one node (sent, never published): JsonObject
   * {@code {"op":"close","conn":id,"code":4009}} (no reply) or
   * {@code {"op":"direct","conns":[id…],"frame":{…}}} (reply {@code {"delivered":n}}).
   */
  public static String node(String nodeId) {
    return "sb.node." + nodeId;
  }

  /**
   * A departure announced to one node (sent, never published): JsonObject {@code {"member": uuid}} (the
   * leaving node's Hazelcast member); reply {@code {}} once noted. See cluster/Quorum#leaving.
   */
  public static String quorum(String nodeId) {
    return "sb.node." + nodeId + ".quorum";
  }

  /**
   * Admin queries and actions for one node (sent, never published; see api/AdminNode). Request
   * {@code {"q":"figures"}} → the node's figures; {@code {"q":"topics","after","contains","limit"}} →
   * {@code {"topics":[{topic,subscribers,offset,epoch,per_second}]}}; {@code {"q":"subscribers","topic",
   * "limit"}} → {@code {"subscribers":[{conn,user,device}]}}; {@code {"q":"connections","user"}} →
   * {@code {"connections":[{conn,device,session,connected_at,queue_bytes}]}}; {@code {"q":"ops"}} →
   * {@code {"ops":[…]}} (its worker's runs, see OpWorker#snapshot); {@code {"q":"disconnect",("conn"|"user"),
   * "code","reason"}} → {@code {"disconnected":n}}; {@code {"q":"drain"}} → {@code {"draining":true}}, then
   * the node drains. Every answer carries {@code node_id}; failure 400 for an unknown query.
   */
  public static String admin(String nodeId) {
    return "sb.node." + nodeId + ".admin";
  }

  /**
   * A node with subscribers of a reserved {@code $sys:} topic says so about once a live interval
   * (published, never sent): JsonArray of the topics it follows. Every node publishes its figures
   * there only while such a word is recent (see api/SysFeed).
   */
  public static final String SYS_WATCH = "sb.sys.watch";

  /**
   * The admin API on the event bus (every gateway consumes it): request {@code {"action", "params":{…},
   * ["by"]}} → the same JSON as the HTTP admin API's answer; failures as {@link #API_PUBLISH}'s, with
   * 404 for unknown ids. Actions and params: docs/admin.md.
   */
  public static final String API_ADMIN = "sb.api.admin";

  /**
   * A node's part in another node's start-up warm-up (sent, never published): JsonObject
   * {@code {"ms": budget}}; reply {@code {"received": n}} once its cross round is over, or a failure
   * (503) when it does not take part. See {@code WarmUp.serve}.
   */
  public static String warmup(String nodeId) {
    return "sb.node." + nodeId + ".warmup";
  }

  /**
   * Hazelcast IMap of live devices: key {@code user + US + device}, value JSON
   * {@code {"user","device","node","member","conn","at"}}; indexed by user and member. One entry per
   * (user, device): a newer connection replaces the entry and closes the older one (4009).
   */
  public static final String DEVICES = "sb.devices";

  /**
   * Hazelcast IMap of topic members: key {@code topic + US + conn}, value JSON
   * {@code {"topic","user","device","node","member"}}; indexed by topic and member.
   */
  public static final String PRESENCE = "sb.presence";

  /** Hazelcast IMap of nodes: key node id, value JSON {@code {"node_id","member","http_port","connections","started_at"}}. */
  public static final String NODES = "sb.nodes";

  /**
   * Hazelcast IMap of resumable sessions: key session id, value JSON
   * {@code {"user", "topics": {topic: {"offset","epoch"} | null}, "ops": {op_id[/att]: {"seq","id",["node","member"],["end"]}}}},
   * time-to-live session_ttl.
   */
  public static final String SESSIONS = "sb.sessions";

  /**
   * Service API on the event bus (every node consumes these; {@code request} reaches one of them).
   * Request {@code {"topic","data",["from"]}} → reply {@code {"offset","epoch"}}.
   * Failures: {@code ReplyException} with failureCode 400 (bad input), 413 (request over
   * max_message_bytes), 500 (unexpected) or 503, message = error code. Input rules: docs/services.md.
   */
  public static final String API_PUBLISH = "sb.api.publish";

  /** Request {@code {"user","data",["device_id"],["from"]}} → reply {@code {"delivered"}}. */
  public static final String API_SEND = "sb.api.send";

  /** Request {@code {"topic"}} → reply {@code {"members":[{"user_id","devices"}],"count"}}. */
  public static final String API_PRESENCE = "sb.api.presence";

  /**
   * Request {@code {"op_id"}} → reply {@code {"op_id","state"}} (as {@code op.cancel}: any user's
   * operation, on any node; a finished one answers its final state). Failure 404
   * {@code UNKNOWN_OPERATION} for an unknown or forgotten id.
   */
  public static final String API_CANCEL = "sb.api.cancel";

  /**
   * Work for an operation kind, sent (round-robin) to the workers that run it, on gateway nodes or
   * in external services. Request {@code {"op_id","user","method","params",
   * "attach":{"node","member","att","after_seq"}}} → reply {@code {"node","member"}}; failure 429
   * (no capacity, retry later) or 400 (params refused by the worker).
   */
  public static String work(String kind) {
    return "sb.work." + kind;
  }

  /**
   * Operation control and frames for one node (gateway or worker service). To a worker:
   * {@code {"op":"attach","op_id","node","member","att","after_seq"}}, {@code {"op":"detach","op_id","att"}},
   * {@code {"op":"cancel","op_id"}}, {@code {"op":"status","op_ids":[…]}} → {@code {"ops":{op_id:{"state",
   * "stage","seq"}}}} (the runs it holds, as they are now). To a client's node:
   * {@code {"op":"frame","op_id","att":[…],"frame":{…}}}, answered once the frame is written to the
   * attached connections and they can take more (that answer is the backpressure signal; a frame
   * the node already wrote, sent again, is answered and not written twice).
   */
  public static String opsNode(String nodeId) {
    return "sb.ops." + nodeId;
  }

  /**
   * Hazelcast IMap of operations: key op id, value JSON {@code {"op_id","user","method","state","stage",
   * "seq","node","member","created_at",["terminal"],["lost"]}} (a finished one's terminal frame, up to
   * 64 KiB; "lost": ended with its node, its seq the last recorded);
   * finished ones expire after op_retention.
   */
  public static final String OPS = "sb.ops";

  /**
   * Hazelcast IMap dedupe key ("u:" user "|" method "|" SHA-256 of the canonical params, or "g|"
   * method "|" ... for global dedupe) → op id, while the operation is in flight; per-entry stats
   * on (the claim sweep reads creation times).
   */
  public static final String OP_DEDUPE = "sb.ops.dedupe";

  /**
   * Hazelcast IMap user → that user's live operations counted per worker member (plain text, see
   * operations/OpSlots): the {@code ops.max_per_user} cap, one entry processor per start and per end.
   */
  public static final String OP_SLOTS = "sb.ops.slots";

  /** Separator inside composite keys (cannot appear in ids, topics or device ids). */
  public static final char US = '\u001f';
}
