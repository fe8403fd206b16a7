package stages

import (
	"context"
	"fmt"
	"image"

	"github.com/imgpipe/imgpipe/internal/format"
)

// scaledSink is one target of an image decoded in strips at a reduced
// scale (a JPEG): each strip's rows go to an RGBA row resampler, or for a
// target kept in YCbCr (JPEG to JPEG) to one plane resampler a plane, as
// resizeOne would resample the whole decoded image.
type scaledSink struct {
	a      area // the part of the scaled image, as Resize maps the crop
	rgba   *rowResampler
	planes [3]*planeResampler
	ycc    *image.YCbCr
	sy     int // the source's vertical chroma subsampling
}

// streamHeadroom is solHeadroom for a JPEG read in bands (over 40 MP):
// libvips' and Pillow's 2x. There the photo job's concern, CPU and memory
// for many photos at once, weighs less than the output's quality, and the
// reduced IDCTs of 1/4 and 1/8 with only 1.25x left to the resize lost 2.3
// to 3.8 dB of luma PSNR to vipsthumbnail on the noisy 100 MP and 1 GP
// files of bench/make-big.sh (see README, Big images, for what 2x costs and
// gives). A variable, so that tests can set it to solHeadroom and compare
// the streamed resize with the whole image's, pixel for pixel.
var streamHeadroom = 2.0

// streamScaleHolds bounds what the finer scale of streamHeadroom may hold:
// a progressive JPEG keeps its coefficients (40 bytes a block at 1/2, 16
// at 1/4), 179 MiB at 1/2 for the 100 MP 4:4:4 file of bench/make-big.sh,
// which took the peak RSS to 225 MB, over the 200 MB of issue #15. Over
// it, the scale solHeadroom gives is taken.
const streamScaleHolds = 128 << 20

// streamShrinkOnLoad is shrinkOnLoad for a JPEG read in bands: with
// streamHeadroom, unless that holds more than streamScaleHolds.
func (in *input) streamShrinkOnLoad() int {
	scale, coarse := shrinkOnLoadAt(in.targets, streamHeadroom), shrinkOnLoad(in.targets)
	for scale < coarse && in.band.HoldsAt(scale) > streamScaleHolds {
		scale *= 2
	}
	return scale
}

// scaledTargets maps every target's crop onto the image decoded at
// 1/scale, as Resize does; ok is false when a target is not resampled at
// all there (an output of the scaled size: resizeOne then copies the
// decoded image, which a strip cannot give).
func (in *input) scaledTargets(scale int) (areas []area, ok bool) {
	full := shrunkArea(image.Rect(0, 0, ceilDiv(in.w, scale), ceilDiv(in.h, scale)), in.w, in.h, scale, 1)
	for _, t := range in.targets {
		a := full.crop(t.Crop, in.w, in.h)
		if w, h := t.resampledSize(); a.r.Dx() == w && a.r.Dy() == h {
			return nil, false
		}
		areas = append(areas, a)
	}
	return areas, true
}

// streamScaled is stream for an image decoded in strips at 1/scale: the
// budget is charged the decoder's window and strip (and a progressive
// JPEG's coefficients), the resamplers and the outputs.
func (in *input) streamScaled(ctx context.Context, scale int, areas []area,
	reserve func(context.Context, int64) (func(), error)) (*Decoded, error) {
	m := in.band
	icc := int64(len(in.info.ICC))
	need := m.HoldsAt(scale) + icc + 4*int64(ceilDiv(in.w, scale)) // a row in RGBA
	sinks := make([]*scaledSink, len(in.targets))
	for i, t := range in.targets {
		w, h := t.resampledSize()
		f := filters[t.Output.Filter]
		s := &scaledSink{a: areas[i]}
		// A target kept in YCbCr gets its plane resamplers from the first
		// strip, which gives the subsampling (pushPlanes).
		if out := format.ByName(t.Format); !m.YCbCr || out == nil || !out.YCbCr {
			s.rgba = newRowResampler(s.a, w, h, f)
			need += s.rgba.holds()
		}
		sinks[i] = s
		need += outputHolds(t, icc)
		if s.rgba == nil {
			// The planes' rings, as many rows as the luma taps' widest
			// window (twice that for chroma, whose window doubles from
			// 4:2:2 or 4:4:0 to 4:2:0; its planes are no wider), and their
			// sums.
			rows := 1
			_, yw := s.a.taps(w, h, f)
			for _, ws := range yw.fixed {
				rows = max(rows, len(ws))
			}
			need += 3 * int64(s.a.r.Dx()) * int64(2*rows+5)
		}
	}
	release, err := reserve(ctx, need)
	if err != nil {
		return nil, err
	}
	var row []uint8
	var read func(dst []uint8, x0, x1, y int)
	err = m.Strips(ctx, scale, func(strip image.Image) error {
		b := strip.Bounds()
		read = rowReader(strip)
		for i, s := range sinks {
			if s.rgba == nil {
				if err := s.pushPlanes(strip, in.targets[i]); err != nil {
					return err
				}
				continue
			}
			if row == nil {
				row = make([]uint8, 4*b.Dx())
			}
			r := s.a.r
			for y := max(b.Min.Y, r.Min.Y); y < min(b.Max.Y, r.Max.Y); y++ {
				read(row[4*r.Min.X:4*r.Max.X], r.Min.X, r.Max.X, y)
				s.rgba.push(y, row)
			}
		}
		return nil
	})
	return streamed(ctx, in, err, release, m.Gray, sinks)
}

// pushPlanes gives a strip's rows of each plane to the plane resamplers,
// made from the first strip as resampleYCbCr plans them.
func (s *scaledSink) pushPlanes(strip image.Image, t Target) error {
	m, ok := strip.(*image.YCbCr)
	if !ok {
		return fmt.Errorf("a strip of %T, not YCbCr", strip)
	}
	if s.ycc == nil {
		w, h := t.resampledSize()
		p := planYCbCr(m.SubsampleRatio, s.a, w, h, filters[t.Output.Filter])
		s.ycc = p.dst
		s.planes[0] = newPlaneResampler(p.dst.Y, p.dst.YStride, w, p.ry, p.yx, p.yy)
		s.planes[1] = newPlaneResampler(p.dst.Cb, p.dst.CStride, p.cw, p.rc, p.cx, p.cy)
		s.planes[2] = newPlaneResampler(p.dst.Cr, p.dst.CStride, p.cw, p.rc, p.cx, p.cy)
		_, s.sy = subsample(m.SubsampleRatio)
	}
	b := m.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		s.planes[0].push(y, m.Y[m.YOffset(0, y):][:b.Dx()])
	}
	for cy := ceilDiv(b.Min.Y, s.sy); cy < ceilDiv(b.Max.Y, s.sy); cy++ {
		o := m.COffset(0, cy*s.sy)
		s.planes[1].push(cy, m.Cb[o:])
		s.planes[2].push(cy, m.Cr[o:])
	}
	return nil
}

// resized is the output, in RGBA or in YCbCr.
func (s *scaledSink) resized() image.Image {
	if s.rgba != nil {
		return s.rgba.dst
	}
	return s.ycc
}

// done reports whether every output row has been made.
func (s *scaledSink) done() bool {
	if s.rgba != nil {
		return s.rgba.done()
	}
	return s.planes[0] != nil && s.planes[0].done() && s.planes[1].done() && s.planes[2].done()
}
