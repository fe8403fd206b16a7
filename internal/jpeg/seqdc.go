package jpeg

import "encoding/binary"

// A sequential scan decoded at 1/8 scale: every block is one sample, its
// DC coefficient's, so the AC coefficients are stepped over, not decoded
// (skipTable), and the blocks of an MCU are decoded in one call that keeps
// the bit reader in registers. Decoding the 1 GP baseline JPEG of
// bench/make-big.sh in bands (BenchmarkBandsFile) took 4.1 CPU s when
// every AC coefficient was extended, dequantised and stored, as at the
// other scales, 1.9 s with the skip table, and 1.6 s with the blocks of
// an MCU in one call and two lookups a refill; the result is the same,
// errors included (skip_test.go holds it to that path).

// setSkip gives the components of a sequential scan decoded at a reduced
// scale the skip tables of their AC tables, built for this scan (a DHT
// segment may have redefined a table since the last one), and the index
// from which they step over the AC codes.
func (d *decoder) setSkip(sc []scanComp) {
	var built [4]bool
	end := seqEnd[scaleIndex(d.scale)]
	for i := range sc {
		sc[i].end = end
		for ta, t := range d.huff[1] {
			if t != sc[i].ac {
				continue
			}
			if d.skip[ta] == nil {
				d.skip[ta] = newSkipTable()
			}
			if !built[ta] {
				t.buildSkip(d.skip[ta])
				built[ta] = true
			}
			sc[i].skip = d.skip[ta]
			break
		}
	}
}

// dcBlock is a block of the MCUs of a sequential scan at 1/8 scale: the
// MCU at mx has its sample at pix[mx*step].
type dcBlock struct {
	s    *scanComp
	pix  []byte
	step int
}

// mcuBlocks returns the blocks of an MCU of the interleaved scan sc, in
// coding order, in bl, for the MCU row whose samples start at row(c) in
// each component's plane.
func mcuBlocks(bl *[10]dcBlock, sc []scanComp, row func(c *component) int) []dcBlock {
	n := 0
	for i := range sc {
		s := &sc[i]
		c := s.c
		off := row(c)
		for v := 0; v < c.v; v++ {
			for h := 0; h < c.h; h++ {
				if n < len(bl) {
					bl[n] = dcBlock{s: s, pix: c.pix[off+v*c.stride+h:], step: c.h}
				}
				n++
			}
		}
	}
	return bl[:min(n, len(bl))]
}

// mcuDC decodes the blocks bl of the MCU at mx: for each, its DC
// coefficient as decodeBlockSeq decodes it, the sample idctBlock would
// make of it, and its AC codes stepped over with the block's skip table.
// A code the table does not cover is decoded alone, as decodeBlockSeq
// does, with the same errors and the same end of block.
func (d *decoder) mcuDC(bl []dcBlock, mx int) error {
	br := &d.br
	acc, n := br.acc, br.n
	for i := range bl {
		b := &bl[i]
		s := b.s
		if n < 32 {
			// bitReader.fill, inlined by hand (the compiler does not).
			if p := br.pos; p+8 <= len(br.data) {
				w := binary.BigEndian.Uint64(br.data[p:])
				if (^w-lsbs)&w&msbs == 0 {
					m := (64 - n) >> 3
					br.pos = p + int(m)
					acc |= w >> n
					n += m << 3
				} else {
					acc, n = br.fillSlow(acc, n)
				}
			} else {
				acc, n = br.fillSlow(acc, n)
			}
		}
		if e := s.dc.coef[acc>>(64-lutBits)]; e != 0 {
			l := uint(e & 0xFF)
			s.pred += e >> 16
			acc, n = acc<<l, n-l
		} else {
			var err error
			if acc, n, err = s.dcSym(acc, n); err != nil {
				return err
			}
		}
		b.pix[mx*b.step] = dcValue(s.pred * s.q[0])
		if d.eobrun > 0 {
			// Corrupt data: see decodeBlockSeq.
			d.eobrun--
			continue
		}

		var err error
		if acc, n, err = d.skipAC(s, 1, acc, n); err != nil {
			return err
		}
	}
	br.acc, br.n = acc, n
	return nil
}

// skipAC steps over the AC codes of a sequential block from zig-zag index
// k on, as mcuDC does after the DC coefficient, with the bits acc, n of
// the bit reader (returned as they are left). decodeBlockSeq calls it at
// 1/2 and 1/4 once k is past the coefficients the reduced IDCT reads.
func (d *decoder) skipAC(s *scanComp, k uint, acc uint64, n uint) (uint64, uint, error) {
	br := &d.br
	sk, act := s.skip, s.ac
	for k < 64 {
		if n < 32 {
			if p := br.pos; p+8 <= len(br.data) {
				w := binary.BigEndian.Uint64(br.data[p:])
				if (^w-lsbs)&w&msbs == 0 {
					m := (64 - n) >> 3
					br.pos = p + int(m)
					acc |= w >> n
					n += m << 3
				} else {
					acc, n = br.fillSlow(acc, n)
				}
			} else {
				acc, n = br.fillSlow(acc, n)
			}
		}
		e := uint(sk[acc>>(64-skipBits)])
		if k2 := k + e>>8&127; k2 <= 64 {
			l := e & 31
			acc, n = acc<<l, n-l
			if e&skipEOB != 0 {
				break
			}
			k = k2
			// A second lookup needs no refill: the first took at most
			// skipBits of the 32 bits or more there were.
			e = uint(sk[acc>>(64-skipBits)])
			if k2 = k + e>>8&127; k2 <= 64 {
				l := e & 31
				acc, n = acc<<l, n-l
				if e&skipEOB != 0 {
					break
				}
				k = k2
			}
			continue
		}
		var rs byte
		if e := act.lut[acc>>(64-lutBits)]; e != 0 {
			l := uint(e >> 8)
			rs, acc, n = byte(e), acc<<l, n-l
		} else {
			var l uint
			var ok bool
			if rs, l, ok = act.decodeSlow(acc); !ok {
				return acc, n, errBadCode
			}
			acc, n = acc<<l, n-l
		}
		r, sz := uint(rs>>4), uint(rs&15)
		if sz == 0 {
			if r == 15 {
				k += 16
				continue
			}
			if r != 0 {
				eob := 1<<r + int(acc>>(64-r))
				acc, n = acc<<r, n-r
				d.eobrun = eob - 1
			}
			break
		}
		k += r
		if k > 63 {
			break
		}
		acc, n = acc<<sz, n-sz
		k++
	}
	return acc, n, nil
}
