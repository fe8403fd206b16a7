package jpeg

import (
	"fmt"
	"image"
	"math"
)

// plane is one channel of an image, w x h samples.
type plane struct {
	w, h int
	pix  []byte // row-major, stride w
}

// planesOf extracts the channels of the image types Decode returns.
func planesOf(m image.Image) ([]plane, error) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	get := func(pw, ph int, at func(x, y int) byte) plane {
		p := plane{w: pw, h: ph, pix: make([]byte, pw*ph)}
		for y := 0; y < ph; y++ {
			for x := 0; x < pw; x++ {
				p.pix[y*pw+x] = at(x, y)
			}
		}
		return p
	}
	switch m := m.(type) {
	case *image.Gray:
		return []plane{get(w, h, func(x, y int) byte { return m.Pix[m.PixOffset(b.Min.X+x, b.Min.Y+y)] })}, nil
	case *image.YCbCr:
		cw, ch := chromaSize(w, h, m.SubsampleRatio)
		// COffset takes image coordinates; map chroma sample (x, y) back to
		// the first image pixel it covers.
		sx, sy := (w+cw-1)/cw, (h+ch-1)/ch
		if cw == w {
			sx = 1
		}
		if ch == h {
			sy = 1
		}
		ys := get(w, h, func(x, y int) byte { return m.Y[m.YOffset(b.Min.X+x, b.Min.Y+y)] })
		cbs := get(cw, ch, func(x, y int) byte { return m.Cb[m.COffset(b.Min.X+x*sx, b.Min.Y+y*sy)] })
		crs := get(cw, ch, func(x, y int) byte { return m.Cr[m.COffset(b.Min.X+x*sx, b.Min.Y+y*sy)] })
		return []plane{ys, cbs, crs}, nil
	case *image.RGBA:
		var ps []plane
		for c := 0; c < 3; c++ {
			ps = append(ps, get(w, h, func(x, y int) byte { return m.Pix[m.PixOffset(b.Min.X+x, b.Min.Y+y)+c] }))
		}
		return ps, nil
	case *image.CMYK:
		var ps []plane
		for c := 0; c < 4; c++ {
			ps = append(ps, get(w, h, func(x, y int) byte { return m.Pix[m.PixOffset(b.Min.X+x, b.Min.Y+y)+c] }))
		}
		return ps, nil
	}
	return nil, fmt.Errorf("unexpected image type %T", m)
}

// boxDown averages s x s blocks of p (partial blocks at the edges average
// the samples present).
func boxDown(p plane, s int) plane {
	w, h := (p.w+s-1)/s, (p.h+s-1)/s
	out := plane{w: w, h: h, pix: make([]byte, w*h)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sum, n := 0, 0
			for yy := y * s; yy < y*s+s && yy < p.h; yy++ {
				for xx := x * s; xx < x*s+s && xx < p.w; xx++ {
					sum += int(p.pix[yy*p.w+xx])
					n++
				}
			}
			out.pix[y*w+x] = byte((sum + n/2) / n)
		}
	}
	return out
}

// diffStats compares two planes of the same size.
func diffStats(a, b plane) (mean float64, max int, psnr float64, err error) {
	if a.w != b.w || a.h != b.h {
		return 0, 0, 0, fmt.Errorf("plane size %dx%d vs %dx%d", a.w, a.h, b.w, b.h)
	}
	var sum, sq float64
	for i := range a.pix {
		d := int(a.pix[i]) - int(b.pix[i])
		if d < 0 {
			d = -d
		}
		if d > max {
			max = d
		}
		sum += float64(d)
		sq += float64(d * d)
	}
	n := float64(len(a.pix))
	if n == 0 {
		return 0, 0, math.Inf(1), nil
	}
	mean = sum / n
	mse := sq / n
	if mse == 0 {
		psnr = math.Inf(1)
	} else {
		psnr = 10 * math.Log10(255*255/mse)
	}
	return mean, max, psnr, nil
}

// sameKind reports whether two decoded images have the same type and, for
// YCbCr, subsampling ratio.
func sameKind(a, b image.Image) error {
	if fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
		return fmt.Errorf("type %T, want %T", a, b)
	}
	if ya, ok := a.(*image.YCbCr); ok {
		if yb := b.(*image.YCbCr); ya.SubsampleRatio != yb.SubsampleRatio {
			return fmt.Errorf("subsample ratio %v, want %v", ya.SubsampleRatio, yb.SubsampleRatio)
		}
	}
	return nil
}

// compareFull checks a scale-1 decode against image/jpeg's: per channel mean
// absolute difference < 1 and max difference <= maxDiff.
func compareFull(got, want image.Image, maxDiff int) (worstMean float64, worstMax int, err error) {
	if err := sameKind(got, want); err != nil {
		return 0, 0, err
	}
	if got.Bounds() != want.Bounds() {
		return 0, 0, fmt.Errorf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	gp, err := planesOf(got)
	if err != nil {
		return 0, 0, err
	}
	wp, _ := planesOf(want)
	for i := range gp {
		mean, max, _, err := diffStats(gp[i], wp[i])
		if err != nil {
			return 0, 0, fmt.Errorf("channel %d: %v", i, err)
		}
		worstMean = math.Max(worstMean, mean)
		if max > worstMax {
			worstMax = max
		}
		if mean >= 1 || max > maxDiff {
			return worstMean, worstMax, fmt.Errorf("channel %d: mean abs diff %.3f, max %d", i, mean, max)
		}
	}
	return worstMean, worstMax, nil
}

// compareScaled checks a scale-s decode against a box-downscale of
// image/jpeg's full decode: every channel's PSNR must be >= minPSNR.
func compareScaled(got, full image.Image, s int, minPSNR float64) (worst float64, err error) {
	if err := sameKind(got, full); err != nil {
		return 0, err
	}
	fb := full.Bounds()
	w, h := ScaledSize(fb.Dx(), fb.Dy(), s)
	if got.Bounds() != image.Rect(0, 0, w, h) {
		return 0, fmt.Errorf("bounds %v, want %v", got.Bounds(), image.Rect(0, 0, w, h))
	}
	gp, err := planesOf(got)
	if err != nil {
		return 0, err
	}
	fp, _ := planesOf(full)
	worst = math.Inf(1)
	for i := range gp {
		// Only compare output samples whose s x s source block lies wholly
		// inside the image: at the right and bottom edges the decoder's
		// samples also average the encoder's padding.
		iw, ih := fp[i].w/s, fp[i].h/s
		if iw == 0 || ih == 0 {
			continue
		}
		_, _, psnr, err := diffStats(crop(gp[i], iw, ih), crop(boxDown(fp[i], s), iw, ih))
		if err != nil {
			return 0, fmt.Errorf("channel %d: %v", i, err)
		}
		worst = math.Min(worst, psnr)
		floor := minPSNR
		switch got.(type) {
		case *image.RGBA, *image.CMYK:
			// A subsampled channel is replicated to full size by both
			// decoders; at scale s it holds 1/s of the detail that the box
			// filter of the full-size replica keeps, so only the first
			// (never subsampled) channel gets the strict floor.
			if i > 0 {
				floor = math.Min(floor, 15)
			}
		}
		if psnr < floor {
			return worst, fmt.Errorf("channel %d: PSNR %.1f dB < %.1f", i, psnr, floor)
		}
	}
	return worst, nil
}

func formatPSNR(s int, psnr float64) string {
	return fmt.Sprintf("1/%d %.1fdB", s, psnr)
}

// crop returns the top-left w x h samples of p.
func crop(p plane, w, h int) plane {
	if w > p.w || h > p.h {
		return p // size mismatch; diffStats reports it
	}
	out := plane{w: w, h: h, pix: make([]byte, w*h)}
	for y := 0; y < h; y++ {
		copy(out.pix[y*w:y*w+w], p.pix[y*p.w:])
	}
	return out
}
