package band

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"github.com/klauspost/compress/zlib"
	"io"

	"golang.org/x/image/tiff/lzw"
)

// TIFF tags read here.
const (
	tWidth        = 256
	tHeight       = 257
	tBits         = 258
	tCompression  = 259
	tPhotometric  = 262
	tStripOffsets = 273
	tSamples      = 277
	tRowsPerStrip = 278
	tStripCounts  = 279
	tPlanar       = 284
	tPredictor    = 317
	tTileWidth    = 322
	tTileLength   = 323
	tTileOffsets  = 324
	tTileCounts   = 325
	tExtraSamples = 338
)

// maxBlocks bounds the strips or tiles an IFD may list (their offsets are
// held, 16 bytes each).
const maxBlocks = 1 << 22

// maxAcross bounds the tiles across an image read in bands: each has its
// decompressor open while its row of tiles is read (a 1-gigapixel image
// in libvips' default 128x128 tiles has 250 across).
const maxAcross = 4096

// tiffFile is what TIFF reads from the first IFD.
type tiffFile struct {
	r              io.ReaderAt
	size           int64
	bo             binary.ByteOrder
	w, h           int
	spp            int
	mode           byte // 'g' grey, 'i' grey inverted, 'c' RGB, 'a' RGBA premultiplied, 'n' RGBA straight
	compression    int
	predictor      bool
	blockW, blockH int // a strip is as wide as the image
	tiled          bool
	offsets        []uint64
	counts         []uint64
}

// TIFF opens the first image of a TIFF file for reading in bands: 8-bit
// greyscale, RGB or RGBA (associated or not) samples, interleaved, in
// strips or tiles, uncompressed, Deflate, LZW or PackBits, with or without
// the horizontal predictor. It reads the header and the IFD, nothing else.
func TIFF(r io.ReaderAt, size int64) (*Image, error) {
	t, err := readIFD(r, size)
	if err != nil {
		return nil, err
	}
	across := (t.w + t.blockW - 1) / t.blockW
	if across > maxAcross {
		return nil, fmt.Errorf("%w: %d tiles across", ErrUnsupported, across)
	}
	row := int64(t.blockW) * int64(t.spp)
	// Rows holds a block row of raw samples per block across, the image's
	// RGBA row and, per block across, a decompressor (zlib: a 32 KiB window
	// and buffers; LZW: its 4096-entry table) and a read buffer.
	holds := int64(across)*(row+48<<10) + 4*int64(t.w) + 3*int64(t.w)*int64(t.spp)
	return &Image{Width: t.w, Height: t.h, Gray: t.mode == 'g' || t.mode == 'i', Holds: holds, rows: t.rows}, nil
}

func readIFD(r io.ReaderAt, size int64) (*tiffFile, error) {
	var head [8]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return nil, unexpected(err)
	}
	t := &tiffFile{r: r, size: size}
	switch string(head[:4]) {
	case "II*\x00":
		t.bo = binary.LittleEndian
	case "MM\x00*":
		t.bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: not a classic TIFF (BigTIFF?)", ErrUnsupported)
	}
	ifd := int64(t.bo.Uint32(head[4:]))
	var nb [2]byte
	if _, err := r.ReadAt(nb[:], ifd); err != nil {
		return nil, unexpected(err)
	}
	n := int(t.bo.Uint16(nb[:]))
	entries := make([]byte, 12*n)
	if _, err := r.ReadAt(entries, ifd+2); err != nil {
		return nil, unexpected(err)
	}
	tags := map[uint16][]uint64{}
	for i := 0; i < n; i++ {
		e := entries[12*i:]
		tag, typ, count := t.bo.Uint16(e), t.bo.Uint16(e[2:]), uint64(t.bo.Uint32(e[4:]))
		switch tag {
		case tWidth, tHeight, tBits, tCompression, tPhotometric, tStripOffsets, tSamples, tRowsPerStrip,
			tStripCounts, tPlanar, tPredictor, tTileWidth, tTileLength, tTileOffsets, tTileCounts, tExtraSamples:
		default:
			continue
		}
		vals, err := t.values(typ, count, e[8:12])
		if err != nil {
			return nil, err
		}
		tags[tag] = vals
	}
	first := func(tag uint16, def uint64) uint64 {
		if v := tags[tag]; len(v) > 0 {
			return v[0]
		}
		return def
	}
	t.w, t.h = int(first(tWidth, 0)), int(first(tHeight, 0))
	if err := check(t.w, t.h); err != nil {
		return nil, err
	}
	bits := tags[tBits]
	if len(bits) == 0 {
		bits = []uint64{1}
	}
	for _, b := range bits {
		if b != 8 {
			return nil, fmt.Errorf("%w: %d bits a sample", ErrUnsupported, b)
		}
	}
	t.spp = len(bits)
	if s := first(tSamples, 1); int(s) != t.spp || first(tPlanar, 1) != 1 {
		return nil, fmt.Errorf("%w: %d samples, planar configuration %d", ErrUnsupported, s, first(tPlanar, 1))
	}
	switch ph := first(tPhotometric, 99); {
	case ph == 0 && t.spp == 1:
		t.mode = 'i'
	case ph == 1 && t.spp == 1:
		t.mode = 'g'
	case ph == 2 && t.spp == 3:
		t.mode = 'c'
	case ph == 2 && t.spp == 4 && first(tExtraSamples, 0) == 1:
		t.mode = 'a'
	case ph == 2 && t.spp == 4 && first(tExtraSamples, 0) == 2:
		t.mode = 'n'
	default:
		return nil, fmt.Errorf("%w: photometric interpretation %d with %d samples", ErrUnsupported, ph, t.spp)
	}
	switch c := first(tCompression, 1); c {
	case 0, 1, 5, 8, 32946, 32773:
		t.compression = int(c)
	default:
		return nil, fmt.Errorf("%w: compression %d", ErrUnsupported, c)
	}
	switch first(tPredictor, 1) {
	case 1:
	case 2:
		t.predictor = true
	default:
		return nil, fmt.Errorf("%w: predictor %d", ErrUnsupported, first(tPredictor, 1))
	}
	if _, ok := tags[tTileWidth]; ok {
		t.tiled = true
		t.blockW, t.blockH = int(first(tTileWidth, 0)), int(first(tTileLength, 0))
		t.offsets, t.counts = tags[tTileOffsets], tags[tTileCounts]
	} else {
		t.blockW, t.blockH = t.w, int(min(first(tRowsPerStrip, uint64(t.h)), uint64(t.h)))
		t.offsets, t.counts = tags[tStripOffsets], tags[tStripCounts]
	}
	if t.blockW <= 0 || t.blockH <= 0 || t.blockW > maxWidth {
		return nil, FormatError(fmt.Sprintf("blocks of %dx%d", t.blockW, t.blockH))
	}
	if t.tiled && (t.blockW%16 != 0 || t.blockH%16 != 0) {
		// The specification asks for multiples of 16; tiny tiles would cost
		// a decompressor each, millions of them for a big image.
		return nil, fmt.Errorf("%w: tiles of %dx%d", ErrUnsupported, t.blockW, t.blockH)
	}
	across := (t.w + t.blockW - 1) / t.blockW
	down := (t.h + t.blockH - 1) / t.blockH
	if len(t.offsets) < across*down || len(t.counts) < across*down {
		return nil, FormatError(fmt.Sprintf("%d offsets and %d byte counts for %d blocks", len(t.offsets), len(t.counts), across*down))
	}
	return t, nil
}

// values reads an entry's count values of type typ (BYTE, SHORT, LONG),
// inline or at the offset the entry gives.
func (t *tiffFile) values(typ uint16, count uint64, field []byte) ([]uint64, error) {
	var size uint64
	switch typ {
	case 1:
		size = 1
	case 3:
		size = 2
	case 4:
		size = 4
	default:
		return nil, fmt.Errorf("%w: field type %d", ErrUnsupported, typ)
	}
	if count > maxBlocks {
		return nil, fmt.Errorf("%w: %d values in a field", ErrUnsupported, count)
	}
	data := field
	if size*count > 4 {
		off := int64(t.bo.Uint32(field))
		if off < 0 || off+int64(size*count) > t.size {
			return nil, FormatError("a field's values are past the end of the file")
		}
		data = make([]byte, size*count)
		if _, err := t.r.ReadAt(data, off); err != nil {
			return nil, unexpected(err)
		}
	}
	vals := make([]uint64, count)
	for i := range vals {
		switch size {
		case 1:
			vals[i] = uint64(data[i])
		case 2:
			vals[i] = uint64(t.bo.Uint16(data[2*i:]))
		case 4:
			vals[i] = uint64(t.bo.Uint32(data[4*i:]))
		}
	}
	return vals, nil
}

// block opens the decompressed samples of block i.
func (t *tiffFile) block(i int) (io.Reader, func(), error) {
	off, n := int64(t.offsets[i]), int64(t.counts[i])
	if off < 0 || n < 0 || off > t.size {
		return nil, nil, FormatError("a block is past the end of the file")
	}
	sr := io.NewSectionReader(t.r, off, n)
	buf := int(min(16<<10, max(n, 16))) // tiles are often small
	switch t.compression {
	case 5:
		r := lzw.NewReader(sr, lzw.MSB, 8)
		return bufio.NewReaderSize(r, buf), func() { r.Close() }, nil
	case 8, 32946:
		r, err := zlib.NewReader(bufio.NewReaderSize(sr, buf))
		if err != nil {
			return nil, nil, unexpected(err)
		}
		return r, func() { r.Close() }, nil
	case 32773:
		return &packBits{r: bufio.NewReaderSize(sr, buf)}, func() {}, nil
	}
	return bufio.NewReaderSize(sr, buf), func() {}, nil
}

// rows reads a band of blocks at a time (a strip, or a row of tiles), one
// row of samples from each block across in turn, never a whole block.
func (t *tiffFile) rows(ctx context.Context, fn func(y int, row []byte) error) error {
	across := (t.w + t.blockW - 1) / t.blockW
	raw := make([]byte, t.blockW*t.spp)
	out := make([]byte, 4*t.w)
	readers := make([]io.Reader, across)
	closers := make([]func(), across)
	closeAll := func() {
		for i, c := range closers {
			if c != nil {
				c()
				closers[i] = nil
			}
		}
	}
	defer closeAll()
	for y := 0; y < t.h; y++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if y%t.blockH == 0 {
			closeAll()
			for i := range readers {
				r, c, err := t.block(y/t.blockH*across + i)
				if err != nil {
					return err
				}
				readers[i], closers[i] = r, c
			}
		}
		for i, r := range readers {
			if _, err := io.ReadFull(r, raw); err != nil {
				return fmt.Errorf("row %d: %w", y, unexpected(err))
			}
			if t.predictor {
				for x := t.spp; x < len(raw); x++ {
					raw[x] += raw[x-t.spp]
				}
			}
			x0 := i * t.blockW
			t.convert(out[4*x0:4*min(t.w, x0+t.blockW)], raw)
		}
		if err := fn(y, out); err != nil {
			return err
		}
	}
	return nil
}

// convert turns samples into premultiplied RGBA, as many pixels as dst holds.
func (t *tiffFile) convert(dst, raw []byte) {
	n := len(dst) / 4
	switch t.mode {
	case 'g', 'i':
		for x := 0; x < n; x++ {
			v := raw[x]
			if t.mode == 'i' {
				v = 255 - v
			}
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = v, v, v, 255
		}
	case 'c':
		for x := 0; x < n; x++ {
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = raw[3*x], raw[3*x+1], raw[3*x+2], 255
		}
	case 'a':
		copy(dst, raw[:4*n])
	case 'n':
		copy(dst, raw[:4*n])
		premultiply(dst)
	}
}

// packBits decodes PackBits (Apple's run-length coding, TIFF compression
// 32773) as a stream.
type packBits struct {
	r       *bufio.Reader
	lit     int  // literal bytes left to copy
	run     int  // repeats of b left
	b       byte // the repeated byte
	started bool
}

func (p *packBits) Read(buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		switch {
		case p.lit > 0:
			k, err := p.r.Read(buf[n:min(len(buf), n+p.lit)])
			n += k
			p.lit -= k
			if err != nil {
				return n, unexpected(err)
			}
		case p.run > 0:
			k := min(p.run, len(buf)-n)
			for i := range k {
				buf[n+i] = p.b
			}
			n += k
			p.run -= k
		default:
			c, err := p.r.ReadByte()
			if err != nil {
				if n > 0 && err == io.EOF {
					return n, nil
				}
				return n, err
			}
			switch code := int8(c); {
			case code >= 0:
				p.lit = int(code) + 1
			case code > -128:
				if p.b, err = p.r.ReadByte(); err != nil {
					return n, unexpected(err)
				}
				p.run = 1 - int(code)
			}
		}
	}
	return n, nil
}
