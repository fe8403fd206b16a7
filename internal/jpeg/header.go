package jpeg

import (
	"bufio"
	"bytes"
	"image"
	"image/color"
	"io"
)

// Marker codes (ITU-T T.81 table B.1).
const (
	mSOF0  = 0xC0 // baseline DCT
	mSOF1  = 0xC1 // extended sequential DCT, Huffman
	mSOF2  = 0xC2 // progressive DCT, Huffman
	mDHT   = 0xC4
	mDAC   = 0xCC
	mRST0  = 0xD0
	mRST7  = 0xD7
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mDQT   = 0xDB
	mDNL   = 0xDC
	mDRI   = 0xDD
	mDHP   = 0xDE
	mEXP   = 0xDF
	mAPP0  = 0xE0
	mAPP14 = 0xEE
	mAPP15 = 0xEF
	mCOM   = 0xFE
)

// component is one colour component of the frame.
type component struct {
	id   byte
	h, v int // sampling factors
	tq   int // quantisation table selector

	bw, bh   int // blocks in the MCU-padded grid (mcusX*h, mcusY*v)
	cbw, cbh int // blocks that cover the component's own samples (non-interleaved scans)

	pix    []byte // output plane, (bw*bs) x (bh*bs) samples
	stride int

	coefs   []int16  // progressive: kept coefficients, nKeep per block
	masks   []uint64 // progressive: bit k set if zig-zag coefficient k is non-zero
	scanned bool     // appeared in at least one scan
}

type decoder struct {
	data []byte
	pos  int

	// A decoder reading a stream (NewBands) holds only a window of it: data
	// is the unread part of buf, refilled from src (see window.go).
	src     io.Reader
	buf     []byte
	srcDone bool
	srcErr  error
	// banded: the output planes hold one MCU row (see bands.go); sos is
	// the first SOS segment, where opening for bands stopped.
	banded   bool
	openOnly bool
	sos      []byte
	scan     [4]scanComp
	nscan    int
	mcu      int // sequential bands: MCUs decoded, for restart intervals
	rstNext  int // sequential bands: the RST marker expected next

	scale int // 1, 2, 4 or 8
	bs    int // output samples per block side: 8/scale

	configOnly     bool
	haveSOF        bool
	progressive    bool
	baseline       bool
	jfif           bool
	adobe          bool
	adobeTransform byte

	width, height int
	ncomp         int
	comp          [4]component
	hmax, vmax    int
	mcusX, mcusY  int
	allocated     bool

	ri    int              // restart interval in MCUs, 0 = none
	quant [4][64]int32     // zig-zag order
	huff  [2][4]*huffTable // [class][id]
	skip  [4]*skipTable    // at a reduced scale, for the AC tables of a sequential scan
	// storeAC makes a sequential scan at a reduced scale decode all its
	// AC coefficients as at full scale, instead of stepping over those
	// the IDCT does not read with skip: the reference the tests hold
	// mcuDC and skipAC to.
	storeAC bool

	eobrun int
	nscans int
	br     bitReader
	blk    [128]int32 // scratch block; index 64 is a dump for unneeded coefficients

	ycc *image.YCbCr // MCU-padded output planes for 3 and 4 components
}

// run parses the marker stream, decoding every scan. In configOnly mode it
// stops at the first SOS (or after the SOF of a JFIF file, like image/jpeg).
func (d *decoder) run() error {
	data := d.data
	if len(data) < 2 || data[0] != 0xFF || data[1] != mSOI {
		if len(data) < 2 {
			return io.ErrUnexpectedEOF
		}
		return FormatError("missing SOI marker")
	}
	d.pos = 2
	return d.markers()
}

// markers parses the marker stream from d.pos on, decoding every scan, up
// to EOI (see run).
func (d *decoder) markers() error {
	for {
		marker, err := d.nextMarker()
		if err != nil {
			return err
		}
		if marker == mEOI {
			break
		}
		if mRST0 <= marker && marker <= mRST7 {
			// A stray restart marker between segments is harmless.
			continue
		}
		d.pos -= d.ensure(d.pos, 2)
		data := d.data
		if d.pos+2 > len(data) {
			return io.ErrUnexpectedEOF
		}
		n := int(data[d.pos])<<8 | int(data[d.pos+1]) - 2
		if n < 0 {
			return FormatError("short segment length")
		}
		d.pos -= d.ensure(d.pos, n+2)
		data = d.data
		d.pos += 2
		if d.pos+n > len(data) {
			return io.ErrUnexpectedEOF
		}
		seg := data[d.pos : d.pos+n]
		d.pos += n

		switch {
		case marker == mSOF0 || marker == mSOF1 || marker == mSOF2:
			if err := d.processSOF(marker, seg); err != nil {
				return err
			}
			if d.configOnly && d.jfif {
				return nil
			}
		case marker == 0xC3:
			return unsupported("lossless JPEG (SOF3)")
		case marker == 0xC5 || marker == 0xC6 || marker == 0xC7 || marker == mDHP || marker == mEXP:
			return unsupported("hierarchical JPEG (marker 0x%02X)", marker)
		case marker == mDAC || (marker >= 0xC9 && marker <= 0xCF && marker != mDAC):
			return unsupported("arithmetic coding (marker 0x%02X)", marker)
		case marker == mDHT:
			if d.configOnly {
				continue
			}
			if err := d.processDHT(seg); err != nil {
				return err
			}
		case marker == mDQT:
			if d.configOnly {
				continue
			}
			if err := d.processDQT(seg); err != nil {
				return err
			}
		case marker == mDRI:
			if d.configOnly {
				continue
			}
			if len(seg) != 2 {
				return FormatError("DRI has wrong length")
			}
			d.ri = int(seg[0])<<8 | int(seg[1])
		case marker == mSOS:
			if d.configOnly {
				return nil
			}
			if d.openOnly {
				d.sos = append([]byte(nil), seg...)
				return nil
			}
			if err := d.processSOS(seg); err != nil {
				return err
			}
		case marker == mDNL:
			return unsupported("DNL marker")
		case marker == mAPP0:
			d.jfif = len(seg) >= 5 && string(seg[:5]) == "JFIF\x00"
		case marker == mAPP14:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe = true
				d.adobeTransform = seg[11]
			}
		case marker >= mAPP0 && marker <= mAPP15, marker == mCOM:
			// skipped
		case marker < 0xC0:
			return FormatError("unknown marker")
		default:
			return unsupported("marker 0x%02X", marker)
		}
	}
	if d.configOnly {
		if !d.haveSOF {
			return FormatError("missing SOF marker")
		}
		return nil
	}
	if !d.allocated {
		return FormatError("missing SOS marker")
	}
	return nil
}

// nextMarker finds the next marker at or after d.pos, skipping extraneous
// bytes and fill bytes the way libjpeg and image/jpeg do, and leaves d.pos
// just after the marker code.
func (d *decoder) nextMarker() (byte, error) {
	data := d.data
	p := d.pos
	for {
		if p+1 >= len(data) {
			if p -= d.ensure(p, 2); p+1 >= len(d.data) {
				return 0, io.ErrUnexpectedEOF
			}
			data = d.data
		}
		if data[p] != 0xFF {
			i := bytes.IndexByte(data[p+1:], 0xFF)
			if i < 0 {
				p = len(data) - 1 // stepped over; a stream reads on
				continue
			}
			p += 1 + i
			continue
		}
		m := data[p+1]
		if m == 0xFF {
			p++
			continue
		}
		if m == 0x00 {
			p += 2
			continue
		}
		d.pos = p + 2
		return m, nil
	}
}

func (d *decoder) processSOF(marker byte, seg []byte) error {
	if d.haveSOF {
		return FormatError("multiple SOF markers")
	}
	var nc int
	switch len(seg) {
	case 6 + 3*1:
		nc = 1
	case 6 + 3*3:
		nc = 3
	case 6 + 3*4:
		nc = 4
	default:
		return unsupported("number of components")
	}
	if seg[0] != 8 {
		return unsupported("%d-bit sample precision", seg[0])
	}
	d.height = int(seg[1])<<8 | int(seg[2])
	d.width = int(seg[3])<<8 | int(seg[4])
	if int(seg[5]) != nc {
		return FormatError("SOF has wrong length")
	}
	d.ncomp = nc
	d.baseline = marker == mSOF0
	d.progressive = marker == mSOF2
	for i := 0; i < nc; i++ {
		c := &d.comp[i]
		c.id = seg[6+3*i]
		for j := 0; j < i; j++ {
			if d.comp[j].id == c.id {
				return FormatError("repeated component identifier")
			}
		}
		hv := seg[7+3*i]
		h, v := int(hv>>4), int(hv&15)
		c.tq = int(seg[8+3*i])
		if c.tq > 3 {
			return FormatError("bad Tq value")
		}
		if h < 1 || h > 4 || v < 1 || v > 4 {
			return FormatError("bad sampling factors")
		}
		if h == 3 || v == 3 {
			return unsupported("sampling factor 3")
		}
		// Accept exactly the layouts image/jpeg accepts, so that the image
		// types (and subsampling ratios) match.
		switch nc {
		case 1:
			// A single component is non-interleaved: its MCU is one block
			// whatever H and V say (T.81 A.2).
			h, v = 1, 1
		case 3:
			switch i {
			case 0:
				if v == 4 {
					return unsupported("luma sampling %dx%d", h, v)
				}
			case 1:
				if d.comp[0].h%h != 0 || d.comp[0].v%v != 0 {
					return unsupported("chroma subsampling layout")
				}
			case 2:
				if d.comp[1].h != h || d.comp[1].v != v {
					return unsupported("chroma subsampling layout")
				}
			}
		case 4:
			switch i {
			case 0:
				if hv != 0x11 && hv != 0x22 {
					return unsupported("4-component sampling layout")
				}
			case 1, 2:
				if hv != 0x11 {
					return unsupported("4-component sampling layout")
				}
			case 3:
				if d.comp[0].h != h || d.comp[0].v != v {
					return unsupported("4-component sampling layout")
				}
			}
		}
		c.h, c.v = h, v
	}
	d.haveSOF = true
	// The first component has the largest factors in every accepted layout.
	d.hmax, d.vmax = d.comp[0].h, d.comp[0].v
	d.mcusX = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcusY = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	for i := 0; i < nc; i++ {
		c := &d.comp[i]
		c.bw, c.bh = d.mcusX*c.h, d.mcusY*c.v
		cw := (d.width*c.h + d.hmax - 1) / d.hmax
		ch := (d.height*c.v + d.vmax - 1) / d.vmax
		c.cbw, c.cbh = (cw+7)/8, (ch+7)/8
	}
	return nil
}

func (d *decoder) isRGB() bool {
	if d.jfif {
		return false
	}
	if d.adobe && d.adobeTransform == 0 {
		return true
	}
	return d.comp[0].id == 'R' && d.comp[1].id == 'G' && d.comp[2].id == 'B'
}

func (d *decoder) colorModel() color.Model {
	switch d.ncomp {
	case 1:
		return color.GrayModel
	case 3:
		if d.isRGB() {
			return color.RGBAModel
		}
		return color.YCbCrModel
	}
	return color.CMYKModel
}

func (d *decoder) processDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, int(seg[0]&15)
		if tq > 3 {
			return FormatError("bad Tq value")
		}
		seg = seg[1:]
		switch pq {
		case 0:
			if len(seg) < 64 {
				return FormatError("DQT has wrong length")
			}
			for i := 0; i < 64; i++ {
				d.quant[tq][i] = int32(seg[i])
			}
			seg = seg[64:]
		case 1:
			if len(seg) < 128 {
				return FormatError("DQT has wrong length")
			}
			for i := 0; i < 64; i++ {
				d.quant[tq][i] = int32(seg[2*i])<<8 | int32(seg[2*i+1])
			}
			seg = seg[128:]
		default:
			return FormatError("bad Pq value")
		}
	}
	return nil
}

func (d *decoder) processDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return FormatError("DHT has wrong length")
		}
		tc, th := int(seg[0]>>4), int(seg[0]&15)
		if tc > 1 {
			return FormatError("bad Tc value")
		}
		if th > 3 || (d.baseline && th > 1) {
			return FormatError("bad Th value")
		}
		var counts [17]int
		total := 0
		for i := 1; i <= 16; i++ {
			counts[i] = int(seg[i])
			total += counts[i]
		}
		if total == 0 {
			return FormatError("Huffman table has zero length")
		}
		if total > 256 {
			return FormatError("Huffman table has excessive length")
		}
		if len(seg) < 17+total {
			return FormatError("DHT has wrong length")
		}
		t := d.huff[tc][th]
		if t == nil {
			t = newHuffTable()
			d.huff[tc][th] = t
		}
		if err := t.build(&counts, seg[17:17+total], tc == 1); err != nil {
			return err
		}
		seg = seg[17+total:]
	}
	return nil
}

// readHeaderBytes reads the marker segments of a JPEG stream up to and
// including the first SOS (or EOI) and returns them as a byte slice that
// run can parse in configOnly mode. Large segments that DecodeConfig does
// not need are replaced by empty ones, so memory stays small. A read error
// just ends the data early; run then reports the truncation.
func readHeaderBytes(r io.Reader) ([]byte, error) {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		readerPool.Put(br)
	}()
	out := make([]byte, 0, 512)
	var b [2]byte
	if _, err := io.ReadFull(br, b[:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	out = append(out, b[0], b[1])
	if b[0] != 0xFF || b[1] != mSOI {
		return out, nil
	}
	for {
		c, err := br.ReadByte()
		if err != nil {
			return out, nil
		}
		if c != 0xFF {
			// Skip to the next 0xFF in what is buffered at once: a damaged
			// or padded file may have megabytes before its next marker.
			if n := br.Buffered(); n > 0 {
				b, _ := br.Peek(n)
				if i := bytes.IndexByte(b, 0xFF); i >= 0 {
					n = i
				}
				br.Discard(n)
			}
			continue
		}
		m := byte(0xFF)
		for m == 0xFF {
			if m, err = br.ReadByte(); err != nil {
				return out, nil
			}
		}
		if m == 0 {
			continue
		}
		out = append(out, 0xFF, m)
		if m == mEOI {
			return out, nil
		}
		if mRST0 <= m && m <= mRST7 {
			continue
		}
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return out, nil
		}
		n := int(b[0])<<8 | int(b[1]) - 2
		keep := m == mSOS || m == mAPP0 || m == mAPP14 || (m >= 0xC0 && m <= 0xCF && m != mDHT)
		if n < 0 || keep {
			out = append(out, b[0], b[1])
			if n <= 0 {
				continue
			}
			start := len(out)
			out = append(out, make([]byte, n)...)
			if _, err := io.ReadFull(br, out[start:]); err != nil {
				return out[:start], nil
			}
			if m == mSOS {
				return out, nil
			}
			continue
		}
		// Replace the segment by an empty one.
		out = append(out, 0, 2)
		if _, err := br.Discard(n); err != nil {
			return out[:len(out)-4], nil
		}
	}
}
