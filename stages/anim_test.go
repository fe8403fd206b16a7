package stages

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/internal/meta"
	"github.com/imgpipe/imgpipe/internal/webp"
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

// An animated GIF written as WebP is an animated WebP (frames resized,
// durations and loop count kept; lossy or lossless as asked), or a still
// with --frames first.
func TestAnimatedGIFToWebP(t *testing.T) {
	src, _ := os.ReadFile("../testdata/formats/mixed-disposal.gif")
	in, err := gif.DecodeAll(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		frames string
		out    Output
		want   int
	}{
		{"default", "", Output{Format: "webp", Width: 16}, len(in.Image)},
		{"lossless", "all", Output{Format: "webp", Width: 16, Lossless: true}, len(in.Image)},
		{"first", "first", Output{Format: "webp", Width: 16}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := runStages(t, "formats/mixed-disposal.gif", decodeOpts{Frames: tt.frames, Outputs: []Output{tt.out}})
			data := e.Files[0]
			f := format.Sniff(data[:format.HeadLen])
			if tt.want == 1 {
				if f.Name != "webp" {
					t.Fatalf("sniffed %s, want a still webp", f.Name)
				}
				return
			}
			if f.Name != "webp-anim" {
				t.Fatalf("sniffed %s, want webp-anim", f.Name)
			}
			a, err := f.DecodeFrames(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Frames) != tt.want || a.LoopCount != in.LoopCount {
				t.Fatalf("%d frames, loop count %d; want %d, %d", len(a.Frames), a.LoopCount, tt.want, in.LoopCount)
			}
			for i, fr := range a.Frames {
				if a.Durations[i] != 10*in.Delay[i] || fr.Rect.Size() != image.Pt(16, 16) {
					t.Errorf("frame %d: %v, %d ms; want 16x16, %d ms", i, fr.Rect, a.Durations[i], 10*in.Delay[i])
				}
			}
			if lossless := bytes.Contains(data, []byte("VP8L")); lossless != tt.out.Lossless {
				t.Errorf("VP8L chunks: %v, want %v", lossless, tt.out.Lossless)
			}
		})
	}
}

// Animated WebP input (image-rs's anim.webp: 6 frames, 100 ms each,
// disposed to background) is read in every build: every frame to GIF or
// WebP, the first frame to formats without animation.
func TestAnimatedWebPInput(t *testing.T) {
	for _, tt := range []struct {
		out    Output
		frames string
		want   int // frames written
	}{
		{Output{Format: "gif"}, "", 6},
		{Output{Format: "same", Width: 100}, "all", 6},
		{Output{Format: "same"}, "first", 1},
		{Output{Format: "png", Width: 50}, "", 1},
		{Output{Format: "jpeg"}, "", 1},
	} {
		t.Run(tt.out.Format+"/"+tt.frames, func(t *testing.T) {
			e := runStages(t, "formats/anim.webp", decodeOpts{Frames: tt.frames, Outputs: []Output{tt.out}})
			data := e.Files[0]
			f := format.Sniff(data[:format.HeadLen])
			n := 1
			switch f.Name {
			case "gif":
				g, err := gif.DecodeAll(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				n = len(g.Image)
				for i, d := range g.Delay {
					if d != 10 {
						t.Errorf("frame %d: delay %d, want 10 (100 ms)", i, d)
					}
				}
			case "webp-anim":
				a, err := f.DecodeFrames(data)
				if err != nil {
					t.Fatal(err)
				}
				n = len(a.Frames)
				if a.Frames[0].Rect.Dx() != 100 {
					t.Errorf("frames %v wide, want 100", a.Frames[0].Rect)
				}
			}
			if n != tt.want {
				t.Errorf("%s output with %d frames, want %d", f.Name, n, tt.want)
			}
		})
	}
}

// The first frame of an animated WebP, read as a still, is what libwebp
// composes (testdata/formats/webp-anim/README.md).
func TestAnimatedWebPFirstFrame(t *testing.T) {
	d, err := decodeFile(t, "../testdata/formats/webp-anim/img2webp-loop3.webp", decodeOpts{Outputs: []Output{{Format: "png"}}})
	if err != nil {
		t.Fatal(err)
	}
	strip := testdataImage(t, "formats/webp-anim", "img2webp-loop3.ref.png")
	first := strip.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(0, 0, 48, 30))
	if p := psnr(t, d.Image, first); p < 34 {
		t.Errorf("first frame %.1f dB from libwebp's, want >= 34", p)
	}
}

// Every frame of an animated WebP counts against max_pixels, before
// decoding, as a GIF's do.
func TestAnimatedWebPBounded(t *testing.T) {
	_, err := decodeFile(t, "../testdata/formats/anim.webp", decodeOpts{MaxPixels: 200 * 200 * 2,
		Outputs: []Output{{Format: "webp"}}})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("error %v, want ErrTooLarge for 6 frames of 200x200 over a 2-frame budget", err)
	}
	if _, err := decodeFile(t, "../testdata/formats/anim.webp", decodeOpts{MaxPixels: 200 * 200 * 2,
		Outputs: []Output{{Format: "png"}}}); err != nil {
		t.Errorf("still output: %v", err)
	}
}

// The colour profile of an animated WebP is read, and kept in its
// animated WebP output, as a still's is.
func TestAnimatedWebPProfile(t *testing.T) {
	jpg, err := os.Open("../testdata/formats/display_p3.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer jpg.Close()
	info, err := meta.Read(jpg, "jpeg")
	if err != nil || info.ICC == nil {
		t.Fatalf("display_p3.jpg: profile %d bytes, %v", len(info.ICC), err)
	}
	src, err := os.ReadFile("../testdata/formats/anim.webp")
	if err != nil {
		t.Fatal(err)
	}
	withICC, err := webp.Embed(src, info.ICC, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p3-anim.webp")
	if err := os.WriteFile(path, withICC, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := decodeFile(t, path, decodeOpts{Outputs: []Output{{Format: "webp", Width: 50}}})
	if err != nil {
		t.Fatal(err)
	}
	out := runEncoded(t, d).Files[0]
	if f := format.Sniff(out[:format.HeadLen]); f.Name != "webp-anim" {
		t.Errorf("output is %s, want an animated WebP", f.Name)
	}
	if !bytes.Contains(out, info.ICC) {
		t.Error("the output lacks the input's colour profile")
	}
}
