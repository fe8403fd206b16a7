package pipeline

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgpipe/imgpipe/internal/meta"
	"github.com/imgpipe/imgpipe/stages"
)

// encodeOne runs one input through a pipeline with a sink and returns the
// first output's bytes and the result.
func encodeOne(t *testing.T, path string, o stages.Output) ([]byte, Result) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	var res Result
	p, err := New(Config{Output: o}, WithSink(func(ctx context.Context, e *stages.Encoded) error {
		out = e.Files[0]
		return nil
	}), OnResult(func(r Result) { res = r }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), Bytes(path, data)); err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusOK {
		t.Fatalf("%s: %s %v", path, res.Status, res.Err)
	}
	return out, res
}

func readMeta(t *testing.T, data []byte, format string) meta.Info {
	t.Helper()
	info, err := meta.Read(bytes.NewReader(data), format)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// The colour profile of the input is carried into JPEG and PNG outputs,
// byte for byte, so wide-gamut photos keep their colours.
func TestICCProfileKept(t *testing.T) {
	src, _ := os.ReadFile("../testdata/formats/display_p3.jpg")
	in := readMeta(t, src, "jpeg")
	if len(in.ICC) == 0 {
		t.Fatal("test input has no ICC profile")
	}
	for _, format := range []string{"jpeg", "png"} {
		out, res := encodeOne(t, "../testdata/formats/display_p3.jpg", stages.Output{Width: 20, Format: format})
		got := readMeta(t, out, format)
		if !bytes.Equal(got.ICC, in.ICC) {
			t.Errorf("%s: output ICC is %d bytes, want the input's %d bytes", format, len(got.ICC), len(in.ICC))
		}
		if len(res.Notes) != 0 {
			t.Errorf("%s: notes %v", format, res.Notes)
		}
	}
	// With --colorspace keep, formats that cannot hold a profile say so in
	// the result (auto converts the pixels instead: TestColorspace).
	_, res := encodeOne(t, "../testdata/formats/display_p3.jpg", stages.Output{Width: 20, Format: "bmp", Colorspace: "keep"})
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "colour profile") {
		t.Errorf("bmp output: notes %v, want one about the colour profile", res.Notes)
	}
}

// A Display P3 photo comes out in sRGB where its profile cannot go along
// (auto) or when asked (srgb), with the colours of libvips' conversion
// (display_p3.srgb.ref.png: vips icc_transform ... srgb --embedded), and
// unconverted with its profile otherwise.
func TestColorspace(t *testing.T) {
	const src = "../testdata/formats/display_p3.jpg"
	ref := decodeFile(t, "../testdata/formats/display_p3.srgb.ref.png")
	for _, tc := range []struct {
		colorspace, format string
		converted          bool // pixels in sRGB, no profile written
		minPSNR            float64
	}{
		{"", "bmp", true, 40}, // auto is the default
		{"auto", "tiff", true, 40},
		{"auto", "png", false, 0},
		{"auto", "jpeg", false, 0},
		{"srgb", "png", true, 40},
		{"srgb", "jpeg", true, 38}, // quality 100, 4:4:4
		{"srgb", "webp", true, 30},
		{"keep", "bmp", false, 0},
		{"keep", "png", false, 0},
	} {
		t.Run(tc.colorspace+"/"+tc.format, func(t *testing.T) {
			out, res := encodeOne(t, src, stages.Output{Format: tc.format, Colorspace: tc.colorspace, Quality: 100})
			got, _, err := image.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			info := readMeta(t, out, tc.format)
			p := psnrOf(got, ref)
			if tc.converted {
				if p < tc.minPSNR {
					t.Errorf("%.1f dB from libvips' sRGB conversion, want >= %.0f", p, tc.minPSNR)
				}
				if info.ICC != nil {
					t.Errorf("converted to sRGB but the output carries a %d-byte profile", len(info.ICC))
				}
				if len(res.Notes) != 0 {
					t.Errorf("notes %v", res.Notes)
				}
				return
			}
			if p > 40 {
				t.Errorf("%.1f dB from the sRGB conversion: converted, want the P3 pixels as they are", p)
			}
			if f := tc.format; (f == "png" || f == "jpeg") && info.ICC == nil {
				t.Errorf("%s output lost the profile", f)
			}
		})
	}
	// GIF's generic palette adds more error than the colour shift (23 dB
	// either way): the converted GIF must differ from the unconverted one,
	// which alone gets the note.
	autoGIF, res := encodeOne(t, src, stages.Output{Format: "gif"})
	keepGIF, keepRes := encodeOne(t, src, stages.Output{Format: "gif", Colorspace: "keep"})
	if bytes.Equal(autoGIF, keepGIF) || len(res.Notes) != 0 || len(keepRes.Notes) != 1 {
		t.Errorf("GIF: auto and keep give the same file (%v), notes %v and %v", bytes.Equal(autoGIF, keepGIF), res.Notes, keepRes.Notes)
	}
	// 16 bits stay 16 bits through the conversion (ProPhoto, libvips'
	// reference at --depth 16).
	out, _ := encodeOne(t, "../internal/icc/testdata/prophoto16.png", stages.Output{Format: "png", Colorspace: "srgb"})
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := img.(*image.RGBA64); !ok {
		t.Errorf("16-bit ProPhoto to sRGB PNG: %T, want *image.RGBA64", img)
	}
	if p := psnrOf(img, decodeFile(t, "../internal/icc/testdata/prophoto16_ref.png")); p < 40 {
		t.Errorf("16-bit ProPhoto: %.1f dB from libvips' conversion, want >= 40", p)
	}
	// An sRGB profile is never converted, and auto drops it silently from
	// formats that cannot carry it: nothing shifts.
	_, res = encodeOne(t, "../testdata/photos/Painting-Colors_by__herobrine7gamer.jpg", stages.Output{Width: 64, Format: "bmp"})
	if len(res.Notes) != 0 {
		t.Errorf("sRGB input to BMP: notes %v", res.Notes)
	}
}

func decodeFile(t *testing.T, name string) image.Image {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// psnrOf compares the RGB of two images of the same size, in dB.
func psnrOf(a, b image.Image) float64 {
	var sum float64
	n := 0
	ra, rb := a.Bounds(), b.Bounds()
	for y := 0; y < ra.Dy(); y++ {
		for x := 0; x < ra.Dx(); x++ {
			r1, g1, b1, _ := a.At(ra.Min.X+x, ra.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(rb.Min.X+x, rb.Min.Y+y).RGBA()
			for _, d := range []float64{float64(r1) - float64(r2), float64(g1) - float64(g2), float64(b1) - float64(b2)} {
				sum += d * d
				n++
			}
		}
	}
	if sum == 0 {
		return 99
	}
	return 10 * math.Log10(65535*65535*float64(n)/sum)
}

// EXIF holds GPS positions: stripped by default, copied with
// --keep-metadata (orientation reset, so the upright pixels are not turned
// again by viewers).
func TestEXIFPolicy(t *testing.T) {
	src, _ := os.ReadFile("../testdata/photos/camera_Nikon_P6000_GPS.jpg")
	if len(readMeta(t, src, "jpeg").EXIF) == 0 {
		t.Fatal("test input has no EXIF")
	}
	out, _ := encodeOne(t, "../testdata/photos/camera_Nikon_P6000_GPS.jpg", stages.Output{Width: 64})
	if info := readMeta(t, out, "jpeg"); info.EXIF != nil {
		t.Errorf("EXIF kept by default (%d bytes)", len(info.EXIF))
	}
	out, _ = encodeOne(t, "../testdata/orientation/Landscape_6.jpg", stages.Output{Width: 20, KeepMetadata: "all"})
	info := readMeta(t, out, "jpeg")
	if info.EXIF == nil || info.Orientation != 1 {
		t.Errorf("--keep-metadata: EXIF %d bytes, orientation %d; want EXIF with orientation 1", len(info.EXIF), info.Orientation)
	}
}

// --keep-metadata none|copyright|all into each format that carries
// metadata, from a photo tagged with EXIF (GPS), XMP and IPTC.
func TestKeepMetadata(t *testing.T) {
	const src = "../internal/meta/testdata/rights.jpg"
	for _, tc := range []struct {
		keep, format string
		exif, xmp    bool
		iptc         bool
	}{
		{"", "jpeg", false, false, false},
		{"none", "png", false, false, false},
		{"all", "jpeg", true, true, true},
		{"all", "png", true, true, false},
		{"all", "webp", true, true, false},
		{"true", "jpeg", true, true, true}, // the config file's old boolean
		{"copyright", "jpeg", true, true, true},
		{"copyright", "png", true, true, false},
		{"copyright", "webp", true, true, false},
	} {
		t.Run(tc.keep+"/"+tc.format, func(t *testing.T) {
			out, _ := encodeOne(t, src, stages.Output{Width: 16, Format: tc.format, KeepMetadata: tc.keep})
			info := readMeta(t, out, tc.format)
			if (info.EXIF != nil) != tc.exif || (info.XMP != nil) != tc.xmp || (info.IPTC != nil) != tc.iptc {
				t.Fatalf("EXIF %d, XMP %d, IPTC %d bytes; want EXIF %v, XMP %v, IPTC %v",
					len(info.EXIF), len(info.XMP), len(info.IPTC), tc.exif, tc.xmp, tc.iptc)
			}
			if info.EXIF != nil && info.Orientation > 1 {
				t.Errorf("orientation %d kept on upright pixels", info.Orientation)
			}
			all := string(info.EXIF) + string(info.XMP) + string(info.IPTC)
			if tc.exif && !strings.Contains(all, "Ada Lovelace") {
				t.Errorf("the author is gone")
			}
			if tc.keep == "copyright" {
				for _, gone := range []string{"TestCam", "Paris", "tower", "GPS"} {
					if strings.Contains(all, gone) {
						t.Errorf("copyright keeps %q", gone)
					}
				}
				if meta.Orientation(info.EXIF) != 0 {
					t.Errorf("copyright EXIF has an orientation")
				}
			}
			if tc.keep == "all" && !strings.Contains(all, "TestCam") {
				t.Errorf("all lost the camera make")
			}
		})
	}
}

// XMP too big for a JPEG segment (a PNG can hold any size) is left out
// with a note; the image is still written.
func TestKeepMetadataTooBig(t *testing.T) {
	src, err := os.ReadFile("../testdata/formats/alpha.png")
	if err != nil {
		t.Fatal(err)
	}
	xmp := []byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><!--` + strings.Repeat("x", 70000) + `--></x:xmpmeta>`)
	big, err := meta.EmbedPNGExtra(src, xmp, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "big-xmp.png")
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	out, res := encodeOne(t, path, stages.Output{Width: 16, Format: "jpeg", KeepMetadata: "all"})
	if info := readMeta(t, out, "jpeg"); info.XMP != nil {
		t.Errorf("XMP of %d bytes in a JPEG", len(info.XMP))
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "XMP and IPTC were not kept") {
		t.Errorf("notes %v, want one saying the XMP was not kept", res.Notes)
	}
}

// Greyscale stays greyscale: a 1-component JPEG in, a 1-component JPEG out.
func TestGrayStaysGray(t *testing.T) {
	for _, format := range []string{"jpeg", "png"} {
		out, _ := encodeOne(t, "../testdata/formats/gray.jpg", stages.Output{Width: 64, Format: format})
		img, _, err := image.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if img.ColorModel() != color.GrayModel {
			t.Errorf("%s: output colour model %T, want grey", format, img.ColorModel())
		}
	}
}

// A CMYK profile must not be attached to the RGB output: it would shift
// every colour. It is dropped, and the result says so.
func TestCMYKProfileDropped(t *testing.T) {
	src, _ := os.ReadFile("../testdata/formats/cmyk.jpeg")
	icc := make([]byte, 200)
	copy(icc[16:], "CMYK")
	copy(icc[36:], "acsp")
	withICC, err := meta.EmbedJPEG(src, icc, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/cmyk_icc.jpg"
	os.WriteFile(path, withICC, 0o644)
	out, res := encodeOne(t, path, stages.Output{Width: 64})
	if readMeta(t, out, "jpeg").ICC != nil {
		t.Error("the CMYK profile was attached to an RGB output")
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "CMYK colour profile") {
		t.Errorf("notes %v", res.Notes)
	}
}

// Transparent pixels are flattened onto the background, exactly, when the
// output cannot hold alpha; PNG keeps the alpha.
func TestAlphaFlattenAndKeep(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			if x >= 4 {
				src.SetNRGBA(x, y, color.NRGBA{0, 0, 255, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/half.png"
	os.WriteFile(path, buf.Bytes(), 0o644)
	for _, tt := range []struct {
		format string
		bg     string
		want   color.RGBA // at a transparent pixel
	}{
		{"bmp", "#ff0000", color.RGBA{255, 0, 0, 255}},
		{"bmp", "", color.RGBA{255, 255, 255, 255}},
		{"png", "#ff0000", color.RGBA{0, 0, 0, 0}},
	} {
		out, _ := encodeOne(t, path, stages.Output{Format: tt.format, Background: tt.bg})
		img, _, err := image.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if got := color.RGBAModel.Convert(img.At(1, 1)).(color.RGBA); got != tt.want {
			t.Errorf("%s on %q: transparent pixel became %v, want %v", tt.format, tt.bg, got, tt.want)
		}
		if got := color.RGBAModel.Convert(img.At(6, 6)).(color.RGBA); got != (color.RGBA{0, 0, 255, 255}) {
			t.Errorf("%s: opaque pixel became %v", tt.format, got)
		}
	}
}

// A CMYK JPEG (Adobe, inverted) comes out with the colours of a reference
// conversion (Go's testdata has it; ImageMagick's agrees, checked by eye).
func TestCMYKColours(t *testing.T) {
	out, _ := encodeOne(t, "../testdata/formats/cmyk.jpeg", stages.Output{Format: "png"})
	got, _, err := image.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/formats/cmyk.ref.png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if d := meanAbsDiff(got, ref); d > 4 {
		t.Errorf("CMYK output differs from the RGB reference by %.1f levels on average", d)
	}
}

// Several outputs come from one decode of each input, each with its own
// size, format and quality.
func TestOutputsFromOneDecode(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	copyTree(t, in, "photos/camera_Nikon_P6000_GPS.jpg", "formats/alpha.png")
	p, err := New(Config{OutDir: out, Outputs: []stages.Output{
		{Width: 64, Name: "{name}-64.{ext}"},
		{Width: 160, Height: 160, Fit: "fill", Format: "png", Name: "{name}-sq.{ext}"},
		{Width: 320, Format: "jpeg", Quality: 50, Name: "{name}-320.{ext}"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.Run(context.Background(), Dirs([]string{in}, ScanOptions{}))
	if err != nil || sum.OK != 2 {
		t.Fatalf("%+v %v", sum, err)
	}
	if dec := sum.Stages[1]; dec.Name != "decode" || dec.In != 2 || dec.Out != 2 {
		t.Errorf("decode stage took %d inputs for 2 files x 3 outputs: want one decode per input", dec.In)
	}
	for name, want := range map[string]image.Point{
		"photos/camera_Nikon_P6000_GPS-64.jpg":  {64, 48},
		"photos/camera_Nikon_P6000_GPS-sq.png":  {160, 160},
		"photos/camera_Nikon_P6000_GPS-320.jpg": {320, 240},
		"formats/alpha-64.png":                  {64, 0},
		"formats/alpha-sq.png":                  {75, 100}, // 75x100 source: fill never enlarges
		"formats/alpha-320.jpg":                 {0, 0},
	} {
		path := out + "/" + name
		f, err := os.Open(path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		cfg, format, err := image.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if want := strings.TrimPrefix(filepathExt(name), "."); map[string]string{"jpg": "jpeg", "png": "png"}[want] != format {
			t.Errorf("%s: format %s", name, format)
		}
		if (want.X != 0 && cfg.Width != want.X) || (want.Y != 0 && cfg.Height != want.Y) {
			t.Errorf("%s: %dx%d, want %v", name, cfg.Width, cfg.Height, want)
		}
	}
}

func filepathExt(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[i:]
	}
	return ""
}

// progressive: true writes progressive JPEG (SOF2) with the pixels of the
// baseline output, and an `outputs:` entry inherits it from `output`.
func TestProgressiveJPEG(t *testing.T) {
	path := "../testdata/photos/friends_by_Aitzol_Berasategi.jpg"
	base, _ := encodeOne(t, path, stages.Output{Width: 300})
	prog, _ := encodeOne(t, path, stages.Output{Width: 300, Progressive: true})
	if !bytes.Contains(prog, []byte{0xFF, 0xC2}) || bytes.Contains(base, []byte{0xFF, 0xC2}) {
		t.Fatal("want SOF2 in the progressive output only")
	}
	a, err := jpeg.Decode(bytes.NewReader(base))
	if err != nil {
		t.Fatal(err)
	}
	b, err := jpeg.Decode(bytes.NewReader(prog))
	if err != nil {
		t.Fatal(err)
	}
	ya, yb := a.(*image.YCbCr), b.(*image.YCbCr)
	if ya.Rect != yb.Rect {
		t.Fatalf("sizes %v and %v", ya.Rect, yb.Rect)
	}
	for y := ya.Rect.Min.Y; y < ya.Rect.Max.Y; y++ {
		for x := ya.Rect.Min.X; x < ya.Rect.Max.X; x++ {
			if ya.YCbCrAt(x, y) != yb.YCbCrAt(x, y) {
				t.Fatalf("pixel (%d, %d): baseline %v, progressive %v", x, y, ya.YCbCrAt(x, y), yb.YCbCrAt(x, y))
			}
		}
	}
	c := Config{Output: stages.Output{Progressive: true}, Outputs: []stages.Output{{Width: 100}}}
	if r := c.renditions(); !r[0].Progressive {
		t.Error("outputs[0] did not inherit progressive from output")
	}
}
