#!/usr/bin/env bash
# Screen-pop lookup over HTTP at N customers (default 1 000 000) on SQLite and on
# PostgreSQL (a throwaway cluster, see test/peers/postgres.go): p50 and p99 of
# single lookups through crmclient, loopback HTTP, token check, normalisation and
# the query. Seeding is part of the run and is timed separately by Go's output.
#
#   bash test/bench/crm-lookup.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-1000000}"
for db in sqlite postgres; do
  echo "--- $db, $n customers"
  OPDESK_TEST_DB=$db OPDESK_BENCH_CUSTOMERS="$n" \
    go test -run '^$' -bench '^BenchmarkLookupByPhone$' -benchtime=5000x -timeout 60m ./crmserver \
    | grep -E '^Benchmark|^ok|FAIL'
done
