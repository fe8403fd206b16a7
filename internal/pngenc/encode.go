// Package pngenc writes PNG files faster than image/png: the rows are
// filtered and deflated in chunks, on several goroutines at once, with
// github.com/klauspost/compress/flate, and the chunks are joined into the
// one zlib stream a PNG holds.
//
// The colour type and bit depth are those image/png's encoder chooses, so
// a file decodes to the same pixels as image/png's would: *image.Gray and
// *image.Gray16 stay grey, *image.NRGBA, *image.RGBA, *image.NRGBA64 and
// *image.RGBA64 are written as RGB when opaque and RGBA otherwise, in 8 or
// 16 bits as they are. Every other image type (paletted, YCbCr, CMYK...)
// is handed to image/png at its default compression.
package pngenc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/flate"
)

// DefaultChunk is the filtered bytes compressed as one piece when
// Options.Chunk is 0: 32 pieces for a 2000x1333 RGB image, enough to keep
// every core busy to the end, each costing about 6 bytes of sync flush.
const DefaultChunk = 256 << 10

// Options tunes Encode. The zero value (or nil) gives the defaults.
type Options struct {
	// Level is the flate level, 1 (fastest) to 9 (smallest); 0 chooses
	// a level a chunk (see autoLevel).
	Level int
	// Workers bounds the goroutines that compress chunks at once; 0 means
	// runtime.GOMAXPROCS(0). An image of a single chunk is encoded in the
	// calling goroutine.
	Workers int
	// Chunk is the filtered bytes compressed as one piece; 0 means
	// DefaultChunk. Each chunk but the first is primed with the 32 KiB of
	// filtered rows before it, so the split costs little size.
	Chunk int
}

// An UnsupportedError reports an image Encode cannot write (empty, or too
// large for PNG).
type UnsupportedError string

func (e UnsupportedError) Error() string { return "pngenc: " + string(e) }

// PNG colour types.
const (
	ctGray = 0
	ctRGB  = 2
	ctRGBA = 6
)

// layout is how an image's rows become PNG bytes.
type layout struct {
	img       image.Image
	w, h      int
	colorType byte
	depth     byte // bits a sample
	bpp       int  // bytes a pixel
	row       func(dst []byte, y int)
}

// Handles reports whether Encode writes img itself rather than through
// image/png.
func Handles(img image.Image) bool {
	switch img.(type) {
	case *image.Gray, *image.Gray16, *image.NRGBA, *image.RGBA, *image.NRGBA64, *image.RGBA64:
		return true
	}
	return false
}

// Encode writes img to w as a PNG. It uses at most o.Workers goroutines
// besides the caller's, all finished before it returns, even on error.
// Memory: per worker, up to two flate compressors (about 1 MiB each),
// a chunk of filtered rows and two compressed chunks; see Holds.
func Encode(w io.Writer, img image.Image, o *Options) error {
	var opt Options
	if o != nil {
		opt = *o
	}
	if opt.Level < 0 || opt.Level > 9 {
		return UnsupportedError(fmt.Sprintf("level %d: want 1 to 9", opt.Level))
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Chunk <= 0 {
		opt.Chunk = DefaultChunk
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 || int64(b.Dx()) >= 1<<31 || int64(b.Dy()) >= 1<<31 {
		return UnsupportedError("invalid image size: " + b.String())
	}
	l, ok := newLayout(img)
	if !ok {
		return (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(w, img)
	}
	rowBytes := int64(l.w)*int64(l.bpp) + 1
	if rowBytes > 1<<30 {
		return UnsupportedError("image too wide: " + b.String())
	}
	e := &encoder{l: l, opt: opt, rowBytes: int(rowBytes)}
	return e.encode(w)
}

// Holds is the memory Encode holds, at most, beyond the image and the
// file it writes, for an image of pixels pixels at the default options,
// on runtime.GOMAXPROCS(0) goroutines. It assumes the widest pixel (8
// bytes, 16-bit RGBA) and rows of at most DefaultChunk bytes.
//
// Each worker holds two compressors (levels 6 and 7) and one chunk of
// filtered rows (with its 32 KiB dictionary); the compressed chunks being
// made or done but not yet written are at most two a worker. For a 2000x1333 image on two
// cores that is 6.9 MB (TestHoldsCoversEncode: 4.0-4.2 MB allocated in
// all for a photo, RGB or 16-bit RGBA, 6.2 MB for a flat image, whose
// workers hold both compressors). Tiny images cost far less (tinyPixels).
func Holds(pixels int64) int64 {
	raw := 8 * pixels
	if pixels <= tinyPixels {
		return statelessBytes + 3*raw
	}
	workers := min(int64(runtime.GOMAXPROCS(0)), (raw+DefaultChunk-1)/DefaultChunk)
	chunk := min(raw, DefaultChunk) + dictBytes
	return workers * (2*compressorBytes + 2*chunk + 2*chunk)
}

// tinyPixels: an image of at most this many pixels (64x64, one chunk
// whatever its depth) is compressed by klauspost's StatelessDeflate,
// which keeps no compressor (a few pooled buffers and a table on the
// stack) where a flate writer takes 1.1 MB however small the image: icons
// and tiny thumbnails fit in a small memory budget. Their files are a
// little larger (a simpler matcher, on a few KiB).
const tinyPixels = 64 * 64

// statelessBytes is what StatelessDeflate allocates when its pools are
// empty, rounded up (TestHoldsCoversEncode).
const statelessBytes = 400 << 10

// compressorBytes is what one klauspost/compress flate writer allocates
// at level 6 or 7 (v1.20.4, level 6: 762,496 bytes in NewWriter and 320
// KiB of history at its first reset; level 7: 1,024,640), rounded up. A
// worker may hold one of each.
const compressorBytes = 1100 << 10

func newLayout(img image.Image) (*layout, bool) {
	b := img.Bounds()
	l := &layout{img: img, w: b.Dx(), h: b.Dy(), depth: 8}
	// set makes l write rows of pix (srcBpp bytes a pixel, offset by at)
	// as colour type ct, bpp bytes a pixel, through conv.
	set := func(ct byte, bpp int, pix []byte, at func(x, y int) int, srcBpp int, conv func(dst, src []byte)) {
		l.colorType, l.bpp = ct, bpp
		l.row = func(dst []byte, y int) {
			i := at(b.Min.X, b.Min.Y+y)
			conv(dst, pix[i:i+srcBpp*l.w])
		}
	}
	switch m := img.(type) {
	case *image.Gray:
		set(ctGray, 1, m.Pix, m.PixOffset, 1, copyRow)
	case *image.Gray16:
		l.depth = 16
		set(ctGray, 2, m.Pix, m.PixOffset, 2, copyRow)
	case *image.NRGBA:
		if m.Opaque() {
			set(ctRGB, 3, m.Pix, m.PixOffset, 4, dropAlpha8)
		} else {
			set(ctRGBA, 4, m.Pix, m.PixOffset, 4, copyRow)
		}
	case *image.RGBA:
		if m.Opaque() {
			set(ctRGB, 3, m.Pix, m.PixOffset, 4, dropAlpha8)
		} else {
			set(ctRGBA, 4, m.Pix, m.PixOffset, 4, unpremultiply8)
		}
	case *image.NRGBA64:
		l.depth = 16
		if m.Opaque() {
			set(ctRGB, 6, m.Pix, m.PixOffset, 8, dropAlpha16)
		} else {
			set(ctRGBA, 8, m.Pix, m.PixOffset, 8, copyRow)
		}
	case *image.RGBA64:
		l.depth = 16
		if m.Opaque() {
			set(ctRGB, 6, m.Pix, m.PixOffset, 8, dropAlpha16)
		} else {
			set(ctRGBA, 8, m.Pix, m.PixOffset, 8, unpremultiply16)
		}
	default:
		return nil, false
	}
	return l, true
}

// copyRow copies pixels already in PNG's layout.
func copyRow(dst, src []byte) { copy(dst, src) }

// dropAlpha8 copies the RGB of 8-bit RGBA pixels.
func dropAlpha8(dst, src []byte) {
	for len(src) >= 4 && len(dst) >= 3 {
		dst[0], dst[1], dst[2] = src[0], src[1], src[2]
		dst, src = dst[3:], src[4:]
	}
}

// dropAlpha16 copies the RGB of 16-bit (big-endian) RGBA pixels.
func dropAlpha16(dst, src []byte) {
	for len(src) >= 8 && len(dst) >= 6 {
		copy(dst[:6], src[:6])
		dst, src = dst[6:], src[8:]
	}
}

// unpremultiply8 turns alpha-premultiplied 8-bit RGBA into PNG's
// straight alpha, as color.NRGBAModel converts a color.RGBA: through 16
// bits, rounding down.
func unpremultiply8(dst, src []byte) {
	for len(src) >= 4 && len(dst) >= 4 {
		d, s := (*[4]byte)(dst), (*[4]byte)(src)
		switch a := s[3]; a {
		case 0:
			*d = [4]byte{}
		case 0xff:
			*d = *s
		default:
			a16 := uint32(a) * 0x101
			for c := 0; c < 3; c++ {
				d[c] = uint8(uint32(s[c]) * 0x101 * 0xffff / a16 >> 8)
			}
			d[3] = a
		}
		dst, src = dst[4:], src[4:]
	}
}

// unpremultiply16 is unpremultiply8 for 16-bit (big-endian) pixels, as
// color.NRGBA64Model converts a color.RGBA64.
func unpremultiply16(dst, src []byte) {
	for len(src) >= 8 && len(dst) >= 8 {
		a := uint32(binary.BigEndian.Uint16(src[6:]))
		switch a {
		case 0:
			clear(dst[:8])
		case 0xffff:
			copy(dst[:8], src[:8])
		default:
			for c := 0; c < 3; c++ {
				v := uint32(binary.BigEndian.Uint16(src[2*c:])) * 0xffff / a
				binary.BigEndian.PutUint16(dst[2*c:], uint16(v))
			}
			copy(dst[6:8], src[6:8])
		}
		dst, src = dst[8:], src[8:]
	}
}

// encoder writes one image.
type encoder struct {
	l        *layout
	opt      Options
	rowBytes int // filter byte included

	mu   sync.Mutex
	free [][]byte // compressed chunks' buffers, written and free again
}

// buffer returns an empty buffer of capacity n or more, reusing one a
// written chunk gave back: an image allocates as many as it has chunks
// in flight, not one a chunk.
func (e *encoder) buffer(n int) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, b := range e.free {
		if cap(b) >= n {
			e.free[i] = e.free[len(e.free)-1]
			e.free = e.free[:len(e.free)-1]
			return b[:0]
		}
	}
	return make([]byte, 0, n)
}

func (e *encoder) recycle(b []byte) {
	e.mu.Lock()
	e.free = append(e.free, b)
	e.mu.Unlock()
}

// chunk is a run of rows compressed as one piece of the zlib stream.
type chunk struct {
	y0, y1 int
	out    []byte // compressed (the zlib header first in chunk 0)
	sum    uint32 // Adler-32 of the filtered rows y0..y1
	n      int64  // their length
	err    error
	done   chan struct{}
}

func (e *encoder) encode(w io.Writer) error {
	rows := max(1, e.opt.Chunk/e.rowBytes)
	n := (e.l.h + rows - 1) / rows
	workers := min(e.opt.Workers, n)

	bw := &chunkWriter{w: w}
	bw.header(e.l)
	if bw.err != nil {
		return bw.err
	}
	var sum uint32 = 1
	last := func(c *chunk, isLast bool) {
		sum = adlerCombine(sum, c.sum, c.n)
		if isLast {
			c.out = binary.BigEndian.AppendUint32(c.out, sum)
		}
		bw.chunk("IDAT", c.out)
		e.recycle(c.out)
		c.out = nil
	}
	// Chunks are made in order, at most window ahead of the one written
	// next, by submit: in this goroutine for one worker, else on workers
	// that take them from jobs and close each chunk's done. This goroutine
	// writes them in order as they finish.
	var jobs chan *chunk
	var wg sync.WaitGroup
	window, submit := 2*workers, func(c *chunk) { jobs <- c }
	if workers <= 1 {
		wk := e.newWorker()
		defer wk.release()
		window, submit = 1, func(c *chunk) {
			wk.doSafe(c, c.y0 == 0, c.y1 == e.l.h)
			close(c.done)
		}
	} else {
		jobs = make(chan *chunk)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wk := e.newWorker()
				defer wk.release()
				for c := range jobs {
					wk.doSafe(c, c.y0 == 0, c.y1 == e.l.h)
					close(c.done)
				}
			}()
		}
	}
	queue := make([]*chunk, 0, n)
	err := func() error {
		next := 0
		for written := 0; written < n; written++ {
			for ; next < n && next-written < window; next++ {
				c := &chunk{y0: next * rows, y1: min(e.l.h, (next+1)*rows), done: make(chan struct{})}
				queue = append(queue, c)
				submit(c)
			}
			c := queue[written]
			<-c.done
			if c.err != nil {
				return c.err
			}
			last(c, written == n-1)
			queue[written] = nil
			if bw.err != nil {
				return bw.err
			}
		}
		return nil
	}()
	if jobs != nil {
		close(jobs)
		wg.Wait()
	}
	if err != nil {
		return err
	}
	bw.chunk("IEND", nil)
	return bw.err
}

// worker is one goroutine's state: its compressor and buffers.
type worker struct {
	e        *encoder
	fw       [10]*flate.Writer // by level
	filtered []byte            // the chunk's filtered rows, after its dictionary
	prev     []byte            // the raw row above
	cur      []byte            // the raw row
	out      bytes.Buffer
}

var writers [10]sync.Pool // flate writers by level

func (e *encoder) newWorker() *worker {
	wk := &worker{e: e}
	wk.prev = make([]byte, e.rowBytes)
	wk.cur = make([]byte, e.rowBytes)
	return wk
}

func (wk *worker) release() {
	for level, fw := range wk.fw {
		if fw != nil {
			fw.Reset(nil)
			writers[level].Put(fw)
			wk.fw[level] = nil
		}
	}
}

// doSafe is do, with a panic (an image whose Pix is shorter than its
// Rect says) turned into the chunk's error: in a worker it would end the
// process, and the caller's goroutine gets the same error for the same
// image.
func (wk *worker) doSafe(c *chunk, first, last bool) {
	defer func() {
		if r := recover(); r != nil {
			c.err = fmt.Errorf("pngenc: %v", r)
		}
	}()
	wk.do(c, first, last)
}

// dictBytes is how far back a chunk's dictionary reaches: deflate's
// window.
const dictBytes = 32 << 10

// do filters and compresses c; the first chunk starts with the zlib
// header, every chunk but the last ends with a sync flush.
func (wk *worker) do(c *chunk, first, last bool) {
	e := wk.e
	// Rows before y0 whose filtered bytes prime the compressor.
	d0 := max(0, c.y0-(dictBytes+e.rowBytes-1)/e.rowBytes)
	need := (c.y1 - d0) * e.rowBytes
	if cap(wk.filtered) < need {
		wk.filtered = make([]byte, need)
	}
	wk.filtered = wk.filtered[:need]
	clear(wk.prev)
	if d0 > 0 {
		e.l.row(wk.prev[1:], d0-1)
	}
	var residuals, sampled int
	for y := d0; y < c.y1; y++ {
		e.l.row(wk.cur[1:], y)
		r, n := filterRow(wk.filtered[(y-d0)*e.rowBytes:(y-d0+1)*e.rowBytes], wk.cur, wk.prev, e.l.bpp)
		if y >= c.y0 {
			residuals += r
			sampled += n
		}
		wk.prev, wk.cur = wk.cur, wk.prev
	}
	level := e.opt.Level
	if level == 0 {
		level = autoLevel(residuals, sampled)
	}
	data := wk.filtered[(c.y0-d0)*e.rowBytes:]
	dict := wk.filtered[:(c.y0-d0)*e.rowBytes]
	if len(dict) > dictBytes {
		dict = dict[len(dict)-dictBytes:]
	}
	c.sum, c.n = adler32.Checksum(data), int64(len(data))

	// Room for data stored uncompressed (5 bytes a 64 KiB block), the
	// header, the flush and the checksum: the buffer never grows.
	wk.out = *bytes.NewBuffer(e.buffer(len(data) + len(data)/1024 + 64))
	if first {
		wk.out.Write(zlibHeader(e.opt.Level))
	}
	if first && last && e.l.w*e.l.h <= tinyPixels && e.opt.Level == 0 {
		// A tiny image: no compressor of its own (see tinyBytes).
		if c.err = flate.StatelessDeflate(&wk.out, data, true, nil); c.err == nil {
			c.out = wk.out.Bytes()
			wk.out = bytes.Buffer{}
		}
		return
	}
	fw := wk.fw[level]
	if fw == nil {
		if v := writers[level].Get(); v != nil {
			fw = v.(*flate.Writer)
		} else if fw, c.err = flate.NewWriter(nil, level); c.err != nil {
			return
		}
		wk.fw[level] = fw
	}
	fw.ResetDict(&wk.out, dict)
	_, err := fw.Write(data)
	if err == nil {
		if last {
			err = fw.Close()
		} else {
			err = fw.Flush()
		}
	}
	if err != nil {
		c.err = err
		return
	}
	c.out = wk.out.Bytes()
	wk.out = bytes.Buffer{}
}

// zlibHeader is RFC 1950's two bytes: deflate with a 32 KiB window, the
// level hint, and the check bits that make it a multiple of 31.
func zlibHeader(level int) []byte {
	if level == 0 { // chosen a chunk: mostly the fast level
		level = fastLevel
	}
	const cmf = 0x78
	var hint byte
	switch {
	case level <= 1:
		hint = 0
	case level <= 5:
		hint = 1
	case level == 6:
		hint = 2
	default:
		hint = 3
	}
	flg := hint << 6
	flg += byte(31 - (uint(cmf)<<8|uint(flg))%31)
	return []byte{cmf, flg}
}

// chunkWriter writes PNG chunks, keeping the first error.
type chunkWriter struct {
	w   io.Writer
	err error
	hdr [8]byte
}

func (cw *chunkWriter) header(l *layout) {
	if _, err := io.WriteString(cw.w, "\x89PNG\r\n\x1a\n"); err != nil {
		cw.err = err
		return
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(l.w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(l.h))
	ihdr[8], ihdr[9] = l.depth, l.colorType
	// compression, filter method and interlace: all 0
	cw.chunk("IHDR", ihdr[:])
}

// maxChunk keeps IDAT chunks well under PNG's 2^31-1 bytes.
const maxChunk = 1 << 30

func (cw *chunkWriter) chunk(typ string, data []byte) {
	for first := true; cw.err == nil && (first || len(data) > 0); first = false {
		part := data[:min(len(data), maxChunk)]
		data = data[len(part):]
		binary.BigEndian.PutUint32(cw.hdr[:4], uint32(len(part)))
		copy(cw.hdr[4:], typ)
		crc := crc32.NewIEEE()
		crc.Write(cw.hdr[4:8])
		crc.Write(part)
		var tail [4]byte
		binary.BigEndian.PutUint32(tail[:], crc.Sum32())
		for _, p := range [][]byte{cw.hdr[:], part, tail[:]} {
			if _, err := cw.w.Write(p); err != nil {
				cw.err = fmt.Errorf("pngenc: writing %s: %w", typ, err)
				return
			}
		}
	}
}

// The levels Encode chooses between, a chunk, when Options.Level is 0.
// klauspost/compress's levels 1-6 are fast greedy matchers, 7-9 lazy ones.
// Measured with BenchmarkSet on 37 photo outputs 2000 px wide (the 36
// benchmark photos and a 100 MP file), one goroutine, CPU ms an image and
// mean size against image/png's default: image/png 1005 ms; level 6 164
// ms, +2.1%; level 7 321 ms, -0.4%; levels 1-5 not much faster (the
// filters and copies stay) and up to 10% larger; level 9 three times
// level 7's time for 2% less. On a flat image (the 6000x4000 painting in
// testdata at 2000 px) level 6 is 35% larger than image/png, level 7 3.5%,
// for the same time: so smooth chunks get level 7.
const (
	fastLevel   = 6
	smoothLevel = 7
)

// smoothBelow is the mean absolute residual (of the sampled filtered
// bytes) under which a chunk is compressed at smoothLevel. Residuals a
// 200-row band: the painting 0.17-0.20, photos 0.66-3.0. With 0.5 the set
// above takes 178 ms an image, +2.05%, and the painting 52 ms, +3.5%
// (with 1: 227 ms, +1.7%, as photos' smooth parts move to level 7).
var smoothBelow = 0.5

// autoLevel picks a chunk's level from its filtered rows' residuals.
func autoLevel(residuals, sampled int) int {
	if sampled > 0 && float64(residuals) < smoothBelow*float64(sampled) {
		return smoothLevel
	}
	return fastLevel
}
