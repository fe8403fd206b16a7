package webp

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

// The forward DCT's basis in 1/4096: the DC row sqrt(2)/2 (2896), the
// others cos((2n+1)k*pi/8), which take only the values cos(pi/8) (3784),
// cos(pi/4) (2896) and cos(3pi/8) (1567) up to sign. fdct applies it as
// butterflies, with exactly the products and sums of the matrix product
// (transform_test.go checks both against the cosines).
const (
	fdctC2 = 2896 // sqrt(2)/2 = cos(pi/4)
	fdctC1 = 3784 // cos(pi/8)
	fdctC3 = 1567 // cos(3pi/8)
)

// fdct transforms a 4x4 residual (row-major) into coefficients, rounded.
// It is unrolled into locals, rows then columns, and rounds without
// branches: the signs of residuals are a coin toss for the predictor.
func fdct(in *[16]int16, out *[16]int16) {
	// Rows: horizontal frequencies, in 1/4096.
	row := func(r0, r1, r2, r3 int16) (t0, t1, t2, t3 int64) {
		a, b := int64(r0)+int64(r3), int64(r1)+int64(r2)
		c, d := int64(r1)-int64(r2), int64(r0)-int64(r3)
		return fdctC2 * (a + b), fdctC1*d + fdctC3*c, fdctC2 * (a - b), fdctC3*d - fdctC1*c
	}
	t00, t01, t02, t03 := row(in[0], in[1], in[2], in[3])
	t10, t11, t12, t13 := row(in[4], in[5], in[6], in[7])
	t20, t21, t22, t23 := row(in[8], in[9], in[10], in[11])
	t30, t31, t32, t33 := row(in[12], in[13], in[14], in[15])
	// Columns: vertical frequencies, in 1/2^24.
	col := func(t0, t1, t2, t3 int64) (o0, o1, o2, o3 int16) {
		a, b, c, d := t0+t3, t1+t2, t1-t2, t0-t3
		return fdctRound(fdctC2 * (a + b)), fdctRound(fdctC1*d + fdctC3*c),
			fdctRound(fdctC2 * (a - b)), fdctRound(fdctC3*d - fdctC1*c)
	}
	out[0], out[4], out[8], out[12] = col(t00, t10, t20, t30)
	out[1], out[5], out[9], out[13] = col(t01, t11, t21, t31)
	out[2], out[6], out[10], out[14] = col(t02, t12, t22, t32)
	out[3], out[7], out[11], out[15] = col(t03, t13, t23, t33)
}

// fdctRound rounds s, in 1/2^24, to the nearest integer, halves away from
// zero.
func fdctRound(s int64) int16 {
	m := s >> 63 // -1 if negative, else 0
	r := ((s ^ m) - m + 1<<23) >> 24
	return int16((r ^ m) - m)
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
