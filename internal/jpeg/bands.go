package jpeg

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
)

// errBandsStart stops the marker loop at the scan of a sequential JPEG
// opened with NewBands: Bands.Next decodes it an MCU row at a time.
var errBandsStart = errors.New("jpeg: the scan is decoded in bands")

// Bands is a JPEG opened by NewBands for decoding a band of rows at a
// time at a reduced scale: the file is read as a stream through a 256 KiB
// window, never whole, and the output planes hold one MCU row (8, 16 or
// 32 rows at full size; 1/scale of that decoded). The bands are exactly
// the rows Decode returns for the same file and scale.
//
// A sequential (baseline) file is decoded as Next is called. A progressive
// one has its scans decoded at the first Next, into a store of the
// coefficients the reduced IDCT reads (and, for every block, which
// coefficients are non-zero, which refinement scans need), then run
// through the IDCT an MCU row a call. Holds says what either costs.
//
// A sequential file whose components come in separate scans is refused
// with ErrUnsupported: decode it whole. A Bands is not safe for concurrent
// use.
type Bands struct {
	d             decoder
	width, height int
	started       bool
	my            int // the next MCU row
	err           error
}

// NewBands reads the header of the JPEG in r, up to its first scan, and
// returns it ready for decoding in bands; r is read on by Next.
func NewBands(r io.Reader) (*Bands, error) {
	b := &Bands{}
	d := &b.d
	d.src, d.buf, d.scale, d.banded, d.openOnly = r, make([]byte, windowSize), 1, true, true
	d.data = d.buf[:0]
	d.ensure(0, 2)
	err := d.run()
	if d.srcErr != nil {
		err = d.srcErr
	}
	switch {
	case err != nil:
	case !d.haveSOF:
		err = FormatError("missing SOF marker")
	case d.sos == nil:
		err = FormatError("missing SOS marker")
	case d.width == 0 || d.height == 0:
		err = unsupported("zero image width or height (DNL)")
	case d.ncomp == 4 && !d.adobe:
		err = unsupported("4-component JPEG without Adobe APP14 marker")
	case !d.progressive && (len(d.sos) == 0 || int(d.sos[0]) != d.ncomp):
		err = unsupported("a sequential JPEG in several scans, read in bands")
	}
	if err != nil {
		d.release()
		return nil, err
	}
	b.width, b.height = d.width, d.height
	return b, nil
}

// Size returns the image's size at full scale.
func (b *Bands) Size() (w, h int) { return b.width, b.height }

// Gray reports whether the bands are *image.Gray.
func (b *Bands) Gray() bool { return b.d.ncomp == 1 }

// Progressive reports whether the file is progressive.
func (b *Bands) Progressive() bool { return b.d.progressive }

// Holds returns the most bytes decoding at 1/scale holds at once: the
// window, one MCU row of planes and its conversion to the output type,
// and for a progressive file the coefficient store (at 1/4 of the size, 4
// coefficients and a mask a block: 16 bytes; at 1/8 the DC coefficient
// alone, 2 bytes), for a sequential one at a reduced scale its skip tables.
func (b *Bands) Holds(scale int) int64 {
	d := &b.d
	si := scaleIndex(scale)
	bs := int64(8 / scale)
	n := int64(windowSize) + 4*int64(d.mcusX*d.hmax)*bs*int64(d.vmax)*bs
	if !d.progressive && scale > 1 {
		n += int64(len(d.skip)) * 2 << skipBits
	}
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		n += int64(c.bw) * bs * int64(c.v) * bs
		if d.progressive {
			n += int64(c.bw) * int64(c.bh) * int64(2*nKeep[si])
			if si < 3 {
				n += int64(c.bw) * int64(c.bh) * 8 // the masks
			}
		}
	}
	return n
}

// StripBytes returns the most bytes a band at 1/scale holds: its planes
// (at most one MCU row each), or its conversion to RGBA or CMYK. A caller
// that keeps a copy of a band holds that much for it.
func (b *Bands) StripBytes(scale int) int64 {
	d := &b.d
	bs := int64(8 / scale)
	n := int64(0)
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		n += int64(c.bw) * bs * int64(c.v) * bs
	}
	return max(n, 4*int64(d.mcusX*d.hmax)*bs*int64(d.vmax)*bs)
}

// Next returns the next band at 1/scale (2, 4 or 8; the same at every
// call): the rows from y0 to y1 of the image Decode returns, with bounds
// (0, y0)-(w, y1), valid until the next call. After the last band it
// reads the rest of the file to its EOI marker and returns io.EOF. An
// error of the file, or of r (returned as it is), ends the decoding: every
// later call returns it.
func (b *Bands) Next(scale int) (image.Image, error) {
	if b.err != nil {
		return nil, b.err
	}
	img, err := b.next(scale)
	if err != nil {
		if b.d.srcErr != nil {
			err = b.d.srcErr
		}
		b.err = err
		b.d.release()
	}
	return img, err
}

func (b *Bands) next(scale int) (image.Image, error) {
	d := &b.d
	if !b.started {
		switch scale {
		case 1, 2, 4, 8:
		default:
			return nil, fmt.Errorf("jpeg: invalid scale %d (want 1, 2, 4 or 8)", scale)
		}
		b.started, d.scale, d.openOnly = true, scale, false
		if err := b.start(); err != nil {
			return nil, err
		}
	} else if scale != d.scale {
		return nil, fmt.Errorf("jpeg: scale %d after %d", scale, d.scale)
	}
	if b.my == d.mcusY {
		if !d.progressive {
			// The rest of the file, to EOI: a file cut short after its
			// scan fails here as it does in Decode.
			d.pos = d.br.pos
			if err := d.markers(); err != nil {
				if err == errBandsStart {
					err = unsupported("a second scan in a sequential JPEG, read in bands")
				}
				return nil, err
			}
		}
		return nil, io.EOF
	}
	my := b.my
	b.my++
	if d.progressive {
		d.reconstructRows(my, my+1)
	} else if err := d.sequentialRow(); err != nil {
		return nil, err
	}
	_, h := ScaledSize(d.width, d.height, d.scale)
	y0 := my * d.vmax * d.bs
	return d.output(y0, min(y0+d.vmax*d.bs, h))
}

// start decodes the first scan: a sequential one is set up for
// sequentialRow; a progressive file has all its scans decoded, to EOI.
func (b *Bands) start() error {
	d := &b.d
	err := d.processSOS(d.sos)
	if !d.progressive {
		if err == errBandsStart {
			return nil
		}
		if err == nil {
			err = FormatError("missing SOS marker")
		}
		return err
	}
	if err != nil {
		return err
	}
	return d.markers()
}

// sequentialRow decodes the next MCU row of a sequential scan into the
// planes, handling restart intervals as forEachBlock does.
func (d *decoder) sequentialRow() error {
	sc := d.scan[:d.nscan]
	dst := &seqDst[scaleIndex(d.scale)]
	bs := d.bs
	unit := func() error {
		if d.ri > 0 && d.mcu > 0 && d.mcu%d.ri == 0 {
			if err := d.restart(sc, &d.rstNext); err != nil {
				return err
			}
		}
		d.mcu++
		d.br.pos -= d.ensure(d.br.pos, unitAhead)
		return nil
	}
	if len(sc) == 1 {
		// One component: non-interleaved, its MCU is a block.
		s := &sc[0]
		c := s.c
		bl := [1]dcBlock{{s: s, pix: c.pix, step: 1}}
		for bx := 0; bx < c.cbw; bx++ {
			if err := unit(); err != nil {
				return err
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
			d.idctBlock(last, c.pix[bx*bs:], c.stride)
		}
		return d.checkOverread()
	}
	var blocks [10]dcBlock
	var bl []dcBlock
	if d.scale == 8 && sc[0].skip != nil {
		bl = mcuBlocks(&blocks, sc, func(*component) int { return 0 })
	}
	for mx := 0; mx < d.mcusX; mx++ {
		if err := unit(); err != nil {
			return err
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
			for v := 0; v < c.v; v++ {
				for h := 0; h < c.h; h++ {
					last, err := d.decodeBlockSeq(s, dst)
					if err != nil {
						return err
					}
					d.idctBlock(last, c.pix[v*bs*c.stride+(mx*c.h+h)*bs:], c.stride)
				}
			}
		}
	}
	return d.checkOverread()
}

// Model returns the colour model of the bands, as DecodeConfig does.
func (b *Bands) Model() color.Model { return b.d.colorModel() }
