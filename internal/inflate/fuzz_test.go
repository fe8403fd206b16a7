package inflate

import (
	"bytes"
	"io"
	"testing"
)

// fuzzLimit bounds the output FuzzInflate reads: a small input can
// inflate to gigabytes.
const fuzzLimit = 1 << 20

// FuzzInflate: on any input, Reader and Decode give compress/flate's
// output (up to fuzzLimit bytes), or fail where it fails; none panics or
// loops.
func FuzzInflate(f *testing.F) {
	for _, z := range streams(f) {
		f.Add(z[:min(len(z), 64<<10)])
	}
	var w bitWriter
	w.stored(false, []byte("stored"))
	w.fixedHeader(false)
	w.fixedSym('a')
	w.fixedMatch(258, 1)
	w.fixedMatch(30, 7)
	w.fixedSym(256)
	w.stored(true, nil)
	f.Add(w.bytes())
	f.Add(deflate(f, bytes.Repeat([]byte("dynamic block "), 100), 9))
	f.Fuzz(func(t *testing.T, z []byte) {
		want, werr := stdInflate(z, fuzzLimit)
		got, gerr := io.ReadAll(io.LimitReader(NewReader(bytes.NewReader(z)), fuzzLimit))
		switch {
		case len(want) == fuzzLimit || len(got) == fuzzLimit:
			// Past the limit one may have met an error the other did not
			// read as far as: only the bytes count.
			if !bytes.Equal(got, want) {
				t.Fatalf("Reader: %d bytes (%v), compress/flate %d (%v), or other bytes", len(got), gerr, len(want), werr)
			}
		case (gerr == nil) != (werr == nil):
			t.Fatalf("Reader: %v, compress/flate: %v", gerr, werr)
		case gerr == nil && !bytes.Equal(got, want):
			t.Fatalf("Reader: other bytes than compress/flate (%d, %d)", len(got), len(want))
		case gerr != nil && !bytes.HasPrefix(want, got) && !bytes.HasPrefix(got, want):
			t.Fatal("Reader: other bytes than compress/flate before the error")
		}
		// Decode into the size compress/flate read: the same bytes, and no
		// error unless compress/flate failed before the limit.
		var d Decoder
		dst := make([]byte, len(want))
		n, err := d.Decode(dst, bytes.NewReader(z))
		if werr == nil && (err != nil || !bytes.Equal(dst, want)) {
			t.Fatalf("Decode: %d bytes, %v; compress/flate %d", n, err, len(want))
		}
	})
}
