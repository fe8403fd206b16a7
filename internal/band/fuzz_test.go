package band

import (
	"bytes"
	"context"
	"testing"
)

// FuzzRows: no input makes an opener or Rows panic, loop, or allocate
// beyond its Holds for sizes it accepts.
func FuzzRows(f *testing.F) {
	for name, data := range files(f) {
		f.Add(data, formatOf(name))
	}
	f.Fuzz(func(t *testing.T, data []byte, fm string) {
		open, ok := openers[fm]
		if !ok {
			return
		}
		m, err := open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if int64(m.Width)*int64(m.Height) > 1<<20 || m.Holds > 64<<20 {
			return // a valid header of a big image: its rows cost time, not memory
		}
		_ = m.Rows(context.Background(), func(y int, row []byte) error {
			if len(row) != 4*m.Width {
				t.Fatalf("row %d of %d bytes, want %d", y, len(row), 4*m.Width)
			}
			return nil
		})
	})
}
