package stages

import (
	"image"
	"slices"
)

// TrimTolerance is how far, in 8-bit levels on any channel (alpha
// included), a pixel may be from the border colour and still be trimmed
// as border: 10, as libvips' find_trim uses, takes in JPEG noise around a
// flat border but not the soft edge of a subject.
const TrimTolerance = 10

// trimBox returns the part of img left when uniform borders are removed:
// rows and columns from each edge inward whose every pixel is within
// TrimTolerance of the top-left pixel. An image that is all border is
// returned whole. It reads only the border and the first pixels past it,
// so a photo without a border costs a few pixel reads.
func trimBox(img image.Image) image.Rectangle {
	b := img.Bounds()
	read := rowReader(img)
	var px, ref [4]uint8
	read(ref[:], b.Min.X, b.Min.X+1, b.Min.Y)
	border := func(x, y int) bool {
		read(px[:], x, x+1, y)
		for i := range px {
			if d := int(px[i]) - int(ref[i]); d > TrimTolerance || d < -TrimTolerance {
				return false
			}
		}
		return true
	}
	row := func(y, x0, x1 int) bool {
		for x := x0; x < x1; x++ {
			if !border(x, y) {
				return false
			}
		}
		return true
	}
	col := func(x, y0, y1 int) bool {
		for y := y0; y < y1; y++ {
			if !border(x, y) {
				return false
			}
		}
		return true
	}
	r := b
	for r.Min.Y < r.Max.Y && row(r.Min.Y, r.Min.X, r.Max.X) {
		r.Min.Y++
	}
	if r.Min.Y == r.Max.Y {
		return b // all border: nothing to keep but the whole
	}
	for row(r.Max.Y-1, r.Min.X, r.Max.X) {
		r.Max.Y--
	}
	for col(r.Min.X, r.Min.Y, r.Max.Y) {
		r.Min.X++
	}
	for col(r.Max.X-1, r.Min.Y, r.Max.Y) {
		r.Max.X--
	}
	return r
}

// trimmedTo returns t laid out on the trimmed box area (in full-size
// source pixels) as if it were the whole image: size, crop and placement.
func (t Target) trimmedTo(area image.Rectangle) Target {
	o := t.Output
	w, h, crop := o.geometry(area.Dx(), area.Dy())
	t.Width, t.Height, t.Crop, t.Place = w, h, crop.Add(area.Min), o.place(area.Dx(), area.Dy())
	return t
}

// fullSize maps a rectangle r of decoded pixels with bounds b (which may
// be shrunk on load) to the w x h full-size source, rounding outward.
func fullSize(r, b image.Rectangle, w, h int) image.Rectangle {
	r = r.Sub(b.Min)
	return image.Rect(r.Min.X*w/b.Dx(), r.Min.Y*h/b.Dy(),
		(r.Max.X*w+b.Dx()-1)/b.Dx(), (r.Max.Y*h+b.Dy()-1)/b.Dy())
}

// trimScale is, for targets of which some trim, the decode scale that the
// trimmed box of upright (decoded at 1/scale) needs: shrink-on-load is
// planned from the whole image, and a tight trim leaves fewer decoded
// pixels than its outputs need. scale when none trims.
func trimScale(targets []Target, upright image.Image, w, h, scale int) int {
	var trimmed []Target
	var area image.Rectangle
	for i, t := range targets {
		if !t.Output.Trim {
			continue
		}
		if trimmed == nil {
			trimmed = slices.Clone(targets)
			area = fullSize(trimBox(upright), upright.Bounds(), w, h)
		}
		trimmed[i] = t.trimmedTo(area)
	}
	if trimmed == nil {
		return scale
	}
	return min(scale, shrinkOnLoad(trimmed))
}

// trims reports whether a target trims.
func trims(targets []Target) bool {
	return slices.ContainsFunc(targets, func(t Target) bool { return t.Output.Trim })
}
