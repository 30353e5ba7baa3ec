#!/usr/bin/env bash
# Issue 12, item 5: heap of one clustered event-bus registration (a __vertx.subs entry and the node's
# bookkeeping of it), which Hazelcast does not report for a MultiMap: K clustered consumers against K
# local ones on one node, live heap after a full GC, divided by K (docs/scaling.md uses it).
# Usage: bench/subs-entry-size.sh [K=20000]   (under a minute)
# Run it under the machine's heavy-work lock: flock /tmp/sb-heavy.lock bench/subs-entry-size.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -o -Dstyle.color=never test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
exec timeout 300 java -Xmx1g -XX:+UseParallelGC -Dlogback.configurationFile=test-logback.xml \
  -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
  dev.switchboard.bench.SubsEntrySize "${1:-20000}" 2>target/subs-entry-size-stderr.log | grep RESULT
