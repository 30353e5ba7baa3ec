#!/usr/bin/env bash
# Cluster memory per topic (issue 12, item 2), counted in Hazelcast's structures, not timed: two nodes,
# N fresh topics (history 1,000 like `chat`, time-to-live TTL s) subscribed on both, no event; then
# all unsubscribed and the time-to-live passed. Prints RESULT lines.
# Usage: bench/topic-memory.sh [N=5000] [TTL_S=3]   (under a minute; loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
java -Xmx2g -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
  dev.switchboard.bench.TopicMemoryBench "${1:-5000}" "${2:-3}" 2>/dev/null | grep RESULT
