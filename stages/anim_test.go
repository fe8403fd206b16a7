package stages

import (
	"bytes"
	"context"
	"errors"
	"github.com/imgpipe/imgpipe/internal/format"
	"image"
	"image/color"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runStages decodes, resizes and encodes one file of ../testdata.
func runStages(t *testing.T, file string, opts decodeOpts) *Encoded {
	t.Helper()
	d, err := decodeFile(t, filepath.Join("..", "testdata", file), opts)
	if err != nil {
		t.Fatal(err)
	}
	return runEncoded(t, d)
}

// runEncoded resizes and encodes a decoded input.
func runEncoded(t *testing.T, d *Decoded) *Encoded {
	t.Helper()
	r, err := Resize()(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Encode()(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestAnimatedGIF(t *testing.T) {
	src, _ := os.ReadFile("../testdata/formats/mixed-disposal.gif")
	in, err := gif.DecodeAll(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		frames string
		want   int
	}{{"", len(in.Image)}, {"all", len(in.Image)}, {"first", 1}} {
		e := runStages(t, "formats/mixed-disposal.gif", decodeOpts{Frames: tt.frames,
			Outputs: []Output{{Width: 16}}})
		out, err := gif.DecodeAll(bytes.NewReader(e.Files[0]))
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Image) != tt.want {
			t.Errorf("frames=%q: %d frames, want %d", tt.frames, len(out.Image), tt.want)
			continue
		}
		if tt.want > 1 {
			for i := range out.Image {
				if out.Delay[i] != in.Delay[i] {
					t.Errorf("frame %d: delay %d, want %d", i, out.Delay[i], in.Delay[i])
				}
				if out.Image[i].Bounds().Size() != image.Pt(16, 16) {
					t.Errorf("frame %d: %v", i, out.Image[i].Bounds())
				}
			}
			if out.LoopCount != in.LoopCount {
				t.Errorf("loop count %d, want %d", out.LoopCount, in.LoopCount)
			}
		}
	}
}

// Frames are composed with their disposal before resizing: frame 2 of the
// test file shows a yellow heart left of a red one; its colours survive.
func TestAnimatedGIFComposition(t *testing.T) {
	e := runStages(t, "formats/mixed-disposal.gif", decodeOpts{Outputs: []Output{{}}})
	out, err := gif.DecodeAll(bytes.NewReader(e.Files[0]))
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile("../testdata/formats/mixed-disposal.gif")
	a, err := format.ByName("gif").DecodeFrames(src)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range a.Frames {
		got := out.Image[i]
		diff := 0
		for y := 0; y < want.Bounds().Dy(); y++ {
			for x := 0; x < want.Bounds().Dx(); x++ {
				if !sameColor(got.At(x, y), want.At(x, y)) {
					diff++
				}
			}
		}
		if diff > 0 {
			t.Errorf("frame %d: %d pixels differ from the composed source frame", i, diff)
		}
	}
}

func sameColor(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	if a1 == 0 && a2 == 0 {
		return true
	}
	return r1>>8 == r2>>8 && g1>>8 == g2>>8 && b1>>8 == b2>>8 && a1>>8 == a2>>8
}

// Every frame of an animation counts against max_pixels, before decoding.
func TestAnimatedGIFBounded(t *testing.T) {
	_, err := decodeFile(t, "../testdata/formats/mixed-disposal.gif", decodeOpts{MaxPixels: 32 * 32 * 2,
		Outputs: []Output{{Format: "gif"}}})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("error %v, want ErrTooLarge for 5 frames of 32x32 over a 2-frame budget", err)
	}
	// As a still (JPEG output) only the first frame is decoded: within the limit.
	if _, err := decodeFile(t, "../testdata/formats/mixed-disposal.gif", decodeOpts{MaxPixels: 32 * 32 * 2,
		Outputs: []Output{{Format: "jpeg"}}}); err != nil {
		t.Errorf("still output: %v", err)
	}
}

// An animated GIF cut short (a copy or download that stopped) keeps the
// frames that arrived whole, and the output says so; one cut inside its
// first frame is still an error.
func TestAnimatedGIFTruncated(t *testing.T) {
	src, err := os.ReadFile("../testdata/formats/anim.gif")
	if err != nil {
		t.Fatal(err)
	}
	full, err := gif.DecodeAll(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	opts := decodeOpts{Outputs: []Output{{Format: "gif"}}}
	for _, cut := range []int{len(src) - 10, len(src) * 2 / 3} {
		d, err := opts.stage()(context.Background(), memFile(src[:cut]))
		if err != nil {
			t.Fatalf("cut at %d of %d bytes: %v", cut, len(src), err)
		}
		e := runEncoded(t, d)
		out, err := gif.DecodeAll(bytes.NewReader(e.Files[0]))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(out.Image); n < 1 || n >= len(full.Image) {
			t.Errorf("cut at %d: %d frames, want 1 to %d", cut, n, len(full.Image)-1)
		}
		if len(e.Notes) != 1 || !strings.Contains(e.Notes[0], "cut short") {
			t.Errorf("cut at %d: notes %q", cut, e.Notes)
		}
	}
	if _, err := opts.stage()(context.Background(), memFile(src[:60])); !errors.Is(err, ErrCorrupt) {
		t.Errorf("cut inside the first frame: %v, want ErrCorrupt", err)
	}
}
