#!/usr/bin/env bash
# What a supervisor listening in costs the operator's desktop: CPU and
# upstream RTP over 20 s of a plain call, then 20 s while listened to, with
# baresip (the customer in the same call) as the reference for one call.
#
#   bash test/bench/monitor.sh
# Needs tmux, kamailio and baresip-core (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
OPDESK_REQUIRE_PEERS=1 go test -run '^$' -bench '^BenchmarkMonitoredOperator$' -benchtime=1x -timeout 10m -v ./test/e2e \
  | grep -E '^Benchmark|operator:|^ok|FAIL'
