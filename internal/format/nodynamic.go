//go:build nodynamic

package format

import (
	"image"
	"io"

	"github.com/imgpipe/imgpipe/internal/codec"
)

// A build with -tags nodynamic reads HEIF/HEIC and AVIF and writes AVIF,
// through internal/codec (libheif and libavif compiled to WebAssembly, run
// by wazero: still pure Go and one static binary). WebP, animated too, is
// read and written in every build (webpanim.go, internal/webp). Without the tag those libraries would load system
// copies through purego and link libc dynamically, so they are only built
// in on request. This init runs after builtin.go's (files initialise in
// name order), so the entries it fills in are there.
func init() {
	for _, name := range []string{codec.FormatHEIF, codec.FormatAVIF} {
		f := *ByName(name)
		f.DecodeConfig = func(r io.Reader) (image.Config, error) { return codec.DecodeConfig(name, r) }
		f.Decode = func(r io.Reader, _ int) (image.Image, error) { return codec.Decode(name, r) }
		f.ReadNeeds, f.Build = "", "nodynamic"
		register(&f)
	}
	avif := *ByName("avif")
	avif.Encode = func(w io.Writer, img image.Image, o EncodeOptions) error {
		return codec.EncodeAVIF(w, img, o.Quality)
	}
	avif.WriteNeeds = ""
	register(&avif)
}
