package webp

import (
	"bytes"
	"image"
	"testing"

	xwebp "golang.org/x/image/webp"
)

// The encoder reconstructs exactly what a decoder decodes (no loop
// filter): every plane of x/image/webp's output equals ours.
func TestReconstructionExact(t *testing.T) {
	for _, c := range []struct {
		name string
		img  image.Image
	}{
		{"noise-35x21", noise(35, 21, 1)},
		{"photo", testPhoto(t, 200, 136)},
	} {
		for _, qi := range []int{0, 20, 60, 127} {
			p := toPlanes(c.img)
			e := newVP8Encoder(p.mbw, p.mbh, p.y, p.u, p.v, qi)
			e.analyse()
			b := c.img.Bounds()
			frame, err := e.write(b.Dx(), b.Dy())
			if err != nil {
				t.Fatal(err)
			}
			cont := container{w: b.Dx(), h: b.Dy(), fourCC: "VP8 ", image: frame}
			m, err := xwebp.Decode(bytes.NewReader(cont.bytes()))
			if err != nil {
				t.Fatalf("%s qi %d: %v", c.name, qi, err)
			}
			d := m.(*image.YCbCr)
			for y := range b.Dy() {
				for x := range b.Dx() {
					if got, want := d.Y[d.YOffset(x, y)], e.ry[y*e.ys+x]; got != want {
						t.Fatalf("%s qi %d: Y(%d,%d) decoded %d, reconstructed %d", c.name, qi, x, y, got, want)
					}
					ci := d.COffset(x, y)
					if got, want := d.Cb[ci], e.ru[y/2*e.cs+x/2]; got != want {
						t.Fatalf("%s qi %d: Cb(%d,%d) decoded %d, reconstructed %d", c.name, qi, x, y, got, want)
					}
					if got, want := d.Cr[ci], e.rv[y/2*e.cs+x/2]; got != want {
						t.Fatalf("%s qi %d: Cr(%d,%d) decoded %d, reconstructed %d", c.name, qi, x, y, got, want)
					}
				}
			}
		}
	}
}
