package webp

// The lossy (VP8 key frame) encoder.
//
// encodeFrame (webp.go) runs two passes. The first walks the macroblocks in raster
// order, chooses each one's modes by rate-distortion cost, quantises its
// coefficients and reconstructs it exactly as a decoder will (the next
// macroblocks are predicted from that reconstruction). It keeps the
// quantised coefficients: 800 bytes a macroblock, about 3.2 bytes a pixel.
// The second pass writes the modes and the coefficient tokens.

// mbInfo is what the first pass decided for one macroblock.
type mbInfo struct {
	ymode, uvmode uint8
	skip          bool // no non-zero coefficient
	bmodes        [16]uint8
	// coeffs are the quantised coefficients, natural order: 0-15 the luma
	// subblocks, 16-19 U, 20-23 V, 24 Y2.
	coeffs [25][16]int16
}

// quantizer is one block type's dequantisation factors and the rounding
// the encoder uses.
type quantizer struct {
	q    [2]int32 // DC, AC
	bias [2]int32 // added to |coefficient| before dividing, in 1/256 of q
	// Per coefficient index: the step, q*bias, and the divisor q*256 as a
	// multiplier, 2^quantShift/(q*256) rounded up (see init).
	step [16]int16
	add  [16]uint64
	mul  [16]uint64
}

// quantShift makes quantize's multiply an exact division: with the
// multiplier rounded up, n*mul>>quantShift is floor(n/d) as long as n
// times the rounding error (less than d < 2^17) stays under
// 2^quantShift; n < 2^24 for any int16 coefficient.
const quantShift = 44

// init fills the per-index tables from q and bias.
func (q *quantizer) init() {
	for i := range 16 {
		k := min(i, 1)
		d := uint64(q.q[k]) * 256
		q.step[i] = int16(q.q[k])
		q.add[i] = uint64(q.q[k] * q.bias[k])
		q.mul[i] = (1<<quantShift + d - 1) / d
	}
}

func (q *quantizer) quantize(c int16, i int) int16 {
	a := int32(c)
	neg := a < 0
	if neg {
		a = -a
	}
	l := int32(min((uint64(a)<<8+q.add[i&15])*q.mul[i&15]>>quantShift, maxLevel))
	if neg {
		l = -l
	}
	return int16(l)
}

// quantizeBlock quantises c from index first into out, and the levels
// times their steps (what the decoder's inverse transform reads) into
// deq.
func (q *quantizer) quantizeBlock(c, out, deq *[16]int16, first int) {
	for i := first; i < 16; i++ {
		l := q.quantize(c[i], i)
		out[i] = l
		deq[i] = l * q.step[i]
	}
}

type vp8Encoder struct {
	mbw, mbh int
	// Source and reconstruction planes, padded to whole macroblocks.
	y, u, v    []uint8
	ry, ru, rv []uint8
	ys, cs     int // strides

	qi          int
	y1, y2, uv  quantizer
	lambda      int64 // rate weight: J*256 = 256*SSE + lambda*rate(1/256 bit)
	lambdaB     int64 // the same for subblock mode decisions
	sadWeight   int64 // weight of absolute error when ranking subblock modes
	bPred       bool  // subblock modes allowed (see encodeLossy)
	lastMode    int   // the 16x16 and chroma modes tried are predDC..lastMode
	filterLevel int
	mbs         []mbInfo
	nzTop       [][9]bool // per macroblock column: 0-3 Y, 4-5 U, 6-7 V, 8 Y2
	nzLeft      [9]bool
	bmTop       []uint8 // subblock modes above, 4 per macroblock column
	bmLeft      [4]uint8
	coeffProbs  *[4]tokenProbs
	costs       *[4]*levelCosts // the first pass's token costs
}

// newVP8Encoder takes planes (studio range, 4:2:0, padded to whole
// macroblocks by edge replication) and a quantiser index 0-127.
func newVP8Encoder(mbw, mbh int, y, u, v []uint8, qi int) *vp8Encoder {
	e := &vp8Encoder{mbw: mbw, mbh: mbh, y: y, u: u, v: v, ys: 16 * mbw, cs: 8 * mbw, qi: qi}
	e.ry = make([]uint8, len(y))
	e.ru = make([]uint8, len(u))
	e.rv = make([]uint8, len(v))
	dc, ac := dcQLookup[qi], acQLookup[qi]
	e.y1.q = [2]int32{dc, ac}
	e.y2.q = [2]int32{2 * dc, max(ac*155/100, 8)}
	e.uv.q = [2]int32{min(dc, 132), ac}
	e.y1.bias = [2]int32{dcBias, acBias}
	e.y2.bias = [2]int32{dcBias, acBias}
	e.uv.bias = [2]int32{dcBias, acBias}
	e.y1.init()
	e.y2.init()
	e.uv.init()
	e.lambda = int64(ac) * int64(ac) * lambdaScale / 64
	e.lambdaB = e.lambda
	// The ranking weighs the prediction's absolute error (a stand-in for
	// the squared error left after quantisation, ~ error * step) against
	// the mode's cost in the full cost's units.
	e.sadWeight = int64(ac) * 64
	e.bPred, e.lastMode = true, predTM
	e.mbs = make([]mbInfo, mbw*mbh)
	e.nzTop = make([][9]bool, mbw)
	e.bmTop = make([]uint8, 4*mbw)
	e.coeffProbs = &defaultCoeffProbs
	e.costs = &defaultLevelCosts
	return e
}

// analyse is the first pass.
func (e *vp8Encoder) analyse() {
	for my := range e.mbh {
		e.nzLeft = [9]bool{}
		e.bmLeft = [4]uint8{}
		for mx := range e.mbw {
			e.encodeMB(mx, my)
		}
	}
}

// lumaEdges gathers the reconstructed pixels that predict macroblock (mx, my).
func (e *vp8Encoder) lumaEdges(mx, my int, ed *edges) {
	ed.hasTop, ed.hasLeft = my > 0, mx > 0
	x0, y0 := 16*mx, 16*my
	if my > 0 {
		row := e.ry[(y0-1)*e.ys:]
		copy(ed.top[:16], row[x0:x0+16])
		if mx < e.mbw-1 {
			copy(ed.top[16:20], row[x0+16:x0+20])
		} else {
			for i := 16; i < 20; i++ {
				ed.top[i] = row[x0+15]
			}
		}
	} else {
		for i := range ed.top {
			ed.top[i] = 127
		}
	}
	if mx > 0 {
		for i := range 16 {
			ed.left[i] = e.ry[(y0+i)*e.ys+x0-1]
		}
	} else {
		for i := range 16 {
			ed.left[i] = 129
		}
	}
	ed.p = corner(e.ry, e.ys, x0, y0)
}

func corner(plane []uint8, stride, x0, y0 int) uint8 {
	switch {
	case y0 == 0:
		return 127
	case x0 == 0:
		return 129
	}
	return plane[(y0-1)*stride+x0-1]
}

func (e *vp8Encoder) chromaEdges(plane []uint8, mx, my int, ed *edges) {
	ed.hasTop, ed.hasLeft = my > 0, mx > 0
	x0, y0 := 8*mx, 8*my
	if my > 0 {
		copy(ed.top[:8], plane[(y0-1)*e.cs+x0:])
	} else {
		for i := range 8 {
			ed.top[i] = 127
		}
	}
	for i := range 8 {
		if mx > 0 {
			ed.left[i] = plane[(y0+i)*e.cs+x0-1]
		} else {
			ed.left[i] = 129
		}
	}
	ed.p = corner(plane, e.cs, x0, y0)
}

// impliedBMode is the subblock mode a 16x16 mode stands for in the
// contexts of later subblock modes.
var impliedBMode = [4]uint8{bDC, bVE, bHE, bTM}

func (e *vp8Encoder) encodeMB(mx, my int) {
	mb := &e.mbs[my*e.mbw+mx]
	var src [256]uint8
	for y := range 16 {
		copy(src[16*y:16*y+16], e.y[(16*my+y)*e.ys+16*mx:])
	}
	var ed edges
	e.lumaEdges(mx, my, &ed)

	// 16x16 modes.
	best := int64(-1)
	var bestRec [256]uint8
	var trial mbInfo
	var rec [256]uint8
	var nz16 [16]bool
	var bestNZ [16]bool
	var bestY2NZ bool
	var preds [4][256]uint8
	var sads [4]int64
	for mode := predDC; mode <= e.lastMode; mode++ {
		predictBlock(mode, 16, &ed, preds[mode][:])
		sads[mode] = sad(src[:], preds[mode][:])*e.sadWeight + e.lambda*int64(treeCost(&yModeCodes[mode], yModeProbs))
	}
	order, n := ranked(sads[:e.lastMode+1], mbCandidates)
	for _, mode := range order[:n] {
		pred := &preds[mode]
		d, r, y2nz := e.tryI16(&src, pred, &trial, &rec, mx, &nz16)
		r += treeCost(&yModeCodes[mode], yModeProbs)
		j := 256*d + e.lambda*int64(r)
		if best < 0 || j < best {
			best = j
			mb.ymode = uint8(mode)
			copy(mb.coeffs[:16], trial.coeffs[:16])
			mb.coeffs[24] = trial.coeffs[24]
			bestRec = rec
			bestNZ = nz16
			bestY2NZ = y2nz
		}
	}
	// Subblock modes.
	if jb, ok := e.tryBPred(&src, &ed, &trial, &rec, mx, best, &nz16); ok && jb < best {
		mb.ymode = bPred
		mb.bmodes = trial.bmodes
		copy(mb.coeffs[:16], trial.coeffs[:16])
		mb.coeffs[24] = [16]int16{}
		bestRec = rec
		bestNZ = nz16
	}
	for y := range 16 {
		copy(e.ry[(16*my+y)*e.ys+16*mx:], bestRec[16*y:16*y+16])
	}

	// Chroma.
	e.encodeChroma(mb, mx, my)

	// Contexts, as the decoder will keep them.
	skip := true
	for b := range 24 {
		if lastNonZero(&mb.coeffs[b], 0) >= 0 {
			skip = false
		}
	}
	if mb.ymode != bPred && lastNonZero(&mb.coeffs[24], 0) >= 0 {
		skip = false
	}
	mb.skip = skip
	top, left := &e.nzTop[mx], &e.nzLeft
	for i := range 4 {
		top[i] = bestNZ[12+i]
		left[i] = bestNZ[4*i+3]
	}
	for p := range 2 {
		for i := range 2 {
			top[4+2*p+i] = lastNonZero(&mb.coeffs[16+4*p+2+i], 0) >= 0
			left[4+2*p+i] = lastNonZero(&mb.coeffs[16+4*p+2*i+1], 0) >= 0
		}
	}
	if mb.ymode != bPred {
		top[8], left[8] = bestY2NZ, bestY2NZ
	}
	if skip { // the decoder resets these contexts of a skipped macroblock
		for i := range 8 {
			top[i], left[i] = false, false
		}
	}
	for i := range 4 {
		if mb.ymode == bPred {
			e.bmTop[4*mx+i] = mb.bmodes[12+i]
			e.bmLeft[i] = mb.bmodes[4*i+3]
		} else {
			e.bmTop[4*mx+i] = impliedBMode[mb.ymode]
			e.bmLeft[i] = impliedBMode[mb.ymode]
		}
	}
}

// tryI16 codes the luma of a macroblock with a 16x16 prediction: into
// out.coeffs[0:16] and [24], the reconstruction into rec, whether each
// subblock has non-zero coefficients into nz. It returns the squared
// error and the tokens' cost, and whether Y2 has non-zero coefficients.
func (e *vp8Encoder) tryI16(src, pred *[256]uint8, out *mbInfo, rec *[256]uint8, mx int, nz *[16]bool) (int64, int32, bool) {
	var dc [16]int16
	var deqs [16][16]int16 // the luma blocks dequantised, DC apart
	for b := range 16 {
		bx, by := b&3, b>>2
		var res, c [16]int16
		for y := range 4 {
			for x := range 4 {
				i := (4*by+y)*16 + 4*bx + x
				res[4*y+x] = int16(src[i]) - int16(pred[i])
			}
		}
		fdct(&res, &c)
		dc[b] = c[0]
		out.coeffs[b][0] = 0
		e.y1.quantizeBlock(&c, &out.coeffs[b], &deqs[b], 1)
	}
	var y2c [16]int16
	fwht(&dc, &y2c)
	y2 := &out.coeffs[24]
	var deq, dcs [16]int16
	e.y2.quantizeBlock(&y2c, y2, &deq, 0)
	iwht(&deq, &dcs)

	probs := e.costs[typeYAfterY2]
	top, left := e.nzTop[mx], e.nzLeft
	y2nz := lastNonZero(y2, 0) >= 0
	rate := blockCost(e.costs[typeY2], b2i(top[8])+b2i(left[8]), 0, y2)
	var dist int64
	for b := range 16 {
		bx, by := b&3, b>>2
		c := &out.coeffs[b]
		a := top[bx]
		if by > 0 {
			a = nz[b-4]
		}
		l := left[by]
		if bx > 0 {
			l = nz[b-1]
		}
		rate += blockCost(probs, b2i(a)+b2i(l), 1, c)
		nz[b] = lastNonZero(c, 1) >= 0
		deq := &deqs[b]
		deq[0] = dcs[b]
		var res [16]int16
		idct(deq, &res)
		for y := range 4 {
			for x := range 4 {
				i := (4*by+y)*16 + 4*bx + x
				v := clamp255(int(pred[i]) + int(res[4*y+x]))
				rec[i] = v
				d := int64(v) - int64(src[i])
				dist += d * d
			}
		}
	}
	return dist, rate, y2nz
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// tryBPred codes the luma of a macroblock with a mode per subblock, each
// chosen by rate-distortion cost given the ones before it. It gives up
// (false) once the cost passes limit.
func (e *vp8Encoder) tryBPred(src *[256]uint8, ed *edges, out *mbInfo, rec *[256]uint8, mx int, limit int64, nz *[16]bool) (int64, bool) {
	if !e.bPred {
		return 0, false
	}
	// w holds the edges and the reconstruction: row 0 is the corner and
	// the row above (20 pixels), column 0 the column to the left.
	var w [17][21]uint8
	w[0][0] = ed.p
	copy(w[0][1:], ed.top[:])
	for y := range 16 {
		w[1+y][0] = ed.left[y]
	}
	probs := e.costs[typeYWithDC]
	top, left := e.nzTop[mx], e.nzLeft
	j := 256 * int64(treeCost(&yModeCodes[bPred], yModeProbs)) * e.lambdaB / 256
	for b := range 16 {
		bx, by := b&3, b>>2
		var a [8]uint8
		var l [4]uint8
		copy(a[:4], w[4*by][4*bx+1:])
		if bx == 3 {
			copy(a[4:], w[0][17:21])
		} else {
			copy(a[4:], w[4*by][4*bx+5:])
		}
		for i := range 4 {
			l[i] = w[4*by+1+i][4*bx]
		}
		p := w[4*by][4*bx]
		am, lm := e.bmTop[4*mx+bx], e.bmLeft[by]
		if by > 0 {
			am = out.bmodes[b-4]
		}
		if bx > 0 {
			lm = out.bmodes[b-1]
		}
		na, nl := top[bx], left[by]
		if by > 0 {
			na = nz[b-4]
		}
		if bx > 0 {
			nl = nz[b-1]
		}
		ctx := b2i(na) + b2i(nl)
		var s [16]int16
		for y := range 4 {
			for x := range 4 {
				s[4*y+x] = int16(src[(4*by+y)*16+4*bx+x])
			}
		}
		bestJ := int64(-1)
		var bestRec [16]uint8
		var bestC [16]int16
		// Rank the modes by a cheap estimate (absolute error of the
		// prediction and the mode's cost), then code the best few.
		modeCosts := &bModeCosts[am][lm]
		var preds [numBModes][16]uint8
		var est [numBModes]int64
		var order [numBModes]int
		for mode := range numBModes {
			predictSub(mode, &a, &l, p, &preds[mode])
			var sad int64
			for i := range 16 {
				d := int64(s[i]) - int64(preds[mode][i])
				if d < 0 {
					d = -d
				}
				sad += d
			}
			est[mode] = sad*e.sadWeight + e.lambdaB*int64(modeCosts[mode])
			order[mode] = mode
			for i := mode; i > 0 && est[order[i]] < est[order[i-1]]; i-- {
				order[i], order[i-1] = order[i-1], order[i]
			}
		}
		for rank, mode := range order[:bCandidates] {
			if rank > 0 && est[mode]*bPruneDen > est[order[0]]*bPruneNum {
				break // see bPruneNum
			}
			pred := &preds[mode]
			var res, c, q, deq [16]int16
			for i := range 16 {
				res[i] = s[i] - int16(pred[i])
			}
			fdct(&res, &c)
			e.y1.quantizeBlock(&c, &q, &deq, 0)
			idct(&deq, &res)
			var dist int64
			var r [16]uint8
			for i := range 16 {
				v := clamp255(int(pred[i]) + int(res[i]))
				r[i] = v
				d := int64(v) - int64(s[i])
				dist += d * d
			}
			rate := blockCost(probs, ctx, 0, &q) + modeCosts[mode]
			jm := 256*dist + e.lambdaB*int64(rate)
			if bestJ < 0 || jm < bestJ {
				bestJ, bestRec, bestC = jm, r, q
				out.bmodes[b] = uint8(mode)
			}
		}
		j += bestJ
		if j >= limit {
			return j, false
		}
		out.coeffs[b] = bestC
		nz[b] = lastNonZero(&bestC, 0) >= 0
		for y := range 4 {
			copy(w[4*by+1+y][4*bx+1:], bestRec[4*y:4*y+4])
			copy(rec[(4*by+y)*16+4*bx:], bestRec[4*y:4*y+4])
		}
	}
	return j, true
}

// encodeChroma chooses the chroma mode and codes U and V.
func (e *vp8Encoder) encodeChroma(mb *mbInfo, mx, my int) {
	var eu, ev edges
	e.chromaEdges(e.ru, mx, my, &eu)
	e.chromaEdges(e.rv, mx, my, &ev)
	var src [2][64]uint8
	for y := range 8 {
		copy(src[0][8*y:8*y+8], e.u[(8*my+y)*e.cs+8*mx:])
		copy(src[1][8*y:8*y+8], e.v[(8*my+y)*e.cs+8*mx:])
	}
	probs := e.costs[typeUV]
	top, left := e.nzTop[mx], e.nzLeft
	best := int64(-1)
	var bestRec [2][64]uint8
	var preds [4][2][64]uint8
	var sads [4]int64
	for mode := predDC; mode <= e.lastMode; mode++ {
		predictBlock(mode, 8, &eu, preds[mode][0][:])
		predictBlock(mode, 8, &ev, preds[mode][1][:])
		sads[mode] = (sad(src[0][:], preds[mode][0][:])+sad(src[1][:], preds[mode][1][:]))*e.sadWeight +
			e.lambda*int64(treeCost(&uvModeCodes[mode], uvModeProbs))
	}
	order, n := ranked(sads[:e.lastMode+1], mbCandidates)
	for _, mode := range order[:n] {
		var coeffs [8][16]int16
		var rec [2][64]uint8
		var dist int64
		rate := treeCost(&uvModeCodes[mode], uvModeProbs)
		for p := range 2 {
			pred := &preds[mode][p]
			var nz [4]bool
			for b := range 4 {
				bx, by := b&1, b>>1
				var res, c, deq [16]int16
				for y := range 4 {
					for x := range 4 {
						i := (4*by+y)*8 + 4*bx + x
						res[4*y+x] = int16(src[p][i]) - int16(pred[i])
					}
				}
				fdct(&res, &c)
				q := &coeffs[4*p+b]
				e.uv.quantizeBlock(&c, q, &deq, 0)
				a, l := top[4+2*p+bx], left[4+2*p+by]
				if by > 0 {
					a = nz[b-2]
				}
				if bx > 0 {
					l = nz[b-1]
				}
				rate += blockCost(probs, b2i(a)+b2i(l), 0, q)
				nz[b] = lastNonZero(q, 0) >= 0
				idct(&deq, &res)
				for y := range 4 {
					for x := range 4 {
						i := (4*by+y)*8 + 4*bx + x
						v := clamp255(int(pred[i]) + int(res[4*y+x]))
						rec[p][i] = v
						d := int64(v) - int64(src[p][i])
						dist += d * d
					}
				}
			}
		}
		j := 256*dist + e.lambda*int64(rate)
		if best < 0 || j < best {
			best = j
			mb.uvmode = uint8(mode)
			copy(mb.coeffs[16:24], coeffs[:])
			bestRec = rec
		}
	}
	for y := range 8 {
		copy(e.ru[(8*my+y)*e.cs+8*mx:], bestRec[0][8*y:8*y+8])
		copy(e.rv[(8*my+y)*e.cs+8*mx:], bestRec[1][8*y:8*y+8])
	}
}

// Rate-distortion constants. lambdaScale/64 * ac_q^2 is the rate weight:
// theory (dD/dR = 2 ln 2 * D for a uniform quantiser at high rate, step
// ac_q/2 in the orthonormal DCT's units) gives about 1.85/64, and a sweep
// of 1 to 14 over three photos at quantiser indices 12-40 had PSNR at
// equal size best at 1-3 (+0.3 dB over 9). The rounding biases (in 1/256
// of the step, added before truncation) were swept over 70-128: 110 was
// best for AC; DC made little difference.
const (
	// bCandidates is how many subblock modes, of the 10, are coded in full
	// to choose by rate-distortion cost, once ranked by a cheap estimate
	// (absolute error and mode cost). On three 800-wide photos at quality
	// 75, 4 cost +0.1% bytes and -0.02 dB against all 10 and halves the
	// subblock search; 2 cost +0.9%.
	bCandidates = 4
	// Of those, a mode whose estimate exceeds the best one's by more than
	// bPruneNum/bPruneDen is not coded (nor the ones after it). On 12 of
	// the benchmark photos at q80, 1.5 skipped a third of the subblock
	// codings and changed the choice of 3.7% of subblocks; on the 36
	// photos (bench/webp-rd.sh's four qualities) BD-rate against cwebp
	// went from -0.2% to +0.2%, for 6-9% less CPU in the WebP job.
	bPruneNum, bPruneDen = 3, 2
	// mbCandidates is the same for the four 16x16 luma modes and the four
	// chroma modes: 2 against all 4 cost +0.15% bytes and -0.01 to -0.02 dB
	// on four 800-wide photos at quality 50 and 80, for a third less CPU.
	mbCandidates = 2
	// mbPruneNum/mbPruneDen is bPruneNum/bPruneDen for the second of them:
	// on the 36 photos, BD-rate +0.2% to +0.4%, for 1-6% less CPU in the
	// WebP job (three interleaved runs on a loaded machine).
	mbPruneNum, mbPruneDen = 3, 2
	lambdaScale            = 2
	dcBias                 = 110
	acBias                 = 110
)

// sad is the sum of absolute differences of two blocks.
func sad(a, b []uint8) int64 {
	var s int64
	for i := range a {
		d := int64(a[i]) - int64(b[i])
		if d < 0 {
			d = -d
		}
		s += d
	}
	return s
}

// ranked returns the indices of the n smallest of est (at most 4),
// smallest first, without those whose estimate exceeds the smallest by
// more than mbPruneNum/mbPruneDen.
func ranked(est []int64, n int) ([4]int, int) {
	var order [4]int
	k := 0
	for i := range est {
		order[k] = i
		k++
		for j := k - 1; j > 0 && est[order[j]] < est[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	n = min(n, k)
	for i := 1; i < n; i++ {
		if est[order[i]]*mbPruneDen > est[order[0]]*mbPruneNum {
			return order, i
		}
	}
	return order, n
}
