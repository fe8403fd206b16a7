package inflate

import "math/bits"

// A decode table maps the next bits of the input (least significant bit
// first, as Deflate packs them) to an entry, a uint32:
//
//	bits 0-4    bits this lookup consumes (the codeword, or its first
//	            tableBits bits for a link to a subtable)
//	bit  5      end of block
//	bit  6      link: bits 16-30 give the subtable's start, bits 8-11 its
//	            index bits
//	bit  7      invalid: no codeword starts with these bits (bits 0-4:
//	            how many of them say so), or the symbol is invalid
//	bits 8-12   codeword length plus extra bits: what a length or distance
//	            symbol consumes in all, its extra bits above the codeword
//	bits 16-30  the literal byte, or the length or distance base
//	bit  31     literal
//
// So one lookup and one shift decode a literal, and one more mask and
// shift the length or distance with its extra bits (libdeflate's layout,
// in spirit: its tables also carry the extra bits' count).
const (
	fEOB     = 1 << 5
	fLink    = 1 << 6
	fInvalid = 1 << 7
	fLiteral = 1 << 31
)

// Table sizes. The main tables are indexed by the next litBits (distBits)
// bits; longer codes go through subtables after them. A complete code of
// 288 symbols up to 15 bits long needs at most 2342 entries with an
// 11-bit main table, one of 32 symbols at most 402 with an 8-bit one (the
// bounds zlib's examples/enough.c computes); the arrays are the next
// powers of two, so a masked index needs no bounds check.
const (
	litBits  = 11
	litSize  = 4096
	distBits = 8
	distSize = 512
	clenBits = 7 // code length codes are at most 7 bits long: no subtables
	clenSize = 1 << clenBits
)

// lengthBase and lengthExtra are the base and extra bit count of length
// symbols 257 to 285 (RFC 1951, 3.2.5); distBase and distExtra those of
// distance symbols 0 to 29.
var (
	lengthBase = [29]uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint32{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
		3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase = [30]uint32{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
		257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint32{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
		7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// litSyms, distSyms and clenSyms are the entries of each symbol, without
// the bit counts of its codeword, which build adds: the extra bit count is
// kept in bits 8-12 until then.
var litSyms, distSyms, clenSyms = func() (l [288]uint32, d [32]uint32, c [19]uint32) {
	for i := range 256 {
		l[i] = fLiteral | uint32(i)<<16
	}
	l[256] = fEOB
	for i := range 29 {
		l[257+i] = lengthBase[i]<<16 | lengthExtra[i]<<8
	}
	l[286], l[287] = fInvalid, fInvalid // in the fixed code only; never valid
	for i := range 30 {
		d[i] = distBase[i]<<16 | distExtra[i]<<8
	}
	d[30], d[31] = fInvalid, fInvalid
	for i := range 19 {
		c[i] = uint32(i) << 16
	}
	return
}()

// fixedLit and fixedDist are the tables of the fixed Huffman code
// (RFC 1951, 3.2.6).
var fixedLit, fixedDist = func() (*[litSize]uint32, *[distSize]uint32) {
	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	var dl [32]uint8
	for i := range dl {
		dl[i] = 5
	}
	lt, dt := new([litSize]uint32), new([distSize]uint32)
	if !build(lt[:], lens[:], litSyms[:], litBits) || !build(dt[:], dl[:], distSyms[:], distBits) {
		panic("inflate: fixed code tables")
	}
	return lt, dt
}()

// build fills table t for the code whose codeword lengths (0: unused) are
// lens, symbol by symbol, with root bits of main table and syms the
// symbols' entries. It reports false for a code that is over-subscribed,
// or incomplete: compress/flate's rule, which also accepts an empty code
// (every entry invalid: decoding with it fails) and a code of one
// codeword of one bit, as zlib does.
func build(t []uint32, lens []uint8, syms []uint32, root uint) bool {
	var count [16]int
	for _, l := range lens {
		count[l&15]++
	}
	count[0] = 0
	maxLen := 15
	for maxLen > 0 && count[maxLen] == 0 {
		maxLen--
	}
	left := 1
	for l := 1; l <= 15; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return false // over-subscribed
		}
	}
	if left > 0 {
		if maxLen > 1 || (maxLen == 1 && count[1] != 1) {
			return false // incomplete
		}
		// The bits that make an entry invalid: none for an empty code, one
		// for a code of one codeword (see Decoder.invalid).
		for i := range t[:1<<root] {
			t[i] = fInvalid | uint32(maxLen)
		}
		if maxLen == 0 {
			return true
		}
	}
	// Symbols sorted by codeword length, then by value: the canonical order.
	var offs [17]int
	for l := 1; l <= 15; l++ {
		offs[l+1] = offs[l] + count[l]
	}
	var sorted [288]uint16
	for s, l := range lens {
		if l != 0 {
			sorted[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	rem := count // codes of each length not yet placed
	code, i := 0, 0
	next := 1 << root // where the next subtable goes
	prefix, subStart, subBits := -1, 0, 0
	for l := 1; l <= maxLen; l++ {
		for range count[l] {
			s := sorted[i]
			i++
			rev := reverse(code, l)
			if l <= int(root) {
				e := syms[s] | uint32(l)
				if e&fInvalid == 0 {
					e += uint32(l) << 8
				}
				for j := rev; j < 1<<root; j += 1 << l {
					t[j] = e
				}
			} else {
				if p := rev & (1<<root - 1); p != prefix {
					// A new subtable: as many index bits as the codes
					// sharing this prefix need (zlib's inflate_table).
					sb := l - int(root)
					room := 1 << sb
					for sb+int(root) < maxLen {
						room -= rem[sb+int(root)]
						if room <= 0 {
							break
						}
						sb++
						room <<= 1
					}
					if next+1<<sb > len(t) {
						return false // cannot happen for a complete code: see the sizes
					}
					prefix, subStart, subBits = p, next, sb
					next += 1 << sb
					t[p] = fLink | uint32(subStart)<<16 | uint32(sb)<<8 | uint32(root)
				}
				n := l - int(root)
				e := syms[s] | uint32(n)
				if e&fInvalid == 0 {
					e += uint32(n) << 8
				}
				for j := rev >> root; j < 1<<subBits; j += 1 << n {
					t[subStart+j] = e
				}
			}
			rem[l]--
			code++
		}
		code <<= 1
	}
	return true
}

// reverse reverses the low n bits of code (n <= 15): a table is built for
// every dynamic block (tens of thousands in a big PNG), a codeword at a
// time.
func reverse(code, n int) int {
	return int(bits.Reverse16(uint16(code)) >> (16 - n))
}
