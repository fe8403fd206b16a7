#!/usr/bin/env bash
# big.sh DIR [RUNS]
#
# Big images (issue #15): imgpipe against `vipsthumbnail --size 2000` on
# every big-* file in DIR (made by bench/make-big.sh), one process each,
# interleaved (imgpipe, vips, imgpipe, vips...), RUNS times (default 3).
# Both write a PNG whose long side is 2000 px (imgpipe: -w 2000 -H 2000),
# so the comparison is of the resize, not of a JPEG encoder. The table
# gives medians of wall time, CPU time (user + sys), cores used (the
# median of CPU / wall: above 1 when a file's work is spread over several
# threads) and peak RSS, and the
# luma PSNR of each output against a reference: the whole image reduced to
# the output's size by libvips' lanczos3 `vips reduce` (direct convolution
# at full resolution, no shrink first). imgpipe's own limits apply (an
# image it refuses shows its error).
#
# The load average is printed before and after: on a shared machine wall
# times include waiting for a core, so compare CPU there.
#
# Needs: go, vips and vipsthumbnail (libvips-tools), GNU time.
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: big.sh DIR [RUNS]" >&2; exit 2; }
dir=$(cd "$1" && pwd)
runs=${2:-3}
case $runs in '' | *[!0-9]* | 0) echo "big.sh: RUNS must be a positive integer" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/imgpipe" . && go build -o "$tmp/psnr" ./bench/psnr)
mapfile -t files < <(cd "$dir" && ls big-* 2>/dev/null | grep -v '\.v$' || true)
[ ${#files[@]} -gt 0 ] || { echo "big.sh: no big-* files in $dir (bench/make-big.sh DIR)" >&2; exit 2; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %-9s %8s %8s %6s %8s %8s  %s\n' file tool wall_s cpu_s cores rss_MB luma_dB note
for f in "${files[@]}"; do
  : >"$tmp/t.imgpipe"
  : >"$tmp/t.vips"
  note_i="" note_v=""
  for _ in $(seq "$runs"); do
    rm -rf "$tmp/out"
    if ! /usr/bin/time -o "$tmp/t" -f '%e %U %S %M' "$tmp/imgpipe" resize "$dir/$f" -o "$tmp/out" \
      -w 2000 -H 2000 --format png >"$tmp/log" 2>&1; then
      note_i=$(grep -m1 failed "$tmp/log" | sed 's/.*: //' | cut -c1-60)
    fi
    cat "$tmp/t" >>"$tmp/t.imgpipe"
    /usr/bin/time -o "$tmp/t" -f '%e %U %S %M' vipsthumbnail "$dir/$f" --size 2000 -o "$tmp/vips.png" \
      >"$tmp/vlog" 2>&1 || note_v="failed"
    cat "$tmp/t" >>"$tmp/t.vips"
  done
  for tool in imgpipe vips; do
    out=$tmp/vips.png note=$note_v
    if [ $tool = imgpipe ]; then out=$(ls "$tmp"/out/*.png 2>/dev/null | head -1) note=$note_i; fi
    db=-
    if [ -f "$out" ] && [ -z "$note" ]; then
      w=$(vipsheader -f width "$out") h=$(vipsheader -f height "$out")
      ref=$tmp/ref-${f}-${w}x${h}.png
      if [ ! -f "$ref" ]; then
        W=$(vipsheader -f width "$dir/$f") H=$(vipsheader -f height "$dir/$f")
        vips reduce "$dir/$f" "$ref" "$(awk -v a="$W" -v b="$w" 'BEGIN { print a / b }')" \
          "$(awk -v a="$H" -v b="$h" 'BEGIN { print a / b }')" --kernel lanczos3
      fi
      db=$("$tmp/psnr" -luma "$ref" "$out")
    fi
    printf '%-24s %-9s %8s %8s %6s %8s %8s  %s\n' "$f" $tool \
      "$(awk '{print $1}' "$tmp/t.$tool" | median)" "$(awk '{print $2 + $3}' "$tmp/t.$tool" | median)" \
      "$(awk '$1 > 0 {printf "%.2f\n", ($2 + $3) / $1}' "$tmp/t.$tool" | median)" \
      "$(awk '{printf "%.0f\n", $4 / 1024}' "$tmp/t.$tool" | median)" "$db" "$note"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
