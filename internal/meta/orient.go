package meta

import (
	"image"
	"image/color"
)

// Apply returns img transformed so that an image stored with EXIF
// orientation o is upright:
//
//	1 unchanged          5 transpose (mirror along the main diagonal)
//	2 mirror horizontal  6 rotate 90° clockwise
//	3 rotate 180°        7 transverse (mirror along the anti-diagonal)
//	4 mirror vertical    8 rotate 90° counter-clockwise
//
// For o in 2..8 the result is a new *image.NRGBA whose bounds start at
// (0,0) (width and height swapped for 5..8); img may have any bounds and is
// not modified. For 0, 1 or any other value img itself is returned.
func Apply(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	src := toNRGBA(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	ds := dst.Stride
	for y := 0; y < h; y++ {
		// Destination index of source pixel (0,y) and the step per x.
		var start, step int
		switch o {
		case 2: // (x,y) -> (w-1-x, y)
			start, step = y*ds+(w-1)*4, -4
		case 3: // (x,y) -> (w-1-x, h-1-y)
			start, step = (h-1-y)*ds+(w-1)*4, -4
		case 4: // (x,y) -> (x, h-1-y)
			start, step = (h-1-y)*ds, 4
		case 5: // (x,y) -> (y, x)
			start, step = y*4, ds
		case 6: // (x,y) -> (h-1-y, x)
			start, step = (h-1-y)*4, ds
		case 7: // (x,y) -> (h-1-y, w-1-x)
			start, step = (w-1)*ds+(h-1-y)*4, -ds
		case 8: // (x,y) -> (y, w-1-x)
			start, step = (w-1)*ds+y*4, -ds
		}
		row := src.Pix[y*src.Stride : y*src.Stride+w*4]
		d := start
		for x := 0; x < len(row); x += 4 {
			copy(dst.Pix[d:d+4], row[x:x+4])
			d += step
		}
	}
	return dst
}

// Reverses reports how Apply turns the stored image of orientation o:
// across, whether the upright image's first column comes from the stored
// image's last column (for 1..4) or last row (for 5..8, where the axes
// swap); down, whether its first row comes from the stored image's last
// row (1..4) or last column (5..8). After a decode at a reduced scale the
// stored image's last column and row stand for part of a block: Reverses
// says where they end up.
func Reverses(o int) (across, down bool) {
	return o == 2 || o == 3 || o == 6 || o == 7, o == 3 || o == 4 || o == 7 || o == 8
}

// toNRGBA returns img's pixels as an NRGBA image with bounds at (0,0). It
// may share memory with img (it is only read).
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.NRGBA:
		i := m.PixOffset(b.Min.X, b.Min.Y)
		if w == 0 || h == 0 {
			return &image.NRGBA{Rect: image.Rect(0, 0, w, h)}
		}
		return &image.NRGBA{Pix: m.Pix[i:], Stride: m.Stride, Rect: image.Rect(0, 0, w, h)}
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			p := out.Pix[y*out.Stride:]
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				p[4*x], p[4*x+1], p[4*x+2], p[4*x+3] = r, g, bb, 0xFF
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			p := out.Pix[y*out.Stride:]
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				v := s[x]
				p[4*x], p[4*x+1], p[4*x+2], p[4*x+3] = v, v, v, 0xFF
			}
		}
	default:
		for y := 0; y < h; y++ {
			p := out.Pix[y*out.Stride:]
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				p[4*x], p[4*x+1], p[4*x+2], p[4*x+3] = c.R, c.G, c.B, c.A
			}
		}
	}
	return out
}
