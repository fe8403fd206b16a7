package webp

import (
	"bytes"
	"image"
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
