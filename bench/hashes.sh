#!/usr/bin/env bash
# hashes.sh BINARY INPUT... : run BINARY's resize over the inputs with a set
# of settings that covers every output format and path (shrink-on-load,
# fill, linear, 16-bit PNG, GIF animation, metadata, progressive, several
# renditions) and print one "sha256  settings/relative-path" line per output,
# sorted. Compare two builds with:
#   diff <(bench/hashes.sh /tmp/old testdata /tmp/bench-photos) \
#        <(bench/hashes.sh ./imgpipe testdata /tmp/bench-photos)
# A restructure that claims byte-identical outputs must print no difference.
set -euo pipefail
bin=${1:?usage: hashes.sh BINARY INPUT...}; shift
[ $# -gt 0 ] || { echo "usage: hashes.sh BINARY INPUT..." >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
settings=(
  "default|-w 800"
  "png|-w 300 -f png"
  "gif|-w 200 -f gif"
  "tiff|-w 200 -f tiff"
  "bmp|-w 150 -f bmp"
  "fill|-w 256 -H 256 --fit fill --anchor top-left"
  "stretch|-w 200 -H 90 --fit stretch"
  "linear|-w 400 --linear"
  "full|-w 640 --full-decode --quality 92"
  "prog|-w 500 --progressive --keep-metadata"
  "same|"
  "filters|-w 333 --filter mitchell"
  "sizes|--sizes 120,480"
  "first|-w 100 --frames first -f gif"
)
for s in "${settings[@]}"; do
  name=${s%%|*}; flags=${s#*|}
  # shellcheck disable=SC2086
  "$bin" resize "$@" -o "$tmp/$name" $flags --quiet >/dev/null 2>&1 || true
done
(cd "$tmp" && find . -type f ! -name '.*' -print0 | sort -z | xargs -0 sha256sum)
