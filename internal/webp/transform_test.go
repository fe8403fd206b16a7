package webp

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The forward transforms invert the spec's inverse ones to within
// rounding.
func TestTransformsInvert(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		var in, c, back [16]int16
		for i := range in {
			in[i] = int16(rng.IntN(511) - 255)
		}
		fdct(&in, &c)
		idct(&c, &back)
		for i := range in {
			if d := in[i] - back[i]; d < -1 || d > 1 {
				t.Fatalf("dct: %v -> %v -> %v", in, c, back)
			}
		}
		for i := range in {
			in[i] = int16(rng.IntN(4001) - 2000)
		}
		fwht(&in, &c)
		iwht(&c, &back)
		for i := range in {
			if d := in[i] - back[i]; d < -1 || d > 1 {
				t.Fatalf("wht: %v -> %v -> %v", in, c, back)
			}
		}
	}
}

// fdctMatrix is the forward DCT as the matrix product of its definition,
// the basis rounded to 1/4096: what fdct's butterflies must equal exactly.
func fdctMatrix(in *[16]int16, out *[16]int16) {
	var basis [4][4]int64
	for k := range 4 {
		for n := range 4 {
			v := math.Sqrt2 / 2
			if k > 0 {
				v = math.Cos(float64((2*n+1)*k) * math.Pi / 8)
			}
			basis[k][n] = int64(math.Round(v * 4096))
		}
	}
	var tmp [16]int64
	for y := range 4 {
		for u := range 4 {
			for n := range 4 {
				tmp[4*y+u] += basis[u][n] * int64(in[4*y+n])
			}
		}
	}
	for u := range 4 {
		for v := range 4 {
			var s int64
			for n := range 4 {
				s += basis[v][n] * tmp[4*n+u]
			}
			out[4*v+u] = fdctRound(s)
		}
	}
}

func TestFDCTMatchesMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var in, got, want [16]int16
		for i := range in {
			in[i] = int16(rng.IntN(511) - 255)
		}
		if rng.IntN(8) == 0 { // extremes
			for i := range in {
				in[i] = int16(255 - 510*rng.IntN(2))
			}
		}
		fdct(&in, &got)
		fdctMatrix(&in, &want)
		if got != want {
			t.Fatalf("fdct(%v) = %v, the matrix product gives %v", in, got, want)
		}
	}
}

func BenchmarkFDCT(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	var in [64][16]int16
	for i := range in {
		for j := range in[i] {
			in[i][j] = int16(rng.IntN(61) - 30)
		}
	}
	var out [16]int16
	i := 0
	for b.Loop() {
		fdct(&in[i&63], &out)
		i++
	}
}
