package dev.switchboard.cluster;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The live devices of every user, one Hazelcast IMap entry per user: {@code user → lines of
 * "device TAB node TAB member TAB connection TAB connected-at"}. Every change is an entry processor
 * on the user's partition, so a connect sees and replaces the device's previous connection
 * atomically, and a user's devices are one read. Plain text values: no JSON metadata and no index
 * to keep per connection (a departed member's devices are found by one pass over the entries,
 * which happens only when a member leaves).
 */
final class DeviceRegistry {
  private static final char FIELD = '\t';
  private static final char LINE = '\n';

  private DeviceRegistry() {
  }

  /** The devices in a stored value, oldest connection first as stored. */
  static List<Directory.Device> parse(String user, String value) {
    List<Directory.Device> out = new ArrayList<>();
    if (value == null || value.isEmpty()) {
      return out;
    }
    for (String line : value.split(String.valueOf(LINE))) {
      String[] f = line.split(String.valueOf(FIELD), -1);
      if (f.length == 5) {
        long at;
        try {
          at = Long.parseLong(f[4]);
        } catch (NumberFormatException e) {
          at = 0;
        }
        out.add(new Directory.Device(user, f[0], f[1], f[2], f[3], at));
      }
    }
    return out;
  }

  static String line(Directory.Device d) {
    return d.device() + FIELD + d.node() + FIELD + d.member() + FIELD + d.conn() + FIELD + d.at();
  }

  private static String join(List<Directory.Device> devices) {
    StringBuilder b = new StringBuilder();
    for (Directory.Device d : devices) {
      if (b.length() > 0) {
        b.append(LINE);
      }
      b.append(line(d));
    }
    return b.toString();
  }

  private static void store(Map.Entry<String, String> entry, List<Directory.Device> devices) {
    entry.setValue(devices.isEmpty() ? null : join(devices));
  }

  /** Registers a device connection; returns the stored line of the connection it replaced, or null. */
  static final class Connect implements EntryProcessor<String, String, String>, Serializable {
    private static final long serialVersionUID = 1L;
    private final String device;
    private final String node;
    private final String member;
    private final String conn;
    private final long at;

    Connect(String device, String node, String member, String conn, long at) {
      this.device = device;
      this.node = node;
      this.member = member;
      this.conn = conn;
      this.at = at;
    }

    @Override
    public String process(Map.Entry<String, String> entry) {
      List<Directory.Device> devices = parse(entry.getKey(), entry.getValue());
      String replaced = null;
      for (int i = 0; i < devices.size(); i++) {
        if (devices.get(i).device().equals(device)) {
          replaced = line(devices.remove(i));
          break;
        }
      }
      devices.add(new Directory.Device(entry.getKey(), device, node, member, conn, at));
      store(entry, devices);
      return replaced;
    }
  }

  /** Removes a device only if it is still the given connection's (a newer one may have replaced it). */
  static final class Disconnect implements EntryProcessor<String, String, Boolean>, Serializable {
    private static final long serialVersionUID = 1L;
    private final String device;
    private final String conn;

    Disconnect(String device, String conn) {
      this.device = device;
      this.conn = conn;
    }

    @Override
    public Boolean process(Map.Entry<String, String> entry) {
      List<Directory.Device> devices = parse(entry.getKey(), entry.getValue());
      boolean removed = devices.removeIf(d -> d.device().equals(device) && d.conn().equals(conn));
      if (removed) {
        store(entry, devices);
      }
      return removed;
    }
  }

  /** Removes every device of a member that left the cluster; entries without one are not written. */
  static final class DropMember implements EntryProcessor<String, String, Integer>, Serializable {
    private static final long serialVersionUID = 1L;
    private final String member;

    DropMember(String member) {
      this.member = member;
    }

    @Override
    public Integer process(Map.Entry<String, String> entry) {
      String value = entry.getValue();
      if (value == null || !value.contains(member)) {
        return 0;
      }
      List<Directory.Device> devices = parse(entry.getKey(), value);
      int before = devices.size();
      devices.removeIf(d -> d.member().equals(member));
      if (devices.size() != before) {
        store(entry, devices);
      }
      return before - devices.size();
    }
  }

  /** Runs {@link DropMember} over the whole map (blocking: call off the event loop). */
  static void dropMember(IMap<String, String> devices, String member) {
    devices.executeOnEntries(new DropMember(member));
  }
}
