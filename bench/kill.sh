#!/usr/bin/env bash
# kill.sh [COUNT] [N]
#
# SIGKILLs imgpipe at random moments and checks the promise "an output is
# absent, old, or complete" (README): COUNT times (default 20), imgpipe
# resizes N copies (default 40) of testdata/photos/camera_Nikon_P6000_GPS.jpg
# into an empty folder and is killed after a random delay spread over a
# whole run (iteration i falls in the i-th slice of it). Then:
#   - every file under its final name must decode completely (temporary
#     files may remain after a SIGKILL, but only as hidden .imgpipe-*.tmp);
#   - a re-run without kill must exit 0 with processed + skipped = N and
#     skipped = the complete outputs, leave each of them byte for byte as it
#     was, and remove the temporary files the killed run left.
# It prints a line per kill and, at the end, the kills survived and the
# outputs checked; it exits 1 if any check failed.
#
# The check decodes with ImageMagick (identify -regard-warnings, which fails
# on a truncated JPEG) when it is installed, else with a small Go program.
# SEED=n fixes the random delays (default 1).
#
# Needs: go; optionally ImageMagick.
set -euo pipefail

usage() { echo "usage: kill.sh [COUNT] [N]" >&2; exit 2; }
[ $# -le 2 ] || usage
count=${1:-20}
n=${2:-40}
for v in "$count" "$n"; do
  case $v in '' | *[!0-9]* | 0) echo "kill.sh: COUNT and N must be positive integers" >&2; exit 2 ;; esac
done
RANDOM=${SEED:-1}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgpipe-kill.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "building imgpipe..." >&2
(cd "$repo" && go build -o "$tmp/imgpipe" .)
IMGPIPE=$tmp/imgpipe

if command -v identify >/dev/null; then
  checker="identify -regard-warnings"
  check() { identify -regard-warnings "$@" >/dev/null 2>&1; }
else
  checker="Go image.Decode"
  mkdir "$tmp/check"
  cat >"$tmp/check/main.go" <<'EOF'
// check exits 1 unless every file named decodes completely.
package main

import (
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"os"
)

func main() {
	code := 0
	for _, p := range os.Args[1:] {
		f, err := os.Open(p)
		if err == nil {
			_, _, err = image.Decode(f)
			f.Close()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", p, err)
			code = 1
		}
	}
	os.Exit(code)
}
EOF
  printf 'module check\n\ngo 1.21\n' >"$tmp/check/go.mod"
  (cd "$tmp/check" && go build -o "$tmp/checkbin" .)
  check() { "$tmp/checkbin" "$@" 2>/dev/null; }
fi

in=$tmp/in
mkdir "$in"
for ((i = 0; i < n; i++)); do
  cp "$repo/testdata/photos/camera_Nikon_P6000_GPS.jpg" "$in/p$(printf %03d "$i").jpg"
done
args=(-w 320 --progress never)

now_ms() { date +%s%3N; }
t0=$(now_ms)
"$IMGPIPE" resize "$in" -o "$tmp/full" "${args[@]}" 2>/dev/null
full_ms=$(($(now_ms) - t0))
rm -rf "$tmp/full"
echo "$n inputs; a full run takes ${full_ms} ms; checking with $checker"

killed=0 survived=0 finished=0 checked=0 temps=0 bad=0
for ((i = 0; i < count; i++)); do
  out=$tmp/out$i
  delay_ms=$(((i * full_ms + RANDOM % (full_ms + 1)) / count))
  "$IMGPIPE" resize "$in" -o "$out" "${args[@]}" 2>/dev/null &
  pid=$!
  bad0=$bad
  sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
  kill -KILL "$pid" 2>/dev/null || true
  st=0
  wait "$pid" 2>/dev/null || st=$?
  case $st in
  137) killed=$((killed + 1)) how=killed ;;
  0) finished=$((finished + 1)) how="finished first" ;;
  *) echo "kill $i: imgpipe exited $st before the kill" >&2; bad=$((bad + 1)) how="exit $st" ;;
  esac

  complete=() left=0
  while IFS= read -r -d '' f; do
    case $(basename "$f") in
    .imgpipe-*.tmp) left=$((left + 1)) ;;
    .imgpipe-state) ;; # the folder's record of its outputs (plan.State), appended as they are written
    .*) echo "kill $i: hidden file that is not a temporary file: $f" >&2; bad=$((bad + 1)) ;;
    *)
      if check "$f"; then
        complete+=("$f")
      else
        echo "kill $i: $f has its final name but does not decode" >&2
        bad=$((bad + 1))
      fi
      ;;
    esac
  done < <(find "$out" -type f -print0 2>/dev/null)
  temps=$((temps + left))
  checked=$((checked + ${#complete[@]}))
  sums=$tmp/sums$i
  : >"$sums"
  [ ${#complete[@]} -gt 0 ] && sha256sum "${complete[@]}" >"$sums"

  code=0
  summary=$("$IMGPIPE" resize "$in" -o "$out" "${args[@]}" 2>&1 | grep -E '[0-9]+ processed' | tail -n 1) || code=$?
  read -r processed skipped < <(sed -E 's/^([0-9]+) processed, ([0-9]+) skipped.*/\1 \2/' <<<"$summary")
  if [ "$code" -ne 0 ] || [ "$((processed + skipped))" -ne "$n" ] || [ "$skipped" -ne ${#complete[@]} ]; then
    echo "kill $i: re-run: exit $code, '$summary'; want $n in all, ${#complete[@]} skipped" >&2
    bad=$((bad + 1))
  fi
  if [ -s "$sums" ] && ! sha256sum --quiet -c "$sums" >/dev/null 2>&1; then
    echo "kill $i: the re-run changed or removed a complete output" >&2
    bad=$((bad + 1))
  fi
  stale=$(find "$out" -type f -name '.imgpipe-*.tmp' | wc -l)
  if [ "$stale" -ne 0 ]; then
    echo "kill $i: the re-run left $stale temporary files of the killed run" >&2
    bad=$((bad + 1))
  fi
  mapfile -d '' after < <(find "$out" -type f ! -name '.*' -print0)
  if [ ${#after[@]} -ne "$n" ] || ! check "${after[@]}"; then
    echo "kill $i: after the re-run, ${#after[@]} outputs (want $n), or some do not decode" >&2
    bad=$((bad + 1))
  fi
  checked=$((checked + ${#after[@]}))
  [ "$how" = killed ] && [ "$bad" -eq "$bad0" ] && survived=$((survived + 1))
  printf "kill %2d at %5d ms: %-14s %3d complete, %d temporary files left\n" "$i" "$delay_ms" "$how" ${#complete[@]} "$left"
  rm -rf "$out"
done

echo "kills survived: $survived of $killed ($count runs, $finished finished before the kill); outputs checked: $checked; temporary files left by kills: $temps; failures: $bad"
[ "$bad" -eq 0 ]
