package dev.switchboard.operations;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-user cap on live operations ({@code ops.max_per_user}), one Hazelcast IMap entry per user
 * with at least one live operation: how many of the user's operations each worker member holds, in
 * plain text ({@code "c TAB member TAB count"} lines), and the last {@link #RECENT} op ids it counted
 * in or out ({@code "r TAB +op_id"} / {@code "r TAB -op_id"}).
 *
 * <p>A worker takes a slot when it accepts an operation and gives it back when the run ends: one
 * entry processor on the user's partition each, whatever the number of operations in the cluster
 * (the cap used to be a predicate query over the whole registry per start). Counts are kept per
 * member so that a dead worker's operations stop counting as soon as its member is dropped: the
 * oldest member drops it from every entry when it leaves ({@link DropMember} over the map, as for
 * devices), and a refused worker that sees a departed member among the counts drops it from that
 * entry itself and asks again. The recent op ids make an acquire or release that Hazelcast retries
 * after a partition owner died (at-least-once) count once. An entry whose counts all reach zero is
 * removed.
 *
 * <p>Processors are {@link IdentifiedDataSerializable} in {@link OpProcessors}' factory.
 */
final class OpSlots {
  /** Op ids remembered per entry for retried invocations. */
  static final int RECENT = 16;
  private static final char FIELD = '\t';
  private static final char LINE = '\n';

  private OpSlots() {
  }

  /** A user's entry, parsed. */
  static final class Slots {
    final Map<String, Integer> counts = new LinkedHashMap<>();
    final List<String> recent = new ArrayList<>();

    static Slots parse(String value) {
      Slots s = new Slots();
      if (value == null || value.isEmpty()) {
        return s;
      }
      for (String line : value.split(String.valueOf(LINE))) {
        String[] f = line.split(String.valueOf(FIELD), -1);
        if (f.length == 3 && "c".equals(f[0])) {
          try {
            s.counts.put(f[1], Integer.parseInt(f[2]));
          } catch (NumberFormatException ignored) {
            // not ours: dropped on the next write
          }
        } else if (f.length == 2 && "r".equals(f[0])) {
          s.recent.add(f[1]);
        }
      }
      return s;
    }

    int total() {
      int n = 0;
      for (int c : counts.values()) {
        n += c;
      }
      return n;
    }

    void remember(String signedId) {
      recent.add(signedId);
      while (recent.size() > RECENT) {
        recent.remove(0);
      }
    }

    /** The encoded entry, or null when no member holds a slot any more (the entry goes). */
    String encode() {
      counts.values().removeIf(c -> c <= 0);
      if (counts.isEmpty()) {
        return null;
      }
      StringBuilder b = new StringBuilder();
      counts.forEach((m, c) -> b.append('c').append(FIELD).append(m).append(FIELD).append(c).append(LINE));
      for (String r : recent) {
        b.append('r').append(FIELD).append(r).append(LINE);
      }
      return b.toString();
    }
  }

  private abstract static class Processor<R> implements EntryProcessor<String, String, R>, IdentifiedDataSerializable {
    @Override
    public final int getFactoryId() {
      return OpProcessors.FACTORY_ID;
    }
  }

  /**
   * Takes a slot for {@code opId} on {@code member} unless the user's operations number {@code max}
   * already: null when taken (or already taken by this op id), else the members holding the
   * user's slots, tab-separated (the caller checks them against the cluster, see {@link OpSlots}).
   */
  static final class Acquire extends Processor<String> {
    private String opId;
    private String member;
    private int max;

    Acquire() {
    }

    Acquire(String opId, String member, int max) {
      this.opId = opId;
      this.member = member;
      this.max = max;
    }

    @Override
    public int getClassId() {
      return OpProcessors.SLOT_ACQUIRE;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(opId);
      out.writeString(member);
      out.writeInt(max);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      opId = in.readString();
      member = in.readString();
      max = in.readInt();
    }

    @Override
    public String process(Map.Entry<String, String> entry) {
      Slots s = Slots.parse(entry.getValue());
      if (s.recent.contains("+" + opId)) {
        return null; // a retried invocation of one that applied
      }
      if (s.total() >= max) {
        return String.join(String.valueOf(FIELD), s.counts.keySet());
      }
      s.counts.merge(member, 1, Integer::sum);
      s.remember("+" + opId);
      entry.setValue(s.encode());
      return null;
    }
  }

  /** Gives back {@code opId}'s slot on {@code member} (once, however often it is invoked). */
  static final class Release extends Processor<Boolean> {
    private String opId;
    private String member;

    Release() {
    }

    Release(String opId, String member) {
      this.opId = opId;
      this.member = member;
    }

    @Override
    public int getClassId() {
      return OpProcessors.SLOT_RELEASE;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(opId);
      out.writeString(member);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      opId = in.readString();
      member = in.readString();
    }

    @Override
    public Boolean process(Map.Entry<String, String> entry) {
      if (entry.getValue() == null) {
        return false;
      }
      Slots s = Slots.parse(entry.getValue());
      Integer c = s.counts.get(member);
      if (c == null || s.recent.contains("-" + opId)) {
        return false; // its member was dropped (it left, or this node came back under a new uuid), or a retry
      }
      s.counts.put(member, c - 1);
      s.remember("-" + opId);
      entry.setValue(s.encode());
      return true;
    }
  }

  /** Drops the slots of members that left the cluster; entries without them are not written. */
  static final class DropMembers extends Processor<Integer> {
    private List<String> members;

    DropMembers() {
    }

    DropMembers(List<String> members) {
      this.members = members;
    }

    @Override
    public int getClassId() {
      return OpProcessors.SLOT_DROP_MEMBERS;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeInt(members.size());
      for (String m : members) {
        out.writeString(m);
      }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      int n = in.readInt();
      members = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        members.add(in.readString());
      }
    }

    @Override
    public Integer process(Map.Entry<String, String> entry) {
      String value = entry.getValue();
      if (value == null || members.stream().noneMatch(value::contains)) {
        return 0;
      }
      Slots s = Slots.parse(value);
      int dropped = 0;
      for (String m : members) {
        Integer c = s.counts.remove(m);
        dropped += c == null ? 0 : c;
      }
      if (dropped > 0) {
        entry.setValue(s.encode());
      }
      return dropped;
    }
  }
}
