package stages

import (
	"fmt"
	"image"
	"testing"
)

// refPlane is resamplePlane one pixel at a time, as the doc comment
// defines it: each output row summed down the source columns and rounded
// to 8 bits, then summed across and rounded again.
func refPlane(dst []uint8, dstStride, w, h int, src []uint8, srcStride int, r image.Rectangle, xw, yw taps) {
	mid := make([]uint8, r.Dx())
	for y := range h {
		for x := range mid {
			var a int32
			for k, wt := range yw.fixed[y] {
				a += wt * int32(src[(r.Min.Y+yw.start[y]+k)*srcStride+r.Min.X+x])
			}
			mid[x] = clamp8(a)
		}
		for i := range w {
			var a int32
			for j, wt := range xw.fixed[i] {
				a += wt * int32(mid[xw.start[i]+j])
			}
			dst[y*dstStride+i] = clamp8(a)
		}
	}
}

// TestResamplePlaneExact checks that the two-pixels-a-word loops of
// resamplePlane give exactly the bytes of the plain sums, on the planes of
// a real photo: shrinking and enlarging, odd and even widths, one row,
// a part of the plane, every filter.
func TestResamplePlaneExact(t *testing.T) {
	img := testdataImage(t, "photos", "friends_by_Aitzol_Berasategi.jpg")
	ycc, ok := img.(*image.YCbCr)
	if !ok {
		t.Fatalf("decoded %T, want *image.YCbCr", img)
	}
	cw := ycc.CStride
	ch := len(ycc.Cb) / cw
	planes := []struct {
		name   string
		pix    []uint8
		stride int
		full   image.Rectangle
	}{
		{"Y", ycc.Y, ycc.YStride, image.Rect(0, 0, ycc.Rect.Dx(), ycc.Rect.Dy())},
		{"Cb", ycc.Cb, cw, image.Rect(0, 0, cw, ch)},
	}
	for _, pl := range planes {
		b := pl.full
		cases := []struct {
			name string
			r    image.Rectangle
			w, h int
		}{
			{"thumbnail ratio", b, b.Dx() * 5 / 8, b.Dy() * 5 / 8},
			{"odd width", image.Rect(0, 0, b.Dx()|1-2, b.Dy()), 201, 133},
			{"eighth", b, b.Dx() / 8, b.Dy() / 8},
			{"one row", b, 99, 1},
			{"one column", b, 1, 57},
			{"enlarge", image.Rect(10, 20, 61, 47), 160, 91},
			{"part", image.Rect(b.Dx()/3, b.Dy()/4, b.Dx()-7, b.Dy()-3), 77, 50},
		}
		for _, c := range cases {
			for _, fname := range []string{"lanczos", "mitchell", "linear", "box", "nearest"} {
				t.Run(fmt.Sprintf("%s/%s/%s", pl.name, c.name, fname), func(t *testing.T) {
					xw, yw := weights(c.r.Dx(), c.w, filters[fname]), weights(c.r.Dy(), c.h, filters[fname])
					got := make([]uint8, c.w*c.h)
					want := make([]uint8, c.w*c.h)
					resamplePlane(got, c.w, c.w, c.h, pl.pix, pl.stride, c.r, xw, yw)
					refPlane(want, c.w, c.w, c.h, pl.pix, pl.stride, c.r, xw, yw)
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("pixel (%d,%d) of %dx%d: %d, want %d", i%c.w, i/c.w, c.w, c.h, got[i], want[i])
						}
					}
				})
			}
		}
	}
}
