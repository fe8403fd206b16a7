package meta

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var fuzzFormats = []string{"jpeg", "png", "webp", "tiff", "gif", "bmp"}

// FuzzRead feeds arbitrary bytes to every format parser (as a seekable
// bytes.Reader and as a plain stream) and round-trips what it finds through
// the other functions of the package. Seeds: the JPEG and PNG testdata.
func FuzzRead(f *testing.F) {
	names, _ := filepath.Glob("testdata/*")
	for _, n := range names {
		if strings.HasSuffix(n, ".jpg") || strings.HasSuffix(n, ".jpeg") || strings.HasSuffix(n, ".png") {
			b, err := os.ReadFile(n)
			if err == nil && len(b) <= 8<<10 {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range fuzzFormats {
			a, err := Read(bytes.NewReader(data), format)
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			b, err := Read(&plainReader{r: bytes.NewReader(data)}, format)
			if err != nil {
				t.Fatalf("%s plain: %v", format, err)
			}
			if a.Orientation != b.Orientation || !bytes.Equal(a.ICC, b.ICC) || !bytes.Equal(a.EXIF, b.EXIF) || a.AdobeTransform != b.AdobeTransform ||
				!bytes.Equal(a.XMP, b.XMP) || !bytes.Equal(a.IPTC, b.IPTC) {
				t.Fatalf("%s: seekable and plain readers disagree", format)
			}
			if a.Orientation < 0 || a.Orientation > 8 {
				t.Fatalf("%s: orientation %d", format, a.Orientation)
			}
			if a.EXIF != nil && Orientation(a.EXIF) != a.Orientation {
				t.Fatalf("%s: Orientation(EXIF) disagrees", format)
			}
		}
		// Embedding into the input either fails or yields a file that
		// reads back the embedded metadata.
		icc := []byte("fuzz profile")
		exif := ResetOrientation([]byte("MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"))
		if out, err := EmbedJPEG(data, icc, exif); err == nil {
			info, _ := Read(bytes.NewReader(out), "jpeg")
			if !bytes.Equal(info.ICC, icc) || !bytes.Equal(info.EXIF, exif) || info.Orientation != 1 {
				t.Fatalf("EmbedJPEG result reads back ICC %q EXIF %x o=%d", info.ICC, info.EXIF, info.Orientation)
			}
		}
		if out, err := EmbedPNG(data, icc, exif); err == nil {
			info, _ := Read(bytes.NewReader(out), "png")
			if !bytes.Equal(info.ICC, icc) || !bytes.Equal(info.EXIF, exif) || info.Orientation != 1 {
				t.Fatalf("EmbedPNG result reads back ICC %q EXIF %x o=%d", info.ICC, info.EXIF, info.Orientation)
			}
		}
	})
}

// FuzzOrientation checks Orientation and ResetOrientation on arbitrary EXIF
// blocks: no panic, input untouched, same length, and a valid orientation
// becomes 1.
func FuzzOrientation(f *testing.F) {
	for _, n := range []string{"mini_Landscape_6.jpg", "mini_Landscape_8_exif_little_endian.jpg", "canon40d_100x68.jpg", "mini_45-gps_ifd.jpg"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		info, _ := Read(bytes.NewReader(b), "jpeg")
		f.Add(info.EXIF)
	}
	f.Add([]byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x03\x00\x00\x00\x08\x00\x00\x00"))
	f.Add([]byte("II+\x00\x08\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, exif []byte) {
		orig := bytes.Clone(exif)
		o := Orientation(exif)
		if o < 0 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		r := ResetOrientation(exif)
		if !bytes.Equal(exif, orig) {
			t.Fatal("input modified")
		}
		if len(r) != len(exif) {
			t.Fatalf("length %d -> %d", len(exif), len(r))
		}
		if o != 0 && Orientation(r) != 1 {
			t.Fatalf("orientation %d after reset: %d", o, Orientation(r))
		}
		if o == 0 && Orientation(r) != 0 && Orientation(r) != 1 {
			t.Fatalf("orientation 0 became %d", Orientation(r))
		}
		// Reset is idempotent.
		if !bytes.Equal(ResetOrientation(r), r) {
			t.Fatal("ResetOrientation not idempotent")
		}
	})
}

// FuzzCopyright feeds arbitrary blocks to the copyright filters: they
// never panic, and what they make holds only what they promise.
func FuzzCopyright(f *testing.F) {
	for _, ext := range []string{"jpg", "png", "webp"} {
		b, _ := os.ReadFile("testdata/rights." + ext)
		info, _ := Read(bytes.NewReader(b), ext)
		f.Add(info.EXIF, info.XMP, info.IPTC)
	}
	f.Fuzz(func(t *testing.T, exif, xmp, iptc []byte) {
		if e := CopyrightEXIF(exif); e != nil {
			r, ok := newTIFFReader(byteSource(e))
			if !ok {
				t.Fatalf("CopyrightEXIF made no TIFF: %q", e)
			}
			entries, next := r.ifd(r.ifd0)
			if len(entries) == 0 || len(entries) > 2 || next < 0 {
				t.Fatalf("CopyrightEXIF: %d entries", len(entries))
			}
			for _, en := range entries {
				if en.tag != tagArtist && en.tag != tagCopyright {
					t.Fatalf("CopyrightEXIF kept tag %x", en.tag)
				}
			}
		}
		if x := CopyrightXMP(xmp); x != nil && !bytes.Contains(x, []byte("<?xpacket end")) {
			t.Fatalf("CopyrightXMP: no packet: %q", x)
		}
		out := CopyrightIPTC(iptc)
		for len(out) >= 5 {
			rec, ds, n := out[1], out[2], int(out[3])<<8|int(out[4])
			if !(rec == 1 && ds == 90 || rec == 2 && (ds == 0 || ds == 80 || ds == 110 || ds == 116)) {
				t.Fatalf("CopyrightIPTC kept %d:%d", rec, ds)
			}
			out = out[5+n:]
		}
		if len(out) != 0 {
			t.Fatalf("CopyrightIPTC: %d bytes left over", len(out))
		}
	})
}
