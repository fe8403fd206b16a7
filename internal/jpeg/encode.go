package jpeg

import (
	"bufio"
	"errors"
	"image"
	"image/color"
	"io"
	"math/bits"
)

// Encoding.
//
// Encode writes baseline (SOF0) or progressive (SOF2) JPEG with Huffman
// tables made for the image being written (T.81 K.2, what libjpeg calls
// optimize_coding), so outputs are smaller than with the example tables of
// Annex K and need no table data here. That takes two passes over each
// scan's blocks: the first counts the symbols, the second writes them. The
// quantised coefficients are computed once and kept (128 bytes a block,
// 1.2 MB for an 800x500 photo) unless that would pass storeLimit; larger
// images run the DCT again in each pass instead.
//
// Progressive output uses spectral selection alone (no successive
// approximation): a DC scan, then luma coefficients 1-5, the chroma
// planes, and luma 6-63, so a browser shows a whole blurred picture after
// a small part of the file. It decodes to exactly the pixels of the
// baseline file.
//
// YCbCr input is read from its planes as it is: a 4:2:0 image (what the
// resize stage makes) is written without any colour conversion or chroma
// resampling. Chroma is written 4:2:0 below quality 90 and at full
// resolution from 90 up, as libvips does.

// EncodeOptions controls Encode.
type EncodeOptions struct {
	// Quality is 1-100 (0 means 75), on the IJG scale libjpeg and
	// image/jpeg use.
	Quality int
	// Progressive writes a progressive JPEG instead of a baseline one.
	Progressive bool
}

// fullChromaQuality is the quality from which chroma is not subsampled.
const fullChromaQuality = 90

// Encode writes img to w as a JPEG. Grey images (*image.Gray) give a
// one-component file; everything else three components (YCbCr), with any
// alpha ignored.
func Encode(w io.Writer, img image.Image, o *EncodeOptions) error {
	q, progressive := 75, false
	if o != nil {
		if o.Quality != 0 {
			q = min(max(o.Quality, 1), 100)
		}
		progressive = o.Progressive
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > 65535 || b.Dy() > 65535 {
		return errors.New("jpeg: image size out of range for JPEG")
	}
	scr := encScratchPool.Get().(*encScratch)
	defer scr.put()
	e := encoder{w: b.Dx(), h: b.Dy(), scratch: scr}
	e.setPlanes(img, q >= fullChromaQuality)
	e.setQuant(q)
	e.prepare()
	bw := scr.bw
	bw.Reset(w)
	e.writeFrame(bw, progressive)
	for _, sc := range e.scans(progressive) {
		e.freq = [4][257]int64{}
		e.codeScan(sc, nil, nil)
		var tables [4]huffEnc // DC luma, AC luma, DC chroma, AC chroma
		for i := range tables {
			if sc.uses(i) {
				tables[i].build(&e.freq[i])
			}
		}
		e.writeScanHeader(bw, sc, &tables)
		data := bitWriter{w: bw, buf: e.scratch.bits[:0]}
		e.codeScan(sc, &tables, &data)
		data.flush()
		e.scratch.bits = data.buf[:0]
	}
	bw.Write([]byte{0xFF, mEOI})
	return bw.Flush()
}

// encPlane is one component's samples: w x h valid ones; blocks that run
// past them repeat the last row and column (as libjpeg pads).
type encPlane struct {
	pix    []uint8
	stride int
	w, h   int
}

type encoder struct {
	w, h  int
	comps []encPlane // Y, or Y Cb Cr
	hv    int        // luma sampling factor: 1 (4:4:4, grey) or 2 (4:2:0)
	recip [2][64]float32
	quant [2][64]uint8 // natural order
	freq  [4][257]int64
	blk   [64]float32
	coefs [64]int16 // zig-zag order
	mask  uint64    // bit k set: coefs[k] != 0 (k >= 1)
	// grid[ci] is component ci's block grid, padded to whole MCUs: gw x gh
	// blocks, the first at store index off.
	grid [3]struct{ gw, gh, off int }
	// store and masks hold every block's coefficients and mask, when they
	// fit storeLimit; nil otherwise.
	store   []int16
	masks   []uint64
	preds   [3]int32
	scratch *encScratch
}

// setPlanes points the encoder at img's samples, converting when img is
// not already YCbCr or grey.
func (e *encoder) setPlanes(img image.Image, fullChroma bool) {
	w, h := e.w, e.h
	switch m := img.(type) {
	case *image.Gray:
		e.comps = []encPlane{{m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride, w, h}}
		e.hv = 1
		return
	case *image.YCbCr:
		if m.Rect.Min.X%2 == 0 && m.Rect.Min.Y%2 == 0 &&
			(m.SubsampleRatio == image.YCbCrSubsampleRatio444 && fullChroma ||
				m.SubsampleRatio == image.YCbCrSubsampleRatio420 && !fullChroma) {
			yo, co := m.YOffset(m.Rect.Min.X, m.Rect.Min.Y), m.COffset(m.Rect.Min.X, m.Rect.Min.Y)
			cw, ch := w, h
			e.hv = 1
			if !fullChroma {
				cw, ch, e.hv = (w+1)/2, (h+1)/2, 2
			}
			e.comps = []encPlane{{m.Y[yo:], m.YStride, w, h}, {m.Cb[co:], m.CStride, cw, ch}, {m.Cr[co:], m.CStride, cw, ch}}
			return
		}
	}
	// Convert: full-resolution Y, Cb, Cr, then average chroma 2x2 when
	// subsampling.
	y, cb, cr := make([]uint8, w*h), make([]uint8, w*h), make([]uint8, w*h)
	toYCbCr(img, y, cb, cr)
	e.comps = []encPlane{{y, w, w, h}, {cb, w, w, h}, {cr, w, w, h}}
	e.hv = 1
	if !fullChroma {
		e.comps[1] = halve(e.comps[1])
		e.comps[2] = halve(e.comps[2])
		e.hv = 2
	}
}

// toYCbCr fills full-resolution planes from img (JFIF conversion).
func toYCbCr(img image.Image, y, cb, cr []uint8) {
	b := img.Bounds()
	w := b.Dx()
	switch m := img.(type) {
	case *image.RGBA:
		for j := 0; j < b.Dy(); j++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+j):]
			for i := 0; i < w; i++ {
				p := row[4*i : 4*i+3 : 4*i+3]
				y[j*w+i], cb[j*w+i], cr[j*w+i] = color.RGBToYCbCr(p[0], p[1], p[2])
			}
		}
	case *image.YCbCr:
		for j := 0; j < b.Dy(); j++ {
			for i := 0; i < w; i++ {
				yi, ci := m.YOffset(b.Min.X+i, b.Min.Y+j), m.COffset(b.Min.X+i, b.Min.Y+j)
				y[j*w+i], cb[j*w+i], cr[j*w+i] = m.Y[yi], m.Cb[ci], m.Cr[ci]
			}
		}
	default:
		for j := 0; j < b.Dy(); j++ {
			for i := 0; i < w; i++ {
				r, g, bb, _ := img.At(b.Min.X+i, b.Min.Y+j).RGBA()
				y[j*w+i], cb[j*w+i], cr[j*w+i] = color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(bb>>8))
			}
		}
	}
}

// halve averages 2x2 samples (rounding alternately up and down, as libjpeg
// does, so that the average does not drift).
func halve(p encPlane) encPlane {
	w, h := (p.w+1)/2, (p.h+1)/2
	out := make([]uint8, w*h)
	for j := 0; j < h; j++ {
		r0 := p.pix[2*j*p.stride:]
		r1 := p.pix[min(2*j+1, p.h-1)*p.stride:]
		for i := 0; i < w; i++ {
			x0, x1 := 2*i, min(2*i+1, p.w-1)
			out[j*w+i] = uint8((int(r0[x0]) + int(r0[x1]) + int(r1[x0]) + int(r1[x1]) + 1 + i&1) >> 2)
		}
	}
	return encPlane{out, w, w, h}
}

// Quantisation tables of T.81 K.1 (natural order), scaled for quality as
// libjpeg's jpeg_quality_scaling does.
var baseQuant = [2][64]uint8{{
	16, 11, 10, 16, 24, 40, 51, 61,
	12, 12, 14, 19, 26, 58, 60, 55,
	14, 13, 16, 24, 40, 57, 69, 56,
	14, 17, 22, 29, 51, 87, 80, 62,
	18, 22, 37, 56, 68, 109, 103, 77,
	24, 35, 55, 64, 81, 104, 113, 92,
	49, 64, 78, 87, 103, 121, 120, 101,
	72, 92, 95, 98, 112, 100, 103, 99,
}, {
	17, 18, 24, 47, 99, 99, 99, 99,
	18, 21, 26, 66, 99, 99, 99, 99,
	24, 26, 56, 99, 99, 99, 99, 99,
	47, 66, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
}}

// aanScale[k] is cos(kπ/16)·√2 (1 for k = 0): the factors the AAN DCT
// leaves in its outputs, divided out together with the quantiser.
var aanScale = [8]float64{1, 1.387039845, 1.306562965, 1.175875602, 1, 0.785694958, 0.541196100, 0.275899379}

func (e *encoder) setQuant(quality int) {
	scale := 200 - 2*quality
	if quality < 50 {
		scale = 5000 / quality
	}
	for t := range 2 {
		for i, v := range baseQuant[t] {
			q := (int(v)*scale + 50) / 100
			q = min(max(q, 1), 255)
			e.quant[t][i] = uint8(q)
			e.recip[t][i] = float32(1 / (float64(q) * aanScale[i/8] * aanScale[i%8] * 8))
		}
	}
}

// storeLimit bounds the coefficient store: 32 MB, a 10-megapixel 4:2:0
// image. (A variable for the test of the path without the store.)
var storeLimit = 32 << 20

// prepare lays out the block grids and, if the store fits, runs the DCT
// of every block into it.
func (e *encoder) prepare() {
	mw, mh := (e.w+8*e.hv-1)/(8*e.hv), (e.h+8*e.hv-1)/(8*e.hv) // MCUs
	n := 0
	for ci := range e.comps {
		f := 1
		if ci == 0 {
			f = e.hv
		}
		e.grid[ci].gw, e.grid[ci].gh, e.grid[ci].off = mw*f, mh*f, n
		n += mw * f * mh * f
	}
	if n*(64*2+8) > storeLimit {
		return
	}
	e.store, e.masks = e.scratch.blocks(n)
	for ci := range e.comps {
		g := e.grid[ci]
		for by := range g.gh {
			for bx := range g.gw {
				e.transform(&e.comps[ci], bx*8, by*8, min(ci, 1))
				i := g.off + by*g.gw + bx
				copy(e.store[64*i:64*i+64], e.coefs[:])
				e.masks[i] = e.mask
			}
		}
	}
}

// load sets e.coefs and e.mask to block (bx, by) of component ci.
func (e *encoder) load(ci, bx, by int) {
	if e.store == nil {
		e.transform(&e.comps[ci], bx*8, by*8, min(ci, 1))
		return
	}
	g := &e.grid[ci]
	i := g.off + by*g.gw + bx
	copy(e.coefs[:], e.store[64*i:64*i+64])
	e.mask = e.masks[i]
}

// scan is one scan of the file: its components and coefficient band.
type scan struct {
	comps  []int
	ss, se int
}

// uses reports whether the scan codes with table i (as table numbers it).
func (sc scan) uses(i int) bool {
	if ac := i%2 == 1; ac && sc.se == 0 || !ac && sc.ss > 0 {
		return false
	}
	for _, ci := range sc.comps {
		if min(ci, 1) == i/2 {
			return true
		}
	}
	return false
}

// scans is the scan script.
func (e *encoder) scans(progressive bool) []scan {
	all := []int{0, 1, 2}[:len(e.comps)]
	switch {
	case !progressive:
		return []scan{{all, 0, 63}}
	case len(all) == 1:
		return []scan{{all, 0, 0}, {all, 1, 5}, {all, 6, 63}}
	}
	return []scan{{all, 0, 0}, {[]int{0}, 1, 5}, {[]int{1}, 1, 63}, {[]int{2}, 1, 63}, {[]int{0}, 6, 63}}
}

// forScan runs fn on the blocks of a scan in their order (e.coefs and
// e.mask set; ci is the block's component): MCU by MCU, luma blocks then
// Cb then Cr, when the scan has several components; the component's own
// blocks, row by row, when it has one (T.81 A.2).
func (e *encoder) forScan(sc scan, fn func(ci int)) {
	if len(sc.comps) == 1 {
		ci := sc.comps[0]
		p := &e.comps[ci]
		for by := 0; by < (p.h+7)/8; by++ {
			for bx := 0; bx < (p.w+7)/8; bx++ {
				e.load(ci, bx, by)
				fn(ci)
			}
		}
		return
	}
	g := e.grid[1]
	for my := range g.gh {
		for mx := range g.gw {
			for v := range e.hv {
				for h := range e.hv {
					e.load(0, mx*e.hv+h, my*e.hv+v)
					fn(0)
				}
			}
			e.load(1, mx, my)
			fn(1)
			e.load(2, mx, my)
			fn(2)
		}
	}
}

// transform loads the 8x8 block at (x, y) of p, runs the forward DCT and
// quantises it with table t into e.coefs (zig-zag order).
func (e *encoder) transform(p *encPlane, x, y, t int) {
	blk := &e.blk
	if x+8 <= p.w && y+8 <= p.h {
		for r := 0; r < 8; r++ {
			s := p.pix[(y+r)*p.stride+x:]
			s = s[:8:8]
			d := blk[r*8 : r*8+8 : r*8+8]
			for c := range 8 {
				d[c] = float32(s[c]) - 128
			}
		}
	} else {
		for r := 0; r < 8; r++ {
			s := p.pix[min(y+r, p.h-1)*p.stride:]
			for c := range 8 {
				blk[r*8+c] = float32(s[min(x+c, p.w-1)]) - 128
			}
		}
	}
	fdct(blk)
	rc := &e.recip[t]
	var mask uint64
	for k := range 64 {
		nat := zigzag[k]
		// Round to nearest (half up) without a branch on the sign, which
		// would be mispredicted half the time: |v| < 2048, so the offset
		// keeps the sum positive and the truncation a floor.
		v := int16(int32(blk[nat]*rc[nat]+16384.5) - 16384)
		e.coefs[k] = v
		if v != 0 {
			mask |= 1 << uint(k)
		}
	}
	e.mask = mask &^ 1
}

// fdct is the AAN forward DCT (Arai, Agui and Nakajima, as in libjpeg's
// jfdctflt), rows then columns, in place. Output (u, v) comes out as
// 8·aanScale[u]·aanScale[v] times the coefficient of T.81 A.3.3; setQuant
// divides that out together with the quantiser.
func fdct(b *[64]float32) {
	for i := 0; i < 64; i += 8 {
		d := b[i : i+8 : i+8]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = fdct8(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7])
	}
	for i := range 8 {
		b[i], b[8+i], b[16+i], b[24+i], b[32+i], b[40+i], b[48+i], b[56+i] =
			fdct8(b[i], b[8+i], b[16+i], b[24+i], b[32+i], b[40+i], b[48+i], b[56+i])
	}
}

func fdct8(d0, d1, d2, d3, d4, d5, d6, d7 float32) (o0, o1, o2, o3, o4, o5, o6, o7 float32) {
	t0, t7 := d0+d7, d0-d7
	t1, t6 := d1+d6, d1-d6
	t2, t5 := d2+d5, d2-d5
	t3, t4 := d3+d4, d3-d4

	// Even part.
	t10, t13 := t0+t3, t0-t3
	t11, t12 := t1+t2, t1-t2
	o0, o4 = t10+t11, t10-t11
	z1 := (t12 + t13) * 0.707106781
	o2, o6 = t13+z1, t13-z1

	// Odd part.
	t10 = t4 + t5
	t11 = t5 + t6
	t12 = t6 + t7
	z5 := (t10 - t12) * 0.382683433
	z2 := 0.541196100*t10 + z5
	z4 := 1.306562965*t12 + z5
	z3 := t11 * 0.707106781
	z11, z13 := t7+z3, t7-z3
	o5, o3 = z13+z2, z13-z2
	o1, o7 = z11+z4, z11-z4
	return
}

// table returns the DC and AC table indices (into freq and tables) of
// component ci.
func table(ci int) (int, int) {
	if ci == 0 {
		return 0, 1
	}
	return 2, 3
}

// codeScan codes the blocks of a scan: it counts the symbols into e.freq
// when tables is nil, and writes them to bw otherwise.
func (e *encoder) codeScan(sc scan, tables *[4]huffEnc, bw *bitWriter) {
	emit := func(t, sym int, extra uint32, n int) {
		if tables == nil {
			e.freq[t][sym]++
			return
		}
		h := &tables[t]
		bw.put(uint32(h.code[sym])<<uint(n)|extra, uint(h.size[sym])+uint(n))
	}
	e.preds = [3]int32{}
	eobrun, eobTable := 0, 0
	flushEOB := func() { // an EOBn symbol for the blocks ending in zeros (G.1.2.2)
		if eobrun > 0 {
			n := bits.Len(uint(eobrun)) - 1
			emit(eobTable, n<<4, uint32(eobrun)&(1<<uint(n)-1), n)
			eobrun = 0
		}
	}
	band := ^uint64(0) >> uint(63-sc.se) &^ (1<<uint(max(sc.ss, 1)) - 1) // AC bits ss..se
	e.forScan(sc, func(ci int) {
		dt, at := table(ci)
		c := &e.coefs
		if sc.ss == 0 {
			diff := int32(c[0]) - e.preds[ci]
			e.preds[ci] = int32(c[0])
			s := category(diff)
			emit(dt, s, valueBits(diff, s), s)
			if sc.se == 0 {
				return
			}
		}
		prev := max(sc.ss, 1) - 1
		m := e.mask & band
		if m != 0 && sc.ss > 0 {
			flushEOB()
		}
		for ; m != 0; m &= m - 1 {
			k := bits.TrailingZeros64(m)
			run := k - prev - 1
			for ; run > 15; run -= 16 {
				emit(at, 0xF0, 0, 0)
			}
			v := int32(c[k&63])
			s := category(v)
			emit(at, run<<4|s, valueBits(v, s), s)
			prev = k
		}
		if prev < sc.se {
			if sc.ss == 0 {
				emit(at, 0x00, 0, 0) // baseline: EOB ends the block
				return
			}
			// Progressive: the block joins the run of blocks ending in
			// zeros, written when the run ends (at most 0x7FFF long).
			eobTable = at
			if eobrun++; eobrun == 0x7FFF {
				flushEOB()
			}
		}
	})
	flushEOB()
}

// category is the number of bits of |v| (T.81 F.1.2.1.1 SSSS).
func category(v int32) int {
	if v < 0 {
		v = -v
	}
	return bits.Len32(uint32(v))
}

// huffEnc is one Huffman table: the DHT lists and each symbol's code.
type huffEnc struct {
	counts [17]uint8 // counts[l]: number of codes of length l
	vals   []uint8
	code   [256]uint16
	size   [256]uint8
}

// build makes length-limited optimal codes for the frequencies (T.81
// K.2, figures K.1 to K.4). freq[256] is a reserved symbol that keeps any
// code from being all ones.
func (t *huffEnc) build(freq *[257]int64) {
	codesize := codeSizes(freq)
	t.fromCodeSizes(&codesize)
}

// codeSizes is figure K.1: the length of each symbol's optimal code,
// before the limit to 16 bits; freq[256] is taken as 1. No code is longer
// than 32 bits, the most fromCodeSizes takes: that would need frequencies
// like a Fibonacci series summing to over 1.7e13 symbols in one table
// (TestHuffmanBuild), where a 100 MP output has about 1e10 at most.
func codeSizes(freq *[257]int64) [257]int {
	var f [257]int64
	copy(f[:], freq[:])
	f[256] = 1
	var codesize [257]int
	var others [257]int
	for i := range others {
		others[i] = -1
	}
	// The symbols in use, in a binary heap: the least frequent on top, the
	// larger symbol first on a tie, which is the pair K.2's search picks
	// (it took a search over every symbol in use for each merge, 1.7% of
	// the CPU of a batch of thumbnails, whose AC tables use a hundred or
	// more).
	var heap [257]int
	n := 0
	for i := range f {
		if f[i] > 0 {
			heap[n] = i
			n++
		}
	}
	less := func(a, b int) bool { return f[a] < f[b] || f[a] == f[b] && a > b }
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= n {
				return
			}
			if c+1 < n && less(heap[c+1], heap[c]) {
				c++
			}
			if !less(heap[c], heap[i]) {
				return
			}
			heap[i], heap[c] = heap[c], heap[i]
			i = c
		}
	}
	for i := n/2 - 1; i >= 0; i-- {
		down(i)
	}
	for n > 1 {
		v1 := heap[0]
		n--
		heap[0] = heap[n]
		down(0)
		v2 := heap[0]
		f[v1] += f[v2]
		f[v2] = 0
		heap[0] = v1 // v1's frequency only grew: it sinks
		down(0)
		for codesize[v1]++; others[v1] >= 0; codesize[v1]++ {
			v1 = others[v1]
		}
		others[v1] = v2
		for codesize[v2]++; others[v2] >= 0; codesize[v2]++ {
			v2 = others[v2]
		}
	}
	return codesize
}

// fromCodeSizes makes the table from K.1's code sizes: lengths limited
// to 16 bits (K.3), the symbols sorted by length (K.4) and canonical codes.
func (t *huffEnc) fromCodeSizes(codesize *[257]int) {
	var counts [33]int
	for _, s := range codesize {
		if s > 0 {
			counts[s]++
		}
	}
	// Limit code lengths to 16 bits (K.3, Adjust_BITS).
	for i := 32; i > 16; i-- {
		for counts[i] > 0 {
			j := i - 2
			for counts[j] == 0 {
				j--
			}
			counts[i] -= 2
			counts[i-1]++
			counts[j+1] += 2
			counts[j]--
		}
	}
	// Drop the reserved symbol's code (one of the longest).
	i := 16
	for counts[i] == 0 {
		i--
	}
	counts[i]--
	for l := 1; l <= 16; l++ {
		t.counts[l] = uint8(counts[l])
	}
	// Symbols in order of code length, then of value, as K.4 sorts them:
	// counted into place in one pass over the symbols.
	var at [33]int
	for s := range 256 {
		if c := codesize[s]; c > 0 {
			at[c]++
		}
	}
	n := 0
	for l := 1; l <= 32; l++ {
		at[l], n = n, n+at[l]
	}
	t.vals = append(t.vals[:0], make([]uint8, n)...)
	for s := range 256 {
		if c := codesize[s]; c > 0 {
			t.vals[at[c]] = uint8(s)
			at[c]++
		}
	}
	// Canonical codes (C.2).
	code, k := uint16(0), 0
	for l := 1; l <= 16; l++ {
		for range int(t.counts[l]) {
			s := t.vals[k]
			t.code[s], t.size[s] = code, uint8(l)
			code++
			k++
		}
		code <<= 1
	}
}

// writeFrame writes SOI, the quantisation tables and SOF0 or SOF2.
func (e *encoder) writeFrame(w *bufio.Writer, progressive bool) {
	nc := len(e.comps)
	nq := min(nc, 2)
	w.Write([]byte{0xFF, mSOI})
	// DQT: the tables in zig-zag order.
	seg := []byte{0xFF, mDQT, 0, byte(2 + 65*nq)}
	for t := range nq {
		seg = append(seg, byte(t))
		for k := range 64 {
			seg = append(seg, e.quant[t][zigzag[k]])
		}
	}
	w.Write(seg)
	sof := byte(mSOF0)
	if progressive {
		sof = mSOF2
	}
	seg = []byte{0xFF, sof, 0, byte(8 + 3*nc), 8, byte(e.h >> 8), byte(e.h), byte(e.w >> 8), byte(e.w), byte(nc)}
	for ci := range nc {
		hv, tq := byte(0x11), byte(min(ci, 1))
		if ci == 0 {
			hv = byte(e.hv<<4 | e.hv)
		}
		seg = append(seg, byte(ci+1), hv, tq)
	}
	w.Write(seg)
}

// writeScanHeader writes the Huffman tables a scan uses (luma tables as
// number 0, chroma as 1) and its SOS.
func (e *encoder) writeScanHeader(w *bufio.Writer, sc scan, tables *[4]huffEnc) {
	seg := []byte{0xFF, mDHT, 0, 0}
	for i := range tables {
		if !sc.uses(i) {
			continue
		}
		t := &tables[i]
		seg = append(seg, byte(i%2)<<4|byte(i/2))
		seg = append(seg, t.counts[1:]...)
		seg = append(seg, t.vals...)
	}
	seg[2], seg[3] = byte((len(seg)-2)>>8), byte(len(seg)-2)
	w.Write(seg)
	seg = []byte{0xFF, mSOS, 0, byte(6 + 2*len(sc.comps)), byte(len(sc.comps))}
	for _, ci := range sc.comps {
		tt := byte(min(ci, 1))
		seg = append(seg, byte(ci+1), tt<<4|tt)
	}
	seg = append(seg, byte(sc.ss), byte(sc.se), 0)
	w.Write(seg)
}

// valueBits is the s low bits that code v (negative values as v-1).
func valueBits(v int32, s int) uint32 {
	if v < 0 {
		v--
	}
	return uint32(v) & (1<<uint(s) - 1)
}

// bitWriter packs codes MSB-first, stuffing a zero byte after each 0xFF.
// Bits gather in acc and leave 32 at a time into buf, which goes to w in
// large writes.
type bitWriter struct {
	w   *bufio.Writer
	buf []byte
	acc uint64
	n   uint // bits in acc, < 32 between calls
}

// put appends the n (<= 32) low bits of bits.
func (b *bitWriter) put(bits uint32, n uint) {
	b.acc = b.acc<<n | uint64(bits)
	b.n += n
	if b.n >= 32 {
		b.n -= 32
		b.word(uint32(b.acc >> b.n))
	}
}

// word appends 4 bytes, stuffed.
func (b *bitWriter) word(v uint32) {
	if (^v-0x01010101)&v&0x80808080 == 0 { // no 0xFF byte: the usual case
		b.buf = append(b.buf, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	} else {
		for sh := 24; sh >= 0; sh -= 8 {
			c := byte(v >> uint(sh))
			b.buf = append(b.buf, c)
			if c == 0xFF {
				b.buf = append(b.buf, 0)
			}
		}
	}
	if len(b.buf) >= 32<<10 {
		b.w.Write(b.buf)
		b.buf = b.buf[:0]
	}
}

// flush writes the bits left, the last byte padded with ones, and empties
// buf into w.
func (b *bitWriter) flush() {
	for b.n >= 8 {
		b.n -= 8
		c := byte(b.acc >> b.n)
		b.buf = append(b.buf, c)
		if c == 0xFF {
			b.buf = append(b.buf, 0)
		}
	}
	if b.n > 0 {
		c := byte(b.acc<<(8-b.n)) | byte(1<<(8-b.n)-1)
		b.buf = append(b.buf, c)
		if c == 0xFF {
			b.buf = append(b.buf, 0)
		}
		b.n = 0
	}
	b.w.Write(b.buf)
	b.buf = b.buf[:0]
}
