package webp

import "testing"

// quantize's multiply is the division it stands for, for every
// coefficient of every quantiser the encoder can build.
func TestQuantizeIsDivision(t *testing.T) {
	var y [256]uint8
	var p [64]uint8
	for qi := range 128 {
		e := newVP8Encoder(1, 1, y[:], p[:64], p[:64], qi)
		for _, q := range []*quantizer{&e.y1, &e.y2, &e.uv} {
			for i := range 2 {
				d := q.q[i] * 256
				for c := -32768; c <= 32767; c++ {
					a := int32(c)
					if a < 0 {
						a = -a
					}
					want := min((a*256+q.q[i]*q.bias[i])/d, maxLevel)
					if c < 0 {
						want = -want
					}
					if got := q.quantize(int16(c), i); int32(got) != want {
						t.Fatalf("qi %d q %d bias %d: quantize(%d) = %d, want %d", qi, q.q[i], q.bias[i], c, got, want)
					}
				}
			}
		}
	}
}
