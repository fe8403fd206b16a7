package stages

import "image"

// rowResampler is resample fed one source row at a time, in order: each
// row is resampled across as it arrives into a ring of output-width rows,
// and each output row is made as soon as the last row of its filter's
// window has arrived. It holds the ring (as many rows as the widest
// vertical window) and the output, never the source: the pixels are those
// resample makes from the whole image (the same taps, the same 8-bit
// intermediate rows).
type rowResampler struct {
	r      image.Rectangle // the part of the source resampled
	xw, yw taps
	ring   []uint8 // rows of 4*w bytes, source row k (from r.Min.Y) at k % rows
	rows   int
	next   int // the next output row to make
	acc    []int32
	dst    *image.RGBA
}

// newRowResampler resamples the area a of a source to w x h with f.
func newRowResampler(a area, w, h int, f filter) *rowResampler {
	xw, yw := a.taps(w, h, f)
	return newRowResamplerTaps(a.r, xw, yw)
}

// newRowResamplerTaps resamples the part r of a source along the taps
// given, to as many pixels as they have.
func newRowResamplerTaps(r image.Rectangle, xw, yw taps) *rowResampler {
	w, h := len(xw.start), len(yw.start)
	s := &rowResampler{r: r, xw: xw, yw: yw,
		acc: make([]int32, 4*w), dst: image.NewRGBA(image.Rect(0, 0, w, h))}
	for _, ws := range s.yw.fixed {
		s.rows = max(s.rows, len(ws))
	}
	s.ring = make([]uint8, 4*w*s.rows)
	return s
}

// holds is the bytes the resampler holds beyond its output: its ring of
// rows and its sums.
func (s *rowResampler) holds() int64 {
	return int64(len(s.ring)) + 4*int64(len(s.acc))
}

// push takes source row y (premultiplied RGBA, the source's whole width);
// rows outside r are ignored. Rows must come in order.
func (s *rowResampler) push(y int, row []uint8) {
	if y < s.r.Min.Y || y >= s.r.Max.Y {
		return
	}
	k := y - s.r.Min.Y
	w := s.dst.Rect.Dx()
	convolve(s.ring[4*w*(k%s.rows):][:4*w], row[4*s.r.Min.X:4*s.r.Max.X], s.xw)
	for s.next < len(s.yw.fixed) && s.yw.start[s.next]+len(s.yw.fixed[s.next])-1 <= k {
		y := s.next
		clear(s.acc)
		for j, wt := range s.yw.fixed[y] {
			src := s.ring[4*w*((s.yw.start[y]+j)%s.rows):][:len(s.acc)]
			for i, v := range src {
				s.acc[i] += wt * int32(v)
			}
		}
		out := s.dst.Pix[y*s.dst.Stride:][:len(s.acc)]
		for i := 0; i+3 < len(s.acc); i += 4 {
			pack4(out[i:i+4:i+4], s.acc[i], s.acc[i+1], s.acc[i+2], s.acc[i+3])
		}
		s.next++
	}
}

// done reports whether every output row has been made.
func (s *rowResampler) done() bool { return s.next == len(s.yw.fixed) }

// resized is the output.
func (s *rowResampler) resized() image.Image { return s.dst }

// planeResampler is resamplePlane fed one row of the plane at a time, in
// order: it keeps a ring of the source rows its vertical taps still need
// (only the columns of r), and makes each output row as soon as the last
// of them has arrived, with the same sums (integer, so in any order) and
// the same 8-bit intermediate row.
type planeResampler struct {
	r      image.Rectangle // the part of the plane resampled
	xw, yw taps
	ring   []uint8 // rows of r.Dx() bytes, source row k (from r.Min.Y) at k % rows
	rows   int
	next   int
	acc    []int32
	mid    []uint64 // the 8-bit intermediate row, one sample a word
	dst    []uint8
	stride int
	w      int
}

func newPlaneResampler(dst []uint8, stride, w int, r image.Rectangle, xw, yw taps) *planeResampler {
	s := &planeResampler{r: r, xw: xw, yw: yw, acc: make([]int32, r.Dx()), mid: make([]uint64, r.Dx()),
		dst: dst, stride: stride, w: w, rows: 1}
	for _, ws := range yw.fixed {
		s.rows = max(s.rows, len(ws))
	}
	s.ring = make([]uint8, r.Dx()*s.rows)
	return s
}

// holds is the bytes the resampler holds beyond its output.
func (s *planeResampler) holds() int64 {
	return int64(len(s.ring)) + 12*int64(len(s.acc)) // acc int32, mid uint64
}

// push takes row y of the plane (from x = 0); rows outside r are ignored.
func (s *planeResampler) push(y int, row []uint8) {
	if y < s.r.Min.Y || y >= s.r.Max.Y {
		return
	}
	k := y - s.r.Min.Y
	sw := s.r.Dx()
	copy(s.ring[sw*(k%s.rows):][:sw], row[s.r.Min.X:s.r.Max.X])
	for s.next < len(s.yw.fixed) && s.yw.start[s.next]+len(s.yw.fixed[s.next])-1 <= k {
		clear(s.acc)
		for j, wt := range s.yw.fixed[s.next] {
			src := s.ring[sw*((s.yw.start[s.next]+j)%s.rows):][:sw]
			for i, v := range src {
				s.acc[i] += wt * int32(v)
			}
		}
		for i, v := range s.acc {
			s.mid[i] = uint64(clamp8(v)) // the low lane of narrowPair's words
		}
		narrowPair(s.dst[s.next*s.stride:][:s.w], nil, s.mid, s.xw)
		s.next++
	}
}

// done reports whether every output row has been made.
func (s *planeResampler) done() bool { return s.next == len(s.yw.fixed) }
