package jpeg

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"math/rand"
	"path/filepath"
	"testing"
	"testing/iotest"
)

// skipScales are the scales at which a sequential scan steps over AC
// codes: all of them at 1/8 (mcuDC), those past the 2x2 or 4x4 corner at
// 1/4 and 1/2 (skipAC).
var skipScales = []int{2, 4, 8}

// decodeAt decodes data whole at 1/scale, stepping over the AC
// coefficients of sequential scans that the reduced IDCT does not read,
// or, with store, decoding them all as at full scale (the reference).
func decodeAt(data []byte, scale int, store bool) (image.Image, error) {
	d := decoder{data: data, scale: scale, storeAC: store}
	defer d.release()
	if err := d.run(); err != nil {
		return nil, err
	}
	return d.finish()
}

// bandsAt decodes data in bands at 1/scale as bandsImage does, with or
// without storeAC, and returns the bands pasted into one image.
func bandsAt(t *testing.T, data []byte, scale int, store bool) (image.Image, error) {
	t.Helper()
	b, err := NewBands(iotest.HalfReader(bytes.NewReader(data)))
	if err != nil {
		return nil, err
	}
	b.d.storeAC = store
	w, h := b.Size()
	sw, sh := ScaledSize(w, h, scale)
	var whole image.Image
	for {
		band, err := b.Next(scale)
		if err == io.EOF {
			return whole, nil
		}
		if err != nil {
			return nil, err
		}
		whole = paste(t, whole, band, image.Rect(0, 0, sw, sh))
	}
}

// sameResult reports how two decodes differ: in their error, or in their
// pixels; "" if they do not.
func sameResult(got, want image.Image, err, werr error) string {
	switch {
	case (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()):
		return fmt.Sprintf("error %v, want %v", err, werr)
	case err == nil && (got == nil) != (want == nil):
		return fmt.Sprintf("image %v, want %v", got != nil, want != nil)
	case err == nil && got != nil && !samePixels(got, want):
		return "pixels differ"
	}
	return ""
}

// checkSkip decodes data at 1/2, 1/4 and 1/8 with the AC coefficients
// stepped over and stored, whole and in bands, and fails unless both give
// the same image or the same error at each scale.
func checkSkip(t *testing.T, data []byte) {
	t.Helper()
	if cfg, err := DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width*cfg.Height > 1<<22 {
		return // the caller refuses such sizes from the header
	}
	for _, scale := range skipScales {
		want, werr := decodeAt(data, scale, true)
		got, err := decodeAt(data, scale, false)
		if diff := sameResult(got, want, err, werr); diff != "" {
			t.Fatalf("whole decode at 1/%d, skipping AC: %s", scale, diff)
		}
		want, werr = bandsAt(t, data, scale, true)
		got, err = bandsAt(t, data, scale, false)
		if diff := sameResult(got, want, err, werr); diff != "" {
			t.Fatalf("bands at 1/%d, skipping AC: %s", scale, diff)
		}
	}
}

// TestSkipACMatchesStore holds the decodes at 1/2, 1/4 and 1/8 that step
// over AC coefficients to the ones that decode them, on every test file:
// the same pixels, whole and in bands.
func TestSkipACMatchesStore(t *testing.T) {
	files := append(testFiles(t), filepath.Join("..", "..", "testdata", "formats", "gray.jpg"),
		filepath.Join("..", "..", "testdata", "formats", "cmyk.jpeg"))
	for _, name := range files {
		data := readFile(t, name)
		t.Run(filepath.Base(name), func(t *testing.T) {
			for _, scale := range skipScales {
				want, err := decodeAt(data, scale, true)
				if err == nil && want == nil {
					t.Fatalf("1/%d: no image and no error", scale)
				}
			}
			checkSkip(t, data)
		})
	}
}

// TestSkipACDamaged cuts sequential files short everywhere and damages
// bytes of their scan data: stepping over the AC coefficients fails with
// the same error as decoding them, or gives the same pixels.
func TestSkipACDamaged(t *testing.T) {
	for _, name := range []string{"testdata/video-001.q50.420.jpeg", "testdata/video-001.restart2.jpeg",
		"testdata/video-005.gray.q50.jpeg", "testdata/video-001.cmyk.jpeg", "testdata/camera_Canon_40D_100x68.jpg"} {
		data := readFile(t, name)
		sos := bytes.Index(data, []byte{0xFF, mSOS})
		if sos < 0 {
			t.Fatalf("%s: no SOS", name)
		}
		t.Run(filepath.Base(name), func(t *testing.T) {
			for n := sos; n < len(data); n += 1 + (len(data)-sos)/150 {
				checkSkip(t, data[:n])
			}
			rng := rand.New(rand.NewSource(3))
			for i := 0; i < 200; i++ {
				b := bytes.Clone(data)
				for j := 0; j < 1+i%3; j++ {
					b[sos+rng.Intn(len(b)-sos)] ^= byte(1 + rng.Intn(255))
				}
				checkSkip(t, b)
			}
		})
	}
}

// acTables returns the AC tables defined by data's DHT segments, as the
// decoder builds them.
func acTables(t *testing.T, data []byte) []*huffTable {
	t.Helper()
	var tabs []*huffTable
	for i := 2; i+4 <= len(data) && data[i] == 0xFF; {
		l := int(data[i+2])<<8 | int(data[i+3])
		if data[i+1] == mSOS {
			break
		}
		if data[i+1] == mDHT {
			seg := data[i+4 : i+2+l]
			for len(seg) >= 17 {
				var counts [17]int
				total := 0
				for k := 1; k <= 16; k++ {
					counts[k] = int(seg[k])
					total += counts[k]
				}
				tab := new(huffTable)
				if err := tab.build(&counts, seg[17:17+total], seg[0]>>4 == 1); err != nil {
					t.Fatal(err)
				}
				if seg[0]>>4 == 1 {
					tabs = append(tabs, tab)
				}
				seg = seg[17+total:]
			}
		}
		i += 2 + l
	}
	return tabs
}

// walkSkip is what a skipTable entry for the bits of index i must say,
// found symbol by symbol with decodeSym: the codes (with their magnitude
// bits) that fit in skipBits, up to 64 steps of the zig-zag index.
func walkSkip(tab *huffTable, i uint32) uint16 {
	acc := uint64(i) << (64 - skipBits)
	used, adv := uint(0), uint(0)
walk:
	for {
		rs, rest, n, err := tab.decodeSym(acc, 64)
		l := 64 - n
		if err != nil || used+l > skipBits {
			break walk
		}
		r, size := uint(rs>>4), uint(rs&15)
		switch {
		case rs == 0x00:
			if adv+1 > 64 {
				break walk
			}
			return uint16(skipEOB | (adv+1)<<8 | (used + l))
		case rs == 0xF0:
			r, size = 15, 0
		case size == 0:
			break walk // EOBn: decoded alone
		}
		if used+l+size > skipBits || adv+r+1 > 64 {
			break walk
		}
		used, adv, acc = used+l+size, adv+r+1, rest<<size
	}
	if used == 0 {
		return skipNone
	}
	return uint16(adv<<8 | used)
}

// TestBuildSkip checks every entry of the skip tables built for the AC
// tables of the test files and for made-up ones (a 1-bit ZRL, EOBn
// symbols, codes of 16 bits) against a symbol-by-symbol walk.
func TestBuildSkip(t *testing.T) {
	type table struct {
		name string
		tab  *huffTable
	}
	var tables []table
	for _, name := range testFiles(t) {
		for i, tab := range acTables(t, readFile(t, name)) {
			tables = append(tables, table{fmt.Sprintf("%s/%d", filepath.Base(name), i), tab})
		}
	}
	made := []struct {
		name   string
		counts [17]int
		vals   []byte
	}{
		// 0: ZRL, 10: EOB, 110 and 111: a coefficient of 1 and 3 bits.
		{"short ZRL", [17]int{0, 1, 1, 2}, []byte{0xF0, 0x00, 0x01, 0x13}},
		// EOBn symbols, and a chain of codes down to 16 bits.
		{"EOBn and long codes", [17]int{0, 0, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2},
			[]byte{0x00, 0x01, 0x10, 0xF0, 0x2A, 0x0F, 0x3E, 0xE1, 0x20, 0x05, 0x44, 0x61, 0x7F, 0x12, 0xFA, 0x09, 0x32}},
	}
	for _, m := range made {
		tab := new(huffTable)
		if err := tab.build(&m.counts, m.vals, true); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		tables = append(tables, table{m.name, tab})
	}
	for _, tb := range tables {
		t.Run(tb.name, func(t *testing.T) {
			var s skipTable
			tb.tab.buildSkip(&s)
			for i := range s {
				if want := walkSkip(tb.tab, uint32(i)); s[i] != want {
					t.Fatalf("entry %0*b: %#04x, want %#04x", skipBits, i, s[i], want)
				}
			}
		})
	}
}

// FuzzSkipAC holds stepping over AC coefficients at 1/2, 1/4 and 1/8 to
// decoding them, whole and in bands, on any data.
func FuzzSkipAC(f *testing.F) {
	for _, name := range testFiles(f) {
		data := readFile(f, name)
		if len(data) < 64<<10 {
			f.Add(data)
		}
	}
	for _, tc := range eobRunCases() {
		f.Add(seqJPEG(tc.blocks, tc.bits))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSkip(t, data)
	})
}

// seqJPEG makes a grey baseline JPEG of 8x8 blocks in one row, all
// coefficients quantised by 32 (a coefficient of 1 shows), whose entropy-coded data is bits (a
// string of '0' and '1', padded with ones), with 3-bit AC codes for EOB
// (000), a coefficient of 1 bit (001), EOB1 (010), ZRL (011), a run of 6
// then a coefficient of 1 bit (100) and EOB2 (101), and 2-bit DC codes
// for a difference of 0 (00) or of 1 bit (01).
func seqJPEG(blocks int, bits string) []byte {
	var b bytes.Buffer
	seg := func(m byte, p ...byte) {
		b.Write([]byte{0xFF, m, byte((len(p) + 2) >> 8), byte(len(p) + 2)})
		b.Write(p)
	}
	b.Write([]byte{0xFF, mSOI})
	seg(mDQT, append([]byte{0}, bytes.Repeat([]byte{32}, 64)...)...)
	w := 8 * blocks
	seg(mSOF0, 8, 0, 8, byte(w>>8), byte(w), 1, 1, 0x11, 0)
	seg(mDHT, 0x00, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01)
	seg(mDHT, 0x10, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0x10, 0xF0, 0x61, 0x20)
	seg(mSOS, 1, 1, 0x00, 0, 63, 0)
	for len(bits)%8 != 0 {
		bits += "1"
	}
	for i := 0; i < len(bits); i += 8 {
		var c byte
		for _, bit := range bits[i : i+8] {
			c = c<<1 | byte(bit-'0')
		}
		b.WriteByte(c)
		if c == 0xFF {
			b.WriteByte(0)
		}
	}
	b.Write([]byte{0xFF, mEOI})
	return b.Bytes()
}

// An eobRunCase is a file crafted by seqJPEG for TestSkipACEOBRun, also a
// seed of FuzzSkipAC.
type eobRunCase struct {
	name   string
	blocks int
	bits   string
}

// eobRunCases returns the crafted files.
func eobRunCases() []eobRunCase {
	const (
		dc0, dc1      = "00", "01"
		eob, coef     = "000", "001"
		eob1, zrl     = "010", "011"
		run6, eob2    = "100", "101"
		past25        = coef + "1" + run6 + "1" + run6 + "0" + run6 + "1" + run6 + "0" // k 1, 8, 15, 22, 29
		noACThenDC1   = dc1 + "1"
		lastBlockACs1 = coef + "0" + eob
	)
	return []eobRunCase{
		// EOB1 with one more bit: the 2 blocks after have no AC codes.
		{"EOB1 past index 24", 4, dc0 + past25 + eob1 + "1" + noACThenDC1 + noACThenDC1 + dc0 + lastBlockACs1},
		{"EOB2 past index 4", 5, dc1 + "0" + coef + "1" + run6 + "1" + eob2 + "00" +
			noACThenDC1 + noACThenDC1 + noACThenDC1 + dc0 + lastBlockACs1},
		// Only ZRLs before the corner's end: k 17, 33, then a coefficient.
		{"ZRLs past the corner", 2, dc1 + "1" + zrl + zrl + coef + "1" + eob1 + "0" + dc0 + lastBlockACs1},
		{"run past the block's end", 2, dc0 + zrl + zrl + zrl + run6 + "1" + run6 + "1" + run6 + dc0 + lastBlockACs1},
	}
}

// TestSkipACEOBRun steps over an end-of-band run (EOBn, corrupt in a
// sequential scan, but decoded as image/jpeg does) that comes past the
// corner the reduced IDCT reads at 1/2 and 1/4, and after ZRLs alone past
// it: the blocks that follow are the same as when every coefficient is
// decoded.
func TestSkipACEOBRun(t *testing.T) {
	for _, tc := range eobRunCases() {
		t.Run(tc.name, func(t *testing.T) {
			data := seqJPEG(tc.blocks, tc.bits)
			for _, scale := range skipScales {
				img, err := decodeAt(data, scale, true)
				if err != nil {
					t.Fatalf("1/%d, every coefficient decoded: %v", scale, err)
				}
				if w := img.Bounds().Dx(); w != tc.blocks*8/scale {
					t.Fatalf("1/%d: width %d, want %d", scale, w, tc.blocks*8/scale)
				}
			}
			checkSkip(t, data)
		})
	}
}
