#!/usr/bin/env bash
# scaling.sh DIR [RUNS]
#
# How much faster is imgpipe on two cores than on one? Runs the job of
# compare.sh (every JPEG directly in DIR fitted inside 800x800, JPEG quality
# 85) pinned to one core (taskset -c 0) and to two (taskset -c 0,1), RUNS
# times each (default 7), alternating the two so that a slow spell of a
# shared machine hits both alike. When vipsthumbnail is installed it runs
# the same way as the yardstick: one process over all files on one core,
# two processes over halves of the files on two cores.
#
# Prints the median wall and CPU seconds of each and the speed-up (median
# one-core wall / median two-core wall). Needs go, taskset (util-linux) and
# GNU time (/usr/bin/time).
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: scaling.sh DIR [RUNS]" >&2; exit 2; }
[ -d "$1" ] || { echo "scaling.sh: $1 is not a folder" >&2; exit 2; }
dir=$(cd "$1" && pwd)
runs=${2:-7}
case $runs in '' | *[!0-9]* | 0) echo "scaling.sh: RUNS must be a positive integer" >&2; exit 2 ;; esac
[ "$(nproc --all)" -ge 2 ] || { echo "scaling.sh: needs at least 2 cores" >&2; exit 2; }
command -v taskset >/dev/null || { echo "scaling.sh: taskset is needed (Debian package: util-linux)" >&2; exit 2; }
TIME=/usr/bin/time
"$TIME" -f %e -o /dev/null true 2>/dev/null || { echo "scaling.sh: GNU time is needed at $TIME" >&2; exit 2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgpipe-scaling.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "building imgpipe..." >&2
(cd "$repo" && go build -o "$tmp/imgpipe" .)

jpegs_in "$dir" scaling.sh
cat "${files[@]/#/$dir/}" >/dev/null # warm the page cache

vips=no
command -v vipsthumbnail >/dev/null && vips=yes

out=$tmp/out
fresh() { rm -rf "$out" && mkdir -p "$out"; }
now() { date +%s.%N; }
# record KEY T0 T1 TIMEFILE...: appends "wall cpu" to $tmp/KEY, the CPU
# seconds summed over the GNU time files (one per process).
record() {
  local key=$1 t0=$2 t1=$3; shift 3
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') $(cat "$@" | awk '{s += $1 + $2} END {printf "%.3f", s}')" >>"$tmp/$key"
}
# run_imgpipe KEY CPUS: one imgpipe process over all files, pinned to CPUS.
run_imgpipe() {
  fresh
  local t0 t1
  t0=$(now)
  (cd "$dir" && taskset -c "$2" "$TIME" -f "%U %S" -o "$tmp/t.1" "$tmp/imgpipe" resize "${files[@]}" -o "$out" -w 800 -H 800 -q 85 --progress never) >/dev/null 2>&1
  t1=$(now)
  record "$1" "$t0" "$t1" "$tmp/t.1"
}
vips() { # vips CPU TIMEFILE FILE...
  local cpu=$1 tf=$2; shift 2
  VIPS_CONCURRENCY=1 taskset -c "$cpu" "$TIME" -f "%U %S" -o "$tf" vipsthumbnail --size 800x800 -o "$out/%s.jpg[Q=85]" "$@"
}
run_vips1() { # one process over all files on core 0
  fresh
  local t0 t1
  t0=$(now)
  (cd "$dir" && vips 0 "$tmp/t.1" "${files[@]}") >/dev/null 2>&1
  t1=$(now)
  record vips1 "$t0" "$t1" "$tmp/t.1"
}
run_vips2() { # two processes over the halves, one per core
  fresh
  local t0 t1
  t0=$(now)
  (cd "$dir" && { vips 0 "$tmp/t.1" "${half1[@]}" & vips 1 "$tmp/t.2" "${half2[@]}"; wait; }) >/dev/null 2>&1
  t1=$(now)
  record vips2 "$t0" "$t1" "$tmp/t.1" "$tmp/t.2"
}

for ((r = 1; r <= runs; r++)); do
  echo "run $r/$runs..." >&2
  run_imgpipe img1 0
  run_imgpipe img2 0,1
  if [ "$vips" = yes ]; then
    run_vips1
    run_vips2
  fi
done

col() { cut -d' ' -f"$2" "$tmp/$1" | median; }
range() { cut -d' ' -f1 "$tmp/$1" | sort -g | awk 'NR == 1 {a = $1} {b = $1} END {printf "%.2f-%.2f", a, b}'; }

echo "## Two cores against one"
echo
echo "Job: ${#files[@]} JPEGs from $dir fitted inside 800x800, JPEG quality 85; $runs runs of each, alternating;"
echo "medians shown. Machine: $(nproc --all) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| tool | 1 core: wall s (range) | CPU s | 2 cores: wall s (range) | CPU s | speed-up |"
echo "|---|---:|---:|---:|---:|---:|"
row() {
  local label=$1 a=$2 b=$3
  local w1 c1 w2 c2
  w1=$(col "$a" 1) c1=$(col "$a" 2) w2=$(col "$b" 1) c2=$(col "$b" 2)
  awk -v l="$label" -v w1="$w1" -v c1="$c1" -v w2="$w2" -v c2="$c2" -v r1="$(range "$a")" -v r2="$(range "$b")" \
    'BEGIN {printf "| %s | %.2f (%s) | %.2f | %.2f (%s) | %.2f | %.2fx |\n", l, w1, r1, c1, w2, r2, c2, w1 / w2}'
}
row "imgpipe (1 process)" img1 img2
[ "$vips" = yes ] && row "vipsthumbnail (1 process / 2 processes)" vips1 vips2
echo
pairs=$(paste -d' ' <(cut -d' ' -f1 "$tmp/img1") <(cut -d' ' -f1 "$tmp/img2"))
echo "imgpipe's speed-up run by run (1-core wall / 2-core wall of the same round): $(awk '{printf "%.2f ", $1 / $2}' <<<"$pairs")"
echo "(median $(awk '{print $1 / $2}' <<<"$pairs" | median | awk '{printf "%.2fx", $1}'))."
