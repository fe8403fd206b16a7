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
func u2s(v uint8) int { return int(v) - 128 }
func s2u(v int) uint8 { return uint8(c8(v) + 128) }
func absi(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// filterEdge filters n segments across an edge of plane: pixel i of
// segment k is at plane[at + k*along + i*across], i = -4..3, the edge
// between i = -1 and 0.
func filterEdge(plane []uint8, at, along, across, n int, fp *filterParams, mb bool) {
	limit := fp.subLimit
	if mb {
		limit = fp.mbLimit
	}
	a1, a2, a3, a4 := across, 2*across, 3*across, 4*across
	for k := range n {
		o := at + k*along
		p3, p2, p1, p0 := u2s(plane[o-a4]), u2s(plane[o-a3]), u2s(plane[o-a2]), u2s(plane[o-a1])
		q0, q1, q2, q3 := u2s(plane[o]), u2s(plane[o+a1]), u2s(plane[o+a2]), u2s(plane[o+a3])
		if absi(p0-q0)*2+absi(p1-q1)/2 > limit ||
			absi(p3-p2) > fp.interior || absi(p2-p1) > fp.interior || absi(p1-p0) > fp.interior ||
			absi(q3-q2) > fp.interior || absi(q2-q1) > fp.interior || absi(q1-q0) > fp.interior {
			continue
		}
		hev := absi(p1-p0) > fp.hevThresh || absi(q1-q0) > fp.hevThresh
		if mb && !hev {
			w := c8(c8(p1-q1) + 3*(q0-p0))
			a := c8((27*w + 63) >> 7)
			plane[o], plane[o-a1] = s2u(q0-a), s2u(p0+a)
			a = c8((18*w + 63) >> 7)
			plane[o+a1], plane[o-a2] = s2u(q1-a), s2u(p1+a)
			a = c8((9*w + 63) >> 7)
			plane[o+a2], plane[o-a3] = s2u(q2-a), s2u(p2+a)
			continue
		}
		// common_adjust, with the outer taps when hev.
		a := 3 * (q0 - p0)
		if hev {
			a += c8(p1 - q1)
		}
		a = c8(a)
		b := c8(a+3) >> 3
		a = c8(a+4) >> 3
		plane[o], plane[o-a1] = s2u(q0-a), s2u(p0+b)
		if !mb && !hev {
			a = (a + 1) >> 1
			plane[o+a1], plane[o-a2] = s2u(q1-a), s2u(p1+a)
		}
	}
}

// loopFilter filters the three planes (16*mbw x 16*mbh luma, half that
// chroma) in place at level (> 0), given each macroblock's modes and
// whether it has coefficients.
func loopFilter(y, u, v []uint8, mbw, mbh int, mbs []mbInfo, level int) {
	fp := newFilterParams(level)
	ys, cs := 16*mbw, 8*mbw
	for my := range mbh {
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
