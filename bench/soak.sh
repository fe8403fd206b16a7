#!/usr/bin/env bash
# soak.sh [FILES] [BATCH] [PAUSE_S]: feed `imgpipe watch` FILES images over time
# (BATCH at a time, PAUSE_S seconds apart: cp, rename-in and slow writes mixed)
# and sample its memory (RSS) and OS threads as it goes. Prints one line per
# sample and a summary: memory must stay flat, every input must get an output.
set -euo pipefail
files=${1:-2000}; batch=${2:-50}; pause=${3:-0.5}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/imgpipe-soak.XXXXXX)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/imgpipe" "$here"
mkdir -p "$work/in" "$work/out"
photos=("$here"/testdata/photos/camera_Nikon_P6000_GPS.jpg "$here"/testdata/edge/IMG_0001.JPG "$here"/testdata/photos/phone_Samsung_SM-G930F.jpg)

"$work/imgpipe" watch "$work/in" -o "$work/out" -w 320 --settle 300ms --log-format json 2> "$work/log.jsonl" &
pid=$!
sleep 1
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
threads() { awk '/Threads/ {print $2}' /proc/$pid/status; }
start=$(date +%s); max=0; first=""
printf '%8s %8s %10s %8s\n' files seconds rss_kb threads
n=0
while [ $n -lt $files ]; do
  d="$work/in/d$((n / 500))"; mkdir -p "$d"
  for ((i = 0; i < batch && n < files; i++, n++)); do
    src=${photos[$((n % 3))]}
    case $((n % 3)) in
      0) cp "$src" "$d/p$n.jpg" ;;                                   # plain copy
      1) cp "$src" "$d/.p$n.part" && mv "$d/.p$n.part" "$d/p$n.jpg" ;; # rename-in
      2) head -c 4000 "$src" > "$d/p$n.jpg"; sleep 0.05; tail -c +4001 "$src" >> "$d/p$n.jpg" ;; # two writes
    esac
  done
  r=$(rss); t=$(threads)
  [ -z "$first" ] && first=$r
  [ "$r" -gt "$max" ] && max=$r
  printf '%8d %8d %10d %8d\n' $n $(( $(date +%s) - start )) "$r" "$t"
  sleep "$pause"
done
# Wait for the outputs to catch up.
for _ in $(seq 1 600); do
  got=$(find "$work/out" -name '*.jpg' | wc -l)
  [ "$got" -ge "$files" ] && break
  sleep 0.5
done
r=$(rss)
kill -TERM $pid; wait $pid || true
got=$(find "$work/out" -name '*.jpg' | wc -l)
failed=$(grep -c '"level":"ERROR"' "$work/log.jsonl" || true)
tmp=$(find "$work/out" -name '.imgpipe-*' | wc -l)
echo "summary: $files inputs, $got outputs, $failed failed, $tmp temp files left, $(( $(date +%s) - start )) s"
echo "summary: RSS first ${first} KB, max ${max} KB, at end ${r} KB"
[ "$got" -eq "$files" ] && [ "$tmp" -eq 0 ]
