package webp_test

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/internal/webp"
)

// gifFrames returns the composed frames of a test GIF.
func gifFrames(t testing.TB, name string) *format.Animation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "formats", name))
	if err != nil {
		t.Fatal(err)
	}
	a, err := format.ByName("gif").DecodeFrames(data)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// photoFrames is 160x100 of a photo with a grey square moving over it in
// four frames, the third repeated (so written once, for both durations).
func photoFrames(t testing.TB) *webp.Animation {
	t.Helper()
	f, err := os.Open("../../testdata/photos/plasma_FallenLeaf_2560x1600.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	a := &webp.Animation{LoopCount: 3}
	for i, d := range []int{100, 80, 60, 40} {
		m := image.NewRGBA(image.Rect(0, 0, 160, 100))
		draw.Draw(m, m.Rect, src, image.Pt(900, 600), draw.Src)
		x := 20 * min(i, 2)
		draw.Draw(m, image.Rect(31+x, 21, 61+x, 51), image.NewUniform(color.Gray{128}), image.Point{}, draw.Src)
		a.Frames = append(a.Frames, m)
		a.Durations = append(a.Durations, d)
	}
	return a
}

// rgbaFrames adapts format's frames.
func rgbaFrames(a *format.Animation) []image.Image {
	var out []image.Image
	for _, f := range a.Frames {
		out = append(out, f)
	}
	return out
}

// EncodeAll writes animations that decode back to their frames (lossy:
// close, alpha exact; lossless: exact), durations and loop count, with
// identical frames merged.
func TestEncodeAll(t *testing.T) {
	gif := gifFrames(t, "mixed-disposal.gif")
	photo := photoFrames(t)
	tests := []struct {
		name      string
		a         *webp.Animation
		o         webp.Options
		durations []int // as decoded
		minPSNR   float64
	}{
		{"gif lossy", &webp.Animation{Frames: rgbaFrames(gif), Durations: gif.Durations, Background: color.NRGBA{1, 2, 3, 4}},
			// Saturated hearts 13 pixels wide lose most to 4:2:0 chroma:
			// gif2webp -lossy -q 70's frames of the like anim.gif are
			// 21.6-45.5 dB from theirs, read by the same decoder.
			webp.Options{Quality: 80}, gif.Durations, 22},
		{"gif lossless", &webp.Animation{Frames: rgbaFrames(gif), Durations: gif.Durations},
			webp.Options{Lossless: true}, gif.Durations, math.Inf(1)},
		{"photo q80", photo, webp.Options{Quality: 80}, []int{100, 80, 100}, 34},
		{"photo lossless", photo, webp.Options{Lossless: true}, []int{100, 80, 100}, math.Inf(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := webp.EncodeAll(&buf, tt.a, &tt.o); err != nil {
				t.Fatal(err)
			}
			got, err := format.ByName("webp-anim").DecodeFrames(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			wantLoop := max(tt.a.LoopCount-1, 0) // image/gif's count
			if tt.a.LoopCount == 1 {
				wantLoop = -1
			}
			if !slices.Equal(got.Durations, tt.durations) || got.LoopCount != wantLoop || got.Background != tt.a.Background {
				t.Errorf("durations %v, loop %d, background %v; want %v, %d, %v",
					got.Durations, got.LoopCount, got.Background, tt.durations, wantLoop, tt.a.Background)
			}
			// The source frames written: each that differs from the one before.
			var shown []image.Image
			for i, fr := range tt.a.Frames {
				if i == 0 || !sameImage(fr, tt.a.Frames[i-1]) {
					shown = append(shown, fr)
				}
			}
			if len(got.Frames) != len(shown) {
				t.Fatalf("%d frames, want %d", len(got.Frames), len(shown))
			}
			for i, fr := range got.Frames {
				alpha, p := compare(fr, shown[i])
				if alpha != 0 || p < tt.minPSNR {
					t.Errorf("frame %d: alpha differs by up to %d, colours %.1f dB from the source; want 0 and >= %.0f dB", i, alpha, p, tt.minPSNR)
				}
			}
			webpTools(t, buf.Bytes(), len(got.Frames), tt.durations, tt.a.LoopCount)
		})
	}
}

// webpTools checks an animation with libwebp's tools when they are
// installed (CI installs them): webpinfo finds no error, webpmux -info
// shows the frames, durations and loop count.
func webpTools(t *testing.T, data []byte, frames int, durations []int, loop int) {
	t.Helper()
	webpmux, err1 := exec.LookPath("webpmux")
	webpinfo, err2 := exec.LookPath("webpinfo")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("webpmux or webpinfo not installed: .ci/run installs the webp package")
		}
		t.Log("webpmux/webpinfo not installed (apt-get install webp): not checked with libwebp")
		return
	}
	name := filepath.Join(t.TempDir(), "a.webp")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(webpinfo, name).CombinedOutput(); err != nil || strings.Contains(strings.ToLower(string(out)), "warn") {
		t.Errorf("webpinfo: %v\n%s", err, out)
	}
	out, err := exec.Command(webpmux, "-info", name).CombinedOutput()
	if err != nil {
		t.Fatalf("webpmux -info: %v\n%s", err, out)
	}
	info := string(out)
	if !strings.Contains(info, "Number of frames: "+itoa(frames)) || !regexp.MustCompile(`Loop Count\s*:\s*`+itoa(loop)+`\b`).MatchString(info) {
		t.Errorf("webpmux -info:\n%s\nwant %d frames, loop count %d", info, frames, loop)
	}
	rows := regexp.MustCompile(`(?m)^\s*\d+:(\s+\S+){5}\s+(\d+)`).FindAllStringSubmatch(info, -1)
	var got []int
	for _, r := range rows {
		got = append(got, atoi(r[2]))
	}
	if !slices.Equal(got, durations) {
		t.Errorf("webpmux -info durations %v, want %v\n%s", got, durations, info)
	}
}

func itoa(v int) string {
	if v < 0 {
		return "-" + itoa(-v)
	}
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + string(rune('0'+v%10))
}

func atoi(s string) int {
	v := 0
	for _, c := range s {
		v = 10*v + int(c-'0')
	}
	return v
}

func sameImage(a, b image.Image) bool {
	ra, rb := toRGBA(a), toRGBA(b)
	return bytes.Equal(ra.Pix, rb.Pix)
}

func toRGBA(m image.Image) *image.RGBA {
	if r, ok := m.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) {
		return r
	}
	b := m.Bounds()
	r := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(r, r.Rect, m, b.Min, draw.Src)
	return r
}

// compare returns the largest alpha difference and the PSNR of the
// premultiplied colours.
func compare(a, b image.Image) (maxAlpha int, psnr float64) {
	ra, rb := toRGBA(a), toRGBA(b)
	var se float64
	for i := 0; i < len(ra.Pix); i += 4 {
		d := int(ra.Pix[i+3]) - int(rb.Pix[i+3])
		maxAlpha = max(maxAlpha, d, -d)
		for c := range 3 {
			e := float64(ra.Pix[i+c]) - float64(rb.Pix[i+c])
			se += e * e
		}
	}
	if se == 0 {
		return maxAlpha, math.Inf(1)
	}
	return maxAlpha, 10 * math.Log10(255*255*float64(len(ra.Pix)/4*3)/se)
}

func TestEncodeAllErrors(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for name, a := range map[string]*webp.Animation{
		"no frames":       {},
		"durations short": {Frames: []image.Image{m, m}, Durations: []int{10}},
		"sizes differ":    {Frames: []image.Image{m, image.NewRGBA(image.Rect(0, 0, 8, 9))}, Durations: []int{10, 10}},
		"too large":       {Frames: []image.Image{image.NewRGBA(image.Rect(0, 0, 16384, 1))}, Durations: []int{10}},
	} {
		if err := webp.EncodeAll(&bytes.Buffer{}, a, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzEncodeAll encodes random animations (1 to 4 frames of random sizes
// from 1x1, flat, noise, transparent, repeated frames) and decodes them
// back: the durations add up, lossless frames are exact.
func FuzzEncodeAll(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(1), uint8(75), false, uint64(1))
	f.Add(uint8(17), uint8(33), uint8(3), uint8(1), false, uint64(2))
	f.Add(uint8(40), uint8(3), uint8(4), uint8(100), true, uint64(3))
	f.Fuzz(func(t *testing.T, w, h, n, q uint8, lossless bool, seed uint64) {
		w, h, n = max(w%48, 1), max(h%48, 1), 1+n%4
		rng := rand.New(rand.NewPCG(seed, 0))
		a := &webp.Animation{LoopCount: rng.IntN(3)}
		total := 0
		for range n {
			m := image.NewNRGBA(image.Rect(0, 0, int(w), int(h)))
			switch rng.IntN(4) {
			case 0: // repeat the last frame
				if len(a.Frames) > 0 {
					copy(m.Pix, a.Frames[len(a.Frames)-1].(*image.NRGBA).Pix)
					break
				}
				fallthrough
			case 1: // flat
				c := []uint8{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(2) * 255)}
				for i := range m.Pix {
					m.Pix[i] = c[i%4]
				}
			case 2: // all transparent
			default: // noise, part of it transparent
				for i := range m.Pix {
					m.Pix[i] = uint8(rng.IntN(256))
				}
			}
			d := rng.IntN(200)
			total += d
			a.Frames = append(a.Frames, m)
			a.Durations = append(a.Durations, d)
		}
		var buf bytes.Buffer
		if err := webp.EncodeAll(&buf, a, &webp.Options{Quality: int(q), Lossless: lossless}); err != nil {
			if lossless && strings.Contains(err.Error(), "lossless encoder failed") {
				t.Skip(err) // nativewebp's known panics (see encodeVP8L)
			}
			t.Fatal(err)
		}
		got, err := format.ByName("webp-anim").DecodeFrames(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, d := range got.Durations {
			sum += d
		}
		if sum != total || len(got.Frames) > len(a.Frames) {
			t.Fatalf("%d frames lasting %d ms, from %d lasting %d", len(got.Frames), sum, len(a.Frames), total)
		}
		if lossless {
			if alpha, p := compare(got.Frames[len(got.Frames)-1], a.Frames[len(a.Frames)-1]); alpha != 0 || !math.IsInf(p, 1) {
				t.Fatalf("lossless: last frame differs (alpha by %d, colours %.1f dB)", alpha, p)
			}
		}
	})
}

// Embed adds a colour profile and EXIF to an animation and keeps its
// frames.
func TestEmbedAnimated(t *testing.T) {
	photo := photoFrames(t)
	var buf bytes.Buffer
	if err := webp.EncodeAll(&buf, photo, nil); err != nil {
		t.Fatal(err)
	}
	icc, exif := []byte("an icc profile"), []byte("Exif\x00\x00MM")
	out, err := webp.Embed(buf.Bytes(), icc, exif)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, append([]byte("ICCP\x0e\x00\x00\x00"), icc...)) || !bytes.Contains(out, exif) {
		t.Error("ICCP or EXIF chunk missing")
	}
	if out[20] != 0x20|0x08|0x02 {
		t.Errorf("VP8X flags %#x, want ICC, EXIF and animation", out[20])
	}
	a, err := format.ByName("webp-anim").DecodeFrames(out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := format.ByName("webp-anim").DecodeFrames(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Frames) != len(b.Frames) || !slices.Equal(a.Durations, b.Durations) {
		t.Errorf("%d frames %v after Embed, %d %v before", len(a.Frames), a.Durations, len(b.Frames), b.Durations)
	}
	for i := range a.Frames {
		if !bytes.Equal(a.Frames[i].Pix, b.Frames[i].Pix) {
			t.Errorf("frame %d changed", i)
		}
	}
}
