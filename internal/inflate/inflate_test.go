package inflate

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// check decodes z three ways (Decode into a slice of the output's size,
// Reader read whole, Reader fed a byte at a time and read in odd sizes)
// and compares each with want.
func check(t *testing.T, z, want []byte) {
	t.Helper()
	var d Decoder
	got := make([]byte, len(want))
	if n, err := d.Decode(got, bytes.NewReader(z)); err != nil || n != len(want) || !bytes.Equal(got, want) {
		t.Errorf("Decode: %d bytes, %v; equal %v", n, err, bytes.Equal(got, want))
	}
	if got, err := io.ReadAll(NewReader(bytes.NewReader(z))); err != nil || !bytes.Equal(got, want) {
		t.Errorf("Reader: %d bytes, %v; equal %v", len(got), err, bytes.Equal(got, want))
	}
	r := NewReader(iotest.OneByteReader(bytes.NewReader(z)))
	got = got[:0]
	buf := make([]byte, 7777)
	for {
		n, err := r.Read(buf[:1+len(got)%len(buf)])
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Reader, a byte at a time: %v", err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Reader, a byte at a time: %d bytes, equal %v", len(got), bytes.Equal(got, want))
	}
}

// TestStreams: real streams (PNG image data, TIFF strips and tiles of the
// corpus, a photo compressed at every level) give compress/flate's output.
func TestStreams(t *testing.T) {
	for name, z := range streams(t) {
		t.Run(name, func(t *testing.T) {
			want, err := stdInflate(z, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			check(t, z, want)
		})
	}
}

// TestBlockTypes: stored, fixed and dynamic blocks, alone and mixed in one
// stream, including an empty stored block.
func TestBlockTypes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog; ", 300))
	noise := make([]byte, 70000)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	fixed := func(final bool) func(w *bitWriter) {
		return func(w *bitWriter) {
			w.fixedHeader(final)
			for _, c := range []byte("abcabcabc") {
				w.fixedSym(int(c))
			}
			w.fixedMatch(20, 3)
			w.fixedSym(256)
		}
	}
	stored := func(final bool, data []byte) func(w *bitWriter) {
		return func(w *bitWriter) { w.stored(final, data) }
	}
	dynamic := func(w *bitWriter) { // compress/flate's dynamic block, as the last
		w.stored(false, nil) // to a byte boundary
		w.buf = append(w.buf, deflate(t, text, 9)...)
	}
	for _, c := range []struct {
		name   string
		blocks []func(w *bitWriter)
	}{
		{"stored", []func(w *bitWriter){stored(true, noise[:1000])}},
		{"stored, 64 KiB", []func(w *bitWriter){stored(false, noise[:65535]), stored(true, noise[65535:])}},
		{"stored, empty", []func(w *bitWriter){stored(true, nil)}},
		{"fixed", []func(w *bitWriter){fixed(true)}},
		{"dynamic", []func(w *bitWriter){dynamic}},
		{"stored, fixed, empty stored, dynamic", []func(w *bitWriter){stored(false, noise[:5000]), fixed(false),
			stored(false, nil), dynamic}},
		{"fixed, stored, fixed", []func(w *bitWriter){fixed(false), stored(false, text[:3]), fixed(true)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var w bitWriter
			for _, b := range c.blocks {
				b(&w)
			}
			z := w.bytes()
			want, err := stdInflate(z, 1<<30)
			if err != nil {
				t.Fatalf("compress/flate: %v", err)
			}
			check(t, z, want)
		})
	}
}

// TestMatches: matches of every length class at distances 1 to 32768,
// after 40000 bytes of noise, in the fixed code.
func TestMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	noise := make([]byte, 40000)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	var dists []int
	for d := 1; d <= 40; d++ {
		dists = append(dists, d)
	}
	dists = append(dists, 63, 64, 65, 255, 256, 257, 258, 259, 1000, 4096, 16385, 24577, 32767, 32768)
	lengths := []int{3, 4, 7, 8, 9, 10, 11, 15, 16, 17, 31, 64, 100, 227, 257, 258}
	for _, d := range dists {
		var w bitWriter
		w.stored(false, noise)
		w.fixedHeader(true)
		for _, l := range lengths {
			w.fixedMatch(l, d)
			w.fixedSym(int('a' + l%26))
		}
		w.fixedSym(256)
		z := w.bytes()
		want, err := stdInflate(z, 1<<30)
		if err != nil {
			t.Fatalf("distance %d: compress/flate: %v", d, err)
		}
		t.Run("distance "+strconv.Itoa(d), func(t *testing.T) { check(t, z, want) })
	}
}

// TestDecodeFull: Decode stops once its slice is full, whatever follows,
// and reports a stream that ends before it is full.
func TestDecodeFull(t *testing.T) {
	z := streams(t)["photo/level6"]
	want, err := stdInflate(z, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	var d Decoder
	for _, n := range []int{0, 1, 265, 266, 267, 40000, len(want) - 1} {
		got := make([]byte, n)
		if k, err := d.Decode(got, bytes.NewReader(z)); k != n || err != nil || !bytes.Equal(got, want[:n]) {
			t.Errorf("into %d bytes: %d, %v", n, k, err)
		}
	}
	got := make([]byte, len(want)+1)
	if k, err := d.Decode(got, bytes.NewReader(z)); k != len(want) || err != io.ErrUnexpectedEOF {
		t.Errorf("into %d bytes, one more than the stream: %d, %v", len(got), k, err)
	}
}

// TestTruncated: every prefix of streams of each block type fails with
// io.ErrUnexpectedEOF, in Decode and Reader, after giving a prefix of the
// output.
func TestTruncated(t *testing.T) {
	var w bitWriter
	w.stored(false, []byte("stored bytes"))
	w.fixedHeader(false)
	w.fixedSym('x')
	w.fixedMatch(100, 1)
	w.fixedSym(256)
	w.stored(false, nil) // to a byte boundary
	w.buf = append(w.buf, deflate(t, []byte(strings.Repeat("dynamic Huffman block ", 40)), 9)...)
	z := w.bytes()
	want, err := stdInflate(z, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	var d Decoder
	for n := range len(z) {
		got := make([]byte, len(want)+1) // Decode stops once full: ask for more than the stream holds
		k, err := d.Decode(got, bytes.NewReader(z[:n]))
		if err != io.ErrUnexpectedEOF || !bytes.Equal(got[:k], want[:k]) {
			t.Errorf("Decode, first %d bytes: %v after %d bytes (equal %v)", n, err, k, bytes.Equal(got[:k], want[:k]))
		}
		rd, err := io.ReadAll(NewReader(bytes.NewReader(z[:n])))
		if err != io.ErrUnexpectedEOF || !bytes.HasPrefix(want, rd) {
			t.Errorf("Reader, first %d bytes: %v after %d bytes", n, err, len(rd))
		}
		if _, err := stdInflate(z[:n], 1<<30); err == nil {
			t.Errorf("compress/flate reads the first %d bytes without error", n)
		}
	}
}

// errReader fails after its data.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestErrors: each kind of invalid stream gives its error, where
// compress/flate fails too; a read error is passed on.
func TestErrors(t *testing.T) {
	// A code length code that can send lengths 0, 1, 8 and 18 (2 bits each).
	var four [19]uint8
	four[0], four[1], four[8], four[18] = 2, 2, 2, 2
	lit := func(w *bitWriter) { w.fixedHeader(true); w.fixedSym('a') }
	for _, c := range []struct {
		name  string
		write func(w *bitWriter)
		want  string // the reason, or "unexpected EOF"
	}{
		{"empty", func(w *bitWriter) {}, "unexpected EOF"},
		{"block type 3", func(w *bitWriter) { w.bits(1, 1); w.bits(3, 2) }, "block type 3"},
		{"stored length", func(w *bitWriter) {
			w.bits(1, 3)
			w.align()
			w.bits(5, 16)
			w.bits(0, 16)
		}, "stored block length"},
		{"stored, cut short", func(w *bitWriter) {
			w.bits(1, 3)
			w.align()
			w.bits(10, 16)
			w.bits(uint64(^uint16(10)), 16)
			w.bits(0x616161, 24)
		}, "unexpected EOF"},
		{"287 literal/length symbols", func(w *bitWriter) { w.bits(1, 1); w.bits(2, 2); w.bits(30, 5); w.bits(0, 9) },
			"too many length or distance symbols"},
		{"31 distance symbols", func(w *bitWriter) { w.bits(1, 1); w.bits(2, 2); w.bits(0, 5); w.bits(30, 5); w.bits(0, 4) },
			"too many length or distance symbols"},
		{"over-subscribed code length code", func(w *bitWriter) {
			var all [19]uint8
			for i := range all {
				all[i] = 1
			}
			w.dynamicHeader(true, 257, 1, all)
		}, "invalid code length code"},
		{"incomplete code length code", func(w *bitWriter) {
			var two [19]uint8
			two[1], two[2] = 2, 2
			w.dynamicHeader(true, 257, 1, two)
		}, "invalid code length code"},
		{"empty code length code", func(w *bitWriter) { w.dynamicHeader(true, 257, 1, [19]uint8{}) }, "invalid code length"},
		{"repeat with no previous length", func(w *bitWriter) {
			var c [19]uint8
			c[16], c[17], c[18] = 1, 2, 2
			sym := w.dynamicHeader(true, 257, 1, c)
			sym(16)
			w.bits(0, 2)
		}, "repeat with no previous length"},
		{"repeat past the end", func(w *bitWriter) {
			sym := w.dynamicHeader(true, 257, 1, four)
			sym(18)
			w.bits(127, 7)
			sym(18)
			w.bits(127, 7)
		}, "code lengths repeat past the end"},
		{"incomplete literal/length code", func(w *bitWriter) {
			sym := w.dynamicHeader(true, 257, 1, four)
			sym(1) // 'a' in one bit
			sym(18)
			w.bits(127, 7) // 138 zeros
			sym(18)
			w.bits(106, 7) // 117 zeros: 256 literals
			sym(8)         // end of block in 8 bits: incomplete
			sym(1)         // the distance
		}, "invalid literal/length or distance code"},
		{"distance too far back", func(w *bitWriter) { lit(w); w.fixedMatch(3, 2) }, "distance too far back"},
		{"distance too far back, later", func(w *bitWriter) {
			w.stored(false, make([]byte, 300))
			w.fixedHeader(true)
			w.fixedMatch(3, 301)
		}, "distance too far back"},
		{"distance symbol 30", func(w *bitWriter) { lit(w); w.fixedSym(257); w.code(30, 5) }, "invalid distance code"},
		{"length symbol 286", func(w *bitWriter) { lit(w); w.fixedSym(286) }, "invalid literal/length code"},
		{"no end of block", lit, "unexpected EOF"},
		{"no final block", func(w *bitWriter) { w.fixedHeader(false); w.fixedSym(256) }, "unexpected EOF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var w bitWriter
			c.write(&w)
			z := w.bytes()
			if _, err := stdInflate(z, 1<<30); err == nil {
				t.Fatal("compress/flate reads it without error")
			}
			var d Decoder
			_, err := d.Decode(make([]byte, 1000), bytes.NewReader(z))
			_, rerr := io.ReadAll(NewReader(bytes.NewReader(z)))
			for _, err := range []error{err, rerr} {
				var ce *CorruptError
				switch {
				case c.want == "unexpected EOF":
					if err != io.ErrUnexpectedEOF {
						t.Errorf("got %v, want io.ErrUnexpectedEOF", err)
					}
				case !errors.As(err, &ce) || ce.Reason != c.want:
					t.Errorf("got %v, want %q", err, c.want)
				}
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		bad := errors.New("disk on fire")
		z := deflate(t, []byte(strings.Repeat("x", 1000)), 1)
		var d Decoder
		if _, err := d.Decode(make([]byte, 1000), &errReader{z[:len(z)/2], bad}); err != bad {
			t.Errorf("Decode: %v", err)
		}
		if _, err := io.ReadAll(NewReader(&errReader{z[:len(z)/2], bad})); err != bad {
			t.Errorf("Reader: %v", err)
		}
	})
}
