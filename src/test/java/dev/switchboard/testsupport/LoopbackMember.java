package dev.switchboard.testsupport;

import com.hazelcast.config.Config;

/** A Hazelcast member configuration for tests: loopback only, no discovery, its own cluster name. */
public final class LoopbackMember {
  private LoopbackMember() {
  }

  public static Config config(String clusterPrefix) {
    Config c = new Config().setClusterName(clusterPrefix + "-" + System.nanoTime());
    c.setProperty("hazelcast.logging.type", "slf4j");
    c.getNetworkConfig().setPort(0).getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
    c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
    return c;
  }
}
