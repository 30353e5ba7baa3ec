#!/usr/bin/env bash
# Fan-out on one node that stays up across several load runs: the shared harness
# (../shared/bench/run-peers.sh) measures a freshly started JVM, whose first ~40 s of traffic are
# still being compiled (async-profiler showed about a third of the server's CPU in the C2
# compiler during a cold 400k/s run). This runs the same load client against one node ROUNDS
# times in a row, alternating the sustainable and the overload rate, so the later rounds show the
# compiled steady state. Run it beside run-peers.sh, not instead of it.
#
# Usage: bench/fanout-warm.sh [ROUNDS=3] [SUBSCRIBERS=2000] [RATE=20] [SAT_RATE=200]
#        (each round ~30-60 s; loopback only; the node gets the same limits run-peers.sh gives it)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}" SUBS="${2:-2000}" RATE="${3:-20}" SAT="${4:-200}"
BENCH="$(cd ../shared/bench && pwd)"
[ -f "$BENCH/loadgen/target/loadgen.jar" ] || (cd "$BENCH/loadgen" && mvn -q -B package -DskipTests)
mvn -q -B package -DskipTests
PORT=18480
export SB_JWT_SECRET="$(head -c 32 /dev/urandom | base64)"
export SB_HTTP_PORT=$PORT SB_HTTP_HOST=127.0.0.1 SB_CLUSTER_PORT=19480 SB_CLUSTER_MEMBERS=127.0.0.1:19480
export SB_CONNECT_RATE_PER_IP=1000000 SB_MAX_CONNECTIONS=200000 SB_RATE_PER_SEC=1000000 SB_RATE_BURST=1000000
export SB_OUTBOUND_QUEUE_BYTES=16777216 SB_DRAIN_MS=2000
LOG="$(mktemp /tmp/sb-fanout-warm.XXXXXX)"
java -Xms1g -Xmx1g -XX:+UseG1GC -XX:+AlwaysPreTouch -jar target/switchboard.jar > "$LOG" 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null || true; wait $NODE 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/health/ready" && break
  kill -0 $NODE 2>/dev/null || { echo "node exited: $LOG"; exit 1; }
  sleep 0.5
done
for round in $(seq 1 "$ROUNDS"); do
  for rate in "$RATE" "$SAT"; do
    out="$(timeout 300 java -Xms2g -Xmx2g -XX:+UseParallelGC -jar "$BENCH/loadgen/target/loadgen.jar" \
      --scenario fanout --adapter switchboard --port $PORT --conns "$SUBS" --rate "$rate" --duration 10 \
      --server-pid $NODE 2>&1 || true)"
    echo "round $round, $SUBS subscribers x $rate/s: $(echo "$out" | grep -E 'RESULT (delivered_per_s|loss_pct|lat_p50_ms|lat_p99_ms|server_cpu_us_per_delivery)=' \
      | sed 's/RESULT //' | tr '\n' ' ')"
  done
done
