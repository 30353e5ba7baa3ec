#!/usr/bin/env bash
# Issue 12, item 4: many small topics on two nodes, the subscribers of each topic on different
# nodes, beside NATS in the same run (the shared harness, --rooms K --sb-nodes 2), while a Hazelcast
# client (SubsWatch) counts Vert.x's clustered event-bus registrations (__vertx.subs), the topic
# Ringbuffers and the Switchboard maps every 10 s.
# The harness puts subscriber i on topic i mod K and on node i mod 2, so K must be odd for the two
# subscribers of a topic to sit on different nodes; every subscriber is a connection of the one load
# client, whose descriptor limit (20,000) caps the run at 2 x 9,499 = 18,998 subscribers.
# Usage: bench/topics2n.sh [TOPICS=9499] [RATE=5000 publications/s]   (about 5 minutes plus quiet waits)
# Run it under the machine's heavy-work lock: flock /tmp/sb-heavy.lock bench/topics2n.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TOPICS="${1:-9499}" RATE="${2:-5000}"
[ $((TOPICS % 2)) -eq 1 ] || { echo "TOPICS must be odd (see the header)"; exit 2; }
mvn -q -B -o -Dstyle.color=never test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
export SB_CLUSTER_NAME="sb-scale-$$"
BASE=18800   # run-peers.sh's first port: switchboard first, so its nodes are on 18800/18801, Hazelcast on 19800/19801
OUT="$(mktemp /tmp/sb-topics2n.XXXXXX)"
(
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null "http://127.0.0.1:$((BASE + 1))/health/ready" && break
    sleep 1
  done
  exec timeout 400 java -Xmx256m -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
    dev.switchboard.bench.SubsWatch "$SB_CLUSTER_NAME" "127.0.0.1:$((BASE + 1000)),127.0.0.1:$((BASE + 1001))" 360 10
) > "$OUT" 2>/dev/null &
WATCH=$!
trap 'kill $WATCH 2>/dev/null || true' EXIT
../shared/bench/run-peers.sh --peers switchboard,nats --scenarios fanout --sb-nodes 2 --conns $((2 * TOPICS)) \
  --rooms "$TOPICS" --rate "$RATE" --bind-count 4 --base-port $BASE --tag "scale-topics2n-$TOPICS"
kill $WATCH 2>/dev/null || true   # the harness is done: stop the watcher (timeout passes the TERM on)
wait $WATCH 2>/dev/null || true
echo "--- registrations (SubsWatch, every 10 s, $OUT):"
grep -E '^SUBS' "$OUT" | tail -8
grep -E '^SUBS' "$OUT" | awk '{for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[2] + 0 > max[kv[1]]) max[kv[1]] = kv[2] + 0 } }
  END { printf "RESULT max"; for (k in max) printf " %s=%d", k, max[k]; print "" }'
