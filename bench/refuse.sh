#!/usr/bin/env bash
# refuse.sh [RUNS] [FILE...]
#
# Times imgpipe refusing images over max_pixels (default 100 MP) from their
# header (issue #15: under 50 ms and 20 MB whatever the file size). It makes
# sparse files of 700 MB (under the default max_file_size, so max_pixels is
# what refuses them; sparse: no disk used, but every byte reads as zero):
# an 80000x60000 (4.8 gigapixel) TIFF with its IFD at the end of the file
# (where libvips puts it), PNG and BMP headers of the same size, and a
# baseline JPEG header of 65500x65500 (these formats are read in bands, up
# to 4 gigapixels by default, so a header must be over that to be refused;
# 65535 is a JPEG's largest side). FILE... adds
# real files (e.g. a TIFF from bench/make-big.sh). Each is run RUNS times
# (default 5); the table shows medians of wall, CPU (user+sys) and peak RSS.
#
# Needs: go, python3, GNU time (/usr/bin/time).
set -euo pipefail
runs=${1:-5}
shift || true
case $runs in '' | *[!0-9]* | 0) echo "refuse.sh: RUNS must be a positive integer" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/imgpipe" .)

python3 - "$tmp" <<'PY'
import struct, sys, zlib
d, size, w, h = sys.argv[1], 700 << 20, 80000, 60000
def sparse(name, head, tail=b"", at=0):
    with open(f"{d}/{name}", "wb") as f:
        f.write(head)
        if tail:
            f.seek(at); f.write(tail)
        f.truncate(size)
ihdr = b"IHDR" + struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
sparse("big.png", b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + b"\x00\x10\x00\x00IDAT")
jw = jh = 65500
sos = b"\xff\xda" + struct.pack(">HB", 12, 3) + bytes([1, 0, 2, 0x11, 3, 0x11, 0, 63, 0])
sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, jh, jw, 3) + bytes([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
sparse("big.jpg", b"\xff\xd8" + sof + sos)
sparse("big.bmp", b"BM" + struct.pack("<IIIIiiHH", size, 0, 54, 40, w, h, 1, 24) + bytes(24))
at = size - 512
entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 3, at + 200), (259, 3, 1, 8), (262, 3, 1, 2),
           (273, 4, 1, 8), (277, 3, 1, 3), (278, 4, 1, h), (279, 4, 1, at - 8)]
ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + struct.pack("<I", 0)
ifd = ifd.ljust(200, b"\0") + struct.pack("<HHH", 8, 8, 8)
sparse("big.tif", b"II*\x00" + struct.pack("<I", at), ifd, at)
PY

files=("$tmp/big.tif" "$tmp/big.png" "$tmp/big.jpg" "$tmp/big.bmp" "$@")
printf '%-40s %10s %10s %10s  %s\n' file wall_s cpu_s rss_MB result
for f in "${files[@]}"; do
  : >"$tmp/times"
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$tmp/t" -f '%e %U %S %M' "$tmp/imgpipe" resize "$f" -o "$tmp/out" -w 2000 >"$tmp/log" 2>&1 || true
    cat "$tmp/t" >>"$tmp/times"
  done
  result=$(grep -o 'max_pixels\|max_file_size\|budget\|[1-9][0-9]* processed' "$tmp/log" | head -1)
  printf '%-40s %10s %10s %10s  %s\n' "$(basename "$f") ($(($(stat -c %s "$f") >> 20)) MB)" \
    "$(awk '{print $1}' "$tmp/times" | median)" "$(awk '{print $2 + $3}' "$tmp/times" | median)" \
    "$(awk '{print $4 / 1024}' "$tmp/times" | median)" "$result"
done
