package webp

import (
	"bytes"
	"image"
	"math"
	"testing"

	xwebp "golang.org/x/image/webp"
)

// Alpha survives exactly, lossy and lossless, whatever the colours.
func TestAlpha(t *testing.T) {
	alpha := readImage(t, "../../testdata/formats/alpha.png")
	clear := image.NewNRGBA(image.Rect(0, 0, 19, 7))
	half := noise(33, 17, 3)
	for i := 3; i < len(half.Pix); i += 4 {
		half.Pix[i] = uint8(i * 7)
	}
	for _, c := range []struct {
		name string
		img  image.Image
	}{{"alpha.png", alpha}, {"all-transparent", clear}, {"noise-alpha", half}} {
		for _, lossless := range []bool{false, true} {
			var buf bytes.Buffer
			if err := Encode(&buf, c.img, &Options{Lossless: lossless, Quality: 80}); err != nil {
				t.Fatal(err)
			}
			m, err := xwebp.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("%s lossless=%v: %v", c.name, lossless, err)
			}
			b := c.img.Bounds()
			for y := range b.Dy() {
				for x := range b.Dx() {
					_, _, _, want := c.img.At(b.Min.X+x, b.Min.Y+y).RGBA()
					_, _, _, got := m.At(x, y).RGBA()
					if got>>8 != want>>8 {
						t.Fatalf("%s lossless=%v: alpha at (%d,%d) = %d, want %d", c.name, lossless, x, y, got>>8, want>>8)
					}
				}
			}
			t.Logf("%s lossless=%v: %d bytes", c.name, lossless, buf.Len())
		}
	}
}

// Colours under transparent pixels are not kept, and not paid for; the
// visible ones come back as well as in an opaque image.
func TestHiddenColours(t *testing.T) {
	m := readImage(t, "../../testdata/formats/lossy_alpha.webp")
	data, d := roundTrip(t, m, &Options{Quality: 80})
	b := m.Bounds()
	var se float64
	n := 0
	for y := range b.Dy() {
		for x := range b.Dx() {
			if _, _, _, a := m.At(b.Min.X+x, b.Min.Y+y).RGBA(); a < 0xffff {
				continue
			}
			r1, g1, b1 := rgb8(m, b.Min.X+x, b.Min.Y+y, false)
			r2, g2, b2 := rgb8(d, x, y, true)
			se += (r1-r2)*(r1-r2) + (g1-g2)*(g1-g2) + (b1-b2)*(b1-b2)
			n++
		}
	}
	p := 10 * math.Log10(255*255*3*float64(n)/se)
	t.Logf("%d bytes, %.2f dB over the %d opaque pixels", len(data), p, n)
	if p < 30 {
		t.Errorf("opaque pixels: %.2f dB", p)
	}
}
