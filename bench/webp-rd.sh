#!/usr/bin/env bash
# webp-rd.sh DIR [QUALITIES]
#
# Rate-distortion of imgpipe's WebP encoder against cwebp -m 4, and against
# imgpipe's own JPEG, on the photos in DIR fitted inside 800x800 (SIZE).
#
# The reference is the exact resize: imgpipe resize DIR -f png (8-bit RGB,
# lossless). Every encoder is then given those same pixels, so the figures
# compare encoders, not resizers: imgpipe -f webp and -f jpeg read the PNGs
# (same size, so nothing is resampled), cwebp -m 4 reads them too, and
# every output carries the photo's colour profile, as imgpipe's do
# (cwebp -metadata icc). For each
# quality (default "50 65 80 90"), each output is measured against its
# reference: bytes, PSNR (R, G, B) and SSIM (luma). WebP outputs, ours and
# cwebp's, are decoded by dwebp (libwebp, as browsers decode them); JPEG by
# Go. bench/rd prints the table and the Bjøntegaard rate differences
# (BD-rate) against cwebp and against imgpipe's JPEG.
#
# JPEG's quality scale is not WebP's: the JPEG rows run at q 50-95 (JPEG_Q)
# so that its PSNR range overlaps WebP's, and its BD-rate is read at equal
# PSNR. A negative BD-rate is fewer bytes for the same fidelity.
#
# Needs: go, cwebp and dwebp (Debian package webp).
# Environment: SIZE (default 800), JPEG_Q (default "50 65 80 90 95"),
# KEEP=1 keeps the work folder (printed on stderr).
set -euo pipefail

usage() { echo "usage: webp-rd.sh DIR [QUALITIES]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
[ -d "$1" ] || { echo "webp-rd.sh: $1 is not a folder" >&2; exit 2; }
dir=$(cd "$1" && pwd)
qs=${2:-50 65 80 90}
jqs=${JPEG_Q:-50 65 80 90 95}
size=${SIZE:-800}
for t in cwebp dwebp; do
  command -v "$t" >/dev/null || { echo "webp-rd.sh: $t not installed (apt-get install webp)" >&2; exit 2; }
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgpipe-webp-rd.XXXXXX")
if [ -n "${KEEP:-}" ]; then echo "work folder: $tmp" >&2; else trap 'rm -rf "$tmp"' EXIT; fi

echo "building imgpipe and bench/rd..." >&2
(cd "$repo" && go build -o "$tmp/bin/imgpipe" . && go build -o "$tmp/bin/rd" ./bench/rd)
IMGPIPE=$tmp/bin/imgpipe
RD=$tmp/bin/rd

echo "reference: fit inside ${size}x${size}, PNG..." >&2
"$IMGPIPE" resize "$dir" -o "$tmp/ref" -w "$size" -H "$size" -f png --progress never >&2
mapfile -t refs < <(cd "$tmp/ref" && find . -maxdepth 1 -name '*.png' -printf '%f\n' | sort)
[ ${#refs[@]} -gt 0 ] || { echo "webp-rd.sh: no reference images made" >&2; exit 1; }

table=$tmp/table.tsv
: >"$table"
# measure CODEC Q OUTDIR EXT [dwebp]: one table line per reference image.
measure() {
  local codec=$1 q=$2 out=$3 ext=$4 dec=${5:-} r name file decoded
  for r in "${refs[@]}"; do
    name=${r%.png}
    file=$out/$name.$ext
    decoded=$file
    if [ -n "$dec" ]; then
      decoded=$out/$name.dwebp.png
      dwebp -quiet "$file" -o "$decoded"
    fi
    echo "$codec $q $name $("$RD" measure "$tmp/ref/$r" "$file" "$decoded")" >>"$table"
  done
}

for q in $qs; do
  echo "quality $q: imgpipe webp, cwebp -m 4..." >&2
  "$IMGPIPE" resize "$tmp/ref" -o "$tmp/imgpipe-$q" -f webp -q "$q" --progress never >&2
  mkdir -p "$tmp/cwebp-$q"
  for r in "${refs[@]}"; do
    cwebp -quiet -m 4 -q "$q" -metadata icc "$tmp/ref/$r" -o "$tmp/cwebp-$q/${r%.png}.webp" 2>&1 |
      { grep -v 'known incorrect sRGB profile' >&2 || true; }
  done
  measure imgpipe-webp "$q" "$tmp/imgpipe-$q" webp dwebp
  measure cwebp "$q" "$tmp/cwebp-$q" webp dwebp
done
for q in $jqs; do
  echo "quality $q: imgpipe jpeg..." >&2
  "$IMGPIPE" resize "$tmp/ref" -o "$tmp/jpeg-$q" -f jpeg -q "$q" --progress never >&2
  measure imgpipe-jpeg "$q" "$tmp/jpeg-$q" jpg
done

echo "${#refs[@]} photos of $dir fitted inside ${size}x${size}; cwebp: $(cwebp -version)"
echo
"$RD" bd cwebp,imgpipe-jpeg "$table"
