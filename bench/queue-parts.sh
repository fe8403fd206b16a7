#!/usr/bin/env bash
# queue-parts.sh DIR [RUNS]
#
# Where the queue's cost per job goes: runs the queue half of queue.sh
# (imgpipe server + two workers pinned to one core each, GOMAXPROCS=1,
# -j ${JOBS:-1}, and enqueue --wait; every image in DIR into
# ${SIZE:-100}x${SIZE:-100}, q85) RUNS times (default 4) and prints, per
# run, the CPU seconds of the server, of the two workers together and of
# enqueue, read from /proc (server, workers) and GNU time (enqueue), then
# the medians per job. To compare two versions, run the copy of this script
# in each checkout, alternating.
#
# Needs go, taskset (util-linux), GNU time (/usr/bin/time), bc.
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: queue-parts.sh DIR [RUNS]" >&2; exit 2; }
[ -d "$1" ] || { echo "queue-parts.sh: $1 is not a folder" >&2; exit 2; }
dir=$(cd "$1" && pwd)
runs=${2:-4}
size=${SIZE:-100}
jobs=${JOBS:-1}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgpipe-queue-parts.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
echo "building imgpipe..." >&2
(cd "$repo" && go build -o "$tmp/imgpipe" .)
n=$(find "$dir" -maxdepth 1 -type f | wc -l)
cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }

for run in $(seq "$runs"); do
  port=$(( 20000 + RANDOM % 20000 )); url=nats://127.0.0.1:$port
  rm -rf "$tmp/out" "$tmp/store"
  "$tmp/imgpipe" server --store "$tmp/store" --listen "127.0.0.1:$port" 2> "$tmp/server.log" &
  pids=($!)
  for _ in $(seq 100); do grep -q "JetStream on" "$tmp/server.log" && break; sleep 0.05; done
  for core in 0 1; do
    GOMAXPROCS=1 taskset -c "$core" "$tmp/imgpipe" worker --nats "$url" -j "$jobs" --quiet 2>/dev/null &
    pids+=($!)
  done
  sleep 0.3
  /usr/bin/time -f "%e %U %S" -o "$tmp/enqueue.time" "$tmp/imgpipe" enqueue "$dir" -o "$tmp/out" \
    -w "$size" -H "$size" -q 85 --nats "$url" --wait --quiet --progress never > /dev/null
  s=$(cpu "${pids[0]}"); w=$(echo "$(cpu "${pids[1]}") + $(cpu "${pids[2]}")" | bc -l)
  e=$(awk '{print $2 + $3}' "$tmp/enqueue.time")
  kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
  pids=()
  echo "$s" >> "$tmp/server"; echo "$w" >> "$tmp/workers"; echo "$e" >> "$tmp/enqueue"
  echo "run $run: server $s CPU s, workers $w CPU s, enqueue $e CPU s" >&2
done
awk -v n="$n" -v s="$(median < "$tmp/server")" -v w="$(median < "$tmp/workers")" -v e="$(median < "$tmp/enqueue")" 'BEGIN {
  printf "%d jobs, medians of runs: server %.2f ms, workers %.2f ms, enqueue --wait %.2f ms of CPU a job\n",
    n, s * 1000 / n, w * 1000 / n, e * 1000 / n }'
