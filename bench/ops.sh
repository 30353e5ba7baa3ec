#!/usr/bin/env bash
# Operation figures for the operations issue: cancel-to-terminal latency across nodes (p50/p99 over
# N cancels), operations started per second on one node, heap per running operation.
# Usage: bench/ops.sh [CANCELS=1000] [STARTS=5000] [RUNNING=1000] [WINDOWED=0]   (about a minute; loopback only)
# STARTS: pipelined on 4 connections, all at once; the k-th has interval_ms k (distinct params, so that
#   none joins another), so it ends k ms after it starts: that figure stays below ~1,000/s on any server.
# WINDOWED: demo.count {to:1, interval_ms:0} from 160 users with one start in flight each, on node 1 of
#   the two nodes, then on a one-node cluster (after a warm-up of WINDOWED/2): starts per second.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
java -Xmx2g -Djava.util.concurrent.ForkJoinPool.common.parallelism=4 \
  -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
  dev.switchboard.bench.OpsBench "${1:-1000}" "${2:-5000}" "${3:-1000}" "${4:-0}" 2>/dev/null | grep --line-buffered RESULT
