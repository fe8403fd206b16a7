package inflate

import "io"

// window is Deflate's history: matches reach at most 32 KiB back.
const window = 32 << 10

// chunk is how much a Reader inflates between slides of its window:
// large, so the slide (a 32 KiB copy) costs little, and with the window
// within a core's L2 cache.
const chunk = 128 << 10

// ReaderHolds is about the memory a Reader holds: its window and chunk,
// its input buffer and its tables.
const ReaderHolds = window + chunk + inBuf + 24<<10

// Reader inflates one raw Deflate stream as an io.Reader. It inflates a
// chunk at a time into a buffer after the last 32 KiB of output, hands
// the chunk out, then slides the last 32 KiB to the front. It reads its
// input ahead, in reads of up to 64 KiB: bytes after the stream's end
// may be consumed. It returns io.EOF after the stream's final block. Not
// safe for concurrent use.
type Reader struct {
	d      Decoder
	win    []byte
	rp, op int // bytes of win handed out, and inflated
	err    error
}

// NewReader returns a Reader of the Deflate stream r holds.
func NewReader(r io.Reader) *Reader {
	z := &Reader{win: make([]byte, window+chunk)}
	z.d.Reset(r)
	return z
}

// Reset makes z read a new stream from r, keeping its buffers.
func (z *Reader) Reset(r io.Reader) {
	z.d.Reset(r)
	z.rp, z.op, z.err = 0, 0, nil
}

// Read reads inflated bytes into p.
func (z *Reader) Read(p []byte) (int, error) {
	for {
		if z.rp < z.op {
			n := copy(p, z.win[z.rp:z.op])
			z.rp += n
			return n, nil
		}
		if z.err != nil || len(p) == 0 {
			return 0, z.err
		}
		if z.op == len(z.win) {
			z.op = copy(z.win, z.win[z.op-window:z.op])
			z.rp = z.op
		}
		z.op, z.err = z.d.fill(z.win, z.op)
	}
}
