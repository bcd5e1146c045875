#!/usr/bin/env bash
# Benchmark of the call-list importer (opdesk crm import): generates a list of
# ROWS rows (default 100,000) as .xlsx with realistic Japanese names and kana,
# 03-/06-/090-/080- numbers, ~2 % invalid numbers and ~1 % duplicates, imports it
# into a fresh SQLite store seeded with a few customers, and prints the wall time
# and peak memory (max RSS) of the import process. Goal: ≤ 15 s for 100,000 rows.
#
#   test/bench/import.sh                 # 100,000 rows, .xlsx
#   ROWS=20000 FORMAT=csv test/bench/import.sh
#   SINK=fake test/bench/import.sh       # reading and checking only, no store

set -euo pipefail
cd "$(dirname "$0")/../.."
rows="${ROWS:-100000}"
format="${FORMAT:-xlsx}"
sink="${SINK:-auto}"
work="$(mktemp -d "${TMPDIR:-/tmp}/opdesk-import-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

go build -o "$work/importbench" ./test/bench/importbench
"$work/importbench" gen -rows "$rows" -out "$work/list.$format"
db="sqlite:$work/crm.db"
if [ "$sink" != fake ]; then
  "$work/importbench" seed -db "$db" -customers 50
fi
echo "--- import"
TMPDIR="$work" "$work/importbench" run -file "$work/list.$format" -db "$db" -sink "$sink"
