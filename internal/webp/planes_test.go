package webp

import (
	"image"
	"testing"
)

// from420 gives the planes toPlanes' per-pixel path gives for the same
// 4:2:0 image, at even and odd sizes and offsets (odd offsets take the
// per-pixel path themselves).
func TestFrom420MatchesPerPixel(t *testing.T) {
	src := testPhoto(t, 67, 45)
	for _, r := range []image.Rectangle{
		image.Rect(0, 0, 67, 45), image.Rect(0, 0, 64, 32), image.Rect(2, 4, 37, 30), image.Rect(1, 3, 40, 21),
	} {
		m := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				c := src.At(x, y)
				cr, cg, cb, _ := c.RGBA()
				m.Y[m.YOffset(x, y)] = uint8((cr*3 + cg*5 + cb) >> 11)
				ci := m.COffset(x, y)
				m.Cb[ci] = uint8(cb >> 8)
				m.Cr[ci] = uint8(cr >> 8)
			}
		}
		got := toPlanes(m)
		want := newPlanes(r.Dx(), r.Dy())
		want.fromImage(m)
		for name, pl := range map[string][2][]uint8{"Y": {got.y, want.y}, "U": {got.u, want.u}, "V": {got.v, want.v}} {
			for i := range pl[0] {
				if pl[0][i] != pl[1][i] {
					t.Fatalf("%v: %s[%d] = %d, per pixel %d (aligned %v)", r, name, i, pl[0][i], pl[1][i], is420Aligned(m))
				}
			}
		}
	}
}
