package jpeg

import (
	"encoding/binary"
	"image"
	"io"
	"math/bits"
)

// zigzag[k] is the natural (row-major) index of the k-th coefficient in
// zig-zag order.
var zigzag [64]uint8

// For each scale (index log2(scale)):
//   - seqDst[k]: where a sequential decode stores zig-zag coefficient k in
//     decoder.blk: its natural index if the reduced IDCT uses it, else the
//     dump slot 64;
//   - keepSlot[k]: index of zig-zag coefficient k in a progressive block's
//     kept coefficients, or -1 if it is not kept;
//   - keepZig[i]: the zig-zag index of kept slot i;
//   - nKeep: number of kept coefficients per block;
//   - seqEnd: one past the last zig-zag index the reduced IDCT reads (25
//     at 1/2, where (3,3) is index 24; 5 at 1/4; 1 at 1/8; 64 at full
//     scale).
var (
	seqDst   [4][64]uint8
	seqEnd   [4]int
	keepSlot [4][64]int8
	keepZig  [4][64]uint8
	nKeep    [4]int
)

func init() {
	// Walk the anti-diagonals of the 8x8 block, alternating direction.
	k := 0
	for s := 0; s < 15; s++ {
		for i := 0; i <= s; i++ {
			row := i
			if s%2 == 0 {
				row = s - i
			}
			col := s - row
			if row < 8 && col < 8 {
				zigzag[k] = uint8(row*8 + col)
				k++
			}
		}
	}
	for si := 0; si < 4; si++ {
		size := 8 >> uint(si)
		n := 0
		for k := 0; k < 64; k++ {
			nat := int(zigzag[k])
			if nat/8 < size && nat%8 < size {
				seqDst[si][k] = uint8(nat)
				keepSlot[si][k] = int8(n)
				keepZig[si][n] = uint8(k)
				n++
				seqEnd[si] = k + 1
			} else {
				seqDst[si][k] = 64
				keepSlot[si][k] = -1
			}
		}
		nKeep[si] = n
	}
}

func scaleIndex(scale int) int {
	return bits.TrailingZeros(uint(scale))
}

// maxScans bounds the number of scans in a file. Real progressive files
// have about 10; without a bound, a small crafted file with many scans of
// long end-of-band runs could keep the decoder busy for a very long time.
const maxScans = 1000

// scanComp is a component's state within one scan.
type scanComp struct {
	c    *component
	dc   *huffTable
	ac   *huffTable
	q    *[64]int32
	pred int32
	// skip, for a sequential scan decoded at a reduced scale, steps over
	// the AC coefficients from zig-zag index end on, which the reduced
	// IDCT does not read (see mcuDC and skipAC); nil otherwise, and end
	// is 64.
	skip *skipTable
	end  int
}

// allocate creates the output planes once the first scan starts.
func (d *decoder) allocate() error {
	if d.width == 0 || d.height == 0 {
		return unsupported("zero image width or height (DNL)")
	}
	bs := 8 / d.scale
	d.bs = bs
	w, h := d.mcusX*d.hmax*bs, d.mcusY*d.vmax*bs
	// bh is a plane's height in blocks of its component: the whole image,
	// or one MCU row when decoding in bands.
	bh := func(c *component) int {
		if d.banded {
			return c.v
		}
		return c.bh
	}
	if d.banded {
		h = d.vmax * bs
	}
	switch d.ncomp {
	case 1:
		c := &d.comp[0]
		c.stride = c.bw * bs
		c.pix = make([]byte, c.stride*bh(c)*bs)
	default:
		var ratio image.YCbCrSubsampleRatio
		switch (d.comp[0].h/d.comp[1].h)<<4 | d.comp[0].v/d.comp[1].v {
		case 0x11:
			ratio = image.YCbCrSubsampleRatio444
		case 0x12:
			ratio = image.YCbCrSubsampleRatio440
		case 0x21:
			ratio = image.YCbCrSubsampleRatio422
		case 0x22:
			ratio = image.YCbCrSubsampleRatio420
		case 0x41:
			ratio = image.YCbCrSubsampleRatio411
		case 0x42:
			ratio = image.YCbCrSubsampleRatio410
		default:
			return unsupported("chroma subsampling layout")
		}
		img := newYCbCr(w, h, ratio)
		d.ycc = img
		d.comp[0].pix, d.comp[0].stride = img.Y, img.YStride
		d.comp[1].pix, d.comp[1].stride = img.Cb, img.CStride
		d.comp[2].pix, d.comp[2].stride = img.Cr, img.CStride
		if d.ncomp == 4 {
			c := &d.comp[3]
			c.stride = c.bw * bs
			c.pix = make([]byte, c.stride*bh(c)*bs)
		}
	}
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		if c.stride != c.bw*bs || len(c.pix) < c.stride*bh(c)*bs {
			return unsupported("sampling layout")
		}
	}
	d.allocated = true
	return nil
}

func (d *decoder) processSOS(seg []byte) error {
	if !d.haveSOF {
		return FormatError("missing SOF marker")
	}
	n := len(seg)
	if n < 6 || n > 4+2*d.ncomp || n%2 != 0 {
		return FormatError("SOS has wrong length")
	}
	ns := int(seg[0])
	if n != 4+2*ns {
		return FormatError("SOS length inconsistent with number of components")
	}
	var scs [4]scanComp
	var used [4]bool
	totalHV := 0
	for i := 0; i < ns; i++ {
		id := seg[1+2*i]
		ci := -1
		for j := 0; j < d.ncomp; j++ {
			if d.comp[j].id == id {
				ci = j
			}
		}
		if ci < 0 {
			return FormatError("unknown component selector")
		}
		if used[ci] {
			return FormatError("repeated component selector")
		}
		used[ci] = true
		c := &d.comp[ci]
		totalHV += c.h * c.v
		td, ta := int(seg[2+2*i]>>4), int(seg[2+2*i]&15)
		if td > 3 || (d.baseline && td > 1) {
			return FormatError("bad Td value")
		}
		if ta > 3 || (d.baseline && ta > 1) {
			return FormatError("bad Ta value")
		}
		scs[i] = scanComp{c: c, dc: d.huff[0][td], ac: d.huff[1][ta], q: &d.quant[c.tq], end: 64}
	}
	if d.ncomp > 1 && totalHV > 10 {
		return FormatError("total sampling factors too large")
	}
	ss, se, ah, al := 0, 63, 0, 0
	if d.progressive {
		ss, se = int(seg[1+2*ns]), int(seg[2+2*ns])
		ah, al = int(seg[3+2*ns]>>4), int(seg[3+2*ns]&15)
		if (ss == 0 && se != 0) || ss > se || se >= 64 {
			return FormatError("bad spectral selection bounds")
		}
		if ss != 0 && ns != 1 {
			return FormatError("progressive AC coefficients for more than one component")
		}
		if ah != 0 && ah != al+1 {
			return FormatError("bad successive approximation values")
		}
	}
	if !d.allocated {
		if err := d.allocate(); err != nil {
			return err
		}
	}
	d.nscans++
	if d.nscans > maxScans {
		return FormatError("too many scans")
	}
	sc := scs[:ns]
	// Check the tables the scan needs.
	for i := range sc {
		if ss == 0 && ah == 0 && sc[i].dc == nil {
			return FormatError("uninitialized Huffman table")
		}
		if se > 0 && sc[i].ac == nil {
			return FormatError("uninitialized Huffman table")
		}
		sc[i].c.scanned = true
	}

	if d.progressive && d.scale == 8 && ss > 0 {
		// At 1/8 scale each block is its DC coefficient alone: an AC scan
		// has nothing the image needs, so its data is not decoded at all
		// (nextMarker steps over it). That is most of a progressive
		// file's data; the cost is that damage inside it goes unnoticed.
		return nil
	}
	if !d.progressive && d.scale > 1 && !d.storeAC {
		d.setSkip(sc)
	}
	d.br = bitReader{data: d.data, pos: d.pos}
	d.eobrun = 0
	if d.banded && !d.progressive {
		// Decoded an MCU row at a time by Bands.Next.
		if ns != d.ncomp {
			return unsupported("a sequential JPEG in several scans, read in bands")
		}
		d.scan, d.nscan = scs, ns
		return errBandsStart
	}
	var err error
	if !d.progressive {
		err = d.decodeSequential(sc)
	} else {
		si := scaleIndex(d.scale)
		for i := range sc {
			c := sc[i].c
			if c.coefs == nil {
				nb := c.bw * c.bh
				c.coefs = make([]int16, nb*nKeep[si])
				if si < 3 {
					// At 1/8 the AC scans are skipped: no mask needed
					// (8 bytes a block, 4 times the DC coefficient's 2).
					c.masks = make([]uint64, nb)
				}
			}
		}
		switch {
		case ss == 0 && ah == 0:
			err = d.forEachBlock(sc, func(s *scanComp, bi int) error { return d.dcFirst(s, bi, al) })
		case ss == 0:
			err = d.forEachBlock(sc, func(s *scanComp, bi int) error { return d.dcRefine(s, bi, al) })
		case ah == 0:
			err = d.forEachBlock(sc, func(s *scanComp, bi int) error { return d.acFirst(s, bi, ss, se, al) })
		default:
			err = d.forEachBlock(sc, func(s *scanComp, bi int) error { return d.acRefine(s, bi, ss, se, al) })
		}
	}
	if err != nil {
		return err
	}
	if err := d.checkOverread(); err != nil {
		return err
	}
	d.pos = d.br.pos
	return nil
}

// checkOverread reports an error if the scan consumed bits beyond its data.
func (d *decoder) checkOverread() error {
	br := &d.br
	if int(br.n) >= 8*br.pad {
		return nil
	}
	if br.pos >= len(br.data) {
		return errTruncated
	}
	return FormatError("missing 0xff00 sequence (premature end of scan data)")
}

// restart handles a restart interval boundary: it finds the expected RSTn
// marker, resets the bit reader and the DC predictions / EOB run.
func (d *decoder) restart(sc []scanComp, expected *int) error {
	if err := d.checkOverread(); err != nil {
		return err
	}
	br := &d.br
	data := br.data
	p := br.pos
	want := byte(mRST0 + *expected)
	for {
		if p+1 >= len(data) {
			if p -= d.ensure(p, unitAhead); p+1 >= len(d.data) {
				return io.ErrUnexpectedEOF
			}
			data = d.data
		}
		if data[p] != 0xFF {
			p++
			continue
		}
		m := data[p+1]
		if m == want {
			p += 2
			break
		}
		if m == 0xFF {
			p++
			continue
		}
		if m != 0x00 {
			return FormatError("bad RST marker")
		}
		p += 2
	}
	br.pos, br.acc, br.n, br.pad = p, 0, 0, 0
	*expected = (*expected + 1) & 7
	for i := range sc {
		sc[i].pred = 0
	}
	d.eobrun = 0
	return nil
}

// forEachBlock calls fn for every block of the scan in coding order, with
// the block's index in its component's padded block grid, handling restart
// intervals.
func (d *decoder) forEachBlock(sc []scanComp, fn func(s *scanComp, bi int) error) error {
	mcu, expected := 0, 0
	if len(sc) == 1 {
		s := &sc[0]
		c := s.c
		for by := 0; by < c.cbh; by++ {
			for bx := 0; bx < c.cbw; bx++ {
				if d.ri > 0 && mcu > 0 && mcu%d.ri == 0 {
					if err := d.restart(sc, &expected); err != nil {
						return err
					}
				}
				if d.src != nil {
					d.br.pos -= d.ensure(d.br.pos, unitAhead)
				}
				if err := fn(s, by*c.bw+bx); err != nil {
					return err
				}
				mcu++
			}
			if err := d.checkOverread(); err != nil {
				return err
			}
		}
		return nil
	}
	for my := 0; my < d.mcusY; my++ {
		for mx := 0; mx < d.mcusX; mx++ {
			if d.ri > 0 && mcu > 0 && mcu%d.ri == 0 {
				if err := d.restart(sc, &expected); err != nil {
					return err
				}
			}
			if d.src != nil {
				d.br.pos -= d.ensure(d.br.pos, unitAhead)
			}
			for i := range sc {
				s := &sc[i]
				c := s.c
				for v := 0; v < c.v; v++ {
					row := (my*c.v+v)*c.bw + mx*c.h
					for h := 0; h < c.h; h++ {
						if err := fn(s, row+h); err != nil {
							return err
						}
					}
				}
			}
			mcu++
		}
		if err := d.checkOverread(); err != nil {
			return err
		}
	}
	return nil
}

// decodeSequential decodes a baseline / extended sequential scan straight
// into the output planes, one block at a time, in coding order. It walks
// the blocks itself rather than through forEachBlock: on small photos at
// 1/2 scale a closure call and a division per block to find the block's
// place were about a tenth of the decoder's time.
func (d *decoder) decodeSequential(sc []scanComp) error {
	dst := &seqDst[scaleIndex(d.scale)]
	bs := d.bs
	expected := 0
	// left counts the MCUs to the next restart marker (restart intervals
	// only).
	left := d.ri
	unit := func() error {
		if d.ri > 0 {
			if left == 0 {
				if err := d.restart(sc, &expected); err != nil {
					return err
				}
				left = d.ri
			}
			left--
		}
		if d.src != nil {
			d.br.pos -= d.ensure(d.br.pos, unitAhead)
		}
		return nil
	}
	if len(sc) == 1 {
		// One component: non-interleaved, its MCU is a block.
		s := &sc[0]
		c := s.c
		for by := 0; by < c.cbh; by++ {
			row := c.pix[by*bs*c.stride:]
			bl := [1]dcBlock{{s: s, pix: row, step: 1}}
			for bx := 0; bx < c.cbw; bx++ {
				if d.ri > 0 || d.src != nil {
					if err := unit(); err != nil {
						return err
					}
				}
				if d.scale == 8 && s.skip != nil {
					if err := d.mcuDC(bl[:], bx); err != nil {
						return err
					}
					continue
				}
				last, err := d.decodeBlockSeq(s, dst)
				if err != nil {
					return err
				}
				d.idctBlock(last, row[bx*bs:], c.stride)
			}
			if err := d.checkOverread(); err != nil {
				return err
			}
		}
		return nil
	}
	var blocks [10]dcBlock
	for my := 0; my < d.mcusY; my++ {
		var bl []dcBlock
		if d.scale == 8 && sc[0].skip != nil {
			bl = mcuBlocks(&blocks, sc, func(c *component) int { return my * c.v * c.stride })
		}
		for mx := 0; mx < d.mcusX; mx++ {
			if d.ri > 0 || d.src != nil {
				if err := unit(); err != nil {
					return err
				}
			}
			if bl != nil {
				if err := d.mcuDC(bl, mx); err != nil {
					return err
				}
				continue
			}
			for i := range sc {
				s := &sc[i]
				c := s.c
				off := my*c.v*bs*c.stride + mx*c.h*bs
				for v := 0; v < c.v; v++ {
					for h := 0; h < c.h; h++ {
						last, err := d.decodeBlockSeq(s, dst)
						if err != nil {
							return err
						}
						d.idctBlock(last, c.pix[off+h*bs:], c.stride)
					}
					off += bs * c.stride
				}
			}
		}
		if err := d.checkOverread(); err != nil {
			return err
		}
	}
	return nil
}

// idctBlock runs the inverse DCT for the current scale on d.blk, writing
// bs x bs samples to out, and clears the coefficients it used. last is the
// highest zig-zag index that may be non-zero.
func (d *decoder) idctBlock(last int, out []byte, stride int) {
	blk := &d.blk
	switch d.scale {
	case 1:
		if last == 0 {
			fillDC(blk[0], 8, out, stride)
			blk[0] = 0
		} else {
			idct8(blk, out, stride)
		}
	case 2:
		if last == 0 {
			fillDC(blk[0], 4, out, stride)
			blk[0] = 0
		} else {
			idct4(blk, out, stride)
		}
	case 4:
		idct2(blk, out, stride)
	default:
		fillDC(blk[0], 1, out, stride)
		blk[0] = 0
	}
}

// decodeBlockSeq decodes the DC and AC coefficients of one sequential block,
// dequantised, into d.blk (positions given by dst). It returns the last
// zig-zag index decoded. From index s.end on (a reduced scale with a skip
// table), the block's AC codes are stepped over, not decoded: the IDCT
// reads none of them, and the index returned is then the last decoded
// before s.end or the first past it, which picks the same output (at 1/2,
// idct4 of a block with its DC coefficient alone is fillDC's, sample for
// sample; idct2 is used whatever the index).
func (d *decoder) decodeBlockSeq(s *scanComp, dst *[64]uint8) (int, error) {
	br := &d.br
	acc, n := br.acc, br.n
	if n < 32 {
		acc, n = br.fill(acc, n)
	}
	blk := &d.blk
	q := s.q

	// DC coefficient (F.2.2.1): code and magnitude bits in one lookup when
	// they fit, else symbol then bits.
	if e := s.dc.coef[acc>>(64-lutBits)]; e != 0 {
		l := uint(e & 0xFF)
		s.pred += e >> 16
		acc, n = acc<<l, n-l
	} else {
		var err error
		if acc, n, err = s.dcSym(acc, n); err != nil {
			return 0, err
		}
	}
	blk[0] = s.pred * q[0]

	last := 0
	if d.eobrun > 0 {
		// Only reachable with corrupt data (an EOBn symbol in a sequential
		// scan); image/jpeg then skips the AC data of the following blocks.
		d.eobrun--
		br.acc, br.n = acc, n
		return 0, nil
	}

	// AC coefficients (F.2.2.2).
	act := s.ac
	end := s.end
	k := 1
	for k < end {
		if n < 32 {
			// br.fill's fast path, inlined by hand.
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
		if e := act.coef[acc>>(64-lutBits)]; e != 0 {
			k2 := uint(k) + uint(e>>8)&0xFF
			l := uint(e & 0xFF)
			if k2 < 64 {
				acc, n = acc<<l, n-l
				blk[dst[k2]&127] = (e >> 16) * q[k2]
				last = int(k2)
				k = int(k2) + 1
				continue
			}
			if e>>8&0xFF == coefEOB {
				acc, n = acc<<l, n-l
				goto done
			}
		}
		var rs byte
		if e := act.lut[acc>>(64-lutBits)]; e != 0 {
			l := uint(e >> 8)
			rs, acc, n = byte(e), acc<<l, n-l
		} else {
			var l uint
			var ok bool
			if rs, l, ok = act.decodeSlow(acc); !ok {
				return 0, errBadCode
			}
			acc, n = acc<<l, n-l
		}
		r, sz := int(rs>>4), uint(rs&15)
		if sz == 0 {
			if r == 15 {
				k += 16
				continue
			}
			if r != 0 {
				eob := 1<<uint(r) + int(acc>>(64-uint(r)))
				acc, n = acc<<uint(r), n-uint(r)
				d.eobrun = eob - 1
			}
			goto done
		}
		k += r
		if k > 63 {
			goto done
		}
		v := extend(acc>>(64-sz), sz)
		acc, n = acc<<sz, n-sz
		kk := uint(k) & 63
		blk[dst[kk]&127] = v * q[kk]
		last = k
		k++
	}
	if k < 64 {
		var err error
		if acc, n, err = d.skipAC(s, uint(k), acc, n); err != nil {
			return 0, err
		}
	}
done:
	br.acc, br.n = acc, n
	return last, nil
}

// dcSym decodes a DC difference into s.pred whose code and magnitude bits
// did not fit one lookup of the coef table: the symbol, then its bits,
// from the bits acc, n (returned as they are left).
func (s *scanComp) dcSym(acc uint64, n uint) (uint64, uint, error) {
	dct := s.dc
	var sym byte
	if e := dct.lut[acc>>(64-lutBits)]; e != 0 {
		l := uint(e >> 8)
		sym, acc, n = byte(e), acc<<l, n-l
	} else {
		l, ok := uint(0), false
		if sym, l, ok = dct.decodeSlow(acc); !ok {
			return acc, n, errBadCode
		}
		acc, n = acc<<l, n-l
	}
	if sym > 16 {
		return acc, n, unsupported("excessive DC component")
	}
	sz := uint(sym)
	s.pred += extend(acc>>(64-sz), sz)
	return acc << sz, n - sz, nil
}

// decodeSym decodes one Huffman symbol from the bit reader.
func (d *decoder) decodeSym(t *huffTable) (byte, error) {
	br := &d.br
	if br.n < 32 {
		br.acc, br.n = br.fill(br.acc, br.n)
	}
	s, acc, n, err := t.decodeSym(br.acc, br.n)
	br.acc, br.n = acc, n
	return s, err
}

// receive reads s <= 16 raw bits.
func (d *decoder) receive(s uint) uint64 {
	br := &d.br
	if br.n < 32 {
		br.acc, br.n = br.fill(br.acc, br.n)
	}
	v := br.acc >> (64 - s)
	br.acc <<= s
	br.n -= s
	return v
}

// dcFirst decodes the first DC scan of a progressive block (G.1.2.1).
func (d *decoder) dcFirst(s *scanComp, bi, al int) error {
	sym, err := d.decodeSym(s.dc)
	if err != nil {
		return err
	}
	if sym > 16 {
		return unsupported("excessive DC component")
	}
	s.pred += extend(d.receive(uint(sym)), uint(sym))
	s.c.coefs[bi*nKeep[scaleIndex(d.scale)]] = int16(s.pred << uint(al))
	return nil
}

// dcRefine adds one more bit of a progressive block's DC coefficient.
func (d *decoder) dcRefine(s *scanComp, bi, al int) error {
	if d.receive(1) != 0 {
		s.c.coefs[bi*nKeep[scaleIndex(d.scale)]] |= int16(1 << uint(al))
	}
	return nil
}

// acFirst decodes the first AC scan of a band of a progressive block
// (G.1.2.2).
func (d *decoder) acFirst(s *scanComp, bi, ss, se, al int) error {
	if d.eobrun > 0 {
		d.eobrun--
		return nil
	}
	c := s.c
	nk := len(c.coefs) / len(c.masks)
	coefs := c.coefs[bi*nk : bi*nk+nk]
	slots := &keepSlot[scaleIndex(d.scale)]
	mask := c.masks[bi]
	t := s.ac
	br := &d.br
	acc, n := br.acc, br.n
	for k := ss; k <= se; k++ {
		if n < 32 {
			acc, n = br.fill(acc, n)
		}
		var rs byte
		var err error
		if rs, acc, n, err = t.decodeSym(acc, n); err != nil {
			return err
		}
		r, sz := int(rs>>4), uint(rs&15)
		if sz == 0 {
			if r < 15 {
				eob := 1 << uint(r)
				if r > 0 {
					eob += int(acc >> (64 - uint(r)))
					acc, n = acc<<uint(r), n-uint(r)
				}
				d.eobrun = eob - 1
				break
			}
			k += 15
			continue
		}
		k += r
		if k > se {
			break
		}
		v := extend(acc>>(64-sz), sz)
		acc, n = acc<<sz, n-sz
		kk := uint(k) & 63
		mask |= 1 << kk
		if sl := slots[kk]; sl >= 0 && int(sl) < len(coefs) {
			coefs[sl] = int16(v << uint(al))
		}
	}
	c.masks[bi] = mask
	br.acc, br.n = acc, n
	return nil
}

// acRefine decodes a successive-approximation refinement scan of a band of
// a progressive block (G.1.2.3).
func (d *decoder) acRefine(s *scanComp, bi, ss, se, al int) error {
	c := s.c
	nk := len(c.coefs) / len(c.masks)
	coefs := c.coefs[bi*nk : bi*nk+nk]
	slots := &keepSlot[scaleIndex(d.scale)]
	mask := c.masks[bi]
	p1 := int32(1) << uint(al)
	t := s.ac
	br := &d.br
	acc, n := br.acc, br.n

	k := ss
	if d.eobrun == 0 {
		for ; k <= se; k++ {
			if n < 32 {
				acc, n = br.fill(acc, n)
			}
			var rs byte
			var err error
			if rs, acc, n, err = t.decodeSym(acc, n); err != nil {
				return err
			}
			r, sz := int(rs>>4), rs&15
			var z int32
			if sz == 0 {
				if r != 15 {
					eob := 1 << uint(r)
					if r > 0 {
						eob += int(acc >> (64 - uint(r)))
						acc, n = acc<<uint(r), n-uint(r)
					}
					d.eobrun = eob
					break
				}
			} else if sz == 1 {
				z = p1
				if acc>>63 == 0 {
					z = -p1
				}
				acc, n = acc<<1, n-1
			} else {
				return FormatError("unexpected Huffman code")
			}
			// Skip r zero-history coefficients, refining the non-zero ones
			// on the way; stop at the next zero-history one.
			for ; k <= se; k++ {
				if mask&(1<<uint(k&63)) != 0 {
					if n < 1 {
						acc, n = br.fill(acc, n)
					}
					bit := acc >> 63
					acc, n = acc<<1, n-1
					if bit != 0 {
						refineCoef(coefs, slots[k&63], p1)
					}
				} else {
					if r == 0 {
						break
					}
					r--
				}
			}
			if k > se {
				return FormatError("too many coefficients")
			}
			if z != 0 {
				mask |= 1 << uint(k&63)
				if sl := slots[k&63]; sl >= 0 && int(sl) < len(coefs) {
					coefs[sl] = int16(z)
				}
			}
		}
	}
	if d.eobrun > 0 {
		d.eobrun--
		if k <= se {
			// Refine the remaining non-zero coefficients of the band.
			m := mask >> uint(k) << uint(k)
			if se < 63 {
				m &= 1<<uint(se+1) - 1
			}
			for m != 0 {
				kk := bits.TrailingZeros64(m)
				m &= m - 1
				if n < 1 {
					acc, n = br.fill(acc, n)
				}
				bit := acc >> 63
				acc, n = acc<<1, n-1
				if bit != 0 {
					refineCoef(coefs, slots[kk&63], p1)
				}
			}
		}
	}
	c.masks[bi] = mask
	br.acc, br.n = acc, n
	return nil
}

// refineCoef adds one correction bit (p1) to the magnitude of a kept
// non-zero coefficient (slot < 0: not kept at this scale).
func refineCoef(coefs []int16, slot int8, p1 int32) {
	if slot >= 0 && int(slot) < len(coefs) {
		v := int32(coefs[slot])
		if v >= 0 {
			v += p1
		} else {
			v -= p1
		}
		coefs[slot] = int16(v)
	}
}

// reconstruct runs the IDCT over the coefficients gathered by a progressive
// image's scans.
func (d *decoder) reconstruct() { d.reconstructRows(0, d.mcusY) }

// reconstructRows runs the IDCT over the blocks of MCU rows my0 to my1-1,
// into planes whose first row is MCU row my0's.
func (d *decoder) reconstructRows(my0, my1 int) {
	si := scaleIndex(d.scale)
	nk := nKeep[si]
	kz := &keepZig[si]
	bs := d.bs
	blk := &d.blk
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		if !c.scanned || c.coefs == nil {
			continue
		}
		q := &d.quant[c.tq]
		for by := my0 * c.v; by < my1*c.v; by++ {
			for bx := 0; bx < c.bw; bx++ {
				bi := by*c.bw + bx
				coefs := c.coefs[bi*nk : bi*nk+nk]
				var mask uint64
				if c.masks != nil {
					mask = c.masks[bi]
				}
				last := 0
				if nk == 64 {
					blk[0] = int32(coefs[0]) * q[0]
					for m := mask &^ 1; m != 0; m &= m - 1 {
						k := bits.TrailingZeros64(m)
						blk[zigzag[k]] = int32(coefs[k]) * q[k]
						last = k
					}
				} else {
					for sl := 0; sl < nk; sl++ {
						k := kz[sl]
						blk[zigzag[k]] = int32(coefs[sl]) * q[k]
					}
					if mask&^1 != 0 {
						last = 63
					}
				}
				off := (by-my0*c.v)*bs*c.stride + bx*bs
				d.idctBlock(last, c.pix[off:], c.stride)
			}
		}
	}
}
