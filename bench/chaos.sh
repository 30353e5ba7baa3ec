#!/usr/bin/env bash
# The chaos run of issue 11: three node processes on loopback (or, with --net netns, each in a network
# namespace of its own: needs root), a few hundred clients with sessions, publishers over WebSocket and
# HTTP, operations, one fault at a time (SIGKILL, SIGTERM, SIGSTOP; with --net netns also a partition),
# then the checker. The last line printed is the figures line; exit 0 when nothing was violated, 1 when
# something was, 2 when the run could not start (bad options, namespaces not permitted).
# Usage: bench/chaos.sh [--minutes 2] [--seed S] [--faults kill,term,stop] [--clients 200] ...
#        bench/chaos.sh --net netns --faults kill,term,stop,partition [--cut 30]
#        (all options: src/test/java/dev/switchboard/chaos/ChaosOptions.java, or bench/chaos.sh --help)
# Node logs of a failed run stay in the temp directory it names; the harness's own stderr goes to
# target/chaos-stderr.log.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -Dstyle.color=never test-compile dependency:build-classpath -Dmdep.outputFile=target/chaos.classpath >/dev/null
exec java -Xmx1g -Djava.util.concurrent.ForkJoinPool.common.parallelism=4 -Dlogback.configurationFile=test-logback.xml \
  -cp "target/test-classes:target/classes:$(cat target/chaos.classpath)" \
  dev.switchboard.chaos.ChaosRun "$@" 2>target/chaos-stderr.log
