package meta

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// rights.{jpg,png,webp,tif}: a small photo tagged with exiftool (EXIF
// Artist, Copyright, Make, GPS, orientation 6; XMP dc:creator, dc:rights,
// dc:subject, xmpRights:Marked and WebStatement, photoshop:City,
// exif:GPSLatitude; IPTC by-line, copyright notice, credit, city,
// keywords), see testdata/README.md.
func readRights(t *testing.T, ext string) Info {
	t.Helper()
	b, err := os.ReadFile("testdata/rights." + ext)
	if err != nil {
		t.Fatal(err)
	}
	info, err := Read(bytes.NewReader(b), ext)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestReadXMPAndIPTC(t *testing.T) {
	for _, tc := range []struct {
		ext             string
		exif, xmp, iptc bool
	}{
		{"jpg", true, true, true},
		{"png", true, true, false},  // exiftool's PNG IPTC is non-standard: not read
		{"webp", true, true, false}, // WebP has no IPTC
		{"tif", false, true, true},  // a TIFF's EXIF is its own structure
	} {
		t.Run(tc.ext, func(t *testing.T) {
			info := readRights(t, tc.ext)
			if (info.EXIF != nil) != tc.exif || (info.XMP != nil) != tc.xmp || (info.IPTC != nil) != tc.iptc {
				t.Errorf("EXIF %d, XMP %d, IPTC %d bytes; want EXIF %v, XMP %v, IPTC %v", len(info.EXIF), len(info.XMP), len(info.IPTC), tc.exif, tc.xmp, tc.iptc)
			}
			if tc.xmp && !bytes.Contains(info.XMP, []byte("Ada Lovelace")) {
				t.Errorf("XMP without the creator: %.200q", info.XMP)
			}
			if tc.iptc && !bytes.Contains(info.IPTC, []byte("\x1c\x02\x50\x00\x0cAda Lovelace")) {
				t.Errorf("IPTC without the by-line (2:80): %q", info.IPTC)
			}
		})
	}
}

func TestCopyrightOnly(t *testing.T) {
	info := readRights(t, "jpg")

	exif := CopyrightEXIF(info.EXIF)
	r, ok := newTIFFReader(byteSource(exif))
	if !ok {
		t.Fatalf("CopyrightEXIF made no TIFF structure: %q", exif)
	}
	entries, _ := r.ifd(r.ifd0)
	var tags []uint16
	for _, e := range entries {
		tags = append(tags, e.tag)
	}
	if len(tags) != 2 || tags[0] != tagArtist || tags[1] != tagCopyright {
		t.Errorf("EXIF tags %x, want Artist and Copyright only", tags)
	}
	if !bytes.Contains(exif, []byte("Ada Lovelace\x00")) || !bytes.Contains(exif, []byte("(c) 2026 Ada Lovelace, CC BY 4.0\x00")) {
		t.Errorf("EXIF values lost: %q", exif)
	}
	if Orientation(exif) != 0 {
		t.Errorf("orientation kept in the copyright EXIF")
	}

	xmp := string(CopyrightXMP(info.XMP))
	for _, want := range []string{"<dc:creator>", "Ada Lovelace", "<dc:rights>", "CC BY 4.0", "Marked", "https://example.org/licence"} {
		if !strings.Contains(xmp, want) {
			t.Errorf("copyright XMP lacks %q:\n%s", want, xmp)
		}
	}
	for _, gone := range []string{"GPS", "Paris", "tower", "City"} {
		if strings.Contains(xmp, gone) {
			t.Errorf("copyright XMP keeps %q:\n%s", gone, xmp)
		}
	}

	iptc := CopyrightIPTC(info.IPTC)
	for _, want := range []string{"\x1c\x02\x50\x00\x0cAda Lovelace", "\x1c\x02\x74", "\x1c\x02\x6eAnalytical"[:3]} {
		if !bytes.Contains(iptc, []byte(want)) {
			t.Errorf("copyright IPTC lacks %q: %q", want, iptc)
		}
	}
	for _, gone := range []string{"Paris", "tower"} {
		if bytes.Contains(iptc, []byte(gone)) {
			t.Errorf("copyright IPTC keeps %q: %q", gone, iptc)
		}
	}

	// Nothing to keep: nothing written.
	if CopyrightEXIF(nil) != nil || CopyrightXMP(nil) != nil || CopyrightIPTC(nil) != nil {
		t.Error("blocks made from nothing")
	}
	if b := CopyrightXMP([]byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="Paris"/></rdf:RDF></x:xmpmeta>`)); b != nil {
		t.Errorf("XMP without rights fields gave %q", b)
	}
}

// The blocks written into JPEG, PNG and WebP files are read back as they
// were given.
func TestEmbedExtraRoundTrip(t *testing.T) {
	info := readRights(t, "jpg")
	for _, tc := range []struct {
		ext   string
		embed func(file, xmp, iptc []byte) ([]byte, error)
		iptc  bool
	}{
		{"jpg", EmbedJPEGExtra, true},
		{"png", EmbedPNGExtra, false},
	} {
		t.Run(tc.ext, func(t *testing.T) {
			plain, err := os.ReadFile("testdata/rights." + tc.ext)
			if err != nil {
				t.Fatal(err)
			}
			plain = stripAll(t, tc.ext, plain)
			out, err := tc.embed(plain, info.XMP, info.IPTC)
			if err != nil {
				t.Fatal(err)
			}
			out2, err := map[string]func(a, b, c []byte) ([]byte, error){"jpg": EmbedJPEG, "png": EmbedPNG}[tc.ext](out, nil, info.EXIF)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Read(bytes.NewReader(out2), tc.ext)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.XMP, info.XMP) || !bytes.Equal(got.EXIF, info.EXIF) {
				t.Errorf("XMP %d -> %d bytes, EXIF %d -> %d", len(info.XMP), len(got.XMP), len(info.EXIF), len(got.EXIF))
			}
			if tc.iptc && !bytes.Equal(got.IPTC, info.IPTC) {
				t.Errorf("IPTC %q -> %q", info.IPTC, got.IPTC)
			}
		})
	}
}

// stripAll returns file with no EXIF, XMP or IPTC, by rewriting it from
// its segments or chunks that carry pixels.
func stripAll(t *testing.T, ext string, file []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	switch ext {
	case "jpg":
		out.Write(file[:2])
		p := 2
		for p+4 <= len(file) {
			m := file[p+1]
			if m == mSOS {
				out.Write(file[p:])
				break
			}
			n := int(file[p+2])<<8 | int(file[p+3])
			if m < 0xE0 || m > 0xEF {
				out.Write(file[p : p+2+n])
			}
			p += 2 + n
		}
	case "png":
		out.Write(file[:8])
		for p := 8; p+12 <= len(file); {
			n := int(file[p])<<24 | int(file[p+1])<<16 | int(file[p+2])<<8 | int(file[p+3])
			switch string(file[p+4 : p+8]) {
			case "IHDR", "IDAT", "IEND", "PLTE":
				out.Write(file[p : p+12+n])
			}
			p += 12 + n
		}
	}
	info, _ := Read(bytes.NewReader(out.Bytes()), ext)
	if info.EXIF != nil || info.XMP != nil || info.IPTC != nil {
		t.Fatalf("stripAll left metadata in the %s file", ext)
	}
	return out.Bytes()
}

func TestXMPResetOrientation(t *testing.T) {
	for in, want := range map[string]string{
		`<rdf:Description tiff:Orientation="6"/>`:     `<rdf:Description tiff:Orientation="1"/>`,
		`<tiff:Orientation>8</tiff:Orientation>`:      `<tiff:Orientation>1</tiff:Orientation>`,
		`<rdf:Description exif:PixelXDimension="6"/>`: `<rdf:Description exif:PixelXDimension="6"/>`,
	} {
		if got := string(XMPResetOrientation([]byte(in))); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
}

// A JPEG segment holds 64 KiB: bigger XMP or IPTC is refused, not cut.
func TestEmbedJPEGExtraTooBig(t *testing.T) {
	jpg, err := os.ReadFile("testdata/rights.jpg")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 70000)
	if _, err := EmbedJPEGExtra(jpg, big, nil); err == nil {
		t.Error("70000-byte XMP accepted")
	}
	if _, err := EmbedJPEGExtra(jpg, nil, big); err == nil {
		t.Error("70000-byte IPTC accepted")
	}
}
