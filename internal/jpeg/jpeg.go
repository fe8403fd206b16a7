// Package jpeg is a pure-Go JPEG decoder that can decode straight to a
// reduced size (1/2, 1/4 or 1/8) by running a reduced inverse DCT on the
// low-frequency coefficients of every 8x8 block ("shrink-on-load", as
// libjpeg's scale_denom does), and an encoder (Encode) that writes YCbCr
// planes as they are, with Huffman tables fitted to each image.
//
// It supports baseline and extended sequential (SOF0, SOF1) and progressive
// (SOF2) Huffman-coded JPEGs with 8-bit samples and 1, 3 or 4 components, in
// the same colour models and sampling layouts that the standard library's
// image/jpeg supports. At scale 1 its output matches image/jpeg's up to IDCT
// rounding. Arithmetic-coded, 12-bit, lossless and hierarchical files, and
// anything else image/jpeg does not decode either, give an error wrapping
// ErrUnsupported, so a caller can fall back to image/jpeg for the proper error.
package jpeg

import (
	"errors"
	"fmt"
	"image"
	"io"
)

// Options controls decoding.
type Options struct {
	// Scale is the reduction denominator: 1, 2, 4 or 8 (0 means 1). The
	// decoded image is ScaledSize(width, height, Scale) pixels.
	Scale int
}

// ErrUnsupported is wrapped by the errors returned for valid JPEG features
// this package does not implement (arithmetic coding, 12-bit samples,
// lossless and hierarchical modes, unusual sampling layouts, DNL, ...).
var ErrUnsupported = errors.New("jpeg: unsupported feature")

// FormatError reports that the input is not a valid JPEG (corrupt or
// truncated data).
type FormatError string

// Error returns "jpeg: invalid format: " followed by the detail.
func (e FormatError) Error() string { return "jpeg: invalid format: " + string(e) }

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

// errTruncated is returned when the entropy-coded data or the marker stream
// ends before the image is complete.
var errTruncated = FormatError("unexpected end of data")

// ScaledSize returns the size of the image Decode produces for a w x h JPEG
// at the given scale: ceil(w/scale) x ceil(h/scale), as libjpeg computes it.
// A scale below 1 is treated as 1.
func ScaledSize(w, h, scale int) (int, int) {
	if scale < 1 {
		scale = 1
	}
	return (w + scale - 1) / scale, (h + scale - 1) / scale
}

// DecodeConfig returns the colour model and dimensions of a JPEG image
// without decoding it. It reports the same values as image/jpeg's
// DecodeConfig: color.GrayModel, color.YCbCrModel, color.RGBAModel (for
// Adobe RGB files) or color.CMYKModel.
func DecodeConfig(r io.Reader) (image.Config, error) {
	hdr, err := readHeaderBytes(r)
	if err != nil {
		return image.Config{}, err
	}
	d := decoder{data: hdr, scale: 1, configOnly: true}
	defer d.release()
	if err := d.run(); err != nil {
		return image.Config{}, err
	}
	if !d.haveSOF {
		return image.Config{}, FormatError("missing SOF marker")
	}
	return image.Config{ColorModel: d.colorModel(), Width: d.width, Height: d.height}, nil
}

// Decode reads a JPEG image from r and returns it at the scale requested by
// opts (nil means full size). The concrete type is the one image/jpeg
// returns for the same file: *image.Gray, *image.YCbCr (with the file's
// chroma subsampling ratio), *image.RGBA or *image.CMYK. The image bounds
// are (0, 0)-ScaledSize(width, height, scale). Decode reads r whole
// first, into a copy, unless r has a Bytes method returning its unread
// bytes (as *bytes.Buffer does): those are then decoded in place, r is
// left unread, and they must not change until Decode returns.
func Decode(r io.Reader, opts *Options) (image.Image, error) {
	scale := 1
	if opts != nil && opts.Scale != 0 {
		scale = opts.Scale
	}
	switch scale {
	case 1, 2, 4, 8:
	default:
		return nil, fmt.Errorf("jpeg: invalid scale %d (want 1, 2, 4 or 8)", scale)
	}
	data, done, err := readData(r)
	if err != nil {
		return nil, err
	}
	defer done()
	d := decoder{data: data, scale: scale}
	defer d.release()
	if err := d.run(); err != nil {
		return nil, err
	}
	return d.finish()
}
