package dev.switchboard.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the soak reads of one node process from outside, as an operator would: the live heap after
 * a full collection ({@code jcmd <pid> GC.run} then {@code GC.heap_info}, in one jcmd call), the
 * metaspace, open file descriptors ({@code /proc/<pid>/fd}), threads and resident memory
 * ({@code /proc/<pid>/status}), CPU time, and class histograms ({@code GC.class_histogram}, itself
 * after a full collection). Linux and a HotSpot JDK with jcmd beside the running java; blocking,
 * every call bounded: never on an event loop.
 */
final class NodeProbe {
  /** One reading. Sizes in KiB; cpuS: CPU seconds the process has used so far. */
  record Reading(long heapKb, long metaspaceKb, int fds, int threads, long rssKb, double cpuS) {
  }

  /** One class's line of a histogram. */
  record ClassCount(long instances, long bytes) {
  }

  private static final Pattern GENERATION =
      Pattern.compile("^\\s*\\S.*?\\s+total (\\d+)K, used (\\d+)K", Pattern.MULTILINE);
  private static final Pattern METASPACE = Pattern.compile("^\\s*Metaspace\\s+used (\\d+)K", Pattern.MULTILINE);
  private static final Pattern HISTO_LINE =
      Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)", Pattern.MULTILINE);
  private static final long JCMD_TIMEOUT_S = 60;

  private NodeProbe() {
  }

  /** A full collection, then everything of {@link Reading}. */
  static Reading read(long pid) {
    String heap = jcmd(pid, "GC.run", "GC.heap_info");
    Path proc = Path.of("/proc", Long.toString(pid));
    int fds;
    try (var s = Files.list(proc.resolve("fd"))) {
      fds = (int) s.count();
    } catch (IOException e) {
      throw new IllegalStateException("cannot list " + proc.resolve("fd") + ": " + e);
    }
    Map<String, String> status = status(proc);
    double cpu = ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration()).map(Duration::toNanos)
        .orElse(0L) / 1e9;
    return new Reading(heapUsedKb(heap), metaspaceKb(heap), fds, Integer.parseInt(status.getOrDefault("Threads", "0")),
        Long.parseLong(status.getOrDefault("VmRSS", "0 kB").split("\\s+")[0]), cpu);
  }

  /** The class histogram after a full collection: class name → count. */
  static Map<String, ClassCount> histogram(long pid) {
    return parseHistogram(jcmd(pid, "GC.class_histogram"));
  }

  /** Heap in use summed over the collector's generations or regions ("total …K, used …K" lines). */
  static long heapUsedKb(String heapInfo) {
    long used = 0;
    Matcher m = GENERATION.matcher(heapInfo);
    boolean any = false;
    while (m.find()) {
      used += Long.parseLong(m.group(2));
      any = true;
    }
    if (!any) {
      throw new IllegalStateException("no heap figures in GC.heap_info output: " + heapInfo);
    }
    return used;
  }

  static long metaspaceKb(String heapInfo) {
    Matcher m = METASPACE.matcher(heapInfo);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  static Map<String, ClassCount> parseHistogram(String text) {
    Map<String, ClassCount> out = new HashMap<>();
    Matcher m = HISTO_LINE.matcher(text);
    while (m.find()) {
      out.merge(m.group(3), new ClassCount(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))),
          (a, b) -> new ClassCount(a.instances + b.instances, a.bytes + b.bytes));
    }
    return out;
  }

  /** The classes whose bytes grew most from {@code before} to {@code after}, as printable lines. */
  static List<String> growth(Map<String, ClassCount> before, Map<String, ClassCount> after, int top) {
    record Delta(String cls, long bytes, long instances) {
    }
    List<Delta> d = new ArrayList<>();
    for (Map.Entry<String, ClassCount> e : after.entrySet()) {
      ClassCount b = before.getOrDefault(e.getKey(), new ClassCount(0, 0));
      d.add(new Delta(e.getKey(), e.getValue().bytes() - b.bytes(), e.getValue().instances() - b.instances()));
    }
    d.sort((x, y) -> Long.compare(y.bytes, x.bytes));
    List<String> out = new ArrayList<>();
    for (Delta x : d.subList(0, Math.min(top, d.size()))) {
      out.add(String.format("%+10d B %+8d objects  %s", x.bytes, x.instances, x.cls));
    }
    return out;
  }

  static long totalBytes(Map<String, ClassCount> h) {
    return h.values().stream().mapToLong(ClassCount::bytes).sum();
  }

  private static Map<String, String> status(Path proc) {
    Map<String, String> out = new HashMap<>();
    try {
      for (String line : Files.readAllLines(proc.resolve("status"))) {
        int colon = line.indexOf(':');
        if (colon > 0) {
          out.put(line.substring(0, colon), line.substring(colon + 1).trim());
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + proc.resolve("status") + ": " + e);
    }
    return out;
  }

  /** Runs the commands in one {@code jcmd} (its {@code -f} file when more than one) and returns its output. */
  static String jcmd(long pid, String... commands) {
    Path file = null;
    Path out = null;
    try {
      List<String> cmd = new ArrayList<>(List.of(jcmdPath(), Long.toString(pid)));
      if (commands.length == 1) {
        cmd.add(commands[0]);
      } else {
        file = Files.createTempFile("sb-soak-jcmd", ".txt");
        Files.writeString(file, String.join("\n", commands) + "\n");
        cmd.add("-f");
        cmd.add(file.toString());
      }
      out = Files.createTempFile("sb-soak-jcmd", ".out"); // a file, so that a hung jcmd cannot block a read
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      if (!p.waitFor(JCMD_TIMEOUT_S, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("jcmd " + pid + " " + String.join(",", commands) + " did not return");
      }
      String text = Files.readString(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException("jcmd " + pid + " " + String.join(",", commands) + " failed: " + text);
      }
      return text;
    } catch (IOException e) {
      throw new IllegalStateException("jcmd failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } finally {
      delete(file);
      delete(out);
    }
  }

  private static void delete(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // a temp file
      }
    }
  }

  /** The jcmd of the JDK running the harness (the nodes run on the same one). */
  private static String jcmdPath() {
    Path p = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    return Files.isExecutable(p) ? p.toString() : "jcmd";
  }
}
