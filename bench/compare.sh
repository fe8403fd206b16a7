#!/usr/bin/env bash
# compare.sh DIR [RUNS]
#
# Times imgpipe against the other resizers installed on this machine on the
# same job: every JPEG in DIR fitted inside 800x800 (or SIZE), JPEG quality 85, two
# cores used by each tool. Each tool runs RUNS times (default 3) into a fresh
# output folder; the table shows medians over the runs. See bench/README.md
# for what each column means; build the photo corpus with
# ../shared/bench/make-photos.sh (or any folder of JPEGs).
#
# Environment: SKIP="vips im_shrink im_resize gm pillow" leaves those rows out;
# IMGPIPE_FLAGS="--full-decode" adds flags to imgpipe's command; SIZE=200
# fits inside 200x200 instead of 800x800 (a thumbnail job).
#
# Needs: go, GNU time (/usr/bin/time). Optional, each a row when installed:
# vipsthumbnail (libvips-tools), mogrify (ImageMagick), gm (GraphicsMagick),
# python3 with PIL (Debian: python3-pil).
set -euo pipefail

usage() { echo "usage: compare.sh DIR [RUNS]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
[ -d "$1" ] || { echo "compare.sh: $1 is not a folder" >&2; exit 2; }
dir=$(cd "$1" && pwd)
runs=${2:-3}
size=${SIZE:-800}
case $size in '' | *[!0-9]* | 0) echo "compare.sh: SIZE must be a positive integer" >&2; exit 2 ;; esac
case $runs in '' | *[!0-9]* | 0) echo "compare.sh: RUNS must be a positive integer" >&2; exit 2 ;; esac

TIME=/usr/bin/time
TFMT="%e %U %S %M" # wall s, user s, sys s, max RSS KiB
if ! "$TIME" -f "$TFMT" -o /dev/null true 2>/dev/null; then
  echo "compare.sh: GNU time is needed at $TIME (Debian package: time)" >&2
  exit 2
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgpipe-compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "building imgpipe and the psnr helper..." >&2
(cd "$repo" && go build -o "$tmp/bin/imgpipe" . && go build -o "$tmp/bin/psnr" ./bench/psnr)
IMGPIPE=$tmp/bin/imgpipe
PSNR=$tmp/bin/psnr

# The input: the JPEGs directly in DIR, largest first, and their halves.
jpegs_in "$dir" compare.sh
n=${#files[@]}
read -r total_mp _ < <(cd "$dir" && "$PSNR" -mp "${files[@]}")
others=$(find "$dir" -mindepth 1 -not -iname '*.jpg' -not -iname '*.jpeg' | wc -l)
if [ "$others" -gt 0 ]; then
  echo "warning: $dir holds $others entries that are not .jpg/.jpeg; imgpipe (given the folder) may do more work than the others" >&2
fi

# Tool detection.
PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import PIL' 2>/dev/null; then PY=$(command -v "$p"); break; fi
done
has() { command -v "$1" >/dev/null 2>&1; }
# SKIP="vips im_resize ..." leaves rows out as if their tool were missing
# (keys: vips im_shrink im_resize gm pillow).
skip() { case " ${SKIP:-} " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- machine --------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
echo "## imgpipe vs other resizers"
echo
echo "Job: $n JPEGs from $dir ($total_mp MP in total) fitted inside ${size}x${size}, JPEG quality 85,"
echo "2 cores per tool, $runs run(s) each (round-robin: run 1 of every tool, then run 2...), medians shown."
echo
echo "- machine: $(nproc) cores, $cpu, $mem RAM, $(uname -sr)"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(go version)"
echo "- imgpipe: $("$IMGPIPE" version 2>&1 | head -n1) (built from $repo${IMGPIPE_FLAGS:+; extra flags: $IMGPIPE_FLAGS})"
has vipsthumbnail && echo "- vipsthumbnail: $(vipsthumbnail --vips-version 2>&1 | head -n1)"
has mogrify && echo "- ImageMagick: $(mogrify -version 2>&1 | head -n1 | sed 's/^Version: //')"
has gm && echo "- GraphicsMagick: $(gm version 2>&1 | head -n1)"
[ -n "$PY" ] && echo "- Pillow: $("$PY" -c 'import PIL, sys; print(PIL.__version__, "on Python", sys.version.split()[0])')"
echo

# Warm the page cache so that the first tool does not pay for the disk.
cat "${files[@]/#/$dir/}" >/dev/null

# ---- one process of each tool -----------------------------------------------
# proc_TOOL TIMEFILE OUT FILE... runs one process of TOOL under GNU time,
# from inside DIR (the files are names relative to it).

proc_imgpipe() { # one process for the whole folder; it uses 2 cores itself
  local tf=$1 out=$2
  # shellcheck disable=SC2086 # IMGPIPE_FLAGS: extra flags, split on spaces
  "$TIME" -o "$tf" -f "$TFMT" "$IMGPIPE" resize "$dir" -o "$out" -w "$size" -H "$size" -q 85 --progress never ${IMGPIPE_FLAGS:-}
}
proc_vips() { # VIPS_CONCURRENCY=1: one worker thread, so 2 processes = 2 cores
  local tf=$1 out=$2; shift 2
  VIPS_CONCURRENCY=1 "$TIME" -o "$tf" -f "$TFMT" vipsthumbnail --size "${size}x${size}" -o "$out/%s.jpg[Q=85]" "$@"
}
proc_im_shrink() { # shrink-on-load: libjpeg decodes at 1/2, 1/4 or 1/8 scale, >= 2*SIZE a side
  local tf=$1 out=$2; shift 2
  MAGICK_THREAD_LIMIT=1 "$TIME" -o "$tf" -f "$TFMT" mogrify -path "$out" -define jpeg:size="$((2 * size))x$((2 * size))" -thumbnail "${size}x${size}" -quality 85 "$@"
}
proc_im_resize() { # full-size decode
  local tf=$1 out=$2; shift 2
  MAGICK_THREAD_LIMIT=1 "$TIME" -o "$tf" -f "$TFMT" mogrify -path "$out" -resize "${size}x${size}" -quality 85 "$@"
}
proc_gm() { # -size before the files: libjpeg shrink-on-load hint
  local tf=$1 out=$2; shift 2
  OMP_NUM_THREADS=1 "$TIME" -o "$tf" -f "$TFMT" gm mogrify -output-directory "$out" -size "${size}x${size}" -resize "${size}x${size}" -quality 85 "$@"
}
PILLOW_SCRIPT='
import os, sys
from multiprocessing import Pool
from PIL import Image
LANCZOS = getattr(Image, "Resampling", Image).LANCZOS
out = sys.argv[1]
def one(path):
    with Image.open(path) as im:
        size = int(os.environ["SIZE"])
        im.draft("RGB", (size, size))  # libjpeg shrink-on-load
        im.thumbnail((size, size), LANCZOS)
        im.save(os.path.join(out, os.path.basename(path)), quality=85)
if __name__ == "__main__":
    pool = Pool(2)
    pool.map(one, sys.argv[2:], chunksize=1)
    pool.close()
    pool.join()
'
proc_pillow() { # one parent, Pool(2) workers: GNU time sees the whole tree
  local tf=$1 out=$2; shift 2
  SIZE=$size "$TIME" -o "$tf" -f "$TFMT" "$PY" -c "$PILLOW_SCRIPT" "$out" "$@"
}

# ---- runs -------------------------------------------------------------------
now() { date +%s.%N; }

# run_once KEY LABEL PROCS R: run R of proc_KEY with 1 process (all files)
# or 2 (the two halves in parallel). Appends "wall cpu rssMiB" to
# $tmp/runs.KEY, and a note to $tmp/note.KEY if the run failed.
run_once() {
  local key=$1 label=$2 procs=$3 r=$4
  local out=$tmp/out/$key/$r log=$tmp/log/$key.$r
  mkdir -p "$out" "$tmp/log"
  rm -f "$log".t*
  echo "running $label, run $r/$runs..." >&2
  local t0 t1 ok=1
  t0=$(now)
  if [ "$procs" = 1 ]; then
    (cd "$dir" && "proc_$key" "$log.t1" "$out" "${files[@]}") >"$log.1" 2>&1 || ok=0
  else
    (cd "$dir" && "proc_$key" "$log.t1" "$out" "${half1[@]}") >"$log.1" 2>&1 &
    local p1=$!
    (cd "$dir" && "proc_$key" "$log.t2" "$out" "${half2[@]}") >"$log.2" 2>&1 &
    local p2=$!
    wait "$p1" || ok=0
    wait "$p2" || ok=0
  fi
  t1=$(now)
  local made
  made=$(find "$out" -type f -iname '*.jp*g' | wc -l)
  if [ "$ok" = 0 ] || [ "$made" -ne "$n" ]; then
    echo "FAILED: exit status or $made of $n outputs (log: $(tail -n 3 "$log".[12] 2>/dev/null | tr '\n' ' ' | cut -c1-200))" >"$tmp/note.$key"
    echo "$label: $(cat "$tmp/note.$key")" >&2
  fi
  # Last line of each time file: "%e %U %S %M" (earlier lines may hold
  # "Command exited with non-zero status").
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')" \
    "$(for f in "$log".t*; do tail -n 1 "$f"; done | awk '{s += $2 + $3} END {printf "%.3f", s}')" \
    "$(for f in "$log".t*; do tail -n 1 "$f"; done | awk '$4 > m {m = $4} END {printf "%.1f", m / 1024}')" >>"$tmp/runs.$key"
}

# The rows to run, "KEY|LABEL|PROCS", imgpipe first (the ratios' base).
rows=("imgpipe|imgpipe|1")
skipped=()
# maybe KEY LABEL PROCS WHY-MISSING PRESENT: add the row, or say why not.
maybe() {
  if skip "$1"; then
    skipped+=("$2 (SKIP)")
  elif [ "$5" = yes ]; then
    rows+=("$1|$2|$3")
  else
    skipped+=("$2 ($4)")
  fi
}
yn() { if "$@"; then echo yes; else echo no; fi; }
maybe vips "vipsthumbnail" 2 "vipsthumbnail not installed: apt-get install libvips-tools" "$(yn has vipsthumbnail)"
maybe im_shrink "ImageMagick -define jpeg:size -thumbnail" 2 "mogrify not installed: apt-get install imagemagick" "$(yn has mogrify)"
maybe im_resize "ImageMagick -resize" 2 "mogrify not installed: apt-get install imagemagick" "$(yn has mogrify)"
maybe gm "GraphicsMagick -size -resize" 2 "gm not installed: apt-get install graphicsmagick" "$(yn has gm)"
maybe pillow "Pillow draft+thumbnail" 1 "no python3 with PIL: apt-get install python3-pil" "$(yn test -n "$PY")"

# Round-robin: run r of every tool, then run r+1 of every tool, so that a
# slow spell of a shared machine (they last minutes) falls on all tools
# rather than on whichever happened to be running.
for ((r = 1; r <= runs; r++)); do
  for row in "${rows[@]}"; do
    IFS='|' read -r key label procs <<<"$row"
    run_once "$key" "$label" "$procs" "$r"
  done
done
: >"$tmp/results"
for row in "${rows[@]}"; do
  IFS='|' read -r key label procs <<<"$row"
  w=$(cut -d' ' -f1 "$tmp/runs.$key" | median)
  c=$(cut -d' ' -f2 "$tmp/runs.$key" | median)
  m=$(cut -d' ' -f3 "$tmp/runs.$key" | median)
  echo "$key|$label|$procs|$w|$c|$m|$(cat "$tmp/note.$key" 2>/dev/null)" >>"$tmp/results"
done

# ---- table --------------------------------------------------------------------
IFS='|' read -r _ _ _ base_wall base_cpu _ _ < <(head -n 1 "$tmp/results")
echo "| tool | processes | wall s | CPU s | images/s | MP/s | peak RSS MB | wall / imgpipe | CPU / imgpipe |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
while IFS='|' read -r key label procs w c m note; do
  [ "$procs" = 1 ] && [ "$key" = pillow ] && procs="1 (+Pool(2))"
  [ "$procs" = 1 ] && [ "$key" = imgpipe ] && procs="1 (2 workers/stage)"
  awk -v label="$label" -v procs="$procs" -v w="$w" -v c="$c" -v m="$m" -v n="$n" -v mp="$total_mp" \
    -v bw="$base_wall" -v bc="$base_cpu" -v note="$note" 'BEGIN {
      if (note != "") label = label " (" note ")"
      printf "| %s | %s | %.2f | %.2f | %.2f | %.1f | %.0f | %.2f | %.2f |\n", label, procs, w, c, n / w, mp / w, m, w / bw, c / bc
    }'
done <"$tmp/results"
echo

# ---- quality: imgpipe vs vipsthumbnail ----------------------------------------
# Four PSNR comparisons (RGB, dB), each summarised as min (photo) and median:
#   jpeg:   imgpipe's q85 JPEGs vs vipsthumbnail's (the outputs timed above);
#   resize: both tools again writing PNG, so no JPEG encoder is involved;
#   floor:  vipsthumbnail's own q85 JPEG vs its PNG: how far JPEG encoding
#           alone moves an output, so about as close as two encoders' JPEGs
#           of the same photo can be expected to get;
#   ours:   imgpipe's q85 JPEG vs vipsthumbnail's PNG, to set beside floor.
# psnr_list NAME A-DIR A-EXT B-DIR B-EXT: one "dB photo" line a photo in
# $tmp/psnr.NAME, and the photos whose two outputs differ in size (the tools
# rounded the box differently) in $tmp/psnr.NAME.sizes.
psnr_list() {
  local name=$1 ad=$2 ae=$3 bd=$4 be=$5 f a b p flag
  : >"$tmp/psnr.$name"
  : >"$tmp/psnr.$name.sizes"
  for f in "${files[@]}"; do
    a=$ad/${f%.*}.$ae b=$bd/${f%.*}.$be
    if [ -f "$a" ] && [ -f "$b" ] && p=$("$PSNR" "$a" "$b" 2>>"$tmp/psnr.err"); then
      read -r p flag <<<"$p"
      if [ -n "$flag" ]; then echo "$p $f" >>"$tmp/psnr.$name.sizes"; else echo "$p $f" >>"$tmp/psnr.$name"; fi
    fi
  done
}
# psnr_summary NAME: "min X (photo), median Y over N photos", over the
# photos both tools made the same size (pixels of different sizes drift
# apart, which costs many dB at thumbnail sizes; those are counted apart).
psnr_summary() {
  local f=$tmp/psnr.$1
  if [ -s "$f" ]; then
    read -r pmin pfile < <(sort -g "$f" | head -n 1)
    printf 'min %s (%s), median %.2f over %d photos' "$pmin" "$pfile" "$(cut -d' ' -f1 "$f" | median)" "$(wc -l <"$f")"
  else
    printf 'no photo compared (%s)' "$(head -n 1 "$tmp/psnr.err" 2>/dev/null)"
  fi
  if [ -s "$f.sizes" ]; then
    printf '; left out: %d photos the two made a pixel or two apart in size (%s)' "$(wc -l <"$f.sizes")" \
      "$(sort -g "$f.sizes" | head -n 3 | awk '{printf "%s%s %s dB", (NR > 1 ? ", " : ""), $2, $1}')"
  fi
}
if [ -d "$tmp/out/vips/$runs" ]; then
  echo "checking quality (PNG outputs of imgpipe and vipsthumbnail)..." >&2
  q=$tmp/quality
  mkdir -p "$q/imgpipe" "$q/vips"
  # shellcheck disable=SC2086 # IMGPIPE_FLAGS: extra flags, split on spaces
  (cd "$dir" && "$IMGPIPE" resize "${files[@]}" -o "$q/imgpipe" -w "$size" -H "$size" --format png --progress never ${IMGPIPE_FLAGS:-}) >/dev/null 2>&1 || true
  (cd "$dir" && vipsthumbnail --size "${size}x${size}" -o "$q/vips/%s.png" "${files[@]}") >/dev/null 2>&1 || true
  psnr_list jpeg "$tmp/out/imgpipe/$runs" jpg "$tmp/out/vips/$runs" jpg
  psnr_list resize "$q/imgpipe" png "$q/vips" png
  psnr_list floor "$q/vips" png "$tmp/out/vips/$runs" jpg
  psnr_list ours "$q/vips" png "$tmp/out/imgpipe/$runs" jpg
  echo "Quality, PSNR against vipsthumbnail (RGB, dB):"
  echo "- q85 JPEG outputs, imgpipe vs vipsthumbnail: $(psnr_summary jpeg)"
  echo "- resize alone (both writing PNG): $(psnr_summary resize)"
  echo "- JPEG encoding alone (vipsthumbnail's q85 JPEG vs its PNG): $(psnr_summary floor)"
  echo "- imgpipe's q85 JPEG vs vipsthumbnail's PNG: $(psnr_summary ours)"
else
  echo "Quality: no PSNR check (needs vipsthumbnail)."
fi
echo
echo "wall s: median over runs, from start to the end of the last process; CPU s: user+sys of all"
echo "processes; images/s and MP/s: $n images and $total_mp input MP / median wall; peak RSS: max over the"
echo "processes of a run (GNU time %M), median over runs; ratios: tool / imgpipe (>1 = slower or more CPU)."
echo "vipsthumbnail runs with VIPS_CONCURRENCY=1, ImageMagick with MAGICK_THREAD_LIMIT=1, GraphicsMagick"
echo "with OMP_NUM_THREADS=1, each as 2 processes over halves of the files; imgpipe and Pillow as 1 process"
echo "using 2 cores. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
for s in "${skipped[@]}"; do echo "Skipped: $s."; done
