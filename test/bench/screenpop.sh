#!/usr/bin/env bash
# Screen pop end to end at N customers (default 1 000 000): a caller's INVITE
# reaches the operator's phone, the desktop looks the number up in the reference
# CRM over loopback HTTP and renders the card. Reports p50/p99 of INVITE → card
# rendered ("pop") and, in the same run, of the bare lookup ("lookup").
#
#   bash test/bench/screenpop.sh [N]         seeds a database first (1 M: ~3 min)
#   OPDESK_BENCH_DB=/path/crm.db bash test/bench/screenpop.sh   reuses one
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-1000000}"
if [ -z "${OPDESK_BENCH_DB:-}" ]; then
  dir="$(mktemp -d)"
  trap 'rm -rf "$dir"' EXIT
  export OPDESK_BENCH_DB="$dir/crm.db"
  echo "--- seeding $n customers"
  time go run ./cmd/opdesk crm seed --db "sqlite:$OPDESK_BENCH_DB" --customers "$n"
fi
go test -run '^$' -bench '^BenchmarkInviteToCard$' -benchtime=1000x -timeout 30m ./test/bench/screenpop \
  | grep -E '^Benchmark|^ok|FAIL'
