//go:build nodynamic

package codec

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"strings"

	"github.com/gen2brain/avif"
	"github.com/gen2brain/heic"
	"github.com/imgpipe/imgpipe/internal/clone"
)

// heifMinWidth is the narrowest HEIF image Decode accepts. gen2brain/heic v0.4.5 copies the
// planes out of libheif with libheif's row strides but reads them back assuming
// width rounded up to 16; libheif's chroma rows are at least 64 bytes, so images up to 96
// pixels wide (chroma up to 48) come out with striped colours (and up to 48 wide, striped
// luma). Refuse them rather than return wrong pixels.
const heifMinWidth = 97

// DecodeConfig returns the dimensions and colour model of an image in a format Go's registered
// decoders cannot read: "avif", "heif" (or "heic") and "webp-anim". It reads all of r for AVIF
// (the container must be parsed), up to 32 KB for HEIF and 64 KB for WebP, and runs the codec's
// header parser (compiling it on first use, see the package doc), but decodes no pixels.
func DecodeConfig(format string, r io.Reader) (image.Config, error) {
	var cfg image.Config
	var err error
	switch strings.ToLower(format) {
	case FormatAVIF:
		cfg, err = avif.DecodeConfig(r)
	case FormatHEIF, "heic":
		// The library reads its 32 KB header window with one Read: hand it a buffer.
		var data []byte
		data, err = io.ReadAll(io.LimitReader(r, 32<<10))
		if err == nil {
			cfg, err = heic.DecodeConfig(bytes.NewReader(data))
		}
	case FormatWebPAnim:
		cfg, err = decodeConfigWebPAnim(r)
	default:
		return image.Config{}, fmt.Errorf("%w: %q", ErrUnsupportedFormat, format)
	}
	if err != nil {
		return image.Config{}, fmt.Errorf("%s: %w", format, err)
	}
	return cfg, nil
}

// Decode decodes an image in a format Go's registered decoders cannot read: "avif" (first
// image of a sequence; 8-bit gives *image.RGBA, 10/12-bit *image.RGBA64), "heif" or "heic"
// (the primary image, usually *image.YCbCr; EXIF orientation is not applied, libheif applies the
// HEIF irot/imir transforms; images narrower than 97 pixels are refused, see heifMinWidth) and "webp-anim" (the first frame, *image.RGBA).
//
// Memory: r is read whole; the codec's memory peaks at a few times the decoded size during the
// call; the returned image is a copy in Go memory of its decoded size (call DecodeConfig first
// to charge it against a budget).
func Decode(format string, r io.Reader) (image.Image, error) {
	var m image.Image
	var err error
	switch strings.ToLower(format) {
	case FormatAVIF:
		m, err = avif.Decode(r)
	case FormatHEIF, "heic":
		m, err = heic.Decode(r)
		if err == nil && m.Bounds().Dx() <= heifMinWidth-1 {
			return nil, fmt.Errorf("%s: %w: images narrower than %d pixels (gen2brain/heic v0.4.5 misreads their planes)",
				format, ErrUnsupportedFormat, heifMinWidth)
		}
	case FormatWebPAnim:
		m, err = decodeWebPAnim(r)
		if err == nil {
			return m, nil
		}
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedFormat, format)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", format, err)
	}
	// The libraries return images whose pixels are a slice of the
	// WebAssembly module's whole linear memory, which would otherwise stay
	// alive (several times the image size) as long as the image does.
	return clone.Image(m), nil
}
