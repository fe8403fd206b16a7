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
	sinks := make([]rowSink, len(in.targets))
	icc := int64(len(in.info.ICC))
	need := m.Holds + icc
	for i, t := range in.targets {
		w, h := t.resampledSize()
		sinks[i] = newRowSink(t.Crop, w, h, filters[t.Output.Filter])
		need += sinks[i].holds() + outputHolds(t, icc) // the window, the output
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
	return streamed(ctx, in, err, release, m.Gray, sinks)
}

// streamSink is one target's resampler of a streamed decode.
type streamSink interface {
	done() bool           // every output row made
	resized() image.Image // the output
}

// streamed ends in's streamed decode: err from the decoder, or a corrupt
// image if the rows ended before some sink's output was whole; else the
// Decoded holding each sink's output. On error it releases the budget.
func streamed[S streamSink](ctx context.Context, in *input, err error, release func(), gray bool, sinks []S) (*Decoded, error) {
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
		Targets: in.targets, Gray: gray, resized: make([]image.Image, len(sinks))}
	for i, s := range sinks {
		d.resized[i] = s.resized()
	}
	return d, nil
}

// resampledSize is the size t's resampler makes: the inner box of a
// padded target, else the output's.
func (t Target) resampledSize() (w, h int) {
	if !t.Place.Empty() {
		return t.Place.Dx(), t.Place.Dy()
	}
	return t.Width, t.Height
}

// outputHolds is what target t's output costs the budget, icc being the
// size of the input's colour profile: its pixels and encoded bytes, the
// profile embedded and the copy embedding makes, and what its encoder
// holds beyond that.
func outputHolds(t Target, icc int64) int64 {
	opx := int64(t.Width) * int64(t.Height)
	n := 5*opx + 2*icc
	if f := format.ByName(t.Format); f != nil && f.EncodeHolds != nil {
		n += f.EncodeHolds(opx)
	}
	return n
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
