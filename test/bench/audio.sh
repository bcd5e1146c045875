#!/usr/bin/env bash
# Comparative benchmark of the sound-card path (test/bench/audio): opdesk and
# baresip, each through the same private PulseAudio null sink (whatever they
# play comes back into their microphone), the same Kamailio and the same
# measuring peer, PCMU at ptime 20, all in one run; linphonec's memory and
# loop beside them. Prints one table with the opdesk/baresip ratios:
#
#   loop latency (RTP in -> playback -> monitor -> capture -> RTP out),
#     median and p90, after the peer's own overhead (a call to sipp's RTP
#     echo) is subtracted                              goal opdesk/baresip <= 0.8
#   CPU seconds over a call                            goal opdesk/baresip <= 1.0
#   idle registered CPU %                              goal opdesk <= 0.5 %
#   peak RSS (VmHWM) during a call
#
# Takes about 6 minutes with the defaults; the machine should be otherwise
# quiet (2 cores). Knobs (Go durations):
#
#   AUDIOBENCH_LATENCY=20s   clicking time of the latency call
#   AUDIOBENCH_CALL=60s      length of the CPU/memory call
#   AUDIOBENCH_IDLE=30s      idle registered window
#   AUDIOBENCH_ONLY=opdesk,device,baresip,linphonec   measure only these
#   AUDIOBENCH_OPDESK_AUDIO='jitter_min_ms = 10'       more TOML for opdesk's [audio]
#   AUDIOBENCH_DEVICE_PERIOD_MS=10                     card period of the "sound card alone" line
#
#   test/bench/audio.sh
#   AUDIOBENCH_CALL=10s AUDIOBENCH_IDLE=5s AUDIOBENCH_LATENCY=5s test/bench/audio.sh   # quick look

set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d "${TMPDIR:-/tmp}/opdesk-audio-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

export AUDIOBENCH_REPORT="$work/report.txt"
cmd=(go test ./test/bench/audio -run '^$' -bench BenchmarkAudioPath -benchtime 1x -timeout 30m -v)
echo "--- ${cmd[*]}  (log: $work/bench.log, kept only on failure)"
status=0
"${cmd[@]}" >"$work/bench.log" 2>&1 || status=$?
if grep -q -- '--- SKIP' "$work/bench.log"; then
  grep -A3 -- '--- SKIP' "$work/bench.log"
  echo "audio benchmark SKIPPED: a peer is missing (see above); nothing was measured" >&2
  exit 1
fi
if [ "$status" -ne 0 ] || [ ! -s "$AUDIOBENCH_REPORT" ]; then
  tail -n 120 "$work/bench.log"
  trap - EXIT
  echo "audio benchmark FAILED (exit $status); full log in $work/bench.log" >&2
  exit 1
fi
grep -E '^ +bench_test.go' "$work/bench.log" || true
cat "$AUDIOBENCH_REPORT"
echo
echo "go test -bench metrics:"
grep -E '^BenchmarkAudioPath' "$work/bench.log" | tr '\t' '\n' | sed -e 's/^ *//' |
  grep -E '^[0-9.e+-]+ [^ ]+$' | grep -v ' ns/op$' | sort -k2 | sed 's/^/  /'
