#!/usr/bin/env bash
# Rolling restart, measured (issue 14, item 5): the chaos run (bench/chaos.sh, docs/chaos.md) with one
# fault, "roll": every client-serving node in turn gets SIGTERM (a drain over --drain-ms), the roll waits
# for its exit, starts it again and waits for /health/ready before the next one. 2,000 clients with
# sessions on 200 topics (4 each), publishers over WebSocket and HTTP at 60/s, operations at 60/min.
# Then the checker: lost, duplicated (seen at two positions, after offset dedupe), operations without
# exactly one terminal; and a line with the peak connects/s during the roll against 2 x clients / drain
# window, and publish->receive latency during the roll and outside it. Not part of the test suite.
# Usage: bench/roll.sh [all|two-tier] [more ChaosRun options, e.g. --seed 5 --clients 1000]
#   all       three nodes, each a gateway and a Hazelcast data member (the default)
#   two-tier  two data members (SB_NODE_ROLE=data) and three gateways (lite members); only gateways roll
# Exit code: 0 when nothing was violated, 1 otherwise (bench/chaos.sh's). Run it alone on the machine
# (about 4 minutes; on shared machines: flock /tmp/sb-heavy.lock timeout 900 bench/roll.sh ...).
set -euo pipefail
cd "$(dirname "$0")/.."
shape=all
if [[ $# -gt 0 && ( $1 == all || $1 == two-tier ) ]]; then
  shape=$1
  shift
fi
layout=(--nodes 3)
if [[ $shape == two-tier ]]; then
  layout=(--nodes 3 --data 2)
fi
exec bench/chaos.sh "${layout[@]}" --faults roll --max-faults 1 --fault-gap 20 --minutes 2.5 \
  --clients 2000 --topics 200 --topics-per-client 4 --publish-rate 60 --ops-per-minute 60 \
  --drain-ms 10000 "$@"
