package inflate

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"image"
	"image/draw"
	_ "image/jpeg"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// pngStream returns the raw Deflate stream of a PNG's image data: its
// IDAT chunks joined, without the zlib header.
func pngStream(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var z []byte
	for i := 8; i+12 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		if i+12+n > len(data) {
			break
		}
		if string(data[i+4:i+8]) == "IDAT" {
			z = append(z, data[i+8:i+8+n]...)
		}
		i += 12 + n
	}
	if len(z) < 2 {
		t.Fatalf("%s: no image data", path)
	}
	return z[2:]
}

// tiffStreams returns the raw Deflate streams of a Deflate TIFF's strips
// or tiles (first IFD), without their zlib headers.
func tiffStreams(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if string(data[:2]) == "MM" {
		bo = binary.BigEndian
	}
	ifd := int(bo.Uint32(data[4:]))
	values := func(e []byte) []int {
		typ, count := bo.Uint16(e[2:]), int(bo.Uint32(e[4:]))
		size := map[uint16]int{3: 2, 4: 4}[typ]
		v := e[8:12]
		if size*count > 4 {
			off := int(bo.Uint32(e[8:]))
			v = data[off : off+size*count]
		}
		out := make([]int, count)
		for i := range out {
			if size == 2 {
				out[i] = int(bo.Uint16(v[2*i:]))
			} else {
				out[i] = int(bo.Uint32(v[4*i:]))
			}
		}
		return out
	}
	var offs, counts []int
	for i := range int(bo.Uint16(data[ifd:])) {
		e := data[ifd+2+12*i:]
		switch bo.Uint16(e) {
		case 273, 324:
			offs = values(e)
		case 279, 325:
			counts = values(e)
		}
	}
	var s [][]byte
	for i, off := range offs {
		s = append(s, data[off+2:off+counts[i]])
	}
	return s
}

// photoPixels returns the RGBA pixels of a photo of the corpus: real
// image data to compress.
func photoPixels(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "photos", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx()*b.Dy() > 1<<20 {
		b.Max = b.Min.Add(image.Pt(1024, 768))
	}
	m := image.NewRGBA(b)
	draw.Draw(m, b, img, b.Min, draw.Src)
	return m.Pix
}

// deflate compresses data with compress/flate at level.
func deflate(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

// stdInflate is compress/flate's output for z, at most limit bytes, and
// its error (nil at the stream's end or at the limit).
func stdInflate(z []byte, limit int) ([]byte, error) {
	return io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(z)), int64(limit)))
}

// streams are the real and compressed streams the tests decode, by name.
func streams(t testing.TB) map[string][]byte {
	t.Helper()
	s := map[string][]byte{}
	pngs, _ := filepath.Glob("../../testdata/formats/*.png")
	more, _ := filepath.Glob("../band/testdata/*.png")
	for _, p := range append(pngs, more...) {
		s["png/"+filepath.Base(p)] = pngStream(t, p)
	}
	for _, p := range []string{"../band/testdata/rgb-deflate-pred.tif", "../band/testdata/gray-deflate.tif",
		"../band/testdata/rgb-tiled-deflate.tif"} {
		for i, z := range tiffStreams(t, p) {
			if i < 3 {
				s["tiff/"+filepath.Base(p)+"/"+string(rune('0'+i))] = z
			}
		}
	}
	pix := photoPixels(t, "plasma_FallenLeaf_2560x1600.jpg")
	for name, level := range map[string]int{"huffman-only": flate.HuffmanOnly, "stored": flate.NoCompression,
		"level1": 1, "level6": 6, "level9": 9} {
		s["photo/"+name] = deflate(t, pix, level)
	}
	return s
}

// bitWriter writes a Deflate stream by hand, for the cases no encoder
// writes: the fixed code with every distance, invalid codes.
type bitWriter struct {
	buf []byte
	acc uint64
	n   uint
}

// bits writes the n low bits of v, least significant first.
func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.n
	w.n += n
	for w.n >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// code writes a Huffman codeword of n bits, most significant bit first.
func (w *bitWriter) code(c int, n uint) { w.bits(uint64(reverse(c, int(n))), n) }

// align pads to a byte boundary.
func (w *bitWriter) align() {
	if w.n > 0 {
		w.bits(0, 8-w.n)
	}
}

func (w *bitWriter) bytes() []byte {
	w.align()
	return w.buf
}

// stored writes a stored block of data.
func (w *bitWriter) stored(final bool, data []byte) {
	w.bits(b2u(final), 1)
	w.bits(0, 2)
	w.align()
	w.bits(uint64(len(data)), 16)
	w.bits(uint64(^uint16(len(data))), 16)
	for _, c := range data {
		w.bits(uint64(c), 8)
	}
}

// fixedHeader starts a block in the fixed code.
func (w *bitWriter) fixedHeader(final bool) {
	w.bits(b2u(final), 1)
	w.bits(1, 2)
}

// fixedSym writes a literal/length symbol in the fixed code.
func (w *bitWriter) fixedSym(s int) {
	switch {
	case s < 144:
		w.code(0x30+s, 8)
	case s < 256:
		w.code(0x190+s-144, 9)
	case s < 280:
		w.code(s-256, 7)
	default:
		w.code(0xc0+s-280, 8)
	}
}

// fixedMatch writes a match in the fixed code.
func (w *bitWriter) fixedMatch(length, dist int) {
	i := 28 // the last symbol whose base is at most length
	for int(lengthBase[i]) > length {
		i--
	}
	w.fixedSym(257 + i)
	w.bits(uint64(length-int(lengthBase[i])), uint(lengthExtra[i]))
	j := 29
	for int(distBase[j]) > dist {
		j--
	}
	w.code(j, 5)
	w.bits(uint64(dist-int(distBase[j])), uint(distExtra[j]))
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// canonical returns the canonical codewords of code lengths lens.
func canonical(lens []uint8) []int {
	var count [16]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [16]int
	code := 0
	for l := 1; l < 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]int, len(lens))
	for s, l := range lens {
		if l > 0 {
			codes[s] = next[l]
			next[l]++
		}
	}
	return codes
}

// dynamicHeader starts a dynamic block: nlit and ndist symbols, the code
// length code of lengths clens (all 19 sent); it returns a writer of code
// length symbols.
func (w *bitWriter) dynamicHeader(final bool, nlit, ndist int, clens [19]uint8) func(sym int) {
	w.bits(b2u(final), 1)
	w.bits(2, 2)
	w.bits(uint64(nlit-257), 5)
	w.bits(uint64(ndist-1), 5)
	w.bits(19-4, 4)
	for _, s := range clenOrder {
		w.bits(uint64(clens[s]), 3)
	}
	codes := canonical(clens[:])
	return func(sym int) { w.code(codes[sym], uint(clens[sym])) }
}
