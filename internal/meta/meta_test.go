package meta

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// plainReader hides io.Seeker / io.ReaderAt and counts the bytes read.
type plainReader struct {
	r io.Reader
	n int
}

func (p *plainReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += n
	return n, err
}

// checkICC verifies the profile header: size field and "acsp" signature.
func checkICC(t *testing.T, icc []byte, wantLen int) {
	t.Helper()
	if len(icc) != wantLen {
		t.Fatalf("ICC length %d, want %d", len(icc), wantLen)
	}
	if wantLen == 0 {
		return
	}
	if len(icc) < 128 || string(icc[36:40]) != "acsp" {
		t.Fatalf("ICC has no 'acsp' signature at offset 36")
	}
	if n := binary.BigEndian.Uint32(icc); int(n) != len(icc) {
		t.Fatalf("ICC header size %d, profile length %d", n, len(icc))
	}
}

func TestReadTestdata(t *testing.T) {
	type want struct {
		file, format string
		orientation  int
		icc          int    // profile length, 0 = absent
		exif         int    // EXIF block length, 0 = absent, -1 = present (any length)
		adobe        int    // AdobeTransform
		byteOrder    string // "II"/"MM" of the EXIF block if checked
	}
	tests := []want{
		{"canon40d_100x68.jpg", "jpeg", 1, 3144, 2468, -1, ""},
		{"go_video-001.cmyk.jpeg", "jpeg", 0, 0, 0, 0, ""},
		{"header_cmyk_ycck_FallenLeaf.jpg", "jpeg", 0, 0, 0, 2, ""},
		{"mini_Landscape_8_exif_little_endian.jpg", "jpeg", 8, 0, -1, -1, "II"},
		{"mini_Landscape_orientation_9_invalid.jpg", "jpeg", 0, 0, 90, -1, "MM"},
		{"mini_camera_Canon_SX60_orient6.jpg", "jpeg", 6, 0, 16807, -1, "II"},
		{"mini_icc_display_p3_iPhone11.jpg", "jpeg", 0, 548, 2458, -1, ""},
		{"mini_icc_adobe_rgb_FallenLeaf.jpg", "jpeg", 0, 18604, 13686, -1, ""},
		{"mini_icc_prophoto_FallenLeaf.jpg", "jpeg", 0, 19688, 13686, -1, ""},
		{"mini_45-gps_ifd.jpg", "jpeg", 1, 0, 6004, -1, ""},
		{"exif_weird_image01551.jpg", "jpeg", 0, 0, 0, -1, ""},
		{"truncated_header_only.jpg", "jpeg", 0, 0, 0, -1, ""},
		{"pngsuite_exif2c08.png", "png", 1, 0, 978, -1, ""},
		{"mini_libjpeg-turbo_monkey16.png", "png", 0, 3024, 0, -1, ""},
		{"cremieux11_icc.tiff", "tiff", 1, 4380, 0, -1, ""},
		{"1x1.webp", "webp", 0, 0, 0, -1, ""},
	}
	for _, s := range []string{"Landscape", "Portrait"} {
		for o := 0; o <= 8; o++ {
			tests = append(tests, want{"mini_" + s + "_" + string(rune('0'+o)) + ".jpg", "jpeg", o, 0, 90, -1, "MM"})
		}
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data := readTestdata(t, tc.file)
			for _, mode := range []string{"bytes.Reader", "plain"} {
				var r io.Reader = bytes.NewReader(data)
				pr := &plainReader{r: bytes.NewReader(data)}
				if mode == "plain" {
					r = pr
				}
				info, err := Read(r, tc.format)
				if err != nil {
					t.Fatalf("%s: Read: %v", mode, err)
				}
				if info.Orientation != tc.orientation {
					t.Errorf("%s: Orientation %d, want %d", mode, info.Orientation, tc.orientation)
				}
				checkICC(t, info.ICC, tc.icc)
				switch {
				case tc.exif == -1 && info.EXIF == nil:
					t.Errorf("%s: no EXIF", mode)
				case tc.exif >= 0 && len(info.EXIF) != tc.exif:
					t.Errorf("%s: EXIF length %d, want %d", mode, len(info.EXIF), tc.exif)
				}
				if tc.byteOrder != "" && !bytes.HasPrefix(info.EXIF, []byte(tc.byteOrder)) {
					t.Errorf("%s: EXIF byte order %q, want %s", mode, info.EXIF[:2], tc.byteOrder)
				}
				if info.AdobeTransform != tc.adobe {
					t.Errorf("%s: AdobeTransform %d, want %d", mode, info.AdobeTransform, tc.adobe)
				}
				if mode != "plain" {
					continue
				}
				// Read must stop at the image data.
				switch tc.format {
				case "jpeg":
					if sos := sosOffset(data); sos >= 0 && pr.n != sos+2 {
						t.Errorf("read %d bytes, want %d (through the SOS marker)", pr.n, sos+2)
					}
				case "png":
					if idat := bytes.Index(data, []byte("IDAT")); pr.n != idat+4 {
						t.Errorf("read %d bytes, want %d (through the first IDAT header)", pr.n, idat+4)
					}
				}
			}
		})
	}
}

// sosOffset walks the header segments and returns the offset of the SOS
// marker, or -1.
func sosOffset(b []byte) int {
	pos := 2
	for pos+4 <= len(b) && b[pos] == 0xFF {
		if b[pos+1] == mSOS {
			return pos
		}
		pos += 2 + (int(b[pos+2])<<8 | int(b[pos+3]))
	}
	return -1
}

// exifBlock builds a TIFF-structured EXIF block with one IFD0 holding the
// given entries (tag, type, count, 4-byte value field) and an IFD1 link.
func exifBlock(bo tiffOrder, entries [][4]uint32, next uint32) []byte {
	var b []byte
	if bo == binary.LittleEndian {
		b = []byte("II*\x00")
	} else {
		b = []byte("MM\x00*")
	}
	b = bo.AppendUint32(b, 8)
	b = bo.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = bo.AppendUint16(b, uint16(e[0]))
		b = bo.AppendUint16(b, uint16(e[1]))
		b = bo.AppendUint32(b, e[2])
		if e[1] == 3 && e[2] == 1 { // SHORT: value in the first two bytes
			b = bo.AppendUint16(b, uint16(e[3]))
			b = append(b, 0, 0)
		} else {
			b = bo.AppendUint32(b, e[3])
		}
	}
	return bo.AppendUint32(b, next)
}

func TestOrientationParse(t *testing.T) {
	for _, bo := range []tiffOrder{binary.BigEndian, binary.LittleEndian} {
		for v := uint32(0); v <= 10; v++ {
			want := int(v)
			if v < 1 || v > 8 {
				want = 0
			}
			short := exifBlock(bo, [][4]uint32{{0x010F, 2, 4, 0}, {0x0112, 3, 1, v}}, 0)
			long := exifBlock(bo, [][4]uint32{{0x0112, 4, 1, v}}, 0)
			if got := Orientation(short); got != want {
				t.Errorf("%v SHORT %d: got %d", bo, v, got)
			}
			if got := Orientation(long); got != want {
				t.Errorf("%v LONG %d: got %d", bo, v, got)
			}
			if got := Orientation(append([]byte("Exif\x00\x00"), short...)); got != want {
				t.Errorf("%v with Exif prefix %d: got %d", bo, v, got)
			}
		}
	}
	good := exifBlock(binary.BigEndian, [][4]uint32{{0x0112, 3, 1, 6}}, 0)
	bad := map[string][]byte{
		"nil":              nil,
		"short header":     good[:7],
		"bad magic":        append([]byte("MM\x00+"), good[4:]...),
		"IFD past end":     append([]byte("MM\x00*\x7f\xff\xff\xff"), good[8:]...),
		"IFD count huge":   append(append([]byte(nil), good[:8]...), 0xFF, 0xFF),
		"truncated entry":  good[:len(good)-8],
		"no orientation":   exifBlock(binary.BigEndian, [][4]uint32{{0x010F, 2, 4, 0}}, 0),
		"huge count":       exifBlock(binary.BigEndian, [][4]uint32{{0x0112, 3, 0xFFFFFFFF, 0x10}}, 0),
		"offset past end":  exifBlock(binary.BigEndian, [][4]uint32{{0x0112, 3, 3, 0xFFFFFFF0}}, 0),
		"unknown type":     exifBlock(binary.BigEndian, [][4]uint32{{0x0112, 99, 1, 6}}, 0),
		"zero count":       exifBlock(binary.BigEndian, [][4]uint32{{0x0112, 3, 0, 6}}, 0),
		"IFD at offset 0":  append([]byte("MM\x00*\x00\x00\x00\x00"), good[8:]...),
		"looping IFD1":     exifBlock(binary.BigEndian, [][4]uint32{{0x010F, 2, 4, 0}}, 8),
		"empty":            {},
		"only exif prefix": []byte("Exif\x00\x00"),
	}
	for name, b := range bad {
		if got := Orientation(b); got != 0 {
			t.Errorf("%s: got %d, want 0", name, got)
		}
		r := ResetOrientation(b)
		if len(r) != len(b) || (b == nil) != (r == nil) {
			t.Errorf("%s: ResetOrientation changed the length", name)
		}
	}
	// Truncated but with the orientation entry complete: still found.
	trunc := exifBlock(binary.BigEndian, [][4]uint32{{0x0112, 3, 1, 6}, {0x010F, 2, 4, 0}}, 0)
	if got := Orientation(trunc[:8+2+12+5]); got != 6 {
		t.Errorf("truncated IFD: got %d, want 6", got)
	}
	// Value stored out of line (count 2): first value wins.
	b := exifBlock(binary.BigEndian, [][4]uint32{{0x0112, 3, 3, 26}}, 0)
	b = append(b, 0, 5, 0, 1, 0, 1)
	if got := Orientation(b); got != 5 {
		t.Errorf("out-of-line value: got %d, want 5", got)
	}
	if got := Orientation(ResetOrientation(b)); got != 1 {
		t.Errorf("out-of-line value reset: got %d, want 1", got)
	}
}

func TestResetOrientation(t *testing.T) {
	files := []string{"canon40d_100x68.jpg", "mini_Landscape_6.jpg", "mini_Portrait_8.jpg",
		"mini_Landscape_8_exif_little_endian.jpg", "mini_camera_Canon_SX60_orient6.jpg",
		"mini_Landscape_orientation_9_invalid.jpg", "mini_45-gps_ifd.jpg"}
	for _, f := range files {
		info, err := Read(bytes.NewReader(readTestdata(t, f)), "jpeg")
		if err != nil || info.EXIF == nil {
			t.Fatalf("%s: %v, EXIF %d bytes", f, err, len(info.EXIF))
		}
		orig := bytes.Clone(info.EXIF)
		r := ResetOrientation(info.EXIF)
		if !bytes.Equal(orig, info.EXIF) {
			t.Fatalf("%s: input modified", f)
		}
		if got := Orientation(r); got != 1 {
			t.Errorf("%s: orientation after reset %d, want 1", f, got)
		}
		if len(r) != len(orig) {
			t.Fatalf("%s: length changed", f)
		}
		// Only the orientation value and the IFD1 link may change.
		tr, _ := newTIFFReader(byteSource(r))
		entries, next := tr.ifd(tr.ifd0)
		if tr.bo.Uint32(r[next:]) != 0 {
			t.Errorf("%s: IFD1 link not cleared", f)
		}
		allowed := map[int]bool{}
		for i := 0; i < 4; i++ {
			allowed[int(next)+i] = true
		}
		for _, e := range entries {
			if e.tag == tagOrientation {
				for i := 0; i < 4; i++ {
					allowed[int(e.valPos)+i] = true
				}
			}
		}
		for i := range r {
			if r[i] != orig[i] && !allowed[i] {
				t.Errorf("%s: byte %d changed", f, i)
				break
			}
		}
	}
	if ResetOrientation(nil) != nil {
		t.Error("ResetOrientation(nil) != nil")
	}
}

// testICC returns a syntactically valid profile of n bytes (header of the
// Canon 40D sRGB profile, size field patched, padded with a pattern).
func testICC(t *testing.T, n int) []byte {
	info, err := Read(bytes.NewReader(readTestdata(t, "canon40d_100x68.jpg")), "jpeg")
	if err != nil || len(info.ICC) < 128 {
		t.Fatal("no ICC in canon40d_100x68.jpg")
	}
	icc := make([]byte, n)
	copy(icc, info.ICC)
	for i := len(info.ICC); i < n; i++ {
		icc[i] = byte(i*7 + i>>8)
	}
	binary.BigEndian.PutUint32(icc, uint32(n))
	return icc
}

func testImage(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) * 4), 255})
		}
	}
	return m
}

// jpegSegments lists the markers and payloads of the header segments.
func jpegSegments(t *testing.T, b []byte) (markers []byte, payloads [][]byte) {
	pos := 2
	for pos+4 <= len(b) && b[pos] == 0xFF && b[pos+1] != mSOS {
		n := int(b[pos+2])<<8 | int(b[pos+3])
		markers = append(markers, b[pos+1])
		payloads = append(payloads, b[pos+4:pos+2+n])
		pos += 2 + n
	}
	return
}

func TestEmbedJPEGRoundTrip(t *testing.T) {
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, testImage(64, 48), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	plain := enc.Bytes()
	want, _ := jpeg.Decode(bytes.NewReader(plain))
	src, _ := Read(bytes.NewReader(readTestdata(t, "mini_Landscape_6.jpg")), "jpeg")
	exif := ResetOrientation(src.EXIF)
	// A JFIF APP0 as other encoders write it, to check the insertion point.
	jfif := append([]byte{0xFF, 0xE0, 0, 16}, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")...)
	withJFIF := append(append([]byte{0xFF, 0xD8}, jfif...), plain[2:]...)

	for _, size := range []int{128, 65519, 65520, 3*65519 + 1, 200000} {
		icc := testICC(t, size)
		for _, base := range [][]byte{plain, withJFIF} {
			out, err := EmbedJPEG(base, icc, exif)
			if err != nil {
				t.Fatal(err)
			}
			got, err := jpeg.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("size %d: decode: %v", size, err)
			}
			if !bytes.Equal(got.(*image.YCbCr).Y, want.(*image.YCbCr).Y) || !bytes.Equal(got.(*image.YCbCr).Cb, want.(*image.YCbCr).Cb) {
				t.Fatalf("size %d: pixels differ", size)
			}
			info, err := Read(bytes.NewReader(out), "jpeg")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(info.ICC, icc) || !bytes.Equal(info.EXIF, exif) || info.Orientation != 1 {
				t.Fatalf("size %d: Read got ICC %d bytes, EXIF %d bytes, orientation %d", size, len(info.ICC), len(info.EXIF), info.Orientation)
			}
			markers, payloads := jpegSegments(t, out)
			nICC := (size + 65518) / 65519
			i := 0
			if bytes.Equal(base, withJFIF) {
				if markers[0] != mAPP0 {
					t.Fatal("JFIF APP0 not first")
				}
				i = 1
			}
			if markers[i] != mAPP1 || !bytes.HasPrefix(payloads[i], exifHeader) {
				t.Fatalf("segment %d is not the Exif APP1", i)
			}
			for k := 0; k < nICC; k++ {
				p := payloads[i+1+k]
				if markers[i+1+k] != mAPP2 || !bytes.HasPrefix(p, iccHeader) || int(p[12]) != k+1 || int(p[13]) != nICC || len(p)-14 > 65519 {
					t.Fatalf("size %d: APP2 segment %d malformed", size, k+1)
				}
			}
			// Embedding again replaces rather than duplicates.
			again, err := EmbedJPEG(out, icc, exif)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("size %d: re-embedding changed the file (err %v)", size, err)
			}
		}
	}
	// ICC only, EXIF only, nothing.
	icc := testICC(t, 1000)
	for _, c := range []struct{ icc, exif []byte }{{icc, nil}, {nil, exif}, {nil, nil}} {
		out, err := EmbedJPEG(plain, c.icc, c.exif)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := Read(bytes.NewReader(out), "jpeg")
		if !bytes.Equal(info.ICC, c.icc) || !bytes.Equal(info.EXIF, c.exif) {
			t.Fatal("ICC/EXIF mismatch")
		}
	}
	// Errors.
	if _, err := EmbedJPEG([]byte("not a jpeg"), icc, nil); err == nil {
		t.Error("no error for non-JPEG")
	}
	if _, err := EmbedJPEG(plain[:30], icc, nil); err == nil {
		t.Error("no error for truncated header")
	}
	if _, err := EmbedJPEG(plain, nil, make([]byte, 65528)); err == nil {
		t.Error("no error for oversized EXIF")
	}
	if _, err := EmbedJPEG(plain, make([]byte, 255*65519+1), nil); err == nil {
		t.Error("no error for oversized ICC")
	}
}

func TestEmbedPNGRoundTrip(t *testing.T) {
	src, _ := Read(bytes.NewReader(readTestdata(t, "mini_Portrait_8.jpg")), "jpeg")
	exif := ResetOrientation(src.EXIF)
	pal := image.NewPaletted(image.Rect(0, 0, 20, 10), color.Palette{color.Black, color.White, color.NRGBA{255, 0, 0, 128}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	for _, img := range []image.Image{testImage(40, 30), pal} {
		var enc bytes.Buffer
		if err := png.Encode(&enc, img); err != nil {
			t.Fatal(err)
		}
		plain := enc.Bytes()
		icc := testICC(t, 200000)
		out, err := EmbedPNG(plain, icc, exif)
		if err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		want, _ := png.Decode(bytes.NewReader(plain))
		if meanAbsDiff(got, want) != 0 {
			t.Fatal("pixels differ")
		}
		info, err := Read(bytes.NewReader(out), "png")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(info.ICC, icc) || !bytes.Equal(info.EXIF, exif) || info.Orientation != 1 {
			t.Fatalf("Read got ICC %d bytes, EXIF %d bytes, orientation %d", len(info.ICC), len(info.EXIF), info.Orientation)
		}
		// Chunk order: IHDR, iCCP, eXIf, then the rest (PLTE before IDAT).
		var types []string
		for pos := 8; pos+12 <= len(out); {
			n := int(binary.BigEndian.Uint32(out[pos:]))
			types = append(types, string(out[pos+4:pos+8]))
			pos += 12 + n
		}
		if strings.Join(types[:3], ",") != "IHDR,iCCP,eXIf" {
			t.Fatalf("chunk order %v", types)
		}
		if i := bytes.Index(out, []byte("ICC profile\x00\x00")); i != 8+25+8 {
			t.Fatalf("iCCP profile name at %d", i)
		}
		again, err := EmbedPNG(out, icc, exif)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("re-embedding changed the file (err %v)", err)
		}
	}
	if _, err := EmbedPNG([]byte("\x89PNG\r\n\x1a\nxx"), nil, nil); err == nil {
		t.Error("no error for truncated PNG")
	}
	if _, err := EmbedPNG([]byte("GIF89a"), nil, nil); err == nil {
		t.Error("no error for non-PNG")
	}
}

// meanAbsDiff is the mean absolute RGB difference of two same-sized images
// (1e9 if the sizes differ). Large images are sampled on a 3x3 grid.
func meanAbsDiff(a, b image.Image) float64 {
	na, nb := toNRGBA(a), toNRGBA(b)
	w, h := na.Rect.Dx(), na.Rect.Dy()
	if w != nb.Rect.Dx() || h != nb.Rect.Dy() {
		return 1e9
	}
	step := 1
	if w*h > 100000 {
		step = 3
	}
	var sum float64
	n := 0
	for y := 0; y < h; y += step {
		pa, pb := na.Pix[y*na.Stride:], nb.Pix[y*nb.Stride:]
		for x := 0; x < w; x += step {
			for c := 0; c < 3; c++ {
				sum += absDiff(pa[4*x+c], pb[4*x+c])
			}
			n += 3
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func absDiff(a, b uint8) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}

func TestReadErrors(t *testing.T) {
	if _, err := Read(strings.NewReader(""), "jxl"); err == nil {
		t.Error("no error for unknown format")
	}
	boom := errors.New("boom")
	data := readTestdata(t, "canon40d_100x68.jpg")
	for _, f := range []string{"jpeg", "png", "webp", "tiff", "gif", "bmp"} {
		r := io.MultiReader(bytes.NewReader(data[:3]), iotestErrReader{boom})
		if _, err := Read(r, f); !errors.Is(err, boom) && f == "jpeg" {
			t.Errorf("%s: error %v, want boom", f, err)
		}
		// Empty input is not an error.
		if info, err := Read(bytes.NewReader(nil), f); err != nil || info.AdobeTransform != -1 {
			t.Errorf("%s: empty input: %v %+v", f, err, info)
		}
	}
}

type iotestErrReader struct{ err error }

type tiffOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func (e iotestErrReader) Read([]byte) (int, error) { return 0, e.err }
