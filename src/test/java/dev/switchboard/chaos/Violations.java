package dev.switchboard.chaos;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Violation counts by category, with the first few examples of each (bounded). */
final class Violations {
  final Map<String, Long> counts = new LinkedHashMap<>();
  final Map<String, List<String>> examples = new LinkedHashMap<>();
  private final int keep;

  Violations(List<String> categories, int keep) {
    this.keep = keep;
    categories.forEach(c -> counts.put(c, 0L));
  }

  void add(String category, String example) {
    counts.merge(category, 1L, Long::sum);
    List<String> ex = examples.computeIfAbsent(category, k -> new ArrayList<>());
    if (ex.size() < keep) {
      ex.add(example);
    }
  }

  long get(String category) {
    return counts.getOrDefault(category, 0L);
  }
}
