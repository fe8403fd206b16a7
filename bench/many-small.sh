#!/usr/bin/env bash
# many-small.sh [N] [WORKDIR]
#
# Times imgpipe on many small images, where the cost per file (scan, open,
# sniff, plan, temp file, fsync, rename) matters more than pixels: N images
# (default 20000) in nested folders, 100 to a folder, made by copying two
# small photos of testdata under distinct names (19 of every 20 are
# edge/IMG_0001.JPG, 320x200 15 KB; every 20th is
# photos/camera_Nikon_P6000_GPS.jpg, 640x480 160 KB with GPS EXIF).
#
# Two runs, each under GNU time -v:
#   1. resize everything into an empty folder (-w 160);
#   2. the same command again: every input is up to date, so this measures
#      the scan and the up-to-date check alone.
# For each it prints wall seconds, CPU seconds, images/s and peak RSS.
#
# WORKDIR (default: a new temporary folder, removed at the end) keeps the
# inputs between invocations: given an existing WORKDIR/in with N images,
# they are not made again. LINK=1 makes hard links instead of copies (less
# disk: 20000 copies take about 400 MB). WORKERS=n passes -j n. EXTRA holds
# more imgpipe flags, e.g. EXTRA="-c nosync.yaml".
#
# Needs: go, GNU time (/usr/bin/time, Debian package: time).
set -euo pipefail

usage() { echo "usage: many-small.sh [N] [WORKDIR]" >&2; exit 2; }
[ $# -le 2 ] || usage
n=${1:-20000}
case $n in '' | *[!0-9]* | 0) echo "many-small.sh: N must be a positive integer" >&2; exit 2 ;; esac

TIME=/usr/bin/time
if ! "$TIME" -v -o /dev/null true 2>/dev/null; then
  echo "many-small.sh: GNU time is needed at $TIME (Debian package: time)" >&2
  exit 2
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -ge 2 ]; then
  work=$2
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/imgpipe-many-small.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
small=$repo/testdata/edge/IMG_0001.JPG
gps=$repo/testdata/photos/camera_Nikon_P6000_GPS.jpg

echo "building imgpipe..." >&2
(cd "$repo" && go build -o "$work/imgpipe" .)

in=$work/in
have=0
[ -d "$in" ] && have=$(find "$in" -type f -name '*.jpg' | wc -l)
if [ "$have" -ne "$n" ]; then
  echo "making $n images in $in..." >&2
  rm -rf "$in"
  put=cp
  [ "${LINK:-0}" = 1 ] && put=ln
  for ((d = 0; d * 100 < n; d++)); do
    dir=$in/$((d / 10))/$((d % 10))
    mkdir -p "$dir"
    for ((i = d * 100; i < n && i < (d + 1) * 100; i++)); do
      src=$small
      ((i % 20 == 19)) && src=$gps
      $put "$src" "$dir/img_$i.jpg"
    done
  done
fi
mp=$(awk -v n="$n" 'BEGIN { big = int(n / 20); printf "%.1f", ((n - big) * 320 * 200 + big * 640 * 480) / 1e6 }')

out=$work/out
rm -rf "$out"
args=(resize "$in" -o "$out" -w 160 --progress never)
[ -n "${WORKERS:-}" ] && args+=(-j "$WORKERS")
# shellcheck disable=SC2206 # EXTRA is split on purpose
[ -n "${EXTRA:-}" ] && args+=($EXTRA)

# measure LABEL: runs imgpipe under time -v and prints one line of figures.
measure() {
  local label=$1 tv=$work/time-$1.txt log=$work/imgpipe-$1.txt code=0
  "$TIME" -v -o "$tv" "$work/imgpipe" "${args[@]}" 2>"$log" || code=$?
  if [ "$code" -ne 0 ]; then
    echo "many-small.sh: imgpipe exited $code on the $label run:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  local summary
  summary=$(grep -E '[0-9]+ processed, [0-9]+ skipped, [0-9]+ failed' "$log" | tail -n 1)
  awk -v label="$label" -v n="$n" -v mp="$mp" -v summary="$summary" -F': ' '
    /Elapsed \(wall clock\)/ {
      k = split($2, p, ":"); wall = 0
      for (i = 1; i <= k; i++) wall = wall * 60 + p[i]
    }
    /User time/ { user = $2 }
    /System time/ { sys = $2 }
    /Maximum resident set size/ { rss = $2 }
    END {
      mps = (label == "resize" && wall > 0) ? sprintf("%.1f", mp / wall) : "-"
      printf "%-8s %8.2f %8.2f %10.0f %8s %10.1f   %s\n", label, wall, user + sys,
        (wall > 0 ? n / wall : 0), mps, rss / 1024, summary
    }' "$tv"
}

echo "imgpipe ${args[*]}" | sed "s|$work|WORKDIR|g"
echo "$n images, $mp MP, $(du -sh "$in" | cut -f1) on disk, $(nproc) cores"
printf "%-8s %8s %8s %10s %8s %10s   %s\n" run "wall s" "CPU s" "images/s" "MP/s" "peak MB" "imgpipe summary"
measure resize
measure rerun
outs=$(find "$out" -type f -name '*.jpg' | wc -l)
[ "$outs" -eq "$n" ] || { echo "many-small.sh: $outs outputs for $n inputs" >&2; exit 1; }
