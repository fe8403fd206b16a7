package jpeg

import (
	"bufio"
	"bytes"
	"image"
	"io"
	"math/bits"
	"sync"
)

// Buffers and tables reused across images. On a batch of small photos the
// fixed cost of an image shows: BenchmarkDecodeFixed measured about 35 µs
// of CPU and 20 KB allocated in 11 allocations to decode a 1x1 JPEG, a
// third of it building Huffman tables into freshly allocated (and zeroed)
// memory and most of the rest the allocator and GC. The pools keep the
// Huffman tables (3.6 KB each, up to 8 an image), the copy of the file and
// DecodeConfig's reader between images; what Decode returns never refers
// to them.
var (
	huffPool   = sync.Pool{New: func() any { return new(huffTable) }}
	dataPool   = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
)

// maxPooledData is the largest file copy kept for the next image: small
// files are where the fixed cost matters, and a pool must not keep a big
// photo's worth of memory alive behind the caller's memory budget.
const maxPooledData = 1 << 20

// readData reads all of r into a pooled buffer; done gives it back. A
// reader that knows its length (bytes.Reader, strings.Reader) is read with
// one allocation at most. A reader that hands out the bytes it has not
// read (a Bytes method, as bytes.Buffer's) is not read at all: the
// decoder reads those bytes in place, and never writes to them. The
// decode stage passes one, as it has the file in memory already: the copy
// was 8% of the bytes allocated per image on a batch of thumbnails.
func readData(r io.Reader) (data []byte, done func(), err error) {
	if b, ok := r.(interface{ Bytes() []byte }); ok {
		return b.Bytes(), func() {}, nil
	}
	buf := dataPool.Get().(*bytes.Buffer)
	buf.Reset()
	done = func() {
		if buf.Cap() <= maxPooledData {
			dataPool.Put(buf)
		}
	}
	if l, ok := r.(interface{ Len() int }); ok {
		buf.Grow(l.Len() + bytes.MinRead) // ReadFrom wants MinRead spare to see EOF
	}
	if _, err := buf.ReadFrom(r); err != nil {
		done()
		return nil, nil, err
	}
	return buf.Bytes(), done, nil
}

// skipPool keeps skipTables (16 KiB each) for the next sequential decode
// at a reduced scale.
var skipPool = sync.Pool{New: func() any { return new(skipTable) }}

// newSkipTable returns a table from the pool; buildSkip overwrites all of it.
func newSkipTable() *skipTable { return skipPool.Get().(*skipTable) }

// newHuffTable returns a table from the pool; build overwrites all of it.
func newHuffTable() *huffTable { return huffPool.Get().(*huffTable) }

// release gives d's Huffman tables back to the pool. d must not decode
// after.
func (d *decoder) release() {
	for i := range d.huff {
		for j, t := range d.huff[i] {
			if t != nil {
				huffPool.Put(t)
				d.huff[i][j] = nil
			}
		}
	}
	for i, t := range d.skip {
		if t != nil {
			skipPool.Put(t)
			d.skip[i] = nil
		}
	}
}

// encScratch is what Encode needs besides the encoder's own fields: the
// output buffers and the coefficient store. On a batch of thumbnails these
// were two thirds of the bytes allocated per image, and with them the
// garbage collector's work.
type encScratch struct {
	bw    *bufio.Writer
	bits  []byte
	store []int16
	masks []uint64
}

var encScratchPool = sync.Pool{New: func() any {
	return &encScratch{bw: bufio.NewWriterSize(nil, 32<<10)}
}}

// maxPooledStore is the largest coefficient store (in blocks) kept for the
// next image: 2,048 blocks, a 256 KB store, suits thumbnails and web sizes
// up to about 500x400 at 4:2:0; larger images allocate theirs, as a pool
// must not hold a big image's memory behind the caller's budget.
const maxPooledStore = 2048

// blocks returns a coefficient store and a mask slice for n blocks. Their
// contents are stale: prepare overwrites every block.
func (s *encScratch) blocks(n int) ([]int16, []uint64) {
	if cap(s.masks) >= n {
		return s.store[:64*n], s.masks[:n]
	}
	store, masks := make([]int16, 64*n), make([]uint64, n)
	if n <= maxPooledStore {
		s.store, s.masks = store, masks
	}
	return store, masks
}

// put returns s to the pool, dropping its reference to the writer's
// destination.
func (s *encScratch) put() {
	s.bw.Reset(nil)
	encScratchPool.Put(s)
}

// planesPool keeps the pixel planes of decoded YCbCr images given back by
// Recycle, for the next image. On a batch of 640 px photos decoded at 1/2
// for thumbnails they were two thirds of the bytes allocated per image
// (about 100 KB), and with them most of the garbage collector's work.
var planesPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledPlanes is the largest set of planes kept: 1 MiB holds a 4:2:0
// image of about 700,000 pixels, the decoded size of small photos; bigger
// images allocate theirs, as a pool must not hold a big photo's memory
// behind the caller's budget.
const maxPooledPlanes = 1 << 20

// newYCbCr is image.NewYCbCr(image.Rect(0, 0, w, h), ratio), the same
// planes and strides, in memory from planesPool when it has enough, zeroed
// as fresh memory is (a file that ends early leaves blocks undecoded: they
// must not show an earlier image). Unlike image.NewYCbCr's, the Y plane's
// capacity runs over the chroma planes, which is how Recycle knows the
// image for one of its own.
func newYCbCr(w, h int, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	cw, ch := chromaSize(w, h, ratio)
	i0 := w * h
	i1 := i0 + cw*ch
	i2 := i1 + cw*ch
	var b []byte
	if i2 <= maxPooledPlanes {
		p := planesPool.Get().(*[]byte)
		if cap(*p) >= i2 {
			b = (*p)[:i2]
			clear(b)
		}
		*p = nil
		planesPool.Put(p)
	}
	if b == nil && i2 <= maxPooledPlanes {
		// Room for the next power of two: photos of a batch differ a
		// little in size (aspect ratios, orientation), and planes just too
		// small for the next image would be dropped instead of reused.
		b = make([]byte, i2, 1<<bits.Len(uint(i2-1)))
	} else if b == nil {
		b = make([]byte, i2)
	}
	return &image.YCbCr{
		Y:              b[:i0],
		Cb:             b[i0:i1:i1],
		Cr:             b[i1:i2:i2],
		SubsampleRatio: ratio,
		YStride:        w,
		CStride:        cw,
		Rect:           image.Rect(0, 0, w, h),
	}
}

// Recycle gives the planes of an image that Decode returned back to the
// decoder, for the next image: the caller promises that nothing uses img,
// nor any image sharing its pixels, from then on. Images Decode did not
// make, and those too big to keep, are left to the garbage collector.
// Safe for concurrent use.
func Recycle(img image.Image) {
	m, ok := img.(*image.YCbCr)
	if !ok || m.Rect.Min != (image.Point{}) || len(m.Cb) == 0 {
		return
	}
	b := m.Y[:cap(m.Y)]
	n := len(m.Y) + len(m.Cb) + len(m.Cr)
	if n > len(b) || len(b) > maxPooledPlanes || &b[len(m.Y)] != &m.Cb[0] {
		return // not newYCbCr's layout
	}
	p := planesPool.Get().(*[]byte)
	*p = b[:0]
	planesPool.Put(p)
}

// chromaSize is the size of the chroma planes of a w x h image subsampled
// as ratio, as image.NewYCbCr makes them.
func chromaSize(w, h int, ratio image.YCbCrSubsampleRatio) (cw, ch int) {
	cw, ch = w, h
	switch ratio {
	case image.YCbCrSubsampleRatio422:
		cw = (w + 1) / 2
	case image.YCbCrSubsampleRatio420:
		cw, ch = (w+1)/2, (h+1)/2
	case image.YCbCrSubsampleRatio440:
		ch = (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		cw = (w + 3) / 4
	case image.YCbCrSubsampleRatio410:
		cw, ch = (w+3)/4, (h+1)/2
	}
	return cw, ch
}
