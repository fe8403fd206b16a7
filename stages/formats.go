package stages

import (
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"slices"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// decoder reads one format. The decode stage calls the format's own
// package rather than image.Decode, so which decoder reads a format never
// depends on which packages happen to register themselves.
type decoder struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

// decoders are the formats imgpipe reads: JPEG, PNG and GIF from the
// standard library; BMP, TIFF and WebP (lossy, lossless, alpha; not
// animated) from golang.org/x/image. A build with -tags nodynamic adds
// HEIF/HEIC and AVIF (extra_codecs.go).
var decoders = map[string]decoder{
	"jpeg": {jpeg.DecodeConfig, jpeg.Decode},
	"png":  {png.DecodeConfig, png.Decode},
	"gif":  {gif.DecodeConfig, gif.Decode},
	"bmp":  {bmp.DecodeConfig, bmp.Decode},
	"tiff": {tiff.DecodeConfig, tiff.Decode},
	"webp": {webp.DecodeConfig, webp.Decode},
}

// encoder writes one format that the standard encoders (in encode.go) do
// not: WebP and AVIF in a build with -tags nodynamic.
type encoder func(w io.Writer, img image.Image, o Output) error

var extraEncoders = map[string]encoder{}

// writers are the formats imgpipe can write, with their usual extension.
var writers = map[string]string{"jpeg": "jpg", "png": "png", "gif": "gif", "tiff": "tif", "bmp": "bmp"}

// Writable reports whether imgpipe can write format.
func Writable(format string) bool { _, ok := writers[format]; return ok }

// writableList names the writable formats, for messages.
func writableList() string {
	names := make([]string, 0, len(writers))
	for f := range writers {
		names = append(names, f)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// unsupported explains a format this build cannot read.
func unsupported(format string) error {
	switch format {
	case "heif", "avif":
		return fmt.Errorf("%w: %s needs an imgpipe built with -tags nodynamic (see README)", ErrUnsupportedFormat, strings.ToUpper(format))
	case "webp-anim":
		return fmt.Errorf("%w: animated WebP needs an imgpipe built with -tags nodynamic (see README), which reads its first frame", ErrUnsupportedFormat)
	}
	return fmt.Errorf("%w: %s", ErrUnsupportedFormat, format)
}
