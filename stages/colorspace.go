package stages

import (
	"image"
	"image/color"

	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/internal/icc"
)

// Colorspace values (Output.Colorspace).
const (
	colorAuto = "auto" // convert to sRGB where the output cannot carry the profile
	colorSRGB = "srgb" // always convert to sRGB; no profile in the output
	colorKeep = "keep" // never convert; the profile kept where the format can
)

// colour is what encode does with an input's colours for one target: the
// profile it embeds, the palette GIF maps onto, and the conversion of the
// pixels to sRGB (nil: none).
type colour struct {
	icc     []byte
	palette color.Palette
	tr      *icc.Transform
	// srgb: the input's profile is sRGB, so dropping it shifts nothing.
	srgb bool
}

// inputColour is an input's profile parsed once for all its targets.
type inputColour struct {
	parsed  bool
	profile *icc.Profile // nil: none, not RGB, or not a matrix/TRC profile
	srgb    bool
	tr      *icc.Transform
}

// colourFor decides, for target t of d, whether the pixels are converted
// to sRGB (Output.Colorspace srgb, or auto with an output format that
// cannot carry the profile) and what profile is embedded. Profiles that are
// sRGB already are never converted; profiles we cannot read (lookup
// tables, CMYK, grey) keep today's behaviour: embedded where the format
// can, else dropped with a note.
func (ic *inputColour) colourFor(t Target, d *Decoded) colour {
	c := colour{icc: d.Meta.ICC, palette: d.palette}
	mode := t.Output.Colorspace
	if mode == colorKeep || d.Meta.ICC == nil || d.Gray || iccSpace(d.Meta.ICC) != "RGB " {
		return c
	}
	if !ic.parsed {
		ic.parsed = true
		if p, err := icc.Parse(d.Meta.ICC); err == nil {
			ic.profile, ic.srgb = p, p.IsSRGB()
		}
	}
	if ic.profile == nil {
		return c
	}
	c.srgb = ic.srgb
	f := format.ByName(t.Format)
	switch {
	case mode == colorSRGB && ic.srgb:
		c.icc = nil // sRGB already: the pixels stay, untagged means sRGB
	case mode == colorSRGB, f == nil || f.Embed == nil && !ic.srgb:
		if ic.tr == nil {
			ic.tr = icc.NewTransform(ic.profile)
		}
		c.icc, c.tr = nil, ic.tr
		if c.palette != nil {
			c.palette = convertPalette(c.palette, ic.tr)
		}
	}
	return c
}

// convert returns img and frames in sRGB when c converts, as new images
// (the resized image may be shared by targets of the same size).
func (c colour) convert(img image.Image, frames []image.Image) (image.Image, []image.Image) {
	if c.tr == nil {
		return img, frames
	}
	img = c.tr.Convert(img)
	if len(frames) > 0 {
		out := make([]image.Image, len(frames))
		out[0] = img
		for i, f := range frames[1:] {
			out[i+1] = c.tr.Convert(f)
		}
		frames = out
	}
	return img, frames
}

func convertPalette(p color.Palette, tr *icc.Transform) color.Palette {
	m := image.NewNRGBA(image.Rect(0, 0, len(p), 1))
	for i, c := range p {
		m.Set(i, 0, c)
	}
	conv := tr.Convert(m).(*image.NRGBA)
	out := make(color.Palette, len(p))
	for i := range p {
		out[i] = conv.NRGBAAt(i, 0)
	}
	return out
}
