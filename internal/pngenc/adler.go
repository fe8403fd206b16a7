package pngenc

// adlerMod is Adler-32's modulus, the largest prime below 2^16.
const adlerMod = 65521

// adlerCombine returns the Adler-32 of X followed by Y from X's sum s1,
// Y's sum s2 and Y's length n. With A = 1 + the sum of the bytes and B
// the sum of A after each byte, Y's bytes add their own sum to A, and
// after each of Y's n bytes A is larger by A_X - 1 than it was when Y was
// summed alone, so B gains B_Y + n(A_X - 1).
func adlerCombine(s1, s2 uint32, n int64) uint32 {
	a1, b1 := uint64(s1&0xffff), uint64(s1>>16)
	a2, b2 := uint64(s2&0xffff), uint64(s2>>16)
	a := (a1 + a2 + adlerMod - 1) % adlerMod
	b := (b1 + b2 + uint64(n%adlerMod)*((a1+adlerMod-1)%adlerMod)) % adlerMod
	return uint32(b<<16 | a)
}
