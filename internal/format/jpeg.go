package format

import (
	"bytes"
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

// isArithmetic reports whether a JPEG's frame is arithmetic-coded (SOF9-11,
// SOF13-15), which neither decoder reads.
func isArithmetic(data []byte) bool {
	switch frameMarker(data) {
	case 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf:
		return true
	}
	return false
}

// frameMarker returns a JPEG's start-of-frame marker (0xc0-0xcf, less DHT,
// JPG and DAC), 0 if there is none before the first scan.
func frameMarker(data []byte) byte {
	for i := 2; i+3 < len(data); {
		if data[i] != 0xff {
			return 0
		}
		marker := data[i+1]
		switch {
		case marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc:
			return marker
		case marker == 0xda: // start of scan: no frame header before it
			return 0
		case marker == 0xff: // fill byte
			i++
			continue
		}
		i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
	}
	return 0
}

// decodeStdJPEG is image/jpeg, at full size: the fallback for ErrVariant.
func decodeStdJPEG(r io.Reader) (image.Image, error) {
	return stdJPEG(r, jpeg.Decode)
}

// decodeJPEGConfig reads the header with our own decoder, which reuses its
// buffers (image/jpeg's allocated 13 KB a file, 3% of what a batch of
// thumbnails allocated). A header ours refuses is read again by
// image/jpeg, so that the verdict and its message stay the fallback's.
func decodeJPEGConfig(r io.Reader) (image.Config, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		return stdJPEG(r, jpeg.DecodeConfig)
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return stdJPEG(r, jpeg.DecodeConfig)
	}
	if cfg, err := ijpeg.DecodeConfig(rs); err == nil {
		return cfg, nil
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return image.Config{}, err
	}
	return stdJPEG(rs, jpeg.DecodeConfig)
}

// errArithmetic names what image/jpeg calls an "unknown marker".
var errArithmetic = jpeg.UnsupportedError("arithmetic coding (only Huffman-coded JPEGs are read; jpegtran in.jpg > out.jpg converts one)")

// stdJPEG runs one of image/jpeg's functions on r; when it fails on an
// arithmetic-coded file, the error says so.
func stdJPEG[T any](r io.Reader, fn func(io.Reader) (T, error)) (T, error) {
	var head bytes.Buffer
	v, err := fn(io.TeeReader(r, &head))
	if err != nil && isArithmetic(head.Bytes()) {
		return v, errArithmetic
	}
	return v, err
}
