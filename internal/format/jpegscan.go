package format

import (
	"bufio"
	"fmt"
	"io"
	"sync"
)

// maxFallbackScans is the most scans image/jpeg is given. It has no scan
// limit of its own and visits every block of a component in every scan,
// even in a run of empty bands (internal/jpeg skips them, and stops at
// 1000 scans, its maxScans): pj4_999.jpg, 999 scans of a 10000x10000
// image in 142 KB, took it 33 s of CPU, about 33 ms a scan at that size.
// Real progressive files have 6 to 12 scans (libjpeg's scripts; mozjpeg's
// optimised ones a few more); 100 leaves room and bounds the worst case
// to about 3 s.
const maxFallbackScans = 100

// jpegFallbackHolds is what image/jpeg holds for a w x h JPEG with samples
// components, and refuses a file with more than maxFallbackScans scans.
// image/jpeg keeps a progressive file's coefficients as int32 for every
// component at full size (4 bytes a sample, subsampled planes counted at
// full size to err high) until its last scan, besides the pixels.
func jpegFallbackHolds(r io.ReaderAt, w, h, samples int) (int64, error) {
	pixels := int64((w+16)&^15) * int64((h+16)&^15)
	bytes := int64(samples) * pixels
	progressive, scans := jpegScans(io.NewSectionReader(r, 0, 1<<62), maxFallbackScans)
	if scans > maxFallbackScans {
		return 0, fmt.Errorf("more than %d scans, the most image/jpeg is given (for a variant our decoder does not read)", maxFallbackScans)
	}
	if progressive {
		bytes += 4 * int64(samples) * pixels
	}
	return bytes, nil
}

// scanReaders keeps jpegScans' buffers between images: it runs for every
// JPEG, and a fresh 16 KB buffer each time was 4% of the bytes a batch of
// thumbnails allocated.
var scanReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

// jpegScans walks a JPEG's markers: whether its frame header (before the
// first scan) is progressive (SOF2), and how many scans it has, counting
// no further than limit+1. It reads the entropy-coded data of the scans it
// counts, a byte at a time through a buffer, and never allocates more.
func jpegScans(r io.Reader, limit int) (progressive bool, scans int) {
	br := scanReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() { br.Reset(nil); scanReaders.Put(br) }()
	if a, err := br.ReadByte(); err != nil || a != 0xff {
		return false, 0
	}
	if b, err := br.ReadByte(); err != nil || b != 0xd8 {
		return false, 0
	}
	var marker byte // a marker already read in entropy-coded data
	for {
		if marker == 0 {
			if c, err := br.ReadByte(); err != nil || c != 0xff {
				return progressive, scans
			}
			var err error
			if marker, err = br.ReadByte(); err != nil {
				return progressive, scans
			}
		}
		m := marker
		marker = 0
		switch {
		case m == 0xff: // fill byte
			c, err := br.ReadByte()
			if err != nil {
				return progressive, scans
			}
			marker = c
			continue
		case m == 0xd8, m == 0x01, m >= 0xd0 && m <= 0xd7:
			continue // no length
		case m == 0xd9:
			return progressive, scans
		}
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return progressive, scans
		}
		n := int(l[0])<<8 | int(l[1])
		if n < 2 {
			return progressive, scans
		}
		if _, err := br.Discard(n - 2); err != nil {
			return progressive, scans
		}
		switch m {
		case 0xc2:
			if scans == 0 {
				progressive = true
			}
		case 0xda:
			scans++
			if scans > limit {
				return progressive, scans
			}
			// Skip the entropy-coded data up to the next marker that is
			// not a stuffed zero or a restart marker.
			for marker == 0 {
				c, err := br.ReadByte()
				if err != nil {
					return progressive, scans
				}
				for c == 0xff {
					if c, err = br.ReadByte(); err != nil {
						return progressive, scans
					}
					if c != 0 && (c < 0xd0 || c > 0xd7) && c != 0xff {
						marker = c
					}
				}
			}
		}
	}
}
