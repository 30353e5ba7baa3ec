#!/usr/bin/env bash
# Issue 12, item 4: heap and RSS per idle connection on one node at the largest N this machine allows
# (its descriptor limit is 20,000 per process, so 19,000 connections in the one load-client process),
# beside raw Vert.x in the same run. The shared harness's idle scenario: fresh server, RSS and live heap
# after a full GC (jcmd GC.run) before and after N connections, divided by N.
# Usage: bench/idle.sh [CONNS=19000] [--idle-subscribed] [more run-peers.sh options]
#        (about 3-5 minutes plus the harness's waits for a quiet machine; loopback only)
# Run it under the machine's heavy-work lock: flock /tmp/sb-heavy.lock bench/idle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS="${1:-19000}"; shift || true
exec ../shared/bench/run-peers.sh --peers switchboard,vertx-raw --scenarios idle --idle-conns "$CONNS" \
  --bind-count 4 --tag "scale-idle$((CONNS / 1000))k" "$@"
