#!/usr/bin/env bash
# ab-big.sh OLD NEW DIR [RUNS] [GLOB]
#
# Two imgpipe builds against each other on the big-* files of DIR (made by
# bench/make-big.sh; GLOB narrows them, e.g. 'big-100mp*.{tif,png}' as
# 'big-100mp-*.tif big-100mp.png'), interleaved (old, new, old, new...),
# RUNS times each (default 5), one process at a time, as bench/big.sh
# runs imgpipe: a PNG inside 2000x2000. Prints the medians of wall time,
# CPU time (user + sys) and peak RSS of each build, and whether the two
# outputs are byte-identical (cmp). The load average is printed before
# and after: compare CPU seconds on a shared machine.
#
# Build the two first, e.g. `git worktree add /tmp/old main && (cd /tmp/old
# && go build -o /tmp/imgpipe-old .)` and `go build -o /tmp/imgpipe-new .`.
set -euo pipefail
[ $# -ge 3 ] && [ $# -le 5 ] || { echo "usage: ab-big.sh OLD NEW DIR [RUNS] [GLOB]" >&2; exit 2; }
old=$1 new=$2 dir=$(cd "$3" && pwd) runs=${4:-5} glob=${5:-big-*}
case $runs in '' | *[!0-9]* | 0) echo "ab-big.sh: RUNS must be a positive integer" >&2; exit 2 ;; esac
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
mapfile -t files < <(cd "$dir" && ls $glob 2>/dev/null | grep -v '\.v$' || true)
[ ${#files[@]} -gt 0 ] || { echo "ab-big.sh: no $glob files in $dir" >&2; exit 2; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %-5s %8s %8s %8s  %s\n' file build wall_s cpu_s rss_MB outputs
for f in "${files[@]}"; do
  : >"$tmp/t.old"
  : >"$tmp/t.new"
  for _ in $(seq "$runs"); do
    for b in old new; do
      bin=$old
      [ $b = new ] && bin=$new
      rm -rf "$tmp/out.$b"
      /usr/bin/time -o "$tmp/t" -f '%e %U %S %M' "$bin" resize "$dir/$f" -o "$tmp/out.$b" \
        -w 2000 -H 2000 --format png --quiet >/dev/null 2>&1 || echo "$f: $b failed" >&2
      cat "$tmp/t" >>"$tmp/t.$b"
    done
  done
  same=differ
  cmp -s "$tmp"/out.old/*.png "$tmp"/out.new/*.png && same=identical
  for b in old new; do
    printf '%-24s %-5s %8s %8s %8s  %s\n' "$f" $b \
      "$(awk '{print $1}' "$tmp/t.$b" | median)" "$(awk '{print $2 + $3}' "$tmp/t.$b" | median)" \
      "$(awk '{printf "%.0f\n", $4 / 1024}' "$tmp/t.$b" | median)" "$([ $b = new ] && echo $same || true)"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
