package stages

import (
	"context"
	"errors"
	"fmt"
	"image"

	"github.com/imgpipe/imgpipe/internal/format"
)

// streamAbove: an image of more pixels, in a format internal/band reads
// (TIFF, PNG, BMP, JPEG; not every variant), is decoded in bands and resized as
// its rows arrive, when its outputs allow it (see streams). Smaller images
// are decoded whole: 40 MP is above every photo of the benchmark set and
// most cameras, and an 8-bit RGBA image of 40 MP is 160 MB, a good part
// of a 512 MiB budget. A variable, so that tests can stream small images.
var streamAbove int64 = 40_000_000

// streams reports whether every target can be made from rows as they
// arrive: none needs the whole image first (trim, a smart anchor, a
// placeholder) or other pixels than 8-bit premultiplied RGBA (linear
// light).
func streams(targets []Target) bool {
	for _, t := range targets {
		o := t.Output
		if o.Trim || o.Linear || o.Placeholder != "" || o.Fit == "fill" && o.Focal == nil && smartAnchor(o.Anchor) {
			return false
		}
	}
	return true
}

// stream decodes the input in bands, every row going to one resampler per
// target, and returns it resized: the decode stage does the resize stage's
// resampling for it, and Resize only sharpens and pads. The budget is
// charged what this holds: the decoder's buffers, each resampler's window
// of rows and output, and what encoding each output takes, never the
// image's own size.
func (in *input) stream(ctx context.Context, reserve func(context.Context, int64) (func(), error)) (*Decoded, error) {
	m := in.band
	sinks := make([]*rowResampler, len(in.targets))
	icc := int64(len(in.info.ICC))
	need := m.Holds + icc
	for i, t := range in.targets {
		w, h := t.Width, t.Height
		if !t.Place.Empty() {
			w, h = t.Place.Dx(), t.Place.Dy()
		}
		sinks[i] = newRowResampler(t.Crop, w, h, filters[t.Output.Filter])
		opx := int64(t.Width) * int64(t.Height)
		need += sinks[i].holds() + 5*opx + 2*icc // the window; the output's pixels and encoded bytes
		if f := format.ByName(t.Format); f != nil && f.EncodeHolds != nil {
			need += f.EncodeHolds(opx)
		}
	}
	release, err := reserve(ctx, need)
	if err != nil {
		return nil, err
	}
	err = m.Rows(ctx, func(y int, row []byte) error {
		for _, s := range sinks {
			s.push(y, row)
		}
		return nil
	})
	if err == nil {
		for _, s := range sinks {
			if !s.done() {
				err = corrupt(fmt.Errorf("the rows ended before the image did"))
			}
		}
	}
	if err != nil {
		release()
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			return nil, err
		}
		return nil, classify(err)
	}
	d := &Decoded{File: in.file, Format: in.format.Name, Width: in.w, Height: in.h, Meta: in.info,
		Targets: in.targets, Gray: m.Gray, resized: make([]image.Image, len(sinks))}
	for i, s := range sinks {
		d.resized[i] = s.dst
	}
	return d, nil
}

// finishStreamed is resizeOne for a target resampled as it was decoded:
// sharpened if asked, and padded for "pad".
func finishStreamed(img image.Image, t Target) image.Image {
	if t.Output.Sharpen > 0 {
		img = sharpen(img, t.Output.Sharpen)
	}
	if !t.Place.Empty() {
		img = pad(img, t)
	}
	return img
}
