package webp

// The normal loop filter (RFC 6386 section 15), sharpness 0: what a
// decoder applies to the reconstruction before showing it. The encoder
// runs it only to choose the filter level; it never predicts from
// filtered pixels (nor does the decoder).

// filterParams are one level's thresholds (section 15.4, key frame).
type filterParams struct {
	interior, hevThresh, mbLimit, subLimit int
}

func newFilterParams(level int) filterParams {
	p := filterParams{interior: max(level, 1)}
	switch {
	case level >= 40:
		p.hevThresh = 2
	case level >= 15:
		p.hevThresh = 1
	}
	p.mbLimit = (level+2)*2 + p.interior
	p.subLimit = level*2 + p.interior
	return p
}

func c8(v int) int    { return min(max(v, -128), 127) }
func s2u(v int) uint8 { return uint8(c8(v) + 128) }
func absi(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// filterEdge filters n segments across an edge of plane: pixel i of
// segment k is at plane[at + k*along + i*across], i = -4..3, the edge
// between i = -1 and 0. Segments across a vertical edge (across 1) are 8
// bytes in a row and filtered in place; the others are gathered.
func filterEdge(plane []uint8, at, along, across, n int, fp *filterParams, mb bool) {
	limit := fp.subLimit
	if mb {
		limit = fp.mbLimit
	}
	if across == 1 {
		for k := range n {
			o := at + k*along
			filterSegment((*[8]uint8)(plane[o-4:o+4]), limit, fp, mb)
		}
		return
	}
	var s [8]uint8
	for k := range n {
		o := at + k*along - 4*across
		for i := range s {
			s[i] = plane[o+i*across]
		}
		if filterSegment(&s, limit, fp, mb) {
			for i := 1; i < 7; i++ {
				plane[o+i*across] = s[i]
			}
		}
	}
}

// filterSegment filters the 8 pixels p3 p2 p1 p0 | q0 q1 q2 q3 across one
// edge in place (section 15.2-15.3) and reports whether it changed any.
func filterSegment(s *[8]uint8, limit int, fp *filterParams, mb bool) bool {
	// Differences are the same in the unsigned and the signed (-128)
	// representation, so the mask reads the bytes.
	P3, P2, P1, P0 := int(s[0]), int(s[1]), int(s[2]), int(s[3])
	Q0, Q1, Q2, Q3 := int(s[4]), int(s[5]), int(s[6]), int(s[7])
	if absi(P0-Q0)*2+absi(P1-Q1)/2 > limit {
		return false
	}
	in := fp.interior
	if absi(P3-P2) > in || absi(P2-P1) > in || absi(P1-P0) > in ||
		absi(Q3-Q2) > in || absi(Q2-Q1) > in || absi(Q1-Q0) > in {
		return false
	}
	p2, p1, p0 := P2-128, P1-128, P0-128
	q0, q1, q2 := Q0-128, Q1-128, Q2-128
	hev := absi(p1-p0) > fp.hevThresh || absi(q1-q0) > fp.hevThresh
	if mb && !hev {
		w := c8(c8(p1-q1) + 3*(q0-p0))
		a := c8((27*w + 63) >> 7)
		s[4], s[3] = s2u(q0-a), s2u(p0+a)
		a = c8((18*w + 63) >> 7)
		s[5], s[2] = s2u(q1-a), s2u(p1+a)
		a = c8((9*w + 63) >> 7)
		s[6], s[1] = s2u(q2-a), s2u(p2+a)
		return true
	}
	// common_adjust, with the outer taps when hev.
	a := 3 * (q0 - p0)
	if hev {
		a += c8(p1 - q1)
	}
	a = c8(a)
	b := c8(a+3) >> 3
	a = c8(a+4) >> 3
	s[4], s[3] = s2u(q0-a), s2u(p0+b)
	if !mb && !hev {
		a = (a + 1) >> 1
		s[5], s[2] = s2u(q1-a), s2u(p1+a)
	}
	return true
}

// loopFilter filters the three planes (16*mbw x 16*mbh luma, half that
// chroma) in place at level (> 0), given each macroblock's modes and
// whether it has coefficients.
func loopFilter(y, u, v []uint8, mbw, mbh int, mbs []mbInfo, level int) {
	loopFilterRows(y, u, v, mbw, mbh, mbs, level, 1)
}

// loopFilterRows is loopFilter on every step-th row of macroblocks only.
func loopFilterRows(y, u, v []uint8, mbw, mbh int, mbs []mbInfo, level, step int) {
	fp := newFilterParams(level)
	ys, cs := 16*mbw, 8*mbw
	for my := 0; my < mbh; my += step {
		for mx := range mbw {
			mb := &mbs[my*mbw+mx]
			inner := mb.ymode == bPred || !mb.skip
			yo, co := 16*my*ys+16*mx, 8*my*cs+8*mx
			if mx > 0 {
				filterEdge(y, yo, ys, 1, 16, &fp, true)
				filterEdge(u, co, cs, 1, 8, &fp, true)
				filterEdge(v, co, cs, 1, 8, &fp, true)
			}
			if inner {
				for x := 4; x < 16; x += 4 {
					filterEdge(y, yo+x, ys, 1, 16, &fp, false)
				}
				filterEdge(u, co+4, cs, 1, 8, &fp, false)
				filterEdge(v, co+4, cs, 1, 8, &fp, false)
			}
			if my > 0 {
				filterEdge(y, yo, 1, ys, 16, &fp, true)
				filterEdge(u, co, 1, cs, 8, &fp, true)
				filterEdge(v, co, 1, cs, 8, &fp, true)
			}
			if inner {
				for r := 4; r < 16; r += 4 {
					filterEdge(y, yo+r*ys, 1, ys, 16, &fp, false)
				}
				filterEdge(u, co+4*cs, 1, cs, 8, &fp, false)
				filterEdge(v, co+4*cs, 1, cs, 8, &fp, false)
			}
		}
	}
}
