package stages

import (
	"image"
	"sync"
)

// resampleYCbCr scales the part r of a YCbCr image to w x h without
// leaving YCbCr: the luma plane at full resolution and the chroma planes at
// their own, subsampled, resolution. For a 4:2:0 photo that is 1.5 bytes a
// pixel of work instead of 4, and no colour conversion on either side: the
// JPEG encoder takes YCbCr as it is. The output is 4:4:4 for a 4:4:4 source
// and 4:2:0 otherwise; the encoder writes those planes as they are when
// they match its quality's subsampling (4:2:0 below 90, 4:4:4 from 90),
// and converts them otherwise.
func resampleYCbCr(src *image.YCbCr, r image.Rectangle, w, h int, f filter) *image.YCbCr {
	return resampleYCbCrTo(image.NewYCbCr, src, whole(r), w, h, f)
}

// resampleYCbCrTo is resampleYCbCr of an area, with the output from alloc.
func resampleYCbCrTo(alloc ycbcrAlloc, src *image.YCbCr, a area, w, h int, f filter) *image.YCbCr {
	a.r = a.r.Sub(src.Rect.Min)
	p := planYCbCrTo(alloc, src.SubsampleRatio, a, w, h, f)
	resamplePlane(p.dst.Y, p.dst.YStride, w, h, src.Y, src.YStride, p.ry, p.yx, p.yy)
	resamplePlane(p.dst.Cb, p.dst.CStride, p.cw, p.ch, src.Cb, src.CStride, p.rc, p.cx, p.cy)
	resamplePlane(p.dst.Cr, p.dst.CStride, p.cw, p.ch, src.Cr, src.CStride, p.rc, p.cx, p.cy)
	return p.dst
}

// yccPlan is how resampleYCbCr scales each plane: the output, the parts
// of the luma and chroma planes read, and the taps.
type yccPlan struct {
	dst            *image.YCbCr
	ry, rc         image.Rectangle // in plane coordinates
	yx, yy, cx, cy taps
	cw, ch         int // the output's chroma planes
}

// planYCbCr plans the resampling of the area a (in plane coordinates) of
// YCbCr planes subsampled as ratio to w x h.
func planYCbCr(ratio image.YCbCrSubsampleRatio, a area, w, h int, f filter) yccPlan {
	return planYCbCrTo(image.NewYCbCr, ratio, a, w, h, f)
}

// ycbcrAlloc makes an output image: image.NewYCbCr, or pooledYCbCr.
type ycbcrAlloc func(image.Rectangle, image.YCbCrSubsampleRatio) *image.YCbCr

// planYCbCrTo is planYCbCr with the output from alloc.
func planYCbCrTo(alloc ycbcrAlloc, ratio image.YCbCrSubsampleRatio, a area, w, h int, f filter) yccPlan {
	out := image.YCbCrSubsampleRatio420
	if ratio == image.YCbCrSubsampleRatio444 {
		out = image.YCbCrSubsampleRatio444
	}
	ry := a.r
	p := yccPlan{dst: alloc(image.Rect(0, 0, w, h), out), ry: ry}
	p.yx, p.yy = a.taps(w, h, f)
	// Chroma: each output chroma sample covers dx x dy output pixels; find
	// where that block lies in the source chroma plane, whose samples each
	// cover sx x sy source pixels.
	sx, sy := subsample(ratio)
	dx, dy := subsample(out)
	p.rc = image.Rect(ry.Min.X/sx, ry.Min.Y/sy, ceilDiv(ry.Max.X, sx), ceilDiv(ry.Max.Y, sy))
	p.cw, p.ch = ceilDiv(w, dx), ceilDiv(h, dy)
	scaleX := float64(dx) * a.dx / float64(w) / float64(sx)
	scaleY := float64(dy) * a.dy / float64(h) / float64(sy)
	offX := (float64(ry.Min.X)+a.x0)/float64(sx) - float64(p.rc.Min.X)
	offY := (float64(ry.Min.Y)+a.y0)/float64(sy) - float64(p.rc.Min.Y)
	p.cx = weightsAt(p.rc.Dx(), p.cw, scaleX, offX, f)
	p.cy = weightsAt(p.rc.Dy(), p.ch, scaleY, offY, f)
	return p
}

// subsample returns the horizontal and vertical chroma subsampling factors.
func subsample(r image.YCbCrSubsampleRatio) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// resamplePlane scales the part r of one 8-bit plane into a w x h plane
// along taps xw and yw, in fixed point. Columns first: each output row is
// accumulated from whole source rows (a streaming loop), then narrowed
// along its taps (a gathering loop, the costlier kind, so it runs on the
// fewer, output, rows).
//
// Both loops carry two sums in each 64-bit word, one in each 32-bit half
// (SWAR): one multiply by a tap's weight serves two pixels. The columns
// loop pairs neighbouring pixels of a row, from source rows widened once
// into pairs (a ring of as many rows as the tallest window: each source
// row serves several output rows); the narrowing loop pairs two output
// rows, which share their taps. The sums are the same integers as one
// pixel at a time: a sum of weights times bytes stays well inside 31 bits
// (the weights of a window sum to 1<<14, and Lanczos' lobes add less than
// half again in absolute value), so the low half holds the first sum
// exactly as an int32 and the rest, shifted down, the second. On the
// thumbnails of issue #17 (320 to 200, about 10 taps a side) this took
// the resize from 19% of the job's CPU samples to 15-17% (perf, single
// runs on a loaded machine); on BenchmarkResamplePlane, 15% fewer
// instructions (callgrind).
func resamplePlane(dst []uint8, dstStride, w, h int, src []uint8, srcStride int, r image.Rectangle, xw, yw taps) {
	sw := r.Dx()
	pw := (sw + 1) / 2 // pixel pairs a source row
	tall := 1
	for _, ws := range yw.fixed {
		tall = max(tall, len(ws))
	}
	p := scratchPool.Get().(*planeScratch)
	defer p.put()
	p.src, p.stride, p.r, p.pw, p.tall = src, srcStride, r, pw, tall
	p.ring = grow(p.ring, tall*pw)
	p.acc = grow(p.acc, pw)
	p.mid = grow(p.mid, 2*pw) // two output rows, interleaved: row y low, y+1 high
	mid := p.mid
	p.tag = p.tag[:0]
	for range tall {
		p.tag = append(p.tag, -1)
	}
	for y := 0; y < h; y += 2 {
		p.columns(mid, yw.start[y], yw.fixed[y], 0)
		if y+1 < h {
			p.columns(mid, yw.start[y+1], yw.fixed[y+1], 32)
		}
		out0 := dst[y*dstStride:][:w]
		if y+1 < h {
			narrowPair(out0, dst[(y+1)*dstStride:][:w], mid, xw)
		} else {
			narrowPair(out0, nil, mid, xw)
		}
	}
}

// narrowPair resamples two interleaved rows, mid, along the taps xw into
// out0 (the low halves) and out1 (the high halves; nil for none).
func narrowPair(out0, out1 []uint8, mid []uint64, xw taps) {
	for i, ws := range xw.fixed {
		s := mid[xw.start[i]:]
		s = s[:len(ws)]
		lo, hi := lanes(dot(ws, s))
		out0[i] = clamp8(lo)
		if out1 != nil {
			out1[i] = clamp8(hi)
		}
	}
}

// dot is the sum of ws[j]*s[j], two lanes at once. Not inlined: inside
// narrowPair's loop the compiler kept the sums and the index on the stack
// (Go 1.26), and a call per output pixel costs less than those spills.
//
//go:noinline
func dot(ws []int32, s []uint64) uint64 {
	s = s[:len(ws)]
	var t0, t1 uint64
	j := 0
	for ; j+2 <= len(ws); j += 2 {
		t0 += uint64(ws[j]) * s[j]
		t1 += uint64(ws[j+1]) * s[j+1]
	}
	if j < len(ws) {
		t0 += uint64(ws[j]) * s[j]
	}
	return t0 + t1
}

// lanes splits a word holding lo + hi<<32 (two's complement, each sum
// inside int32) into its two sums.
func lanes(t uint64) (lo, hi int32) {
	lo = int32(uint32(t))
	return lo, int32((t - uint64(lo)) >> 32)
}

// planeScratch is resamplePlane's source plane and the buffers of its
// columns loop.
type planeScratch struct {
	src      []uint8
	stride   int
	r        image.Rectangle
	pw, tall int
	ring     []uint64 // source rows widened into pairs, row k in slot k % tall
	tag      []int    // the source row in each slot, -1 for none
	acc      []uint64 // the sums of one output row, two pixels a word
	mid      []uint64 // two output rows, interleaved
}

// scratchPool keeps resamplePlane's buffers between planes and images: on
// a batch of thumbnails they were a sixth of the bytes allocated per
// image. Buffers over maxPooledScratch words are not kept.
var scratchPool = sync.Pool{New: func() any { return new(planeScratch) }}

const maxPooledScratch = 1 << 17 // 1 MiB of words

// put returns p to the pool, dropping its reference to the source.
func (p *planeScratch) put() {
	p.src = nil
	if len(p.ring)+len(p.acc)+len(p.mid) <= maxPooledScratch {
		scratchPool.Put(p)
	}
}

// grow returns b with length n, reusing its memory when it is big enough.
// The contents are stale.
func grow(b []uint64, n int) []uint64 {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]uint64, n)
}

// row returns source row k (from r.Min.Y) widened into pairs: pixel 2i in
// the low half of word i, pixel 2i+1 in the high half.
func (p *planeScratch) row(k int) []uint64 {
	slot := k % p.tall
	e := p.ring[slot*p.pw:][:p.pw]
	if p.tag[slot] == k {
		return e
	}
	p.tag[slot] = k
	off := (p.r.Min.Y+k)*p.stride + p.r.Min.X
	s := p.src[off : off+p.r.Dx()]
	e = e[:len(s)/2]
	for i := range e {
		b := s[2*i : 2*i+2 : 2*i+2]
		e[i] = uint64(b[0]) | uint64(b[1])<<32
	}
	if len(s)%2 == 1 {
		p.ring[slot*p.pw+len(e)] = uint64(s[len(s)-1])
	}
	return p.ring[slot*p.pw:][:p.pw]
}

// columns sums the source rows from start along ws, rounds the sums to 8
// bits and stores them in the half of mid that shift (0 or 32) selects;
// shift 0 clears the other half.
func (p *planeScratch) columns(mid []uint64, start int, ws []int32, shift uint) {
	acc := p.acc
	k := 0
	if len(ws) >= 2 { // two source rows a sweep: half the loads and stores of acc
		w0, w1, r0, r1 := uint64(ws[0]), uint64(ws[1]), p.row(start), p.row(start+1)
		r0, r1 = r0[:len(acc)], r1[:len(acc)]
		for i := range acc {
			acc[i] = w0*r0[i] + w1*r1[i]
		}
		k = 2
	} else {
		clear(acc)
	}
	for ; k+2 <= len(ws); k += 2 {
		w0, w1, r0, r1 := uint64(ws[k]), uint64(ws[k+1]), p.row(start+k), p.row(start+k+1)
		r0, r1 = r0[:len(acc)], r1[:len(acc)]
		for i := range acc {
			acc[i] += w0*r0[i] + w1*r1[i]
		}
	}
	if k < len(ws) {
		w0, r0 := uint64(ws[k]), p.row(start+k)
		r0 = r0[:len(acc)]
		for i := range acc {
			acc[i] += w0 * r0[i]
		}
	}
	mid = mid[:2*len(acc)]
	if shift == 0 {
		for i, t := range acc {
			lo, hi := lanes(t)
			mid[2*i] = uint64(clamp8(lo))
			mid[2*i+1] = uint64(clamp8(hi))
		}
		return
	}
	for i, t := range acc {
		lo, hi := lanes(t)
		mid[2*i] |= uint64(clamp8(lo)) << 32
		mid[2*i+1] |= uint64(clamp8(hi)) << 32
	}
}
