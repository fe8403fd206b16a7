#!/usr/bin/env bash
# queue.sh DIR [RUNS]
#
# What does the queue cost? Runs compare.sh's job (every image in DIR
# fitted inside 800x800, JPEG quality 85; SIZE=200 for thumbnails) two ways,
# RUNS times each (default 5), alternating:
#   local: imgpipe resize, pinned to two cores (taskset -c 0,1);
#   queue: imgpipe server + two imgpipe workers of one core each
#          (taskset -c 0 and -c 1, GOMAXPROCS=1, -j ${JOBS:-1}), and
#          imgpipe enqueue --wait; a fresh server store and output folder
#          each run.
# Wall time is resize's, or enqueue --wait's from start to the last result.
# CPU time is resize's, or the sum of server, workers (from /proc, the idle
# wait before enqueue included) and enqueue.
# Prints medians and the overhead per image: (queue - local) / images.
#
# Needs go, taskset (util-linux), GNU time (/usr/bin/time).
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: queue.sh DIR [RUNS]" >&2; exit 2; }
[ -d "$1" ] || { echo "queue.sh: $1 is not a folder" >&2; exit 2; }
dir=$(cd "$1" && pwd)
runs=${2:-5}
size=${SIZE:-800}
jobs=${JOBS:-1}
TIME=/usr/bin/time
"$TIME" -f %e -o /dev/null true 2>/dev/null || { echo "queue.sh: GNU time is needed at $TIME" >&2; exit 2; }
command -v taskset >/dev/null || { echo "queue.sh: taskset is needed (Debian package: util-linux)" >&2; exit 2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgpipe-queue.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "building imgpipe..." >&2
(cd "$repo" && go build -o "$tmp/imgpipe" .)
IMGPIPE=$tmp/imgpipe
n=$(find "$dir" -maxdepth 1 -type f | wc -l)
port=$(( 20000 + RANDOM % 20000 ))
url=nats://127.0.0.1:$port
flags=(-w "$size" -H "$size" -q 85)

# cpu PID: user + sys seconds a running process has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }

for run in $(seq "$runs"); do
  # local
  rm -rf "$tmp/out"
  "$TIME" -f "%e %U %S" -o "$tmp/local.time" taskset -c 0,1 "$IMGPIPE" resize "$dir" -o "$tmp/out" "${flags[@]}" --quiet
  read -r w _ < "$tmp/local.time"
  echo "$w" >> "$tmp/local.wall"
  awk '{print $2 + $3}' "$tmp/local.time" >> "$tmp/local.cpu"

  # queue
  rm -rf "$tmp/out" "$tmp/store"
  "$IMGPIPE" server --store "$tmp/store" --listen "127.0.0.1:$port" 2> "$tmp/server.log" &
  pids=($!)
  for _ in $(seq 100); do grep -q "JetStream on" "$tmp/server.log" && break; sleep 0.05; done
  for core in 0 1; do
    GOMAXPROCS=1 taskset -c "$core" "$IMGPIPE" worker --nats "$url" -j "$jobs" --quiet 2> "$tmp/worker$core.log" &
    pids+=($!) # taskset execs imgpipe: the same pid
  done
  sleep 0.3 # the workers connect and wait on their fetch
  # What starting the server and the workers cost, before any job: a farm
  # pays it once, not per job, so it is reported apart.
  c0=0; for p in "${pids[@]}"; do c0=$(echo "$c0 + $(cpu "$p")" | bc -l); done
  "$TIME" -f "%e %U %S" -o "$tmp/enqueue.time" "$IMGPIPE" enqueue "$dir" -o "$tmp/out" "${flags[@]}" \
    --nats "$url" --wait --quiet --progress never > /dev/null
  c=$(awk '{print $2 + $3}' "$tmp/enqueue.time")
  for p in "${pids[@]}"; do c=$(echo "$c + $(cpu "$p")" | bc -l); done
  for p in "${pids[@]}"; do kill -TERM "$p"; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
  read -r w _ < "$tmp/enqueue.time"
  echo "$w" >> "$tmp/queue.wall"
  echo "$c" >> "$tmp/queue.cpu"
  echo "$c - $c0" | bc -l >> "$tmp/queue.steady"
  echo "$c0" >> "$tmp/queue.start"
  echo "run $run: local $(tail -1 "$tmp/local.wall") s wall, $(tail -1 "$tmp/local.cpu") CPU s; queue $w s wall, $c CPU s" >&2
done

lw=$(median < "$tmp/local.wall"); lc=$(median < "$tmp/local.cpu")
qw=$(median < "$tmp/queue.wall"); qc=$(median < "$tmp/queue.cpu"); qs=$(median < "$tmp/queue.steady"); q0=$(median < "$tmp/queue.start")
echo
echo "$n images, fit inside ${size}x${size}, q85, medians of $runs runs; workers -j $jobs"
printf '| %-48s | %6s | %6s |\n' "" "wall s" "CPU s"
printf '|%s|%s|%s|\n' "---" "---:" "---:"
printf '| %-48s | %6.2f | %6.2f |\n' "imgpipe resize, 2 cores" "$lw" "$lc"
printf '| %-48s | %6.2f | %6.2f |\n' "server + 2 workers x 1 core + enqueue --wait" "$qw" "$qc"
awk -v n="$n" -v lw="$lw" -v lc="$lc" -v qw="$qw" -v qc="$qc" -v qs="$qs" -v q0="$q0" 'BEGIN {
  printf "queue overhead per image: %.2f ms wall, %.2f ms CPU (%.1f%% of the local CPU)\n",
    (qw - lw) * 1000 / n, (qc - lc) * 1000 / n, (qc - lc) * 100 / lc
  printf "the same without starting the server and workers (median %.2f CPU s a run): %.2f ms CPU (%.1f%%)\n",
    q0, (qs - lc) * 1000 / n, (qs - lc) * 100 / lc }'
