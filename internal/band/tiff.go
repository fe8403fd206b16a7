package band

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"github.com/klauspost/compress/zlib"
	"io"
	"sync"

	"github.com/imgpipe/imgpipe/internal/inflate"
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
	return &Image{Width: t.w, Height: t.h, Gray: t.mode == 'g' || t.mode == 'i', Holds: t.holds(), rows: t.rows}, nil
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

// blockWorkers is how many goroutines decompress a TIFF's strips or
// tiles ahead of the rows being handed on: inflating is most of the CPU of
// a Deflate TIFF (about 60% before the resize, measured with perf on the
// 100 MP file of bench/make-big.sh), and its blocks are independent, so
// two decompress while the caller's goroutine converts and resamples the
// rows already made: one image then uses two cores.
const blockWorkers = 2

// wholeBlocks bounds the decompressed blocks rows holds at once (see
// blockBufs): a TIFF whose blocks need more, one strip of the whole image
// for instance, is decompressed as a stream, a row at a time, in the
// caller's goroutine (rowsStreamed). libvips writes strips of 128 rows (15
// MB four times over for a 1-gigapixel RGB image 38729 wide) and tiles
// of 128 or 256 square. A variable, so tests can take either path.
var wholeBlocks int64 = 64 << 20

// parallel reports whether rows decompresses whole blocks in workers:
// when they fit in wholeBlocks and hold at most half the image (a TIFF of
// a few strips gains nothing from holding them whole).
func (t *tiffFile) parallel() bool {
	if forceWorkers {
		return true
	}
	bufs := t.blockBufs()
	blocks := (t.w + t.blockW - 1) / t.blockW * ((t.h + t.blockH - 1) / t.blockH)
	return int64(bufs)*int64(t.blockBytes()) <= wholeBlocks && 2*bufs <= blocks
}

// forceWorkers makes rows use the workers whatever the blocks' size: for
// tests, whose files are small and often in one strip.
var forceWorkers = false

// blockBufs is how many decompressed blocks rows keeps at once: a band
// (a strip, or a row of tiles) being handed on and the next being
// decompressed, and for strips one more a worker.
func (t *tiffFile) blockBufs() int {
	across := (t.w + t.blockW - 1) / t.blockW
	return max(2*across, across+blockWorkers+1)
}

// blockBytes is the size of a decompressed block.
func (t *tiffFile) blockBytes() int { return t.blockW * t.blockH * t.spp }

// holds is what rows holds: the decompressed blocks, each worker's
// decompressor (inflate: its input buffer and tables; LZW: its
// 4096-entry table) and read buffer, and the RGBA row.
func (t *tiffFile) holds() int64 {
	if !t.parallel() {
		// A band of raw rows, a decompressor and read buffer a block
		// across, the RGBA row.
		across := (t.w + t.blockW - 1) / t.blockW
		return int64(across)*(int64(t.blockW*t.spp)+48<<10) + 4*int64(t.w) + 3*int64(t.w)*int64(t.spp)
	}
	return int64(t.blockBufs())*int64(t.blockBytes()) + blockWorkers*(inflate.DecoderHolds+16<<10) + 4*int64(t.w)
}

// blockReader is a worker's decompressors, kept from block to block.
type blockReader struct {
	br   *bufio.Reader
	inf  *inflate.Decoder
	pack packBits
}

// block decompresses block i into buf, whole, and undoes the predictor.
// Rows past the image's end (of the last strip) are not read.
func (t *tiffFile) block(i int, buf []byte, d *blockReader) error {
	y0 := i / ((t.w + t.blockW - 1) / t.blockW) * t.blockH
	rows := min(t.blockH, t.h-y0)
	rowBytes := t.blockW * t.spp
	buf = buf[:rows*rowBytes]
	off, n := int64(t.offsets[i]), int64(t.counts[i])
	if off < 0 || n < 0 || off > t.size {
		return FormatError("a block is past the end of the file")
	}
	sr := io.NewSectionReader(t.r, off, n)
	if d.br == nil {
		d.br = bufio.NewReaderSize(sr, 16<<10)
	} else {
		d.br.Reset(sr)
	}
	var r io.Reader = d.br
	switch t.compression {
	case 5:
		lr := lzw.NewReader(d.br, lzw.MSB, 8)
		defer lr.Close()
		r = lr
	case 8, 32946:
		// The zlib header, then raw Deflate (see zlibHeader), inflated
		// straight into buf: the block's size is known.
		if err := zlibHeader(d.br); err != nil {
			return fmt.Errorf("row %d: %w", y0, err)
		}
		if d.inf == nil {
			d.inf = new(inflate.Decoder)
		}
		if k, err := d.inf.Decode(buf, d.br); err != nil {
			return fmt.Errorf("row %d: %w", y0+k/rowBytes, err)
		}
		r = nil
	case 32773:
		d.pack = packBits{r: d.br}
		r = &d.pack
	}
	if r != nil {
		if k, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("row %d: %w", y0+k/rowBytes, unexpected(err))
		}
	}
	if t.predictor {
		for row := buf; len(row) > 0; row = row[rowBytes:] {
			undoPredictor(row[:rowBytes], t.spp)
		}
	}
	return nil
}

// undoPredictor undoes the horizontal predictor on a row of samples, spp a
// pixel. RGB rows, the common case, keep a running sum a channel: three
// independent additions a pixel rather than one chain through the row
// (the loop was 6% of the CPU of the 100 MP TIFF of bench/make-big.sh).
func undoPredictor(row []byte, spp int) {
	if spp == 3 {
		if len(row) < 3 {
			return
		}
		r, g, b := row[0], row[1], row[2]
		for p := row[3:]; len(p) >= 3; p = p[3:] {
			r += p[0]
			g += p[1]
			b += p[2]
			p[0], p[1], p[2] = r, g, b
		}
		return
	}
	for x := spp; x < len(row); x++ {
		row[x] += row[x-spp]
	}
}

// blockJob is a block to decompress, and its outcome.
type blockJob struct {
	i    int
	buf  []byte
	done chan error // one send
}

// rows hands on a band of blocks at a time (a strip, or a row of tiles),
// a row at a time. blockWorkers goroutines decompress the blocks ahead, in
// order, into blockBufs buffers; rows waits for them, and returns only
// after they have ended, whatever it returns.
func (t *tiffFile) rows(ctx context.Context, fn func(y int, row []byte) error) error {
	if !t.parallel() {
		return t.rowsStreamed(ctx, fn)
	}
	across := (t.w + t.blockW - 1) / t.blockW
	blocks := across * ((t.h + t.blockH - 1) / t.blockH)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	free := make(chan []byte, t.blockBufs())
	for range cap(free) {
		free <- make([]byte, t.blockBytes())
	}
	jobs := make(chan *blockJob)
	order := make(chan *blockJob, cap(free))
	wg.Add(1)
	go func() { // the dispatcher: creates and closes jobs and order
		defer wg.Done()
		defer close(order)
		defer close(jobs)
		for i := range blocks {
			var buf []byte
			select {
			case buf = <-free:
			case <-ctx.Done():
				return
			}
			j := &blockJob{i: i, buf: buf, done: make(chan error, 1)}
			order <- j // never blocks: it holds as many jobs as there are buffers
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range blockWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d blockReader
			for j := range jobs {
				j.done <- t.block(j.i, j.buf, &d)
			}
		}()
	}

	out := make([]byte, 4*t.w)
	band := make([][]byte, across)
	for y0 := 0; y0 < t.h; y0 += t.blockH {
		for i := range band {
			var j *blockJob
			select {
			case j = <-order:
			case <-ctx.Done():
				return ctx.Err()
			}
			if j == nil {
				return ctx.Err() // order closed: cancelled
			}
			select {
			case err := <-j.done:
				if err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
			band[i] = j.buf
		}
		for y := y0; y < min(t.h, y0+t.blockH); y++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			rowBytes := t.blockW * t.spp
			for i, b := range band {
				x0 := i * t.blockW
				t.convert(out[4*x0:4*min(t.w, x0+t.blockW)], b[(y-y0)*rowBytes:])
			}
			if err := fn(y, out); err != nil {
				return err
			}
		}
		for _, b := range band {
			free <- b // never blocks: one place a buffer
		}
	}
	return nil
}

// openBlock opens the decompressed samples of block i, as a stream.
func (t *tiffFile) openBlock(i int) (io.Reader, func(), error) {
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

// rowsStreamed is rows for blocks too big to hold whole (a TIFF in one
// strip, as golang.org/x/image/tiff writes): a band of blocks at a time,
// one row of samples from each block across in turn, never a whole block,
// in the caller's goroutine.
func (t *tiffFile) rowsStreamed(ctx context.Context, fn func(y int, row []byte) error) error {
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
				r, c, err := t.openBlock(y/t.blockH*across + i)
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
				undoPredictor(raw, t.spp)
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
		raw = raw[:3*n]
		for len(dst) >= 4 && len(raw) >= 3 {
			dst[0], dst[1], dst[2], dst[3] = raw[0], raw[1], raw[2], 255
			dst, raw = dst[4:], raw[3:]
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
