package meta

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"image"
	"image/color"
	"image/gif"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

func riffChunk(fourcc string, data []byte) []byte {
	b := append([]byte(fourcc), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// makeWebP wraps the VP8L bitstream of testdata/1x1.webp in the extended
// format with optional ICCP and EXIF chunks.
func makeWebP(t *testing.T, icc, exif []byte) []byte {
	simple := readTestdata(t, "1x1.webp")
	if string(simple[12:16]) != "VP8L" {
		t.Fatal("1x1.webp is not VP8L")
	}
	var flags byte
	if icc != nil {
		flags |= 0x20
	}
	if exif != nil {
		flags |= 0x08
	}
	body := []byte("WEBP")
	body = append(body, riffChunk("VP8X", []byte{flags, 0, 0, 0, 0, 0, 0, 0, 0, 0})...) // 1x1 canvas
	if icc != nil {
		body = append(body, riffChunk("ICCP", icc)...)
	}
	body = append(body, simple[12:]...)
	if exif != nil {
		body = append(body, riffChunk("EXIF", exif)...)
	}
	out := append([]byte("RIFF\x00\x00\x00\x00"), body...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(body)))
	return out
}

func TestReadWebP(t *testing.T) {
	src, _ := Read(bytes.NewReader(readTestdata(t, "mini_Landscape_6.jpg")), "jpeg")
	icc := testICC(t, 3001) // odd length: exercises chunk padding
	exif := src.EXIF
	cases := []struct {
		name      string
		icc, exif []byte
		wantEXIF  []byte
	}{
		{"icc+exif", icc, exif, exif},
		{"icc only", icc, nil, nil},
		{"exif only", nil, exif, exif},
		{"exif with JPEG prefix", nil, append([]byte("Exif\x00\x00"), exif...), exif},
		{"none", nil, nil, nil},
	}
	for _, c := range cases {
		data := makeWebP(t, c.icc, c.exif)
		if _, err := webp.Decode(bytes.NewReader(data)); err != nil {
			t.Fatalf("%s: constructed WebP does not decode: %v", c.name, err)
		}
		for _, r := range []io.Reader{bytes.NewReader(data), &plainReader{r: bytes.NewReader(data)}} {
			info, err := Read(r, "webp")
			if err != nil {
				t.Fatal(err)
			}
			wantO := 0
			if c.wantEXIF != nil {
				wantO = 6
			}
			if !bytes.Equal(info.ICC, c.icc) || !bytes.Equal(info.EXIF, c.wantEXIF) || info.Orientation != wantO {
				t.Errorf("%s: ICC %d bytes, EXIF %d bytes, orientation %d", c.name, len(info.ICC), len(info.EXIF), info.Orientation)
			}
		}
	}
}

func TestReadGIF(t *testing.T) {
	var enc bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})
	if err := gif.Encode(&enc, pal, nil); err != nil {
		t.Fatal(err)
	}
	plain := enc.Bytes()
	icc := testICC(t, 700)
	ext := []byte{0x21, 0xFF, 11}
	ext = append(ext, "ICCRGBG1012"...)
	for rest := icc; len(rest) > 0; {
		n := min(255, len(rest))
		ext = append(ext, byte(n))
		ext = append(ext, rest[:n]...)
		rest = rest[n:]
	}
	ext = append(ext, 0)
	gct := 3 << (plain[10]&7 + 1)
	at := 13 + gct
	data := append(append(append([]byte(nil), plain[:at]...), ext...), plain[at:]...)
	if _, err := gif.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("constructed GIF does not decode: %v", err)
	}
	info, err := Read(bytes.NewReader(data), "gif")
	if err != nil || !bytes.Equal(info.ICC, icc) {
		t.Fatalf("GIF: err %v, ICC %d bytes", err, len(info.ICC))
	}
	info, err = Read(bytes.NewReader(plain), "gif")
	if err != nil || info.ICC != nil {
		t.Fatalf("plain GIF: err %v, ICC %d bytes", err, len(info.ICC))
	}
}

func TestReadBMP(t *testing.T) {
	icc := testICC(t, 500)
	// 2x1 24-bit BMP with a BITMAPV5HEADER and the profile after the pixels.
	le := binary.LittleEndian
	pixels := []byte{0, 0, 255, 0, 255, 0, 0, 0} // two BGR pixels + row padding
	hdr := make([]byte, 14+124)
	copy(hdr, "BM")
	le.PutUint32(hdr[2:], uint32(len(hdr)+len(pixels)+len(icc)))
	le.PutUint32(hdr[10:], uint32(len(hdr)))
	v5 := hdr[14:]
	le.PutUint32(v5, 124)
	le.PutUint32(v5[4:], 2)
	le.PutUint32(v5[8:], 1)
	le.PutUint16(v5[12:], 1)
	le.PutUint16(v5[14:], 24)
	copy(v5[56:], "DEBM")
	le.PutUint32(v5[108:], 4) // LCS_GM_IMAGES
	le.PutUint32(v5[112:], uint32(124+len(pixels)))
	le.PutUint32(v5[116:], uint32(len(icc)))
	data := append(append(hdr, pixels...), icc...)
	if _, err := bmp.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("constructed BMP does not decode: %v", err)
	}
	for _, r := range []io.Reader{bytes.NewReader(data), &plainReader{r: bytes.NewReader(data)}} {
		info, err := Read(r, "bmp")
		if err != nil || !bytes.Equal(info.ICC, icc) {
			t.Fatalf("BMP: err %v, ICC %d bytes", err, len(info.ICC))
		}
	}
}

// makeTIFF builds a 2x3 8-bit RGB uncompressed TIFF with the given
// orientation and ICC profile (IFD after the pixels, like many writers).
func makeTIFF(bo tiffOrder, orientation uint16, icc []byte) []byte {
	pixels := make([]byte, 2*3*3)
	for i := range pixels {
		pixels[i] = byte(i * 13)
	}
	var b []byte
	if bo == binary.LittleEndian {
		b = []byte("II*\x00")
	} else {
		b = []byte("MM\x00*")
	}
	iccOff := 8 + len(pixels)
	bpsOff := iccOff + len(icc) + len(icc)%2
	ifdOff := bpsOff + 6
	b = bo.AppendUint32(b, uint32(ifdOff))
	b = append(b, pixels...)
	b = append(b, icc...)
	if len(icc)%2 == 1 {
		b = append(b, 0)
	}
	b = bo.AppendUint16(b, 8)
	b = bo.AppendUint16(b, 8)
	b = bo.AppendUint16(b, 8)
	type ent struct {
		tag, typ uint16
		count    uint32
		val      uint32
	}
	ents := []ent{
		{256, 3, 1, 2}, {257, 3, 1, 3}, {258, 3, 3, uint32(bpsOff)}, {259, 3, 1, 1},
		{262, 3, 1, 2}, {273, 4, 1, 8}, {274, 3, 1, uint32(orientation)}, {277, 3, 1, 3},
		{278, 3, 1, 3}, {279, 4, 1, uint32(len(pixels))},
	}
	if icc != nil {
		ents = append(ents, ent{tagICC, 7, uint32(len(icc)), uint32(iccOff)})
	}
	b = bo.AppendUint16(b, uint16(len(ents)))
	for _, e := range ents {
		b = bo.AppendUint16(b, e.tag)
		b = bo.AppendUint16(b, e.typ)
		b = bo.AppendUint32(b, e.count)
		if e.typ == 3 && e.count == 1 {
			b = bo.AppendUint16(b, uint16(e.val))
			b = append(b, 0, 0)
		} else {
			b = bo.AppendUint32(b, e.val)
		}
	}
	return bo.AppendUint32(b, 0)
}

func TestReadTIFF(t *testing.T) {
	icc := testICC(t, 777)
	for _, bo := range []tiffOrder{binary.BigEndian, binary.LittleEndian} {
		for _, c := range []struct {
			o    uint16
			want int
			icc  []byte
		}{{6, 6, icc}, {8, 8, nil}, {1, 1, icc}, {9, 0, nil}} {
			data := makeTIFF(bo, c.o, c.icc)
			if _, err := tiff.Decode(bytes.NewReader(data)); err != nil {
				t.Fatalf("constructed TIFF does not decode: %v", err)
			}
			for _, r := range []io.Reader{bytes.NewReader(data), &plainReader{r: bytes.NewReader(data)}} {
				info, err := Read(r, "tiff")
				if err != nil || info.Orientation != c.want || !bytes.Equal(info.ICC, c.icc) || info.EXIF != nil {
					t.Errorf("%v o=%d: err %v, orientation %d, ICC %d bytes", bo, c.o, err, info.Orientation, len(info.ICC))
				}
			}
		}
	}
	// Reading from an *os.File not positioned at 0 is relative to the
	// current position.
	data := makeTIFF(binary.BigEndian, 6, icc)
	f, err := os.CreateTemp(t.TempDir(), "*.tif")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("junk"))
	f.Write(data)
	f.Seek(4, io.SeekStart)
	info, err := Read(f, "tiff")
	if err != nil || info.Orientation != 6 || !bytes.Equal(info.ICC, icc) {
		t.Errorf("os.File at offset 4: err %v, orientation %d, ICC %d bytes", err, info.Orientation, len(info.ICC))
	}
	// BigTIFF header with orientation 3.
	big := []byte("II+\x00\x08\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00")
	big = binary.LittleEndian.AppendUint64(big, 1)
	big = binary.LittleEndian.AppendUint16(big, tagOrientation)
	big = binary.LittleEndian.AppendUint16(big, 3)
	big = binary.LittleEndian.AppendUint64(big, 1)
	big = binary.LittleEndian.AppendUint64(big, 3)
	big = binary.LittleEndian.AppendUint64(big, 0)
	if info, _ := Read(bytes.NewReader(big), "tiff"); info.Orientation != 3 {
		t.Errorf("BigTIFF: orientation %d, want 3", info.Orientation)
	}
}

// TestBrokenInputs feeds every prefix of the testdata files and a set of
// hand-made malformed files to Read: no panic, no error, bounded memory.
func TestBrokenInputs(t *testing.T) {
	files := map[string]string{
		"canon40d_100x68.jpg": "jpeg", "mini_icc_display_p3_iPhone11.jpg": "jpeg",
		"pngsuite_exif2c08.png": "png", "mini_libjpeg-turbo_monkey16.png": "png",
		"cremieux11_icc.tiff": "tiff", "header_cmyk_ycck_FallenLeaf.jpg": "jpeg",
	}
	for f, format := range files {
		data := readTestdata(t, f)
		step := 1
		if testing.Short() {
			step = 7
		}
		for n := 0; n < len(data); n += step {
			if _, err := Read(bytes.NewReader(data[:n]), format); err != nil {
				t.Fatalf("%s[:%d]: %v", f, n, err)
			}
			if _, err := Read(&plainReader{r: bytes.NewReader(data[:n])}, format); err != nil {
				t.Fatalf("%s[:%d] plain: %v", f, n, err)
			}
		}
		// Every format parser on every file.
		for _, other := range []string{"jpeg", "png", "webp", "tiff", "gif", "bmp"} {
			if _, err := Read(bytes.NewReader(data), other); err != nil {
				t.Fatalf("%s as %s: %v", f, other, err)
			}
		}
	}

	icc := testICC(t, 1000)
	app2 := func(seq, count byte, data []byte) []byte {
		p := append(append([]byte("ICC_PROFILE\x00"), seq, count), data...)
		n := len(p) + 2
		return append([]byte{0xFF, 0xE2, byte(n >> 8), byte(n)}, p...)
	}
	jpg := func(segs ...[]byte) []byte {
		b := []byte{0xFF, 0xD8}
		for _, s := range segs {
			b = append(b, s...)
		}
		return append(b, 0xFF, 0xDA, 0, 2)
	}
	jpegCases := map[string]struct {
		data []byte
		icc  []byte
	}{
		"ICC chunks out of order": {jpg(app2(2, 2, icc[500:]), app2(1, 2, icc[:500])), icc},
		"ICC chunk missing":       {jpg(app2(1, 3, icc[:500]), app2(3, 3, icc[500:])), nil},
		"ICC duplicate seq":       {jpg(app2(1, 2, icc[:500]), app2(1, 2, icc[500:])), nil},
		"ICC count mismatch":      {jpg(app2(1, 2, icc[:500]), app2(2, 3, icc[500:])), nil},
		"ICC seq 0":               {jpg(app2(0, 1, icc)), nil},
		"ICC count 0":             {jpg(app2(1, 0, icc)), nil},
		"ICC header only":         {jpg([]byte("\xFF\xE2\x00\x0eICC_PROFILE\x00")), nil},
		"segment past end":        {[]byte("\xFF\xD8\xFF\xE1\xFF\xFFExif\x00\x00MM"), nil},
		"segment length 0":        {[]byte("\xFF\xD8\xFF\xE1\x00\x00Exif"), nil},
		"segment length 1":        {[]byte("\xFF\xD8\xFF\xE1\x00\x01Exif"), nil},
		"junk instead of marker":  {[]byte("\xFF\xD8\x00\x01\x02"), nil},
		"fill bytes":              {append([]byte("\xFF\xD8\xFF\xFF\xFF"), app2(1, 1, icc)[1:]...), icc},
		"only fill bytes":         {[]byte("\xFF\xD8\xFF\xFF\xFF\xFF"), nil},
		"short Adobe":             {[]byte("\xFF\xD8\xFF\xEE\x00\x07Adobe\xFF\xDA"), nil},
	}
	for name, c := range jpegCases {
		info, err := Read(bytes.NewReader(c.data), "jpeg")
		if err != nil || !bytes.Equal(info.ICC, c.icc) || info.AdobeTransform != -1 {
			t.Errorf("%s: err %v, ICC %d bytes (want %d), Adobe %d", name, err, len(info.ICC), len(c.icc), info.AdobeTransform)
		}
	}

	// Lengths far beyond the data: no error and no big allocation.
	pngChunk := func(typ string, n uint32, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, n)
		return append(append(b, typ...), data...)
	}
	ihdr := pngChunk("IHDR", 13, make([]byte, 17))
	huge := map[string]struct {
		data   []byte
		format string
	}{
		"PNG iCCP 2GB":      {append(append([]byte(pngSignature), ihdr...), pngChunk("iCCP", 0x7FFFFFFF, []byte("x\x00\x00"))...), "png"},
		"PNG eXIf 16MB":     {append(append([]byte(pngSignature), ihdr...), pngChunk("eXIf", 16<<20, []byte("MM\x00*"))...), "png"},
		"PNG length > 2^31": {append(append([]byte(pngSignature), ihdr...), pngChunk("tEXt", 0xFFFFFFFF, nil)...), "png"},
		"WebP ICCP 4GB":     {append([]byte("RIFF\xff\xff\xff\xffWEBPVP8X\x0a\x00\x00\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00ICCP\xff\xff\xff\x00"), "abc"...), "webp"},
		"WebP VP8X 4GB":     {[]byte("RIFF\xff\xff\xff\xffWEBPVP8X\xff\xff\xff\xff\x20"), "webp"},
		"TIFF ICC 4GB":      {makeTIFFICC(0xFFFFFFF0), "tiff"},
		"TIFF ICC 15MB":     {makeTIFFICC(15 << 20), "tiff"},
		"TIFF IFD far":      {[]byte("MM\x00*\x7f\xff\xff\xf0"), "tiff"},
		"BMP profile huge":  {makeBMPProfile(0xFFFFFF00, 15<<20), "bmp"},
		"GIF ICC no end":    {append([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00\x21\xff\x0bICCRGBG1012"), 0xff, 1, 2, 3), "gif"},
	}
	for name, c := range huge {
		for _, r := range []io.Reader{bytes.NewReader(c.data), &plainReader{r: bytes.NewReader(c.data)}} {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			info, err := Read(r, c.format)
			runtime.ReadMemStats(&after)
			if err != nil || info.ICC != nil || info.EXIF != nil {
				t.Errorf("%s: err %v, ICC %d, EXIF %d", name, err, len(info.ICC), len(info.EXIF))
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("%s: allocated %d bytes", name, alloc)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("%s: took %v", name, d)
			}
		}
	}
}

// makeTIFFICC is a tiny TIFF whose ICC tag claims n bytes at offset 8.
func makeTIFFICC(n uint32) []byte {
	b := []byte("MM\x00*\x00\x00\x00\x08\x00\x01")
	b = binary.BigEndian.AppendUint16(b, tagICC)
	b = binary.BigEndian.AppendUint16(b, 7)
	b = binary.BigEndian.AppendUint32(b, n)
	b = binary.BigEndian.AppendUint32(b, 8)
	return append(b, 0, 0, 0, 0)
}

func makeBMPProfile(off, size uint32) []byte {
	b := make([]byte, 14+124)
	copy(b, "BM")
	binary.LittleEndian.PutUint32(b[14:], 124)
	copy(b[14+56:], "DEBM")
	binary.LittleEndian.PutUint32(b[14+112:], off)
	binary.LittleEndian.PutUint32(b[14+116:], size)
	return b
}

// TestReadCorpus reads every file of the corpus with its sniffed format:
// no error, no panic; checks the 9-segment 557 KB ICC profile. Needs
// IMGPIPE_CORPUS=$PWD/../shared/corpus (from the repository root).
func TestReadCorpus(t *testing.T) {
	corpus := os.Getenv("IMGPIPE_CORPUS")
	if corpus == "" {
		t.Skip("set IMGPIPE_CORPUS to run against the corpus")
	}
	f, err := os.Open(filepath.Join(corpus, "MANIFEST.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rec := range recs[1:] {
		p, format := rec[0], rec[1]
		switch format {
		case "jpeg", "png", "webp", "tiff", "gif", "bmp":
		default:
			continue
		}
		fh, err := os.Open(filepath.Join(corpus, p))
		if err != nil {
			continue // e.g. unreadable or special files
		}
		start := time.Now()
		info, err := Read(fh, format)
		fh.Close()
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: Read took %v", p, d)
		}
		if info.ICC != nil && (len(info.ICC) < 128 || string(info.ICC[36:40]) != "acsp") {
			t.Errorf("%s: ICC without acsp signature", p)
		}
		n++
	}
	t.Logf("read %d corpus files", n)

	b, err := os.ReadFile(filepath.Join(corpus, "formats/jpeg/cmyk_with_557KB_icc_profile.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := Read(bytes.NewReader(b), "jpeg")
	if err != nil {
		t.Fatal(err)
	}
	checkICC(t, info.ICC, 557536)
	if info.AdobeTransform != 0 {
		t.Errorf("557KB ICC file: AdobeTransform %d, want 0", info.AdobeTransform)
	}
	if segs := bytes.Count(b[:sosOffset(b)], []byte("ICC_PROFILE\x00")); segs != 9 {
		t.Errorf("557KB ICC file has %d APP2 segments, want 9", segs)
	}
	// Tiff orientation tag 6.
	fh, err := os.Open(filepath.Join(corpus, "orientation/picosdeeuropa_tiff_orientation6.tif"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	info, err = Read(fh, "tiff")
	if err != nil || info.Orientation != 6 {
		t.Errorf("TIFF orientation: %d, %v", info.Orientation, err)
	}
	fh.Seek(0, io.SeekStart)
	img, err := tiff.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	if sz := Apply(img, info.Orientation).Bounds().Size(); sz != image.Pt(480, 360) {
		t.Errorf("TIFF upright size %v, want 480x360", sz)
	}
}
