package webp

import "math"

// Transforms. The inverse DCT and WHT are RFC 6386 section 14's integer
// transforms, bit for bit, because the encoder must reconstruct exactly
// what the decoder will and predict from that. The forward transforms only
// need to approximate their inverses; they are floating point, scaled so
// that inverse(forward(x)) == x: the spec's inverse DCT is
// x = C' X C / 8 with C's DC row 1 and the others sqrt(2)*cos, so the
// forward DCT's DC basis is sqrt(2)/2 and the others cos; the inverse WHT
// is H X H' / 8 with H a 4x4 Hadamard matrix (H H' = 4I), so the forward
// WHT is H' x H / 2.

// Coefficients are indexed 4*v + u: v the vertical frequency, u the
// horizontal one, as the inverse transforms read them.

// fdctBasis[k][n] is the forward DCT basis in 1/4096.
var fdctBasis = func() (b [4][4]int64) {
	for k := range 4 {
		for n := range 4 {
			v := math.Sqrt2 / 2
			if k > 0 {
				v = math.Cos(float64((2*n+1)*k) * math.Pi / 8)
			}
			b[k][n] = int64(math.Round(v * 4096))
		}
	}
	return b
}()

// fdct transforms a 4x4 residual (row-major) into coefficients, rounded.
func fdct(in *[16]int16, out *[16]int16) {
	var tmp [16]int64  // in 1/4096
	for y := range 4 { // rows: horizontal frequencies
		r0, r1, r2, r3 := int64(in[4*y]), int64(in[4*y+1]), int64(in[4*y+2]), int64(in[4*y+3])
		for u := range 4 {
			b := &fdctBasis[u]
			tmp[4*y+u] = b[0]*r0 + b[1]*r1 + b[2]*r2 + b[3]*r3
		}
	}
	for u := range 4 { // columns: vertical frequencies
		t0, t1, t2, t3 := tmp[u], tmp[4+u], tmp[8+u], tmp[12+u]
		for v := range 4 {
			b := &fdctBasis[v]
			s := b[0]*t0 + b[1]*t1 + b[2]*t2 + b[3]*t3 // in 1/2^24
			if s >= 0 {
				out[4*v+u] = int16((s + 1<<23) >> 24)
			} else {
				out[4*v+u] = -int16((-s + 1<<23) >> 24)
			}
		}
	}
}

// idct is RFC 6386 section 14.4's short_idct4x4llm_c: coefficients to a
// 4x4 residual.
func idct(in *[16]int16, out *[16]int16) {
	const c1, s1 = 20091, 35468 // sqrt(2)*cos(pi/8)-1, sqrt(2)*sin(pi/8), 16-bit fixed point
	var tmp [16]int32
	for i := range 4 {
		i0, i4, i8, i12 := int32(in[i]), int32(in[4+i]), int32(in[8+i]), int32(in[12+i])
		a := i0 + i8
		b := i0 - i8
		c := (i4 * s1 >> 16) - (i12 + (i12 * c1 >> 16))
		d := (i4 + (i4 * c1 >> 16)) + (i12 * s1 >> 16)
		tmp[i] = a + d
		tmp[12+i] = a - d
		tmp[4+i] = b + c
		tmp[8+i] = b - c
	}
	for i := range 4 {
		r := tmp[4*i : 4*i+4]
		a := r[0] + r[2]
		b := r[0] - r[2]
		c := (r[1] * s1 >> 16) - (r[3] + (r[3] * c1 >> 16))
		d := (r[1] + (r[1] * c1 >> 16)) + (r[3] * s1 >> 16)
		out[4*i] = int16((a + d + 4) >> 3)
		out[4*i+3] = int16((a - d + 4) >> 3)
		out[4*i+1] = int16((b + c + 4) >> 3)
		out[4*i+2] = int16((b - c + 4) >> 3)
	}
}

// fwht transforms the 16 luma DC coefficients of a macroblock (in
// subblock raster order) into the Y2 block.
func fwht(in *[16]int16, out *[16]int16) {
	// H's rows: [1 1 1 1], [1 1 -1 -1], [1 -1 -1 1], [1 -1 1 -1].
	var tmp [16]int32
	for y := range 4 {
		a0, a1, a2, a3 := int32(in[4*y]), int32(in[4*y+1]), int32(in[4*y+2]), int32(in[4*y+3])
		tmp[4*y] = a0 + a1 + a2 + a3
		tmp[4*y+1] = a0 + a1 - a2 - a3
		tmp[4*y+2] = a0 - a1 - a2 + a3
		tmp[4*y+3] = a0 - a1 + a2 - a3
	}
	for u := range 4 {
		a0, a1, a2, a3 := tmp[u], tmp[4+u], tmp[8+u], tmp[12+u]
		out[u] = int16(halve(a0 + a1 + a2 + a3))
		out[4+u] = int16(halve(a0 + a1 - a2 - a3))
		out[8+u] = int16(halve(a0 - a1 - a2 + a3))
		out[12+u] = int16(halve(a0 - a1 + a2 - a3))
	}
}

// halve divides by two, rounding half away from zero.
func halve(v int32) int32 {
	if v < 0 {
		return -((-v + 1) >> 1)
	}
	return (v + 1) >> 1
}

// iwht is RFC 6386 section 14.3's vp8_short_inv_walsh4x4_c.
func iwht(in *[16]int16, out *[16]int16) {
	var tmp [16]int32
	for i := range 4 {
		a := int32(in[i]) + int32(in[12+i])
		b := int32(in[4+i]) + int32(in[8+i])
		c := int32(in[4+i]) - int32(in[8+i])
		d := int32(in[i]) - int32(in[12+i])
		tmp[i] = a + b
		tmp[4+i] = c + d
		tmp[8+i] = a - b
		tmp[12+i] = d - c
	}
	for i := range 4 {
		r := tmp[4*i : 4*i+4]
		a := r[0] + r[3]
		b := r[1] + r[2]
		c := r[1] - r[2]
		d := r[0] - r[3]
		out[4*i] = int16((a + b + 3) >> 3)
		out[4*i+1] = int16((c + d + 3) >> 3)
		out[4*i+2] = int16((a - b + 3) >> 3)
		out[4*i+3] = int16((d - c + 3) >> 3)
	}
}
