package stages

import (
	"fmt"
	"image"
)

// hasQuality reports whether t's format takes a quality that changes the
// file's size (JPEG, lossy WebP, AVIF).
func hasQuality(t Target) bool {
	switch t.Format {
	case "jpeg", "avif":
		return true
	case "webp":
		return !t.Output.Lossless
	}
	return false
}

// fitBytes finds, by bisection between 1 and the quality asked for (which
// gave too many bytes), the highest quality whose file, colour profile and
// metadata included, fits in t.Output.MaxBytes: about log2(quality)
// encodes of the output-sized image, 7 from 85. When even quality 1 does
// not fit, that smallest file is kept and the note says so.
func fitBytes(img image.Image, frames []image.Image, t Target, d *Decoded, c colour) ([]byte, string, error) {
	limit := t.Output.MaxBytes
	var best []byte
	var bestNote string
	bestQ := 0
	lo, hi := 1, t.Output.Quality-1
	var low []byte // the file at quality 1, if tried
	var lowNote string
	for lo <= hi {
		q := (lo + hi) / 2
		tq := t
		tq.Output.Quality = q
		data, note, err := encodeAt(img, frames, tq, d, c)
		if err != nil {
			return nil, "", err
		}
		if q == 1 {
			low, lowNote = data, note
		}
		if int64(len(data)) <= limit {
			best, bestNote, bestQ = data, note, q
			lo = q + 1
		} else {
			hi = q - 1
		}
	}
	join := func(a, b string) string {
		if a == "" {
			return b
		}
		return a + "; " + b
	}
	if best == nil {
		return low, join(lowNote, fmt.Sprintf("max_bytes: does not fit in %d bytes even at quality 1 (%d bytes); kept at quality 1", limit, len(low))), nil
	}
	return best, join(bestNote, fmt.Sprintf("max_bytes: quality %d (%d bytes) to fit in %d", bestQ, len(best), limit)), nil
}
