#!/usr/bin/env bash
# Issue 12, item 4: a rolling join and leave of a third node while TOPICS topics are live (two nodes
# in one JVM, real Hazelcast members and event buses on loopback; one subscriber of every topic on
# each; publishers on every node at RATE publications/s over the topics; the third node also gets a
# publisher and subscribers on SAMPLE topics). Prints how long the join and the leave took, then per
# phase the publications acknowledged, deliveries expected / lost / later than 1 s, p50/p99/max, and
# how long after the join and the leave the last lost or late publication was sent (convergence).
# Usage: bench/rolling.sh [TOPICS=10000] [RATE=1000] [SAMPLE=1000] [STEADY_S=15]   (about 2 minutes)
# Run it under the machine's heavy-work lock: flock /tmp/sb-heavy.lock bench/rolling.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -o -Dstyle.color=never test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
exec timeout 600 java -Xmx3g -XX:+UseParallelGC -Djava.util.concurrent.ForkJoinPool.common.parallelism=4 \
  -Dlogback.configurationFile=test-logback.xml \
  -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
  dev.switchboard.bench.RollingJoin "${1:-10000}" "${2:-1000}" "${3:-1000}" "${4:-15}" 2>target/rolling-stderr.log | grep -E 'RESULT|errors on'
