package webp

import (
	"bytes"
	"image"
	"testing"

	xwebp "golang.org/x/image/webp"
)

// The encoder reconstructs exactly what a decoder decodes: every plane of
// x/image/webp's output equals ours, unfiltered and through our loop
// filter at several levels.
func TestReconstructionExact(t *testing.T) {
	for _, c := range []struct {
		name string
		img  image.Image
	}{
		{"noise-35x21", noise(35, 21, 1)},
		{"photo", testPhoto(t, 200, 136)},
	} {
		for _, qf := range [][2]int{{0, 0}, {20, 0}, {60, 0}, {127, 0}, {5, 3}, {20, 10}, {40, 20}, {60, 45}, {127, 63}} {
			qi, level := qf[0], qf[1]
			p := toPlanes(c.img)
			e := newVP8Encoder(p.mbw, p.mbh, p.y, p.u, p.v, qi)
			e.analyse()
			e.filterLevel = level
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
			if level > 0 {
				loopFilter(e.ry, e.ru, e.rv, e.mbw, e.mbh, e.mbs, level)
			}
			for y := range b.Dy() {
				for x := range b.Dx() {
					if got, want := d.Y[d.YOffset(x, y)], e.ry[y*e.ys+x]; got != want {
						t.Fatalf("%s qi %d level %d: Y(%d,%d) decoded %d, reconstructed %d", c.name, qi, level, x, y, got, want)
					}
					ci := d.COffset(x, y)
					if got, want := d.Cb[ci], e.ru[y/2*e.cs+x/2]; got != want {
						t.Fatalf("%s qi %d level %d: Cb(%d,%d) decoded %d, reconstructed %d", c.name, qi, level, x, y, got, want)
					}
					if got, want := d.Cr[ci], e.rv[y/2*e.cs+x/2]; got != want {
						t.Fatalf("%s qi %d level %d: Cr(%d,%d) decoded %d, reconstructed %d", c.name, qi, level, x, y, got, want)
					}
				}
			}
		}
	}
}
