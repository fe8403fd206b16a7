package stages

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"strings"
	"testing"
)

// blurHash matches the reference implementation (github.com/buckket/go-
// blurhash v1.1.0, run once on these images; no dependency is kept).
func TestBlurHashReference(t *testing.T) {
	for _, tt := range []struct {
		w, h int
		want string
	}{
		{32, 24, "LxH14k2XwvW;msWVjsf6f}fifQfj"},
		{20, 30, "TpAe?SF^n~hoaefPgHfifPjIa{fQ"}, // portrait: 3x4 components
	} {
		img := image.NewRGBA(image.Rect(0, 0, tt.w, tt.h))
		for y := range tt.h {
			for x := range tt.w {
				img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 8), uint8(128 + (x*y)%64), 255})
			}
		}
		if got := blurHash(img); got != tt.want {
			t.Errorf("%dx%d: blurHash = %q, want %q", tt.w, tt.h, got, tt.want)
		}
	}
}

// Every placeholder kind comes out of the resize stage on each target that
// asks for it, computed once for the input, and describes the photo: the
// BlurHash's average colour and the LQIP's pixels are the photo's.
func TestPlaceholders(t *testing.T) {
	d, err := decodeFile(t, filepath.Join("..", "testdata", "photos", "plasma_FallenLeaf_2560x1600.jpg"), decodeOpts{
		Outputs: []Output{{Width: 100, Placeholder: "blurhash", Name: "a/{name}.{ext}"}, {Width: 50, Placeholder: "lqip", Name: "b/{name}.{ext}"}, {Width: 20, Name: "c/{name}.{ext}"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mean := meanColor(d.Image)
	r, err := Resize()(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	bh, lq := r.Targets[0].Placeholder, r.Targets[1].Placeholder
	if len(bh) != 28 || r.Targets[2].Placeholder != "" {
		t.Fatalf("placeholders %q, %q, %q: want a 28-character BlurHash, an LQIP and none", bh, lq, r.Targets[2].Placeholder)
	}
	// The BlurHash's DC (characters 2-5) is the average colour in sRGB.
	v := 0
	for _, c := range bh[2:6] {
		v = v*83 + strings.IndexRune(base83Digits, c)
	}
	dc := [3]int{v >> 16, v >> 8 & 255, v & 255}
	if !near3(dc, mean, 24) {
		t.Errorf("BlurHash average colour %v, the photo's %v", dc, mean)
	}
	img := lqipImage(t, lq)
	if b := img.Bounds(); b.Dx() != 16 || b.Dy() != 10 || len(lq) > 1200 {
		t.Errorf("LQIP is %v in %d bytes; want 16x10, a few hundred bytes", b.Size(), len(lq))
	}
	if m := meanColor(img); !near3(m, mean, 12) {
		t.Errorf("LQIP average colour %v, the photo's %v", m, mean)
	}
}

func meanColor(img image.Image) [3]int {
	b := img.Bounds()
	var s [3]int
	n, step := 0, max(1, b.Dx()/256)
	for y := b.Min.Y; y < b.Max.Y; y += step {
		for x := b.Min.X; x < b.Max.X; x += step {
			r, g, bl, _ := img.At(x, y).RGBA()
			s[0], s[1], s[2] = s[0]+int(r>>8), s[1]+int(g>>8), s[2]+int(bl>>8)
			n++
		}
	}
	return [3]int{s[0] / n, s[1] / n, s[2] / n}
}

func near3(a, b [3]int, tol int) bool {
	for i := range a {
		if d := a[i] - b[i]; d > tol || d < -tol {
			return false
		}
	}
	return true
}

// TestPlaceholderInSRGB: a page shows a placeholder untagged, so a wide-
// gamut photo's placeholder must carry the photo's colours converted to
// sRGB (libvips' conversion is the reference), not its Rec. 2020 values
// read as sRGB.
func TestPlaceholderInSRGB(t *testing.T) {
	d, err := decodeFile(t, filepath.Join("..", "internal", "icc", "testdata", "rec2020.png"), decodeOpts{
		Outputs: []Output{{Width: 64, Placeholder: "lqip", Format: "png"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	raw := d.Image
	r, err := Resize()(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	lq := lqipImage(t, r.Targets[0].Placeholder)
	ref := stdDecode(t, filepath.Join("..", "internal", "icc", "testdata", "rec2020_ref.png"))
	got, want, unconverted := meanColor(lq), meanColor(ref), meanColor(raw)
	if !near3(got, want, 8) || near3(got, unconverted, 8) {
		t.Errorf("LQIP's average colour %v; want that of the sRGB conversion, %v, not that of the unconverted pixels, %v", got, want, unconverted)
	}
}

// lqipImage decodes an LQIP placeholder: a JPEG as a data: URI.
func lqipImage(t *testing.T, uri string) image.Image {
	t.Helper()
	data, ok := strings.CutPrefix(uri, "data:image/jpeg;base64,")
	if !ok {
		t.Fatalf("LQIP %.40q... is not a JPEG data: URI", uri)
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
