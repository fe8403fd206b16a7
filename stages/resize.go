package stages

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"slices"

	"github.com/imgpipe/imgpipe/internal/format"
	ijpeg "github.com/imgpipe/imgpipe/internal/jpeg"
)

// Resized is an input with one image per target, in target order; Anim
// holds every frame for the targets that write an animation.
type Resized struct {
	*Decoded
	Images []image.Image
	Anim   [][]image.Image
	pooled []*image.YCbCr // images resize made in planesPool's memory: see Recycle
}

// Resize returns the resize stage: each target is laid out (trim, smart
// crop), resampled with its filter and padded, on the caller's goroutine;
// targets that differ only in encoding (--formats) share one image.
// Memory: the outputs plus an output-width x source-height intermediate.
func Resize() func(context.Context, *Decoded) (*Resized, error) {
	return func(ctx context.Context, d *Decoded) (*Resized, error) {
		if d.resized != nil { // resampled as it was decoded, in bands
			out := &Resized{Decoded: d, Images: make([]image.Image, len(d.Targets))}
			for i, t := range d.Targets {
				out.Images[i] = finishStreamed(d.resized[i], t)
			}
			d.resized = nil
			return out, nil
		}
		src := d.Image
		full := d.full
		if full.r.Empty() {
			full = whole(src.Bounds())
		}
		out := &Resized{Decoded: d, Images: make([]image.Image, len(d.Targets))}
		alloc := func(r image.Rectangle, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
			m := pooledYCbCr(r, ratio)
			out.pooled = append(out.pooled, m)
			return m
		}
		var lay layout
		for i := range d.Targets {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			d.Targets[i] = lay.arrange(d, d.Targets[i])
			t := d.Targets[i]
			// The source may have been shrunk on load: map the crop, given
			// at full resolution, onto the pixels we have.
			a := full.crop(t.Crop, d.Width, d.Height)
			if j := sameResize(d.Targets[:i], t); j >= 0 && d.anim == nil {
				out.Images[i] = out.Images[j]
				continue
			}
			out.Images[i] = resizeOneTo(alloc, src, a, t)
			if d.anim != nil && keepsFrames([]Target{t}) {
				if out.Anim == nil {
					out.Anim = make([][]image.Image, len(d.Targets))
				}
				out.Anim[i] = make([]image.Image, len(d.anim.Frames))
				out.Anim[i][0] = out.Images[i]
				for j, frame := range d.anim.Frames[1:] {
					out.Anim[i][j+1] = resizeOneTo(image.NewYCbCr, frame, a, t)
				}
			}
		}
		d.Image = nil
		if d.anim == nil && !slices.Contains(out.Images, src) {
			// Every output is new memory and nothing else holds the
			// decoded pixels: the decoder may use them for the next input.
			ijpeg.Recycle(src)
		}
		if d.anim != nil {
			d.anim.Frames = nil
		} // the largest buffer of the run: let it go as soon as we can
		return out, nil
	}
}

// layout is what arrange works out once per input for all its targets.
type layout struct {
	trimmed      bool
	trim         image.Rectangle // the trimmed box, in full-size source pixels
	scout        *scout
	placeholders map[string]string // by kind
}

// scoutOf returns the scout copy of d's image, made on first use.
func (l *layout) scoutOf(d *Decoded) *scout {
	if l.scout == nil {
		l.scout = newScout(d.Image, d.Width, d.Height)
	}
	return l.scout
}

// arrange returns t laid out on the decoded image d: sized from the
// trimmed box for Trim, with the crop of a smart anchor moved where the
// scout's scores put it, and with its placeholder (computed once per kind
// for all targets). Other targets are returned as planned.
func (l *layout) arrange(d *Decoded, t Target) Target {
	o := t.Output
	area := image.Rect(0, 0, d.Width, d.Height)
	if o.Trim {
		if !l.trimmed {
			l.trim, l.trimmed = fullSize(trimBox(d.Image), d.Image.Bounds(), d.Width, d.Height), true
		}
		area = l.trim
		t = t.trimmedTo(area)
	}
	if o.Fit == "fill" && o.Focal == nil && smartAnchor(o.Anchor) && t.Crop != area {
		t.Crop = l.scoutOf(d).crop(area, t.Crop.Dx(), t.Crop.Dy(), o.Anchor)
	}
	if kind := o.Placeholder; kind != "" {
		p, ok := l.placeholders[kind]
		if !ok {
			p = l.scoutOf(d).placeholder(kind, srgbTransform(d))
			if l.placeholders == nil {
				l.placeholders = map[string]string{}
			}
			l.placeholders[kind] = p
		}
		t.Placeholder = p
	}
	return t
}

// sameResize returns the index of the first of done that resizeOne would
// make the same image of as t, -1 if none: the same size, crop and
// pixel settings, into formats that take the same kind of image.
func sameResize(done []Target, t Target) int {
	key := func(t Target) (Target, bool, bool) {
		o := t.Output
		o.Format, o.Quality, o.Progressive, o.Lossless, o.MaxBytes = "", 0, false, false, 0
		o.Name, o.KeepMetadata, o.Placeholder, o.DropWider, o.Focal = "", "", "", false, nil
		k := Target{Output: o, Width: t.Width, Height: t.Height, Crop: t.Crop, Place: t.Place}
		f := format.ByName(t.Format)
		if f == nil {
			return k, false, false
		}
		return k, f.Deep, f.YCbCr
	}
	k, deep, ycc := key(t)
	for j, u := range done {
		if ku, dj, yj := key(u); ku == k && dj == deep && yj == ycc {
			return j
		}
	}
	return -1
}

// resizeOne makes one target from the part r of src: resampled (in float
// for linear light or to keep 16 bits for PNG), sharpened if asked, and
// padded for "pad".
func resizeOne(src image.Image, r image.Rectangle, t Target) image.Image {
	return resizeOneTo(image.NewYCbCr, src, whole(r), t)
}

// resizeOneTo is resizeOne of an area, with a YCbCr output from alloc.
func resizeOneTo(alloc ycbcrAlloc, src image.Image, a area, t Target) image.Image {
	if !t.Place.Empty() {
		inner := t
		inner.Width, inner.Height = t.resampledSize()
		inner.Place = image.Rectangle{}
		return pad(resizeOneTo(alloc, src, a, inner), t)
	}
	r := a.r
	f := filters[t.Output.Filter]
	out := format.ByName(t.Format)
	if out == nil { // a Target made by hand, with no format: plain 8-bit RGBA
		out = &format.Format{}
	}
	deep := out.Deep && isDeep(src)
	var img image.Image
	ycc, isYCC := src.(*image.YCbCr)
	scaled := r.Dx() != t.Width || r.Dy() != t.Height
	switch {
	case (t.Output.Linear || deep) && scaled:
		img = resampleFloat(src, a, t.Width, t.Height, f, t.Output.Linear, deep)
	case isYCC && out.YCbCr && scaled:
		img = resampleYCbCrTo(alloc, ycc, a, t.Width, t.Height, f) // JPEG to JPEG: stay in YCbCr
	default:
		img = resampleArea(src, a, t.Width, t.Height, f)
	}
	if t.Output.Sharpen > 0 {
		img = sharpen(img, t.Output.Sharpen)
	}
	return img
}

// isDeep reports whether img has more than 8 bits a channel.
func isDeep(img image.Image) bool {
	switch img.ColorModel() {
	case color.RGBA64Model, color.NRGBA64Model, color.Gray16Model:
		return true
	}
	return false
}

// resample scales the part r of src to w x h. It returns src's own pixels
// (cropped) when no scaling is needed.
func resample(src image.Image, r image.Rectangle, w, h int, f filter) image.Image {
	return resampleArea(src, whole(r), w, h, f)
}

// resampleArea is resample of an area: a copy of its pixels when they are
// already w x h.
func resampleArea(src image.Image, a area, w, h int, f filter) image.Image {
	r := a.r
	if r.Dx() == w && r.Dy() == h {
		if r == src.Bounds() {
			return src
		}
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(dst, dst.Bounds(), src, r.Min, draw.Src)
		return dst
	}
	// Two separable passes on premultiplied 8-bit RGBA: rows of the source
	// into a w x r.Dy() intermediate, then its columns into the output.
	xw, yw := a.taps(w, h, f)
	mid := make([]uint8, 4*w*r.Dy())
	row := make([]uint8, 4*r.Dx())
	read := rowReader(src)
	for y := 0; y < r.Dy(); y++ {
		read(row, r.Min.X, r.Max.X, r.Min.Y+y)
		convolve(mid[4*w*y:4*w*(y+1)], row, xw)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	acc := make([]int32, 4*w)
	for y := 0; y < h; y++ {
		clear(acc)
		for k, wt := range yw.fixed[y] {
			src := mid[4*w*(yw.start[y]+k):][:len(acc)]
			for i, v := range src {
				acc[i] += wt * int32(v)
			}
		}
		out := dst.Pix[y*dst.Stride:][:len(acc)]
		for i := 0; i+3 < len(acc); i += 4 {
			pack4(out[i:i+4:i+4], acc[i], acc[i+1], acc[i+2], acc[i+3])
		}
	}
	return dst
}
