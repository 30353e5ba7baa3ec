package dev.switchboard;

import com.hazelcast.config.Config;
import com.hazelcast.config.IndexConfig;
import com.hazelcast.config.IndexType;
import com.hazelcast.config.InterfacesConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.RingbufferConfig;
import com.hazelcast.config.XmlConfigBuilder;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.cluster.Quorum;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.NodeRole;
import dev.switchboard.config.SwitchboardConfig.ClusterOptions;
import dev.switchboard.topics.Namespaces;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The Hazelcast configuration of a member: cluster.xml (or the built-in copy) adjusted by the
 * settings, the structures Switchboard keeps (histories, epochs, registries, sessions) and what holds
 * when the cluster splits. Every member (gateway or service) builds its configuration here.
 */
public final class HazelcastSetup {
  public static final String BUILTIN_CLUSTER_XML = "/switchboard/cluster.xml";

  private HazelcastSetup() {
  }

  /** The configuration of a data member ({@link NodeRole#ALL}): see {@link #hazelcastConfig(ClusterOptions, NodeRole)}. */
  public static Config hazelcastConfig(ClusterOptions c) {
    return hazelcastConfig(c, NodeRole.ALL);
  }

  /**
   * A JVM service's member (one using SwitchboardService, an external operation worker such as
   * examples/ReportWorker): a lite member, as a gateway. It owns no partition, so services come and go
   * without migrations, and the quorum, which counts data members only, is not changed by them (a
   * service as a data member raised the members expected, and its crash then counted against the
   * majority). Like a gateway it cannot start before a data member is up.
   */
  public static Config serviceConfig(ClusterOptions c) {
    return hazelcastConfig(c, NodeRole.GATEWAY);
  }

  /**
   * cluster.xml from the configured path (or the copy built into the jar), adjusted by the settings;
   * a {@link NodeRole#GATEWAY} joins as a lite member (no partitions: it scales and rolls without
   * migrations; the quorum counts data members only).
   */
  public static Config hazelcastConfig(ClusterOptions c, NodeRole role) {
    Config hz;
    Path path = Path.of(c.configPath());
    try {
      if (Files.isRegularFile(path)) {
        hz = new XmlConfigBuilder(path.toString()).build();
      } else if ("cluster.xml".equals(c.configPath())) {
        try (InputStream in = HazelcastSetup.class.getResourceAsStream(BUILTIN_CLUSTER_XML)) {
          if (in == null) {
            throw new ConfigException("invalid setting cluster.config (SB_CLUSTER_CONFIG): no cluster.xml found");
          }
          hz = new XmlConfigBuilder(in).build();
        }
      } else {
        throw new ConfigException("invalid setting cluster.config (SB_CLUSTER_CONFIG): no file at " + c.configPath());
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof ConfigException) {
        throw (ConfigException) e;
      }
      throw new ConfigException("invalid setting cluster.config (SB_CLUSTER_CONFIG): " + c.configPath()
          + " is not a valid Hazelcast XML configuration");
    }
    hz.setClusterName(c.name());
    NetworkConfig net = hz.getNetworkConfig();
    // A member given without a port means "the cluster's usual ports": the configured base port and
    // its auto-increment range. Hazelcast would instead try the range above this node's own port,
    // so a second node on 5702 would never find the first on 5701: spell the ports out.
    int basePort = net.getPort();
    int portCount = net.isPortAutoIncrement() ? Math.max(1, net.getPortCount()) : 1;
    if (c.port() > 0) {
      net.setPort(c.port());
    }
    JoinConfig join = net.getJoin();
    if (join.getTcpIpConfig().isEnabled() && !c.members().isEmpty()) {
      List<String> members = new java.util.ArrayList<>();
      for (String m : c.members()) {
        if (m.contains(":")) {
          members.add(m);
        } else {
          for (int p = basePort; p < basePort + portCount; p++) {
            members.add(m + ":" + p);
          }
        }
      }
      join.getTcpIpConfig().setMembers(members);
    }
    if (!c.host().isEmpty()) {
      InterfacesConfig ifaces = net.getInterfaces();
      ifaces.setEnabled(true).setInterfaces(List.of(c.host()));
    }
    hz.setLiteMember(role.liteMember());
    partitions(hz, c);
    return dev.switchboard.operations.OpProcessors.register(
        dev.switchboard.cluster.SessionProcessors.register(dev.switchboard.cluster.DeviceRegistry.register(
            dev.switchboard.cluster.PresenceRecords.register(dev.switchboard.topics.TopicRetire.register(hz)))));
  }

  /**
   * What holds when the cluster splits (docs/protocol.md, "Partitions and long pauses"): only a side
   * holding the majority serves ({@link Quorum}, guarding the histories and epochs at their partition
   * owner); the sides look for each other
   * every {@code merge_delay_s} once healed, and the merging (smaller) side's copies are discarded:
   * it never served while apart.
   */
  /** How long a leaving member waits for its partitions to be handed over (see {@link #partitions}). */
  static final int GRACEFUL_LEAVE_S = 8;

  static void partitions(Config hz, ClusterOptions c) {
    // A write whose backup does not answer completes after this timeout on the primary alone; a history
    // append is then only acknowledged if the side still serves (TopicLog), which a side cut off for
    // this long no longer does (it stops hearing the others after half the member timeout). Failing
    // such writes instead (fail.on.indeterminate.state) also failed start-up and registrations on a
    // merely slow machine.
    hz.setProperty("hazelcast.operation.backup.timeout.millis", Long.toString(c.memberTimeoutS() * 1000L));
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", Integer.toString(c.memberTimeoutS()));
    hz.setProperty("hazelcast.merge.first.run.delay.seconds", Integer.toString(c.mergeDelayS()));
    hz.setProperty("hazelcast.merge.next.run.delay.seconds", Integer.toString(c.mergeDelayS()));
    // A leaving member hands its partitions over first and waits until they are safe: 600 s by
    // default, which a frozen or cut-off member can stretch to all of it (a drained node of the
    // 10-minute chaos run still ran 17 s after SIGTERM). The backups are on the other members;
    // past this the node leaves anyway, as an orchestrator's kill would make it.
    hz.setProperty("hazelcast.graceful.shutdown.max.wait", Integer.toString(GRACEFUL_LEAVE_S));
    long heartbeatMs = 1000L * Long.parseLong(java.util.Objects.requireNonNullElse(
        hz.getProperty("hazelcast.heartbeat.interval.seconds"), "5"));
    // heard from within half the member timeout (and at least two heartbeats): a side that stops
    // hearing the others refuses before its view changes, a heartbeat late under load does not count
    long toleranceMs = Math.max(2 * heartbeatMs, c.memberTimeoutS() * 1000L / 2);
    hz.addSplitBrainProtectionConfig(new com.hazelcast.config.SplitBrainProtectionConfig(Quorum.NAME, true)
        .setFunctionImplementation(new Quorum(c.quorum(), heartbeatMs, toleranceMs))
        .setProtectOn(com.hazelcast.splitbrainprotection.SplitBrainProtectionOn.READ_WRITE));
    // Vert.x re-registers its own consumers once merged; the smaller side's copy of the routes is stale
    hz.getMultiMapConfig("__vertx.subs").setMergePolicyConfig(discard());
    hz.getMapConfig("__vertx.nodeInfo").setMergePolicyConfig(discard());
  }

  /** The quorum of a configuration made by {@link #hazelcastConfig}. */
  public static Quorum quorum(Config hz) {
    return (Quorum) hz.getSplitBrainProtectionConfig(Quorum.NAME).getFunctionImplementation();
  }

  static com.hazelcast.config.MergePolicyConfig discard() {
    return new com.hazelcast.config.MergePolicyConfig(com.hazelcast.spi.merge.DiscardMergePolicy.class.getName(),
        com.hazelcast.config.MergePolicyConfig.DEFAULT_BATCH_SIZE);
  }

  /**
   * Sessions live for {@code session_ttl} after their last write. Every session write (an entry
   * processor, see Sessions) sets that time-to-live itself; the map-wide one is the same, for
   * anything else that writes the map.
   */
  /**
   * The operations' dedupe keys: per-entry statistics on, for the claims' creation times (the claim
   * sweep frees a claim whose operation nobody recorded once it is old, OpRegistry#sweepClaims).
   */
  public static Config dedupeConfig(Config hz) {
    return hz.addMapConfig(new MapConfig(Addresses.OP_DEDUPE).setBackupCount(1).setMergePolicyConfig(discard())
        .setPerEntryStatsEnabled(true));
  }

  static void sessionsConfig(Config hz, long ttlMs) {
    // never queried: no JSON metadata (Hazelcast would otherwise parse every value on each write)
    hz.addMapConfig(new MapConfig(Addresses.SESSIONS).setBackupCount(1).setMergePolicyConfig(discard())
        .setMetadataPolicy(com.hazelcast.config.MetadataPolicy.OFF)
        .setTimeToLiveSeconds(ttlMs <= 0 ? 0 : (int) Math.max(1, (ttlMs + 999) / 1000)));
  }

  /**
   * One Ringbuffer configuration per namespace (capacity = history size, time-to-live, one
   * synchronous backup: async backups lose acknowledged events on failover).
   */
  static void historyConfig(Config hz, Namespaces namespaces) {
    for (Namespaces.Options ns : namespaces.all()) {
      String pattern = Addresses.historyPattern(Namespaces.DEFAULT.equals(ns.name()) ? "" : ns.name() + ":");
      hz.addRingBufferConfig(new RingbufferConfig(pattern)
          .setCapacity(Math.max(1, ns.historySize()))
          .setTimeToLiveSeconds(ns.historyTtlSeconds())
          .setBackupCount(1)
          .setAsyncBackupCount(0)
          .setSplitBrainProtectionName(Quorum.NAME)
          .setMergePolicyConfig(discard()));
    }
    // Every structure of ours: after a split, the smaller side's copy is discarded (it served nothing
    // while apart, and its entries of clients it handed over are stale)
    hz.addMapConfig(new MapConfig(Addresses.EPOCHS).setBackupCount(1)
        .setSplitBrainProtectionName(Quorum.NAME).setMergePolicyConfig(discard()));
    // one plain-text entry per user (DeviceRegistry): no JSON metadata, no index
    hz.addMapConfig(new MapConfig(Addresses.DEVICES).setBackupCount(1).setMergePolicyConfig(discard())
        .setMetadataPolicy(com.hazelcast.config.MetadataPolicy.OFF));
    hz.addMapConfig(new MapConfig(Addresses.PRESENCE).setBackupCount(1).setMergePolicyConfig(discard())
        .addIndexConfig(new IndexConfig(IndexType.HASH, "topic"))
        .addIndexConfig(new IndexConfig(IndexType.HASH, "member")));
    hz.addMapConfig(new MapConfig(Addresses.NODES).setBackupCount(1).setMergePolicyConfig(discard()));
    // each start writes its entry twice (accepted, ended): no JSON metadata tree built per write (the
    // two indexed fields are read from the JSON by the index itself)
    hz.addMapConfig(new MapConfig(Addresses.OPS).setBackupCount(1).setMergePolicyConfig(discard())
        .setMetadataPolicy(com.hazelcast.config.MetadataPolicy.OFF)
        .addIndexConfig(new IndexConfig(IndexType.HASH, "user"))
        .addIndexConfig(new IndexConfig(IndexType.HASH, "member")));
    // one plain-text entry per user with live operations (OpSlots): never queried
    hz.addMapConfig(new MapConfig(Addresses.OP_SLOTS).setBackupCount(1).setMergePolicyConfig(discard())
        .setMetadataPolicy(com.hazelcast.config.MetadataPolicy.OFF));
    dedupeConfig(hz);
  }
}
