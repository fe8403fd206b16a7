package band

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
)

// FuzzRows: no input makes an opener or Rows panic, loop, or allocate
// beyond its Holds for sizes it accepts; and a TIFF's blocks read whole by
// the workers give the rows, or the failure, of the same blocks read as
// streams.
func FuzzRows(f *testing.F) {
	for name, data := range files(f) {
		f.Add(data, formatOf(name))
	}
	f.Fuzz(func(t *testing.T, data []byte, fm string) {
		open, ok := openers[fm]
		if !ok {
			return
		}
		read := func(workers bool) (sum []byte, err error, ok bool) {
			old := forceWorkers
			forceWorkers = workers
			defer func() { forceWorkers = old }()
			m, err := open(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				return nil, err, false
			}
			if int64(m.Width)*int64(m.Height) > 1<<20 || m.Holds > 64<<20 {
				return nil, nil, false // a valid header of a big image: its rows cost time, not memory
			}
			h := sha256.New()
			err = m.Rows(context.Background(), func(y int, row []byte) error {
				if len(row) != 4*m.Width {
					t.Fatalf("row %d of %d bytes, want %d", y, len(row), 4*m.Width)
				}
				h.Write(row)
				return nil
			})
			return h.Sum(nil), err, true
		}
		streamed, serr, ok := read(false)
		if !ok || fm != "tiff" {
			return
		}
		whole, werr, ok := read(true)
		if !ok {
			t.Fatal("opened as streams, not for the workers")
		}
		if (serr == nil) != (werr == nil) {
			t.Fatalf("as streams: %v; whole blocks: %v", serr, werr)
		}
		if serr == nil && !bytes.Equal(streamed, whole) {
			t.Fatal("whole blocks give other rows than streams")
		}
	})
}
