package webp

// boolEncoder is VP8's boolean entropy coder (RFC 6386 section 7): each
// call codes one bool whose probability of being false is prob/256. The
// output grows in buf; carries ripple back into bytes already written.
type boolEncoder struct {
	buf    []byte
	rng    uint32 // 128 <= rng <= 255 between calls
	bottom uint32 // low end of the interval, top byte not yet final
	count  int    // shifts left before the top byte of bottom is written
}

func newBoolEncoder(capacity int) *boolEncoder {
	return &boolEncoder{buf: make([]byte, 0, capacity), rng: 255, count: 24}
}

// carry adds one to the bytes written so far.
func (e *boolEncoder) carry() {
	for i := len(e.buf) - 1; i >= 0; i-- {
		e.buf[i]++
		if e.buf[i] != 0 {
			return
		}
	}
}

func (e *boolEncoder) put(prob uint8, bit bool) {
	split := 1 + (((e.rng - 1) * uint32(prob)) >> 8)
	if bit {
		e.bottom += split
		e.rng -= split
	} else {
		e.rng = split
	}
	for e.rng < 128 {
		e.rng <<= 1
		if e.bottom&(1<<31) != 0 {
			e.carry()
		}
		e.bottom <<= 1
		e.count--
		if e.count == 0 {
			e.buf = append(e.buf, byte(e.bottom>>24))
			e.bottom &= 1<<24 - 1
			e.count = 8
		}
	}
}

// putBit codes an even-odds bool.
func (e *boolEncoder) putBit(bit bool) { e.put(128, bit) }

// putLiteral codes the n low bits of v, most significant first (the
// spec's L(n)).
func (e *boolEncoder) putLiteral(v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		e.putBit(v>>uint(i)&1 != 0)
	}
}

// putSigned codes a flag, then magnitude and sign if v != 0 (the header's
// optional deltas).
func (e *boolEncoder) putSigned(v int32, n int) {
	if v == 0 {
		e.putBit(false)
		return
	}
	e.putBit(true)
	e.putLiteral(uint32(abs32(v)), n)
	e.putBit(v < 0)
}

// finish flushes the coder and returns the partition's bytes.
func (e *boolEncoder) finish() []byte {
	c := e.count
	v := e.bottom
	if v&(1<<(32-c)) != 0 {
		e.carry()
	}
	v <<= c & 7
	for c >>= 3; c > 0; c-- {
		v <<= 8
	}
	for range 4 {
		e.buf = append(e.buf, byte(v>>24))
		v <<= 8
	}
	return e.buf
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}
