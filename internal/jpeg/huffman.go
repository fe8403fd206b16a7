package jpeg

import "encoding/binary"

// lutBits is the number of bits looked up at once when decoding Huffman
// symbols. Codes up to this long (the vast majority in practice) take one
// table access; longer ones fall back to a canonical-code search.
const lutBits = 10

// huffTable is a decoding table for one DHT table (T.81 annex C).
type huffTable struct {
	// lut maps the next lutBits bits of the stream to codeLength<<8|symbol,
	// or 0 if the code is longer than lutBits.
	lut [1 << lutBits]uint16
	// coef decodes a whole coefficient with one lookup: the code and the
	// magnitude bits that follow it, when code length l plus size s fit in
	// lutBits. An entry holds the already-extended value <<16 | run<<8 |
	// (l + s), with run 0 in a DC table (s = 0 gives value 0). The AC
	// table's end-of-block code has run coefEOB, which no coefficient can
	// have. 0 for codes that do not fit (and for ZRL and EOBn).
	coef [1 << lutBits]int32
	// maxCode[l] is the largest code of length l, left-justified to 16 bits,
	// plus one (so a 16-bit window w has a code of length l if w < maxCode[l]
	// and no shorter code matched); 0 if there are no codes of length l.
	maxCode [17]uint32
	// delta[l] turns a length-l code into an index into vals.
	delta [17]int32
	vals  [256]byte
	nvals int32
}

// build derives the decoding tables from the BITS and HUFFVAL lists of a DHT
// segment. It rejects code sets that are not prefix-free (over-subscribed).
func (t *huffTable) build(counts *[17]int, vals []byte, isAC bool) error {
	*t = huffTable{}
	copy(t.vals[:], vals)
	t.nvals = int32(len(vals))
	code := uint32(0)
	k := 0
	for l := 1; l <= 16; l++ {
		n := counts[l]
		if n > 0 {
			if code+uint32(n) > 1<<uint(l) {
				return FormatError("bad Huffman table")
			}
			t.delta[l] = int32(k) - int32(code)
			for i := 0; i < n; i++ {
				if l <= lutBits {
					sym := vals[k]
					shift := uint(lutBits - l)
					base := code << shift
					e := uint16(l)<<8 | uint16(sym)
					for j := uint32(0); j < 1<<shift; j++ {
						t.lut[base+j] = e
					}
					t.fillCoef(base, shift, uint(l), sym, isAC)
				}
				code++
				k++
			}
			t.maxCode[l] = code << uint(16-l)
		}
		code <<= 1
	}
	return nil
}

// coefEOB is the run field of an end-of-block entry in huffTable.coef.
const coefEOB = 0x80

// fillCoef fills the coef entries of the code base>>shift of length l for
// symbol sym (its lut entries span 1<<shift slots from base).
func (t *huffTable) fillCoef(base uint32, shift, l uint, sym byte, isAC bool) {
	run, size := int32(sym>>4), uint(sym&15)
	if !isAC {
		run, size = 0, uint(sym)
	}
	switch {
	case isAC && sym == 0x00:
		// End of block: nothing to extend, the block ends.
		e := coefEOB<<8 | int32(l)
		for j := uint32(0); j < 1<<shift; j++ {
			t.coef[base+j] = e
		}
		return
	case isAC && size == 0, l+size > lutBits:
		return // ZRL, EOBn or a long code: decoded symbol by symbol
	}
	// All patterns: code, then size magnitude bits, then don't-care.
	rest := shift - size
	for m := uint32(0); m < 1<<size; m++ {
		v := int32(m)
		if size > 0 && v < 1<<(size-1) {
			v -= 1<<size - 1
		}
		e := v<<16 | run<<8 | int32(l+size)
		b := base | m<<rest
		for j := uint32(0); j < 1<<rest; j++ {
			t.coef[b+j] = e
		}
	}
}

// bitReader reads the entropy-coded segment of a scan, removing the 0xFF00
// byte stuffing. Bits are kept MSB-first in a 64-bit accumulator. When it
// reaches a marker or the end of the data it supplies zero bits, counting
// them in pad so that over-reading can be detected (n < 8*pad).
type bitReader struct {
	data []byte
	pos  int    // next byte to load
	acc  uint64 // MSB-aligned bits; bits below the top n may hold a copy of upcoming data
	n    uint   // number of valid bits in acc
	pad  int    // zero bytes supplied past a marker / the end of data
}

const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// fill tops up the accumulator to at least 57 bits. Small enough to be
// inlined: the common case loads 8 bytes at once when none of them is 0xFF.
func (br *bitReader) fill(acc uint64, n uint) (uint64, uint) {
	if p := br.pos; p+8 <= len(br.data) {
		w := binary.BigEndian.Uint64(br.data[p:])
		if (^w-lsbs)&w&msbs == 0 { // no 0xFF byte in w
			k := (64 - n) >> 3
			br.pos = p + int(k)
			return acc | w>>n, n + k<<3
		}
	}
	return br.fillSlow(acc, n)
}

func (br *bitReader) fillSlow(acc uint64, n uint) (uint64, uint) {
	data := br.data
	p := br.pos
	for n <= 56 {
		if p >= len(data) {
			br.pad++
			n += 8
			continue
		}
		b := data[p]
		if b == 0xFF {
			if p+1 >= len(data) {
				p = len(data)
				continue
			}
			if data[p+1] != 0x00 {
				// A marker (possibly preceded by fill bytes): stop here.
				br.pad++
				n += 8
				continue
			}
			p++
		}
		p++
		acc |= uint64(b) << (56 - n)
		n += 8
	}
	br.pos = p
	return acc, n
}

// decodeSlow decodes a symbol whose code is longer than lutBits.
// It returns the symbol, the code length, and ok=false for an invalid code.
func (t *huffTable) decodeSlow(acc uint64) (byte, uint, bool) {
	w := uint32(acc >> 48)
	for l := lutBits + 1; l <= 16; l++ {
		if w < t.maxCode[l] {
			i := t.delta[l] + int32(w>>uint(16-l))
			if i < 0 || i >= t.nvals {
				return 0, 0, false
			}
			return t.vals[i], uint(l), true
		}
	}
	return 0, 0, false
}

// errBadCode is returned for bit patterns that are not a code of the table.
var errBadCode = FormatError("bad Huffman code")

// decodeSym decodes one Huffman symbol. The accumulator must hold at least
// 16 bits.
func (t *huffTable) decodeSym(acc uint64, n uint) (byte, uint64, uint, error) {
	if e := t.lut[acc>>(64-lutBits)]; e != 0 {
		l := uint(e >> 8)
		return byte(e), acc << l, n - l, nil
	}
	s, l, ok := t.decodeSlow(acc)
	if !ok {
		return 0, acc, n, errBadCode
	}
	return s, acc << l, n - l, nil
}

// extend converts the s-bit magnitude category value v to a signed value
// (T.81 F.2.2.1, EXTEND).
func extend(v uint64, s uint) int32 {
	x := int32(v)
	if s > 0 && x < 1<<(s-1) {
		x -= 1<<s - 1
	}
	return x
}

// skipBits is the number of bits a skipTable looks up at once. Decoding
// the 1 GP baseline JPEG of bench/make-big.sh in bands at 1/8
// (BenchmarkBandsFile, one lookup a refill, interleaved, medians of 4
// runs) took 2.30 CPU s with 12, 1.91 with 13, 1.85 with 14 (32 KiB, most
// of a level-1 data cache) and 2.05 with 15; 13 keeps the table at 16 KiB.
const skipBits = 13

// skipTable steps over the AC coefficients of a sequential block without
// their values, for a decode at a reduced scale: all of them at 1/8, where
// a block is its DC coefficient alone, those past the corner the reduced
// IDCT reads at 1/2 and 1/4 (the table is the same, only the zig-zag
// index it starts from differs): each entry covers as many whole coefficients (code
// and magnitude bits), ZRLs and a final end of block as fit in the next
// skipBits bits. An entry is eob<<15 | adv<<8 | bits: bits is what they
// take; adv is how far they move the zig-zag index k (run+1 a
// coefficient, 16 a ZRL, 1 the end of block), and the entry may be used
// only while k+adv <= 64, which keeps every coefficient's index within
// the block and makes the block end exactly where a symbol-by-symbol
// decode ends it; eob is set if they end with the end of block. skipNone
// when the next code does not fit (a long code, or EOBn, corrupt in a
// sequential scan): that symbol is decoded alone.
type skipTable [1 << skipBits]uint16

const (
	skipEOB  = 1 << 15
	skipNone = 127 << 8 // no code fits: k+127 is never <= 64
)

// buildSkip fills s for the AC table t.
func (t *huffTable) buildSkip(s *skipTable) {
	// The codes of up to skipBits bits, from the canonical code
	// assignment that build recorded in maxCode and delta.
	type code struct {
		code     uint32
		l, size  uint
		adv      uint
		eob, zrl bool
	}
	var codes [256]code
	nc := 0
	c := uint32(0)
	for l := uint(1); l <= skipBits; l++ {
		if t.maxCode[l] != 0 {
			end := t.maxCode[l] >> (16 - l)
			for ; c < end; c++ {
				i := t.delta[l] + int32(c)
				if i < 0 || i >= t.nvals {
					continue
				}
				rs := t.vals[i]
				r, sz := uint(rs>>4), uint(rs&15)
				switch {
				case rs == 0x00:
					codes[nc] = code{code: c, l: l, adv: 1, eob: true}
				case rs == 0xF0:
					codes[nc] = code{code: c, l: l, adv: 16, zrl: true}
				case sz == 0:
					continue // EOBn: decoded alone
				default:
					codes[nc] = code{code: c, l: l, size: sz, adv: r + 1}
				}
				nc++
			}
		}
		c <<= 1
	}
	// fill sets the entries of tab, which share a prefix of used bits
	// that moves k by adv (used 0: the whole table), for what follows.
	var fill func(tab []uint16, used, adv uint)
	fill = func(tab []uint16, used, adv uint) {
		rest := skipBits - used
		stop := uint16(skipNone)
		if used > 0 {
			stop = uint16(adv<<8 | used)
		}
		for i := range tab {
			tab[i] = stop
		}
		for _, cd := range codes[:nc] {
			if cd.l+cd.size > rest || adv+cd.adv > 64 {
				continue
			}
			start := cd.code << (rest - cd.l)
			if cd.eob {
				e := uint16(skipEOB | (adv+1)<<8 | (used + cd.l))
				sub := tab[start : start+1<<(rest-cd.l)]
				for i := range sub {
					sub[i] = e
				}
				continue
			}
			// The entries after the code and its magnitude bits are the
			// same for every magnitude: fill the first run, copy it.
			t := cd.l + cd.size
			span := uint32(1) << (rest - t)
			fill(tab[start:start+span], used+t, adv+cd.adv)
			for m := uint32(1); m < 1<<cd.size; m++ {
				copy(tab[start+m*span:start+(m+1)*span], tab[start:start+span])
			}
		}
	}
	fill(s[:], 0, 0)
}
