#!/usr/bin/env bash
# make-small.sh PHOTOS DEST [COPIES]
#
# Makes the many-small-photos set of issue #17 in DEST: every JPEG directly
# in PHOTOS (the 36 benchmark photos) fitted inside 640x640 at JPEG quality
# 88 by imgpipe, then COPIES (default 55) copies of each under distinct
# names, flat in DEST: 36 x 55 = 1,980 JPEGs of 0.23-0.3 MP, about 115 MB.
# Time a thumbnail job on it against Pillow and vipsthumbnail with
#   SIZE=200 bench/compare.sh DEST 5
#
# Needs: go.
set -euo pipefail
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: make-small.sh PHOTOS DEST [COPIES]" >&2; exit 2; }
photos=$1 dest=$2 copies=${3:-55}
case $copies in '' | *[!0-9]* | 0) echo "make-small.sh: COPIES must be a positive integer" >&2; exit 2 ;; esac
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgpipe-make-small.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$repo" && go build -o "$tmp/imgpipe" .)
"$tmp/imgpipe" resize "$photos" -o "$tmp/640" -w 640 -H 640 -q 88 --progress never --quiet
mkdir -p "$dest"
for f in "$tmp"/640/*.jpg; do
  b=$(basename "$f" .jpg)
  for ((i = 1; i <= copies; i++)); do cp "$f" "$dest/$b-$(printf %02d "$i").jpg"; done
done
echo "made $(find "$dest" -maxdepth 1 -name '*.jpg' | wc -l) JPEGs, $(du -sh "$dest" | cut -f1), in $dest" >&2
