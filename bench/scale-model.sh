#!/usr/bin/env bash
# Issue 12, item 5: checks docs/scaling.md's model by counting, not timing. NODES light nodes in one
# JVM (each a real Hazelcast member and clustered Vert.x, loopback TCP), CONNS connections per node,
# TOPICS topics with SUBS subscribers each on SUBS different nodes, PUBS publications from node 1,
# then a node joining and leaving. Prints, per phase, the entries every Hazelcast structure gained,
# Hazelcast operations and events executed on all members, event-bus messages, per unit.
# Usage: bench/scale-model.sh [NODES=2,4,6] [TOPICS=3000] [SUBS=2] [CONNS=20] [PUBS=3000] [NAMESPACE=chat] [EXTRA_SUBS=0]
#        EXTRA_SUBS: topics the joining node subscribes to before it leaves (its departure then removes registrations);
#        NODES: one count or a comma-separated list (one fresh cluster each, one after another);
#        about 1.5 minutes per cluster; bounded: every phase gives up after 120 s, a cluster after 600 s
# Run it under the machine's heavy-work lock: flock /tmp/sb-heavy.lock bench/scale-model.sh
set -euo pipefail
set -- "${1:-2,4,6}" "${@:2}"
cd "$(dirname "$0")/.."
mvn -q -B -o -Dstyle.color=never test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
for n in ${1//,/ }; do
timeout 600 java -Xmx3g -XX:+UseParallelGC -Djava.util.concurrent.ForkJoinPool.common.parallelism=4 \
  -Dlogback.configurationFile=test-logback.xml \
  -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
  dev.switchboard.bench.ScaleModel "$n" "${2:-3000}" "${3:-2}" "${4:-20}" "${5:-3000}" "${6:-chat}" "${7:-0}" 2>target/scale-model-stderr.log | grep -E 'RESULT|errors on'
done
