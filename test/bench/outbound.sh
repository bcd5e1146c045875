#!/usr/bin/env bash
# Progressive dialing on the real desktop (tmux, Kamailio, sipp gateways, the
# reference CRM): N answered leads in a row (default 20), each wrapped up with
# the result key and save. Reports the time from the save key to the next
# lead's INVITE minus the countdown (median and max), baresip's time from a
# dial command to its INVITE measured in the same run as the reference, their
# ratio, and the keys pressed per answered call.
#
#   bash test/bench/outbound.sh [N]
# Needs tmux, kamailio, sip-tester (sipp) and baresip-core (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-20}"
OPDESK_REQUIRE_PEERS=1 go test -run '^$' -bench '^BenchmarkOutboundSaveToInvite$' -benchtime="${n}x" -timeout 30m -v ./test/e2e \
  | grep -E '^Benchmark|save → next|^ok|FAIL'
