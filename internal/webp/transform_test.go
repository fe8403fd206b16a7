package webp

import (
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
