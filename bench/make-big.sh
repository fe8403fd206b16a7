#!/usr/bin/env bash
# make-big.sh DEST [MP...]
#
# Builds the big-image test set of bench/big.sh, reproducibly: for each
# size in megapixels (default: 100 1000), a 3:2 image of real photo content
# (testdata/photos/plasma_FallenLeaf_2560x1600.jpg, upscaled) plus seeded
# Gaussian noise (sigma 12, seed 1: detail down to the pixel, as a scan
# has), written as
#   big-<MP>mp-deflate.tif   Deflate TIFF in strips (libvips' default layout)
#   big-<MP>mp-tiled.tif     Deflate TIFF in 256x256 tiles
#   big-<MP>mp.png           PNG, non-interlaced, zlib level 1
#   big-<MP>mp.jpg           baseline JPEG, quality 90
#   big-<MP>mp-prog.jpg      progressive JPEG, quality 90
# FORMATS="deflate tiled png jpg prog" picks which. The uncompressed
# intermediate (3 bytes a pixel) is written to DEST and removed.
#
# Needs: vips (libvips-tools). 1000 MP takes about 3 GB of disk for the
# intermediate and several minutes a format.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: make-big.sh DEST [MP...]" >&2; exit 2; }
dest=$1
shift
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000)
formats=${FORMATS:-deflate tiled png jpg prog}
root=$(cd "$(dirname "$0")/.." && pwd)
photo=$root/testdata/photos/plasma_FallenLeaf_2560x1600.jpg
mkdir -p "$dest"
for mp in "${sizes[@]}"; do
  case $mp in '' | *[!0-9]* | 0) echo "make-big.sh: sizes are positive integers (megapixels)" >&2; exit 2 ;; esac
  # width x height = mp million, 3:2
  w=$(awk -v mp="$mp" 'BEGIN { printf "%d", sqrt(mp * 1e6 * 1.5) }')
  h=$((mp * 1000000 / w))
  base=$dest/.big-$mp.v
  vips resize "$photo" "$dest/.up.v" "$(awk -v w="$w" 'BEGIN { print w / 2560 }')" \
    --vscale "$(awk -v h="$h" 'BEGIN { print h / 1600 }')" --kernel linear
  vips gaussnoise "$dest/.noise.v" "$w" "$h" --sigma 12 --mean 0 --seed 1
  vips add "$dest/.up.v" "$dest/.noise.v" "$dest/.sum.v"
  rm -f "$dest/.up.v" "$dest/.noise.v"
  vips cast "$dest/.sum.v" "$base" uchar
  rm -f "$dest/.sum.v"
  for f in $formats; do
    case $f in
      deflate) vips copy "$base" "$dest/big-${mp}mp-deflate.tif[compression=deflate]" ;;
      tiled) vips copy "$base" "$dest/big-${mp}mp-tiled.tif[compression=deflate,tile,tile-width=256,tile-height=256]" ;;
      png) vips copy "$base" "$dest/big-${mp}mp.png[compression=1]" ;;
      jpg) vips copy "$base" "$dest/big-${mp}mp.jpg[Q=90]" ;;
      prog) vips copy "$base" "$dest/big-${mp}mp-prog.jpg[Q=90,interlace]" ;;
      *) echo "make-big.sh: unknown format $f" >&2; exit 2 ;;
    esac
  done
  rm -f "$base"
  echo "made ${w}x${h} ($mp MP): $formats"
done
