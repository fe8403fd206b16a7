package format

import (
	"bytes"
	"errors"
	"image"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// webpAnimDir holds animated WebP files made by libwebp's tools and, for
// each, NAME.ref.png: its frames as libwebp's WebPAnimDecoder composes
// them, stacked top to bottom (see README.md there).
var webpAnimDir = filepath.Join("..", "..", "testdata", "formats", "webp-anim")

// Animated WebP files made by gif2webp, img2webp and webpmux decode to the
// frames libwebp composes: lossy and lossless frames, ALPH with each
// filter and raw, frames smaller than the canvas at offsets, blending on
// and off, disposal to background; durations and loop count kept.
func TestDecodeWebPAnim(t *testing.T) {
	tests := []struct {
		file      string
		durations []int
		loop      int // image/gif's count: 0 forever, n plays n+1 times
		minPSNR   float64
	}{
		// Lossless: the same pixels as libwebp's.
		{"gif2webp-mixed-disposal.webp", []int{1000, 1000, 1000, 1000, 1000}, 0, 99},
		{"gif2webp-any-disposal.webp", []int{1000, 1000, 1000, 1000, 1000}, 0, 99},
		// Lossy: x/image/webp repeats chroma samples where libwebp
		// interpolates them ("fancy upsampling"). On photo frames that
		// costs little (36-44 dB); on these saturated hearts 13 pixels
		// wide it is the whole difference: frame 5, taken out with
		// webpmux and decoded by dwebp -nofancy, is 55.0 dB from ours
		// and 25.5 dB from dwebp's default.
		{"gif2webp-lossy.webp", []int{1000, 1000, 1000, 1000, 1000}, 0, 24},
		{"img2webp-loop3.webp", []int{70, 150, 40}, 2, 34},
		{"webpmux-alpha-filters.webp", []int{80, 120, 70, 60, 50}, 2, 34},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(webpAnimDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			f := Sniff(data[:HeadLen])
			if f == nil || f.Name != "webp-anim" {
				t.Fatalf("Sniff = %v, want webp-anim", f)
			}
			a, err := f.DecodeFrames(data)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Durations, tt.durations) || a.LoopCount != tt.loop {
				t.Errorf("durations %v, loop count %d; want %v, %d", a.Durations, a.LoopCount, tt.durations, tt.loop)
			}
			n, _, err := f.CountFrames(data)
			if err != nil || n != len(a.Frames) {
				t.Errorf("CountFrames = %d, %v; DecodeFrames gave %d frames", n, err, len(a.Frames))
			}
			ref := readRef(t, filepath.Join(webpAnimDir, tt.file[:len(tt.file)-len(".webp")]+".ref.png"))
			cfg, err := f.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			w, h := cfg.Width, cfg.Height
			if ref.Rect.Dx() != w || ref.Rect.Dy() != h*len(a.Frames) {
				t.Fatalf("%d frames of %dx%d; the reference is %v", len(a.Frames), w, h, ref.Rect)
			}
			first, err := f.Decode(bytes.NewReader(data), 1)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.(*image.RGBA).Pix, a.Frames[0].Pix) {
				t.Error("Decode's first frame differs from DecodeFrames'")
			}
			for i, fr := range a.Frames {
				want := ref.SubImage(image.Rect(0, i*h, w, (i+1)*h)).(*image.RGBA)
				alpha, p := compareRGBA(fr, want)
				if alpha > 2 || p < tt.minPSNR {
					t.Errorf("frame %d: alpha differs by up to %d, colours %.1f dB from libwebp's; want <= 2 and >= %.0f dB", i, alpha, p, tt.minPSNR)
				}
			}
		})
	}
}

// readRef reads a reference PNG as premultiplied RGBA.
func readRef(t *testing.T, name string) *image.RGBA {
	t.Helper()
	file, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	m, err := png.Decode(file)
	if err != nil {
		t.Fatal(err)
	}
	out := image.NewRGBA(m.Bounds())
	draw.Draw(out, out.Rect, m, m.Bounds().Min, draw.Src)
	return out
}

// compareRGBA returns the largest alpha difference and the PSNR of the
// premultiplied colours (what shows over any background).
func compareRGBA(a, b *image.RGBA) (maxAlpha int, psnr float64) {
	var se float64
	n := 0
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			i, j := a.PixOffset(a.Rect.Min.X+x, a.Rect.Min.Y+y), b.PixOffset(b.Rect.Min.X+x, b.Rect.Min.Y+y)
			maxAlpha = max(maxAlpha, abs(int(a.Pix[i+3])-int(b.Pix[j+3])))
			for c := range 3 {
				d := float64(a.Pix[i+c]) - float64(b.Pix[j+c])
				se += d * d
				n++
			}
		}
	}
	if se == 0 {
		return maxAlpha, math.Inf(1)
	}
	return maxAlpha, 10 * math.Log10(255*255*float64(n)/se)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Broken animated WebP files are errors, never panics or frames outside
// the canvas.
func TestDecodeWebPAnimBroken(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(webpAnimDir, "img2webp-loop3.webp"))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	anmf := bytes.Index(good, []byte("ANMF"))
	tests := []struct {
		name string
		data []byte
	}{
		{"cut in the first frame", good[:anmf+40]},
		{"no ANIM", edit(func(b []byte) []byte { copy(b[bytes.Index(b, []byte("ANIM")):], "XXXX"); return b })},
		{"no frames", good[:anmf]},
		{"frame past the canvas", edit(func(b []byte) []byte { b[anmf+8] = 200; return b })},
		{"frame larger than its image", edit(func(b []byte) []byte { b[anmf+8+6] = 0; return b })},
		{"not animated", edit(func(b []byte) []byte { b[20] &^= 0x02; return b })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeWebPAnimFrames(tt.data); err == nil {
				t.Error("DecodeFrames: no error")
			}
		})
	}
	if _, err := decodeWebPAnimFrames(good[:len(good)-10]); err == nil {
		t.Error("cut in the last frame: no error")
	}
	if _, err := parseWebPAnim(good[:anmf], false); !errors.Is(err, errWebPAnim) {
		t.Errorf("no frames: %v, want errWebPAnim", err)
	}
}

// FuzzDecodeWebPAnim: the parser and the composition never panic, and
// every frame decoded is the canvas's size.
func FuzzDecodeWebPAnim(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(webpAnimDir, "*.webp"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := decodeWebPAnimConfig(bytes.NewReader(data))
		if err != nil || cfg.Width*cfg.Height > 1<<16 {
			return
		}
		n, _, err := webpAnimFrames(data)
		if err != nil || n > 64 {
			return
		}
		a, err := decodeWebPAnimFrames(data)
		if err != nil {
			return
		}
		if len(a.Frames) != n || len(a.Durations) != n {
			t.Fatalf("%d frames, %d durations; CountFrames said %d", len(a.Frames), len(a.Durations), n)
		}
		for i, fr := range a.Frames {
			if fr.Rect != image.Rect(0, 0, cfg.Width, cfg.Height) {
				t.Fatalf("frame %d is %v, the canvas %dx%d", i, fr.Rect, cfg.Width, cfg.Height)
			}
		}
	})
}
