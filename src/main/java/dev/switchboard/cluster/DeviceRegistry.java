package dev.switchboard.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

import java.io.IOException;
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
 *
 * <p>The entry processors travel to the key's owner and its backup on every connect and disconnect,
 * so they are {@link IdentifiedDataSerializable} (a factory id, a class id and their strings) rather
 * than Java-serialised (class descriptors written and reflected over on every call; on two nodes
 * that was the bulk of a connect's serialisation cost). {@link #register} adds their factory to a
 * member's configuration: every member must have it (HazelcastSetup.hazelcastConfig does).
 */
public final class DeviceRegistry {
  private static final char FIELD = '\t';
  private static final char LINE = '\n';
  /** Hazelcast data-serializable factory id of these processors (unique among the cluster's factories). */
  static final int FACTORY_ID = 0x5b01;
  private static final int CONNECT = 1;
  private static final int DISCONNECT = 2;
  private static final int DROP_MEMBER = 3;
  private static final int ENSURE = 4;

  private DeviceRegistry() {
  }

  /** Lets a member (de)serialise the registry's entry processors. */
  public static Config register(Config hz) {
    DataSerializableFactory factory = type -> switch (type) {
      case CONNECT -> new Connect();
      case DISCONNECT -> new Disconnect();
      case DROP_MEMBER -> new DropMember();
      case ENSURE -> new Ensure();
      default -> null;
    };
    hz.getSerializationConfig().addDataSerializableFactory(FACTORY_ID, factory);
    return hz;
  }

  /** What every processor shares: its factory. */
  private abstract static class Processor<R> implements EntryProcessor<String, String, R>, IdentifiedDataSerializable {
    @Override
    public final int getFactoryId() {
      return FACTORY_ID;
    }
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
  static class Connect extends Processor<String> {
    private String device;
    private String node;
    private String member;
    private String conn;
    private long at;

    Connect() {
    }

    Connect(String device, String node, String member, String conn, long at) {
      this.device = device;
      this.node = node;
      this.member = member;
      this.conn = conn;
      this.at = at;
    }

    @Override
    public int getClassId() {
      return CONNECT;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(device);
      out.writeString(node);
      out.writeString(member);
      out.writeString(conn);
      out.writeLong(at);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      device = in.readString();
      node = in.readString();
      member = in.readString();
      conn = in.readString();
      at = in.readLong();
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

  /**
   * Registers a live connection's device again where the entry has no line for that device (a write
   * the cluster lost, see Directory#reassertDevices); a line for the device, this connection's or a
   * newer one's, is left as it is, and nothing is written. Returns true when it added the line.
   */
  static final class Ensure extends Processor<Boolean> {
    private final Connect connect;

    Ensure() {
      this.connect = new Connect();
    }

    Ensure(String device, String node, String member, String conn, long at) {
      this.connect = new Connect(device, node, member, conn, at);
    }

    @Override
    public int getClassId() {
      return ENSURE;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      connect.writeData(out);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      connect.readData(in);
    }

    @Override
    public Boolean process(Map.Entry<String, String> entry) {
      for (Directory.Device d : parse(entry.getKey(), entry.getValue())) {
        if (d.device().equals(connect.device)) {
          return false;
        }
      }
      connect.process(entry);
      return true;
    }
  }

  /** Removes a device only if it is still the given connection's (a newer one may have replaced it). */
  static final class Disconnect extends Processor<Boolean> {
    private String device;
    private String conn;

    Disconnect() {
    }

    Disconnect(String device, String conn) {
      this.device = device;
      this.conn = conn;
    }

    @Override
    public int getClassId() {
      return DISCONNECT;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(device);
      out.writeString(conn);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      device = in.readString();
      conn = in.readString();
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
  static final class DropMember extends Processor<Integer> {
    private String member;

    DropMember() {
    }

    DropMember(String member) {
      this.member = member;
    }

    @Override
    public int getClassId() {
      return DROP_MEMBER;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(member);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      member = in.readString();
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
