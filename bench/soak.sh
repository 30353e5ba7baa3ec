#!/usr/bin/env bash
# The soak of issue 11 (item 4): two node processes on loopback under mixed load for --minutes
# (clients that come and go with sessions, subscribe/unsubscribe over a pool of chat: and news:
# topics, publishers over WebSocket and HTTP, operations attached from the other node and
# cancelled); every --sample seconds a full GC on each node and its live heap, file descriptors,
# threads, plus the cluster's Hazelcast map sizes. Then every client leaves and the per-client maps
# must empty. Prints the tables, a flat/growing verdict per series and a figures line (last);
# exit 0 when nothing grows and the end is clean. Figures: docs/performance.md, "Soak (issue 11)".
# Usage: bench/soak.sh [--minutes 30] [--seed S] [--clients 200] [--sample 30] ...
#        (all options: src/test/java/dev/switchboard/chaos/SoakOptions.java, or bench/soak.sh --help)
# A quick look: bench/soak.sh --minutes 2 --sample 10 --session-ttl 20 --op-retention 20
# The harness's own stderr goes to target/soak-stderr.log; a run that fails keeps its node logs.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -Dstyle.color=never test-compile dependency:build-classpath -Dmdep.outputFile=target/soak.classpath >/dev/null
exec java -Xmx512m -XX:+UseSerialGC -Djava.util.concurrent.ForkJoinPool.common.parallelism=4 -Dlogback.configurationFile=test-logback.xml \
  -cp "target/test-classes:target/classes:$(cat target/soak.classpath)" \
  dev.switchboard.chaos.SoakRun "$@" 2>target/soak-stderr.log
