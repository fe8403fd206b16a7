package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	_ "image/gif"
	"image/jpeg"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Every entry of the registry, checked against a real file: its magic
// bytes, its extensions, and what it can do in the default build.
func TestRegistry(t *testing.T) {
	tests := []struct {
		file              string
		name, ext         string
		readable, writes  bool
		alpha, animation  bool
		embeds, scales    bool
		readNeeds, writeN bool
	}{
		{"photos/camera_Nikon_P6000_GPS.jpg", "jpeg", "jpg", true, true, false, false, true, true, false, false},
		{"formats/alpha.png", "png", "png", true, true, true, false, true, false, false, false},
		{"formats/anim.gif", "gif", "gif", true, true, true, true, false, false, false, false},
		{"formats/8bpp.bmp", "bmp", "bmp", true, true, false, false, false, false, false, false},
		{"formats/paletted.tiff", "tiff", "tif", true, true, true, false, false, false, false, false},
		{"formats/lossless.webp", "webp", "webp", true, true, true, false, true, false, false, false},
		{"formats/anim.webp", "webp-anim", "webp", true, false, true, true, false, false, false, false},
		{"formats/unsupported.avif", "avif", "avif", false, false, true, false, false, false, true, true},
		{"formats/small.heic", "heif", "heic", false, false, false, false, false, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			f := Sniff(data[:min(len(data), HeadLen)])
			if f == nil || f.Name != tt.name {
				t.Fatalf("Sniff = %v, want %s", f, tt.name)
			}
			if ByName(tt.name) != f {
				t.Errorf("ByName(%q) is not the sniffed entry", tt.name)
			}
			if f.Build != "" { // a tagged build: its own tests cover it
				return
			}
			if f.Still == "" && f.Ext() != tt.ext {
				t.Errorf("Ext = %q, want %q", f.Ext(), tt.ext)
			}
			for _, ext := range f.Exts {
				if g := ByExt("." + ext); g != f {
					t.Errorf("ByExt(%q) = %v", ext, g)
				}
			}
			got := []bool{f.Readable(), f.Writable(), f.Alpha, f.Animation, f.Embed != nil, f.Scales, f.ReadNeeds != "", f.WriteNeeds != ""}
			want := []bool{tt.readable, tt.writes, tt.alpha, tt.animation, tt.embeds, tt.scales, tt.readNeeds, tt.writeN}
			if !slices.Equal(got, want) {
				t.Errorf("readable, writable, alpha, animation, embeds, scales, readNeeds, writeNeeds = %v, want %v", got, want)
			}
			if f.Readable() {
				cfg, err := f.DecodeConfig(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				img, err := f.Decode(bytes.NewReader(data), 1)
				if err != nil {
					t.Fatal(err)
				}
				if b := img.Bounds(); b.Dx() > cfg.Width || b.Dy() > cfg.Height {
					t.Errorf("decoded %v, header says %dx%d", b, cfg.Width, cfg.Height)
				}
			}
		})
	}
	if ByExt("") != nil || ByExt(".txt") != nil || ByExt("JPG") == nil {
		t.Error("ByExt: wrong answer for an empty, unknown or upper-case extension")
	}
	if w := Writable(); !slices.Equal(w, []string{"jpeg", "png", "gif", "bmp", "tiff", "webp"}) && ByName("avif").Build == "" {
		t.Errorf("Writable = %v", w)
	}
}

// isProgressive reports whether a JPEG's frame header (before its first
// scan) is progressive (SOF2): frameMarker as the tests ask it.
func isProgressive(data []byte) bool { return frameMarker(data) == 0xc2 }

func TestIsProgressive(t *testing.T) {
	for file, want := range map[string]bool{
		"formats/progressive.jpeg": true, "photos/camera_Nikon_P6000_GPS.jpg": false,
		"edge/IMG_0001.JPG": false, "formats/cmyk.jpeg": false,
	} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		if got := isProgressive(data); got != want {
			t.Errorf("%s: progressive %v, want %v", file, got, want)
		}
	}
	for _, junk := range [][]byte{nil, {0xff, 0xd8}, {0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff}, {0xff, 0xd8, 0, 0, 0, 0}} {
		if isProgressive(junk) {
			t.Errorf("%x: progressive", junk)
		}
	}
}

// addFuzzSeeds adds the small files of the bundled testdata.
func addFuzzSeeds(f *testing.F) {
	f.Helper()
	n := 0
	for _, dir := range []string{"bad", "edge", "formats", "orientation"} {
		filepath.WalkDir(filepath.Join("..", "..", "testdata", dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if info, err := d.Info(); err != nil || info.Size() >= 64<<10 {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			n++
			return nil
		})
	}
	if n < 40 {
		f.Fatalf("only %d fuzz seeds found: is the testdata missing?", n)
	}
}

// FuzzSniff checks that Sniff never panics, that it needs no more than the
// HeadLen bytes the sources read, and that it names the same format as
// image.DecodeConfig whenever a registered decoder accepts the bytes: a
// file Go can read must not be refused as "not an image" because Sniff
// missed it, nor be reported under another format.
func FuzzSniff(f *testing.F) {
	addFuzzSeeds(f)
	f.Add([]byte("\xff\xd8\xff"))
	f.Add([]byte("BM"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8L"))
	f.Add([]byte("\x00\x00\x00\x18ftypheic"))
	name := func(f *Format) string {
		if f == nil {
			return ""
		}
		return f.Name
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := name(Sniff(data))
		if head := data[:min(len(data), HeadLen)]; name(Sniff(head)) != got {
			t.Fatalf("Sniff of the first %d bytes says %q, of all %d bytes %q", len(head), name(Sniff(head)), len(data), got)
		}
		switch got {
		case "webp-anim":
			got = "webp" // image.DecodeConfig names it webp too
		case "heif":
			got = "heic" // the name gen2brain/heic registers (-tags nodynamic)
		}
		if len(data) > 1<<20 {
			return
		}
		_, decoded, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return
		}
		if decoded != got {
			t.Fatalf("image.DecodeConfig reads these bytes as %q, Sniff says %q", decoded, got)
		}
	})
}

// An arithmetic-coded JPEG is named for what it is, from its header on:
// image/jpeg alone calls it an "unknown marker".
func TestArithmeticJPEGNamed(t *testing.T) {
	data, err := os.ReadFile("../../testdata/formats/arithmetic.jpg")
	if err != nil {
		t.Fatal(err)
	}
	f := ByName("jpeg")
	_, err = f.DecodeConfig(bytes.NewReader(data))
	var u jpeg.UnsupportedError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "arithmetic coding") {
		t.Errorf("DecodeConfig: %v, want an UnsupportedError naming arithmetic coding", err)
	}
	if _, err := f.Fallback(bytes.NewReader(data)); !errors.As(err, &u) || !strings.Contains(err.Error(), "arithmetic coding") {
		t.Errorf("Fallback: %v, want an UnsupportedError naming arithmetic coding", err)
	}
}

// A paletted TIFF, resized, came out with an alpha channel: opaque true
// colour is written as three-sample RGB now, with the same pixels.
func TestTIFFOpaqueHasNoAlpha(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 37, 5))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
		if i%4 == 3 {
			img.Pix[i] = 0xff
		}
	}
	var buf bytes.Buffer
	if err := ByName("tiff").Encode(&buf, img, EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if spp := tiffTag(data, 277); spp != 3 {
		t.Errorf("SamplesPerPixel %d, want 3 (RGB, no alpha)", spp)
	}
	if es := tiffTag(data, 338); es != -1 {
		t.Errorf("ExtraSamples %d present: an alpha channel", es)
	}
	got, err := tiff.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for y := range 5 {
		for x := range 37 {
			if a, b := color.RGBAModel.Convert(got.At(x, y)), img.At(x, y); a != b {
				t.Fatalf("pixel %d,%d: %v, want %v", x, y, a, b)
			}
		}
	}
	// Translucent images keep their alpha.
	img.Pix[3] = 0x80
	buf.Reset()
	ByName("tiff").Encode(&buf, img, EncodeOptions{})
	if spp := tiffTag(buf.Bytes(), 277); spp != 4 {
		t.Errorf("translucent: SamplesPerPixel %d, want 4", spp)
	}
}

// tiffTag returns the value of a one-value SHORT or LONG tag of a
// little-endian TIFF's first IFD, -1 if absent.
func tiffTag(d []byte, tag uint16) int {
	le := binary.LittleEndian
	off := le.Uint32(d[4:8])
	n := int(le.Uint16(d[off:]))
	for i := range n {
		e := d[int(off)+2+12*i:]
		if le.Uint16(e) == tag {
			if le.Uint16(e[2:]) == 3 {
				return int(le.Uint16(e[8:]))
			}
			return int(le.Uint32(e[8:]))
		}
	}
	return -1
}
