package jpeg

import "encoding/binary"

// Inverse DCTs.
//
// The 2-D IDCT of T.81 A.3.3 is separable: f = T F Tᵀ with
// T[x][u] = C(u)/2 · cos((2x+1)uπ/16). Each 1-D 8-point transform is split
// into even and odd halves: with cj = cos(jπ/16)/2,
//
//	even: E[n] = (F0 ± F4)·c4 + (F2, F6 terms with c2, c6)
//	odd:  O[n] = Σ F(1,3,5,7) · ±c(1,3,5,7) (a 4x4 matrix of cosines)
//	f[n] = E[n] + O[n], f[7-n] = E[n] - O[n]
//
// The reduced transforms for scale 2 and 4 are the 4- and 2-point IDCTs of
// the top-left 4x4 / 2x2 coefficients, normalised so that the DC gain is the
// same (an output sample approximates the mean of the scale x scale block
// it replaces). Scale 8 needs only the DC coefficient.
//
// Fixed point: constants carry 13 fractional bits; the first (column) pass
// keeps 2 extra bits of precision, the second (row) pass removes them, adds
// the +128 level shift and rounds.

const (
	fixBits   = 13
	pass1Bits = 2
	c1        = 4017 // cos(1π/16)/2 · 2^13
	c2        = 3784
	c3        = 3406
	c4        = 2896
	c5        = 2276
	c6        = 1567
	c7        = 799

	pass1Shift = fixBits - pass1Bits
	pass1Round = 1 << (pass1Shift - 1)
	pass2Shift = fixBits + pass1Bits
	pass2Bias  = 128<<pass2Shift + 1<<(pass2Shift-1)
)

func clamp8(v int32) uint64 {
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint64(v)
}

// dcValue is the sample value of a block whose only non-zero coefficient is
// the (dequantised) DC one, computed exactly as idct8 would.
func dcValue(dc int32) byte {
	t := (dc*c4 + pass1Round) >> pass1Shift
	return byte(clamp8((t*c4 + pass2Bias) >> pass2Shift))
}

// fillDC writes a size x size block of the DC value.
func fillDC(dc int32, size int, out []byte, stride int) {
	v := dcValue(dc)
	switch size {
	case 8:
		w := uint64(v) * 0x0101010101010101
		for y := 0; y < 8; y++ {
			binary.LittleEndian.PutUint64(out[y*stride:], w)
		}
	case 4:
		w := uint32(v) * 0x01010101
		for y := 0; y < 4; y++ {
			binary.LittleEndian.PutUint32(out[y*stride:], w)
		}
	default:
		out[0] = v
	}
}

// idct8 transforms the natural-order coefficients in blk[:64], writes 8x8
// samples to out and zeroes blk[:64].
func idct8(blk *[128]int32, out []byte, stride int) {
	var tmp [64]int32
	// Pass 1: columns.
	for x := 0; x < 8; x++ {
		f0, f1, f2, f3 := blk[x], blk[8+x], blk[16+x], blk[24+x]
		f4, f5, f6, f7 := blk[32+x], blk[40+x], blk[48+x], blk[56+x]
		if f1|f2|f3|f4|f5|f6|f7 == 0 {
			if f0 != 0 {
				v := (f0*c4 + pass1Round) >> pass1Shift
				tmp[x], tmp[8+x], tmp[16+x], tmp[24+x] = v, v, v, v
				tmp[32+x], tmp[40+x], tmp[48+x], tmp[56+x] = v, v, v, v
				blk[x] = 0
			}
			continue
		}
		e0, e1, e2, e3, o0, o1, o2, o3 := butterfly8(f0, f1, f2, f3, f4, f5, f6, f7, pass1Round)
		tmp[x] = (e0 + o0) >> pass1Shift
		tmp[56+x] = (e0 - o0) >> pass1Shift
		tmp[8+x] = (e1 + o1) >> pass1Shift
		tmp[48+x] = (e1 - o1) >> pass1Shift
		tmp[16+x] = (e2 + o2) >> pass1Shift
		tmp[40+x] = (e2 - o2) >> pass1Shift
		tmp[24+x] = (e3 + o3) >> pass1Shift
		tmp[32+x] = (e3 - o3) >> pass1Shift
		blk[x], blk[8+x], blk[16+x], blk[24+x] = 0, 0, 0, 0
		blk[32+x], blk[40+x], blk[48+x], blk[56+x] = 0, 0, 0, 0
	}
	// Pass 2: rows.
	for y := 0; y < 8; y++ {
		r := tmp[y*8 : y*8+8 : y*8+8]
		f0, f1, f2, f3, f4, f5, f6, f7 := r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
		var w uint64
		if f1|f2|f3|f4|f5|f6|f7 == 0 {
			w = clamp8((f0*c4+pass2Bias)>>pass2Shift) * 0x0101010101010101
		} else {
			e0, e1, e2, e3, o0, o1, o2, o3 := butterfly8(f0, f1, f2, f3, f4, f5, f6, f7, pass2Bias)
			w = clamp8((e0+o0)>>pass2Shift) |
				clamp8((e1+o1)>>pass2Shift)<<8 |
				clamp8((e2+o2)>>pass2Shift)<<16 |
				clamp8((e3+o3)>>pass2Shift)<<24 |
				clamp8((e3-o3)>>pass2Shift)<<32 |
				clamp8((e2-o2)>>pass2Shift)<<40 |
				clamp8((e1-o1)>>pass2Shift)<<48 |
				clamp8((e0-o0)>>pass2Shift)<<56
		}
		binary.LittleEndian.PutUint64(out[y*stride:], w)
	}
}

// butterfly8 is the 1-D 8-point IDCT split into its even (e) and odd (o)
// halves, with bias added to the even ones: output n is e[n] + o[n] and
// output 7-n is e[n] - o[n], both still to be shifted down.
func butterfly8(f0, f1, f2, f3, f4, f5, f6, f7, bias int32) (e0, e1, e2, e3, o0, o1, o2, o3 int32) {
	ee0 := (f0+f4)*c4 + bias
	ee1 := (f0-f4)*c4 + bias
	eo0 := f2*c2 + f6*c6
	eo1 := f2*c6 - f6*c2
	e0, e3 = ee0+eo0, ee0-eo0
	e1, e2 = ee1+eo1, ee1-eo1
	o0 = f1*c1 + f3*c3 + f5*c5 + f7*c7
	o1 = f1*c3 - f3*c7 - f5*c1 - f7*c5
	o2 = f1*c5 - f3*c1 + f5*c7 + f7*c3
	o3 = f1*c7 - f3*c5 + f5*c3 - f7*c1
	return
}

// idct4 transforms the top-left 4x4 coefficients of blk into 4x4 samples
// (scale 1/2) and zeroes them.
func idct4(blk *[128]int32, out []byte, stride int) {
	var tmp [16]int32
	for x := 0; x < 4; x++ {
		f0, f1, f2, f3 := blk[x], blk[8+x], blk[16+x], blk[24+x]
		blk[x], blk[8+x], blk[16+x], blk[24+x] = 0, 0, 0, 0
		e0 := (f0+f2)*c4 + pass1Round
		e1 := (f0-f2)*c4 + pass1Round
		o0 := f1*c2 + f3*c6
		o1 := f1*c6 - f3*c2
		tmp[x] = (e0 + o0) >> pass1Shift
		tmp[12+x] = (e0 - o0) >> pass1Shift
		tmp[4+x] = (e1 + o1) >> pass1Shift
		tmp[8+x] = (e1 - o1) >> pass1Shift
	}
	for y := 0; y < 4; y++ {
		r := tmp[y*4 : y*4+4 : y*4+4]
		f0, f1, f2, f3 := r[0], r[1], r[2], r[3]
		e0 := (f0+f2)*c4 + pass2Bias
		e1 := (f0-f2)*c4 + pass2Bias
		o0 := f1*c2 + f3*c6
		o1 := f1*c6 - f3*c2
		w := clamp8((e0+o0)>>pass2Shift) |
			clamp8((e1+o1)>>pass2Shift)<<8 |
			clamp8((e1-o1)>>pass2Shift)<<16 |
			clamp8((e0-o0)>>pass2Shift)<<24
		binary.LittleEndian.PutUint32(out[y*stride:], uint32(w))
	}
}

// idct2 transforms the top-left 2x2 coefficients of blk into 2x2 samples
// (scale 1/4) and zeroes them. With the DC-preserving normalisation every
// basis function contributes ±1/8 of its coefficient.
func idct2(blk *[128]int32, out []byte, stride int) {
	f00, f01, f10, f11 := blk[0], blk[1], blk[8], blk[9]
	blk[0], blk[1], blk[8], blk[9] = 0, 0, 0, 0
	a, b := f00+f10, f00-f10 // top / bottom row sums of the vertical part
	const bias = 128<<3 + 4
	out[0] = byte(clamp8((a + f01 + f11 + bias) >> 3))
	out[1] = byte(clamp8((a - f01 - f11 + bias) >> 3))
	out[stride] = byte(clamp8((b + f01 - f11 + bias) >> 3))
	out[stride+1] = byte(clamp8((b - f01 + f11 + bias) >> 3))
}
