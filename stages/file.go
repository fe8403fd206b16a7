package stages

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/internal/inputfile"
)

// File is one input, as a source found it.
type File struct {
	// Path names the input in results and errors; on disk, the path to
	// open. Rel is its path below the root it was found under, with
	// slashes: the output folder mirrors it.
	Path, Rel string
	// Size and ModTime are the input's size and modification time (zero
	// when unknown): they tell whether an output is up to date.
	Size    int64
	ModTime time.Time
	// Format is the sniffed format ("jpeg", ...), or "" if not recognised
	// or not sniffed: a folder scan opens only files not named like an
	// image, to see whether they are one; decode sniffs every input.
	Format string
	// Link says the source accepted Path as a symlink to a file; decode
	// refuses any other link, and anything but a regular file.
	Link bool
	// Open opens the input (nil: Path on disk), read up to Size.
	Open func() (io.ReadCloser, error) `json:"-"`
}

// opened is an input opened once: positioned reads over its bytes, its
// size as seen when opened and its first bytes.
type opened struct {
	io.ReaderAt
	io.Closer
	size   int64
	head   []byte      // the first format.HeadLen bytes (fewer if the file is shorter)
	data   []byte      // the whole file, when it was small enough to read at open
	disk   io.ReaderAt // then the file itself
	stream io.Reader   // a reader without positioned reads, until buffer
}

// openOnce opens f once: on disk with internal/inputfile, or with f.Open.
// It reads the first format.HeadLen bytes and nothing more.
func (f File) openOnce(ctx context.Context, limit int64) (*opened, error) {
	if f.Open == nil {
		file, size, err := inputfile.Open(f.Path, f.Link)
		if err != nil {
			return nil, err
		}
		o := &opened{ReaderAt: file, Closer: file, size: size}
		if size <= maxPooledFile && size <= limit {
			return o, o.readSmall()
		}
		return o, o.readHead()
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	o := &opened{Closer: rc, size: -1}
	if ra, ok := rc.(io.ReaderAt); ok {
		if st, ok := rc.(interface{ Stat() (fs.FileInfo, error) }); ok {
			if info, err := st.Stat(); err == nil && info.Mode().IsRegular() {
				o.ReaderAt, o.size = ra, info.Size()
			}
		} else if sz, ok := rc.(interface{ Size() int64 }); ok {
			o.ReaderAt, o.size = ra, sz.Size()
		}
	}
	if o.ReaderAt != nil {
		return o, o.readHead()
	}
	// A stream: its first bytes now, the rest in buffer, once sniffed.
	o.stream = &ctxReader{ctx: ctx, r: rc}
	o.head = make([]byte, format.HeadLen)
	n, err := io.ReadFull(o.stream, o.head)
	o.head = o.head[:n]
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		o.size, err = int64(n), nil
	}
	if err != nil {
		rc.Close()
		return nil, err
	}
	if o.size < 0 && f.Size > 0 {
		o.size = f.Size
	}
	return o, nil
}

// readHead reads the first bytes of a file opened for positioned reads.
func (o *opened) readHead() error {
	o.head = make([]byte, min(o.size, format.HeadLen))
	n, err := o.ReadAt(o.head, 0)
	o.head = o.head[:n]
	if err == io.EOF {
		err = nil
	}
	if err != nil {
		o.Close()
	}
	return err
}

// readSmall reads a small file whole, in one read of one byte more than
// its size (which finds a file that grew since it was opened), and serves
// every later read from memory: header, metadata and pixels then cost no
// more system calls (a 50 KB JPEG took 17 reads).
func (o *opened) readSmall() error {
	data := newData(o.size + 1)
	n, err := o.ReadAt(data, 0)
	switch {
	case err == io.EOF && int64(n) < o.size:
		err = corrupt(fmt.Errorf("the file shrank from %d to %d bytes while it was read", o.size, n))
	case err == nil:
		err = errGrown(o.size)
	case err == io.EOF:
		err = nil
	}
	if err != nil {
		putData(data)
		o.Close()
		return err
	}
	o.data, o.disk = data[:o.size], o.ReaderAt
	o.ReaderAt = bytes.NewReader(o.data)
	o.head = o.data[:min(o.size, format.HeadLen)]
	return nil
}

// streamHead is how much of a stream headerFirst reads for its header.
const streamHead = 64 << 10

// headerFirst refuses a stream whose header, in its first streamHead
// bytes, gives more than maxPixels pixels, before buffer reads it whole.
// A header it cannot read there is checked after buffer, as a file's is.
func (o *opened) headerFirst(fm *format.Format, maxPixels int64) error {
	if len(o.head) < format.HeadLen {
		return nil // the whole stream is in head already
	}
	more := make([]byte, streamHead)
	n := copy(more, o.head)
	k, err := io.ReadFull(o.stream, more[n:])
	o.head = more[:n+k]
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		o.size = int64(len(o.head))
		err = nil
	}
	if err != nil {
		return err
	}
	cfg, err := fm.DecodeConfig(bytes.NewReader(o.head))
	if err != nil {
		return nil
	}
	return checkPixels(cfg.Width, cfg.Height, maxPixels)
}

// buffer reads the rest of a stream into memory, through the size seen at
// open (or limit, when unknown), and turns it into positioned reads. It
// does nothing for a file opened for positioned reads.
func (o *opened) buffer(ctx context.Context, limit int64) error {
	if o.stream == nil {
		return nil
	}
	if o.size > 0 && o.size < limit {
		limit = o.size
	}
	var buf bytes.Buffer
	buf.Write(o.head)
	if _, err := buf.ReadFrom(io.LimitReader(o.stream, limit-int64(len(o.head))+1)); err != nil {
		return err
	}
	if int64(buf.Len()) > limit {
		return fmt.Errorf("%w: the input is over %d bytes (its size, or max_file_size)", ErrTooLarge, limit)
	}
	o.stream, o.ReaderAt, o.size = nil, bytes.NewReader(buf.Bytes()), int64(buf.Len())
	return nil
}

// section reads the file from its start, for a header parser.
func (o *opened) section() *io.SectionReader { return io.NewSectionReader(o, 0, o.size) }

// readChunk is how much readAll reads between looks at ctx.
const readChunk = 4 << 20

// readAll reads the file's bytes: exactly the size seen at open, in
// pieces, giving up when ctx is done. A file that has grown since it was
// opened is refused: it is still being written, or it is not a file.
func (o *opened) readAll(ctx context.Context) ([]byte, error) {
	if o.data != nil { // read at open: check that the file has not grown since
		return o.data, o.notGrown(o.disk)
	}
	data := newData(o.size)
	for off := int64(0); off < o.size; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := o.ReadAt(data[off:min(off+readChunk, o.size)], off)
		off += int64(n)
		if err == io.EOF && off < o.size {
			return nil, corrupt(fmt.Errorf("the file shrank from %d to %d bytes while it was read", o.size, off))
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	if err := o.notGrown(o.ReaderAt); err != nil {
		return nil, err
	}
	return data, nil
}

// notGrown refuses a file that has grown beyond the size it had at open:
// it is still being written, or it is not a file.
func (o *opened) notGrown(r io.ReaderAt) error {
	var one [1]byte
	if n, _ := r.ReadAt(one[:], o.size); n > 0 {
		return errGrown(o.size)
	}
	return nil
}

func errGrown(size int64) error {
	return fmt.Errorf("%w: the file grew beyond the %d bytes it had when opened (still being written?)", ErrCorrupt, size)
}

// dataPool keeps the byte buffers of small inputs between images (as
// *[]byte). On a batch of thumbnails a fresh buffer per file was an eighth
// of the bytes allocated, and so of the garbage collector's work.
var dataPool sync.Pool

// maxPooledFile is the largest input whose buffer is kept: small files are
// where the cost per file shows, and a pool must not keep a big photo's
// bytes alive behind the memory budget.
const maxPooledFile = 1 << 20

// newData returns a buffer of n bytes, from the pool when one is large
// enough. Pooled buffers are allocated in 64 KiB steps, so that files of
// about one size share them.
func newData(n int64) []byte {
	if n > maxPooledFile {
		return make([]byte, n)
	}
	if p, ok := dataPool.Get().(*[]byte); ok && int64(cap(*p)) >= n {
		return (*p)[:n]
	}
	return make([]byte, n, (n+64<<10-1)&^(64<<10-1))
}

// putData gives a buffer from newData back to the pool. Nothing may use
// data after.
func putData(data []byte) {
	if cap(data) <= maxPooledFile {
		data = data[:0]
		dataPool.Put(&data)
	}
}

// ctxReader is a reader that gives up when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p[:min(len(p), readChunk)])
}

// hasImageExt reports whether name ends in an image extension (any case):
// one of a format's in the registry.
func hasImageExt(name string) bool {
	return format.ByExt(filepath.Ext(name)) != nil
}
