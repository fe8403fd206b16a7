package format

import (
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"

	ijpeg "github.com/imgpipe/imgpipe/internal/jpeg"
)

// ErrVariant is wrapped by Decode's errors for a variant of a format that
// the fast decoder does not implement but Fallback may read (a JPEG with
// arithmetic coding or 12-bit samples: image/jpeg then gives the verdict).
var ErrVariant = errors.New("variant not implemented by the fast decoder")

// decodeJPEG decodes with our own decoder, at 1/scale of the size.
func decodeJPEG(r io.Reader, scale int) (image.Image, error) {
	img, err := ijpeg.Decode(r, &ijpeg.Options{Scale: scale})
	if errors.Is(err, ijpeg.ErrUnsupported) {
		return nil, fmt.Errorf("%w: %w", ErrVariant, err)
	}
	return img, err
}

// jpegHolds: the decoders pad planes to whole 16x16 blocks (MCUs), and a
// progressive JPEG's coefficients are kept until its last scan, 2 bytes
// each for as many as there are samples.
func jpegHolds(r io.ReaderAt, w, h, scale, samples int) (pixels, bytes int64) {
	s := max(scale, 1)
	pixels = int64((w/s+16)&^15) * int64((h/s+16)&^15)
	bytes = int64(samples) * pixels
	if progressive, _ := jpegScans(io.NewSectionReader(r, 0, 1<<62), 0); progressive {
		bytes += 2 * int64(samples) * pixels
	}
	return pixels, bytes
}

// isProgressive reports whether a JPEG's frame header (before its first
// scan) is progressive (SOF2).
func isProgressive(data []byte) bool {
	for i := 2; i+3 < len(data); {
		if data[i] != 0xff {
			return false
		}
		marker := data[i+1]
		switch {
		case marker == 0xc2:
			return true
		case marker == 0xda: // start of scan: no SOF2 before it
			return false
		case marker == 0xff: // fill byte
			i++
			continue
		}
		i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
	}
	return false
}

// decodeStdJPEG is image/jpeg, at full size: the fallback for ErrVariant.
func decodeStdJPEG(r io.Reader) (image.Image, error) { return jpeg.Decode(r) }
