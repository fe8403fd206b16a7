//go:build nodynamic

package stages

import (
	"bytes"
	"image"
	"path/filepath"
	"testing"

	"golang.org/x/image/webp"

	"github.com/imgpipe/imgpipe/internal/codec"
)

// With -tags nodynamic, HEIC and AVIF are read and WebP and AVIF written,
// through the same stages as every other format.
func TestWASMFormats(t *testing.T) {
	for _, in := range []struct {
		file string
		w, h int
	}{{"formats/small.heic", 160, 120}, {"formats/unsupported.avif", 480, 360}} {
		d, err := decodeFile(t, filepath.Join("..", "testdata", in.file), decodeOpts{
			Outputs: []Output{{Width: 80, Format: "webp"}, {Width: 80, Format: "avif", Name: "{name}-a.{ext}"}},
		})
		if err != nil {
			t.Fatalf("%s: %v", in.file, err)
		}
		if d.Width != in.w || d.Height != in.h {
			t.Errorf("%s: %dx%d, want %dx%d", in.file, d.Width, d.Height, in.w, in.h)
		}
		e := runEncoded(t, d)
		got, err := webp.Decode(bytes.NewReader(e.Files[0]))
		if err != nil || got.Bounds().Dx() != 80 {
			t.Errorf("%s: WebP output %v %v", in.file, got.Bounds(), err)
		}
		avif, err := codec.Decode(codec.FormatAVIF, bytes.NewReader(e.Files[1]))
		if err != nil || avif.Bounds().Dx() != 80 {
			t.Errorf("%s: AVIF output %v", in.file, err)
		}
		if e.Targets[0].Name[len(e.Targets[0].Name)-5:] != ".webp" {
			t.Errorf("WebP output named %s", e.Targets[0].Name)
		}
		_ = image.Point{}
	}
}
