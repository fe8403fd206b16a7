package clone

import (
	"image"
	"image/color"
	"image/draw"
	"reflect"
	"testing"
)

// Every copy has the original's type, bounds and pixels, and none of its
// memory: drawing on the copy leaves the original as it was.
func TestImage(t *testing.T) {
	r := image.Rect(1, 2, 9, 7)
	for _, m := range []image.Image{
		image.NewRGBA(r), image.NewNRGBA(r), image.NewRGBA64(r), image.NewNRGBA64(r),
		image.NewGray(r), image.NewGray16(r),
		image.NewYCbCr(r, image.YCbCrSubsampleRatio420), image.NewNYCbCrA(r, image.YCbCrSubsampleRatio444),
		image.NewPaletted(r, color.Palette{color.Black, color.White}),
	} {
		want := reflect.TypeOf(m)
		if _, ok := m.(*image.Paletted); ok {
			want = reflect.TypeOf(&image.RGBA64{})
		}
		c := Image(m)
		if reflect.TypeOf(c) != want || c.Bounds() != r {
			t.Errorf("%T: copy is %T %v, want %v %v", m, c, c.Bounds(), want, r)
			continue
		}
		if !reflect.DeepEqual(pixels(c), pixels(m)) {
			t.Errorf("%T: the copy's pixels differ", m)
		}
		d, ok := c.(draw.Image)
		if !ok { // YCbCr and NYCbCrA have no Set: their planes must be new memory
			if &ycbcr(c).Y[0] == &ycbcr(m).Y[0] {
				t.Errorf("%T: the copy shares the original's planes", m)
			}
			continue
		}
		before := m.At(3, 4)
		d.Set(3, 4, color.White)
		if m.At(3, 4) != before || c.At(3, 4) == before {
			t.Errorf("%T: drawing on the copy: original %v -> %v, copy %v", m, before, m.At(3, 4), c.At(3, 4))
		}
	}
}

// pixels lists every pixel's colour as 16-bit RGBA.
func pixels(m image.Image) [][4]uint32 {
	var p [][4]uint32
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := m.At(x, y).RGBA()
			p = append(p, [4]uint32{r, g, bl, a})
		}
	}
	return p
}

// ycbcr is the YCbCr part of a *image.YCbCr or *image.NYCbCrA.
func ycbcr(m image.Image) *image.YCbCr {
	if a, ok := m.(*image.NYCbCrA); ok {
		return &a.YCbCr
	}
	return m.(*image.YCbCr)
}
