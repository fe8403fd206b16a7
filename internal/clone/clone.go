// Package clone copies images into fresh memory, keeping their type.
package clone

import (
	"image"
	"image/draw"
	"slices"
)

// Image returns a copy of m with its own pixels, of the same type for the
// image types the standard library defines (the ones the decoders, the
// resizer and the WebAssembly codecs return), else as *image.RGBA64.
func Image(m image.Image) image.Image {
	switch m := m.(type) {
	case *image.RGBA:
		c := *m
		c.Pix = slices.Clone(m.Pix)
		return &c
	case *image.NRGBA:
		c := *m
		c.Pix = slices.Clone(m.Pix)
		return &c
	case *image.RGBA64:
		c := *m
		c.Pix = slices.Clone(m.Pix)
		return &c
	case *image.NRGBA64:
		c := *m
		c.Pix = slices.Clone(m.Pix)
		return &c
	case *image.Gray:
		c := *m
		c.Pix = slices.Clone(m.Pix)
		return &c
	case *image.Gray16:
		c := *m
		c.Pix = slices.Clone(m.Pix)
		return &c
	case *image.YCbCr:
		c := *m
		c.Y, c.Cb, c.Cr = slices.Clone(m.Y), slices.Clone(m.Cb), slices.Clone(m.Cr)
		return &c
	case *image.NYCbCrA:
		c := *m
		c.Y, c.Cb, c.Cr, c.A = slices.Clone(m.Y), slices.Clone(m.Cb), slices.Clone(m.Cr), slices.Clone(m.A)
		return &c
	}
	b := m.Bounds()
	c := image.NewRGBA64(b)
	draw.Draw(c, b, m, b.Min, draw.Src)
	return c
}
