//go:build nodynamic

package stages

import (
	"image"
	"io"

	"github.com/imgpipe/imgpipe/internal/codec"
)

// A build with -tags nodynamic reads HEIF/HEIC and AVIF and writes WebP
// and AVIF, through internal/codec (libheif, libavif and libwebp compiled
// to WebAssembly, run by wazero: still pure Go and one static binary).
// Without the tag those libraries would load system copies through purego
// and link libc dynamically, so they are only built in on request.
func init() {
	for _, format := range []string{codec.FormatHEIF, codec.FormatAVIF, codec.FormatWebPAnim} {
		decoders[format] = decoder{
			config: func(r io.Reader) (image.Config, error) { return codec.DecodeConfig(format, r) },
			decode: func(r io.Reader) (image.Image, error) { return codec.Decode(format, r) },
		}
	}
	writers["webp"], writers["avif"] = "webp", "avif"
	extraEncoders["webp"] = func(w io.Writer, img image.Image, o Output) error {
		return codec.EncodeWebP(w, img, o.Quality, o.Lossless)
	}
	extraEncoders["avif"] = func(w io.Writer, img image.Image, o Output) error {
		return codec.EncodeAVIF(w, img, o.Quality)
	}
}
