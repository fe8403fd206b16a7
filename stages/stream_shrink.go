package stages

import "image"

// shrinkGap is how much bigger than its target an image read in bands is
// kept after the box pre-shrink (shrinkSink): the integer box factor is
// the largest that leaves at least shrinkGap times the output's pixels
// along each axis, so that the filter (lanczos3 by default) still makes
// the last reduction. libvips' thumbnail does the same with a gap of 2.
// A 12247x8165 image resized inside 2000x2000 is box-shrunk by 3 then
// reduced 2.04x with lanczos3, where lanczos3 alone reads 37 source
// pixels an output pixel along each axis: about a fifth of the CPU of
// the resample (see README, Big images, for the time and the luma PSNR).
// A variable, so that tests can turn it off (0) and compare the streamed
// resize with the whole image's, pixel for pixel.
var shrinkGap = 2

// rowSink is one target's resampler of an image read in bands (stream):
// it takes the source's rows in order.
type rowSink interface {
	streamSink
	push(y int, row []uint8)
	holds() int64
}

// newRowSink is the resampler of a band-read image's target: the part r
// of the source to w x h with f, box pre-shrunk first where the source is
// more than 2*shrinkGap times the output along an axis. Not for the
// nearest filter, which must pick source pixels, nor for box, which is
// cheap already (a tap a source pixel) and would only lose precision.
func newRowSink(r image.Rectangle, w, h int, f filter) rowSink {
	kx, ky := shrinkFactor(r.Dx(), w), shrinkFactor(r.Dy(), h)
	if f.kernel == nil || f.support < 1 || kx == 1 && ky == 1 {
		return newRowResampler(whole(r), w, h, f)
	}
	n, m := ceilDiv(r.Dx(), kx), ceilDiv(r.Dy(), ky)
	// Output pixel i is centred on source column (i+0.5)*r.Dx()/w, that is
	// box column (i+0.5)*r.Dx()/(w*kx).
	xw := weightsAt(n, w, float64(r.Dx())/float64(w*kx), 0, f)
	yw := weightsAt(m, h, float64(r.Dy())/float64(h*ky), 0, f)
	return &shrinkSink{r: r, kx: kx, ky: ky, n: n,
		sum: make([]uint32, 4*n), row: make([]uint8, 4*n),
		recip: uint64(1<<32) / uint64(kx*ky),
		inner: newRowResamplerTaps(image.Rect(0, 0, n, m), xw, yw)}
}

// shrinkFactor is the integer box factor for n source pixels to m.
func shrinkFactor(n, m int) int {
	if shrinkGap == 0 {
		return 1
	}
	return max(1, n/(m*shrinkGap))
}

// shrinkSink averages kx x ky boxes of the source (the last ones across
// and down hold what is left) as the rows arrive, and gives each row of
// box averages to a row resampler: the box rows are never held, only the
// sums of the row being made.
type shrinkSink struct {
	r      image.Rectangle // the part of the source resampled
	kx, ky int
	n      int      // box columns
	sum    []uint32 // the sums of the box row being made, 4 a box
	rows   int      // source rows summed into sum
	out    int      // the box row being made
	row    []uint8  // its averages
	recip  uint64   // 2^32 / (kx*ky), for a whole box
	inner  *rowResampler
}

func (s *shrinkSink) holds() int64 {
	return 5*int64(len(s.sum)) + s.inner.holds()
}

func (s *shrinkSink) push(y int, row []uint8) {
	if y < s.r.Min.Y || y >= s.r.Max.Y {
		return
	}
	src := row[4*s.r.Min.X : 4*s.r.Max.X]
	sum := s.sum
	kx4 := 4 * s.kx
	for len(src) >= kx4 {
		var r, g, b, a uint32
		for p := src[:kx4]; len(p) >= 4; p = p[4:] {
			r += uint32(p[0])
			g += uint32(p[1])
			b += uint32(p[2])
			a += uint32(p[3])
		}
		sum[0] += r
		sum[1] += g
		sum[2] += b
		sum[3] += a
		src, sum = src[kx4:], sum[4:]
	}
	for ; len(src) >= 4; src = src[4:] { // the last box across, narrower
		sum[0] += uint32(src[0])
		sum[1] += uint32(src[1])
		sum[2] += uint32(src[2])
		sum[3] += uint32(src[3])
	}
	s.rows++
	if s.rows < s.ky && y < s.r.Max.Y-1 {
		return
	}
	recip := s.recip
	if s.rows != s.ky {
		recip = uint64(1<<32) / uint64(s.kx*s.rows)
	}
	full := s.r.Dx() / s.kx
	for i, v := range s.sum[:4*full] {
		s.row[i] = uint8((uint64(v)*recip + 1<<31) >> 32)
	}
	if last := s.r.Dx() - full*s.kx; last > 0 {
		cnt := uint32(last * s.rows)
		for i, v := range s.sum[4*full:] {
			s.row[4*full+i] = uint8((v + cnt/2) / cnt)
		}
	}
	s.inner.push(s.out, s.row)
	s.out++
	s.rows = 0
	clear(s.sum)
}

func (s *shrinkSink) done() bool           { return s.inner.done() }
func (s *shrinkSink) resized() image.Image { return s.inner.resized() }
