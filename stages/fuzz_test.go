package stages

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"testing"

	ijpeg "github.com/imgpipe/imgpipe/internal/jpeg"
)

// fuzzSeedMax is the largest file used as a fuzz seed: bigger inputs make
// every fuzz iteration slow and add little the small ones do not cover.
const fuzzSeedMax = 64 << 10

// addFuzzSeeds adds every small file of ../testdata/{bad,edge,formats,
// orientation} and of testdata/fuzz/seeds (small files copied from the
// corpus: fuzz regressions of other decoders, bombs, lies, broken PngSuite
// files, orientation and ICC samples), and the crafted files of
// testdata/attack, to f's seed corpus.
func addFuzzSeeds(f *testing.F) {
	f.Helper()
	n := 0
	for _, dir := range []string{"../testdata/bad", "../testdata/edge", "../testdata/formats", "../testdata/orientation", "testdata/fuzz/seeds", "testdata/attack"} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || filepath.Ext(p) == ".md" {
				return nil
			}
			// The crafted files of issue #18 are seeds whatever their size:
			// their headers are what matters, and they are refused from them.
			if info, err := d.Info(); err != nil || info.Size() >= fuzzSeedMax && dir != "testdata/attack" {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			n++
			return nil
		})
	}
	if n < 40 {
		f.Fatalf("only %d fuzz seeds found: is the testdata missing?", n)
	}
}

// memFile is an in-memory input named "f".
func memFile(data []byte) File {
	return File{Path: "f", Rel: "f", Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
}

// errorClasses are the sentinel errors every decode failure must match, so
// that callers (and the report) can tell why an input failed.
var errorClasses = []error{ErrNotImage, ErrCorrupt, ErrUnsupportedFormat, ErrTooLarge}

func classified(err error) bool {
	for _, c := range errorClasses {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}

// FuzzDecode feeds arbitrary bytes through decode → resize → encode, as the
// pipeline does for an in-memory input. It must never panic; a failure must
// match one of the error classes; a decoded image must be the size its
// header (turned upright) announced, or that size shrunk on load for a
// JPEG, since the memory budget and the resize geometry are computed from
// the header; the outputs must be the planned size and decode back to it.
//
// Its seeds are every small file of the testdata; the two renditions make
// the same-format output (which for a GIF input takes the animation path)
// and a cropped PNG, and JPEGs take the shrink-on-load path.
func FuzzDecode(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		outs := []Output{
			{Width: 64},
			{Width: 16, Height: 16, Fit: "fill", Anchor: "top-right", Format: "png", Name: "{name}-sq.{ext}"},
		}
		reserved := int64(0)
		d, err := decodeOpts{MaxPixels: 4_000_000, Outputs: outs,
			Reserve: func(_ context.Context, n int64) (func(), error) { reserved = n; return func() {}, nil },
		}.stage()(ctx, memFile(data))
		if err != nil {
			if !classified(err) {
				t.Fatalf("decode error matches no error class (ErrNotImage, ErrCorrupt, ErrUnsupportedFormat, ErrTooLarge): %v", err)
			}
			return
		}
		if d.Width <= 0 || d.Height <= 0 || int64(d.Width)*int64(d.Height) > 4_000_000 {
			t.Fatalf("decoded %dx%d: outside the limits", d.Width, d.Height)
		}
		// The pixels are the size the header promised, or for a JPEG that
		// size shrunk on load by the scale planned for the targets (or full
		// size, when the standard decoder took over).
		b := d.Image.Bounds()
		sw, sh := d.Width, d.Height
		if d.Format == "jpeg" {
			sw, sh = ijpeg.ScaledSize(d.Width, d.Height, shrinkOnLoad(d.Targets))
		}
		if (b.Dx() != d.Width || b.Dy() != d.Height) && (b.Dx() != sw || b.Dy() != sh) {
			t.Fatalf("%s: decoded image bounds %v, but the header said %dx%d (upright, orientation %d; %dx%d if shrunk on load)",
				d.Format, b, d.Width, d.Height, d.Meta.Orientation, sw, sh)
		}
		if n := imageBytes(d.Image); reserved < n {
			t.Fatalf("reserved %d bytes for %v decoded pixels holding %d bytes", reserved, b, n)
		}
		if len(d.Targets) != 2 {
			t.Fatalf("%d targets, want 2", len(d.Targets))
		}
		r, err := Resize()(ctx, d)
		if err != nil {
			t.Fatalf("resize: %v", err)
		}
		for i, img := range r.Images {
			tg := r.Targets[i]
			if b := img.Bounds(); b.Dx() != tg.Width || b.Dy() != tg.Height || tg.Width <= 0 || tg.Height <= 0 {
				t.Fatalf("target %d: resized to %v, planned %dx%d", i, b, tg.Width, tg.Height)
			}
		}
		e, err := Encode()(ctx, r)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		for i, file := range e.Files {
			tg := e.Targets[i]
			cfg, format, err := image.DecodeConfig(bytes.NewReader(file))
			if err != nil {
				t.Fatalf("output %d (%s) does not decode: %v", i, tg.Format, err)
			}
			if format != tg.Format || cfg.Width != tg.Width || cfg.Height != tg.Height {
				t.Fatalf("output %d is %s %dx%d, planned %s %dx%d", i, format, cfg.Width, cfg.Height, tg.Format, tg.Width, tg.Height)
			}
		}
	})
}

// A JPEG with a stray byte between SOI and the first marker is read by Go's
// decoder (and by libjpeg and ImageMagick, with a warning), so imgpipe
// must read it too, not refuse it as "not an image": sniffing must agree with
// the decoders. Found by FuzzSniff (internal/format) (testdata/fuzz/FuzzSniff/e5d3c627dc871205).
func TestDecodeJPEGJunkAfterSOI(t *testing.T) {
	data, err := os.ReadFile("../testdata/edge/IMG_0001.JPG")
	if err != nil {
		t.Fatal(err)
	}
	junk := append([]byte{0xff, 0xd8, 0x00}, data[2:]...)
	if _, format, err := image.Decode(bytes.NewReader(junk)); err != nil || format != "jpeg" {
		t.Fatalf("precondition: Go's decoders read it as %q: %v", format, err)
	}
	if got, _ := Accept("junk.jpg", junk); got != "jpeg" {
		t.Errorf("Accept says %q, want jpeg", got)
	}
	d, err := decodeOpts{Outputs: []Output{{Width: 64}}}.stage()(context.Background(), memFile(junk))
	if err != nil {
		t.Fatalf("decode: %v; Go's image.Decode reads this file", err)
	}
	if d.Width != 320 || d.Height != 200 {
		t.Errorf("decoded %dx%d, want 320x200", d.Width, d.Height)
	}
}

// imageBytes is the memory an image's pixels take.
func imageBytes(img image.Image) int64 {
	switch m := img.(type) {
	case *image.YCbCr:
		return int64(len(m.Y) + len(m.Cb) + len(m.Cr))
	case *image.NYCbCrA:
		return int64(len(m.Y) + len(m.Cb) + len(m.Cr) + len(m.A))
	case *image.RGBA:
		return int64(len(m.Pix))
	case *image.NRGBA:
		return int64(len(m.Pix))
	case *image.Gray:
		return int64(len(m.Pix))
	case *image.Gray16:
		return int64(len(m.Pix))
	case *image.RGBA64:
		return int64(len(m.Pix))
	case *image.NRGBA64:
		return int64(len(m.Pix))
	case *image.CMYK:
		return int64(len(m.Pix))
	case *image.Paletted:
		return int64(len(m.Pix))
	}
	b := img.Bounds()
	return 4 * int64(b.Dx()) * int64(b.Dy())
}
