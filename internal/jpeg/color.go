package jpeg

import (
	"image"
	"image/color"
)

// finish completes decoding after EOI and converts the planes to the image
// type image/jpeg returns for the same file.
func (d *decoder) finish() (image.Image, error) {
	if d.progressive {
		d.reconstruct()
	}
	_, h := ScaledSize(d.width, d.height, d.scale)
	return d.output(0, h)
}

// output converts rows y0 to y1-1 of the (scaled) image to the type
// image/jpeg returns for the same file, bounds (0, y0)-(width, y1). The
// planes hold the rows from y0 on: the whole image, or one MCU row.
func (d *decoder) output(y0, y1 int) (image.Image, error) {
	w, _ := ScaledSize(d.width, d.height, d.scale)
	r := image.Rect(0, y0, w, y1)
	switch d.ncomp {
	case 1:
		c := &d.comp[0]
		g := &image.Gray{Pix: c.pix, Stride: c.stride, Rect: image.Rect(0, y0, c.stride, y0+len(c.pix)/c.stride)}
		return g.SubImage(r), nil
	case 3:
		ycc := d.planes(y0).SubImage(r).(*image.YCbCr)
		if d.isRGB() {
			return toRGBA(ycc), nil
		}
		return ycc, nil
	}
	if !d.adobe {
		return nil, unsupported("4-component JPEG without Adobe APP14 marker")
	}
	ycc := d.planes(y0).SubImage(r).(*image.YCbCr)
	k := &d.comp[3]
	out := image.NewCMYK(r)
	if d.adobeTransform != 0 {
		// YCCK: the colour part converts to RGB, which (because Adobe CMYK is
		// stored inverted) is directly C, M, Y; K is stored inverted.
		for y := y0; y < y1; y++ {
			row := out.Pix[(y-y0)*out.Stride : (y-y0)*out.Stride+4*w]
			krow := k.pix[(y-y0)*k.stride : (y-y0)*k.stride+w]
			for x := 0; x < w; x++ {
				yi, ci := ycc.YOffset(x, y), ycc.COffset(x, y)
				cr, cg, cb := color.YCbCrToRGB(ycc.Y[yi], ycc.Cb[ci], ycc.Cr[ci])
				p := row[4*x : 4*x+4 : 4*x+4]
				p[0], p[1], p[2], p[3] = cr, cg, cb, 255-krow[x]
			}
		}
		return out, nil
	}
	// Adobe CMYK: all four channels are stored inverted. Subsampled channels
	// (only 2x2 layouts are accepted) are replicated.
	for t := 0; t < 4; t++ {
		c := &d.comp[t]
		sub := c.h != d.comp[0].h || c.v != d.comp[0].v
		for y := y0; y < y1; y++ {
			sy := y - y0
			if sub {
				sy = y/2 - y0/2
			}
			src := c.pix[sy*c.stride:]
			row := out.Pix[(y-y0)*out.Stride:]
			for x := 0; x < w; x++ {
				sx := x
				if sub {
					sx /= 2
				}
				row[4*x+t] = 255 - src[sx]
			}
		}
	}
	return out, nil
}

// planes returns the YCbCr planes with bounds starting at row y0 (the
// MCU-padded size otherwise).
func (d *decoder) planes(y0 int) *image.YCbCr {
	m := *d.ycc
	m.Rect = image.Rect(0, y0, m.Rect.Dx(), y0+m.Rect.Dy())
	return &m
}

// toRGBA converts planes holding R, G and B (Adobe transform 0) to RGBA.
func toRGBA(m *image.YCbCr) *image.RGBA {
	b := m.Rect
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := out.Pix[(y-b.Min.Y)*out.Stride:]
		for x := b.Min.X; x < b.Max.X; x++ {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			p := row[4*(x-b.Min.X) : 4*(x-b.Min.X)+4 : 4*(x-b.Min.X)+4]
			p[0], p[1], p[2], p[3] = m.Y[yi], m.Cb[ci], m.Cr[ci], 255
		}
	}
	return out
}
