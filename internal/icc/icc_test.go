package icc_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // test images
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgpipe/imgpipe/internal/icc"
	"github.com/imgpipe/imgpipe/internal/meta"
)

// load decodes a test image and parses its embedded profile.
func load(t testing.TB, name string) (image.Image, *icc.Profile) {
	t.Helper()
	img, _, err := decodeFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return img, profileOf(t, name)
}

// profileOf parses the profile embedded in an image file.
func profileOf(t testing.TB, name string) *icc.Profile {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	format := "png"
	if filepath.Ext(name) == ".jpg" {
		format = "jpeg"
	}
	info, err := meta.Read(bytes.NewReader(data), format)
	if err != nil || info.ICC == nil {
		t.Fatalf("%s: no profile (%v)", name, err)
	}
	p, err := icc.Parse(info.ICC)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// psnr compares two images' RGB on a 0-1 scale.
func psnr(a, b image.Image) float64 {
	var sum float64
	var n int
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c1 := color.NRGBA64Model.Convert(a.At(x, y)).(color.NRGBA64)
			c2 := color.NRGBA64Model.Convert(b.At(x-r.Min.X+b.Bounds().Min.X, y-r.Min.Y+b.Bounds().Min.Y)).(color.NRGBA64)
			for _, d := range []float64{float64(c1.R) - float64(c2.R), float64(c1.G) - float64(c2.G), float64(c1.B) - float64(c2.B)} {
				sum += d * d / (65535 * 65535)
				n++
			}
		}
	}
	if sum == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(float64(n)/sum)
}

func TestConvertAgainstLibvips(t *testing.T) {
	for _, tc := range []struct {
		name string
		as   func(image.Image) image.Image // the type resize hands over
	}{
		{"display_p3", toRGBA},
		{"adobe_rgb", toRGBA},
		{"adobe_rgb", toNRGBA},
		{"adobe_rgb", toYCbCr},
		{"rec2020", toRGBA},
		{"prophoto16", func(m image.Image) image.Image { return m }}, // *image.RGBA64 from image/png
		{"prophoto16", toNRGBA64},
	} {
		src, p := load(t, "testdata/"+tc.name+".png")
		in := tc.as(src)
		t.Run(tc.name+"/"+typeName(in), func(t *testing.T) {
			ref, _, err := decodeFile("testdata/" + tc.name + "_ref.png")
			if err != nil {
				t.Fatal(err)
			}
			if p.IsSRGB() {
				t.Fatal("a wide-gamut profile taken for sRGB")
			}
			got := icc.NewTransform(p).Convert(in)
			if got.Bounds() != in.Bounds() {
				t.Fatalf("bounds %v, want %v", got.Bounds(), in.Bounds())
			}
			before, after := psnr(in, ref), psnr(got, ref)
			t.Logf("PSNR against libvips: %.1f dB unconverted, %.1f dB converted", before, after)
			if after < 40 {
				t.Errorf("PSNR %.1f dB against libvips' conversion, want >= 40", after)
			}
			if after-before < 10 {
				t.Errorf("converting gains only %.1f dB: the test image is not wide-gamut enough to tell", after-before)
			}
		})
	}
}

// TestConvertAlpha: premultiplied and straight alpha come out with the
// same colour as the opaque pixels, and the alpha unchanged.
func TestConvertAlpha(t *testing.T) {
	src, p := load(t, "testdata/display_p3.png")
	tr := icc.NewTransform(p)
	opaque := tr.Convert(toNRGBA(src)).(*image.NRGBA)
	b := src.Bounds()
	for _, alpha := range []uint8{255, 200, 128, 0} {
		n := image.NewNRGBA(b)
		draw.Draw(n, b, src, b.Min, draw.Src)
		for i := 3; i < len(n.Pix); i += 4 {
			n.Pix[i] = alpha
		}
		rgba := image.NewRGBA(b)
		draw.Draw(rgba, b, n, b.Min, draw.Src)
		for _, in := range []image.Image{n, rgba} {
			got := tr.Convert(in)
			worst := 0
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					g := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
					if g.A != alpha {
						t.Fatalf("%T alpha %d: got alpha %d", in, alpha, g.A)
					}
					if alpha == 0 {
						continue
					}
					w := opaque.NRGBAAt(x, y)
					worst = max(worst, absDiff(g.R, w.R), absDiff(g.G, w.G), absDiff(g.B, w.B))
				}
			}
			// Premultiplied 8-bit colour is quantised by 255/alpha levels.
			limit := 2
			if _, ok := in.(*image.RGBA); ok && alpha > 0 {
				limit += (2*255 + int(alpha) - 1) / int(alpha)
			}
			if worst > limit {
				t.Errorf("%T alpha %d: colour off by %d levels from the opaque conversion", in, alpha, worst)
			}
		}
	}
}

func absDiff(a, b uint8) int { return int(max(a, b) - min(a, b)) }

func TestIsSRGB(t *testing.T) {
	for _, tc := range []struct {
		file string
		want bool
	}{
		{"../meta/testdata/canon40d_100x68.jpg", true},                          // HP's sRGB IEC61966-2.1 (v2, curv table)
		{"../meta/testdata/mini_libjpeg-turbo_monkey16.png", true},              // sRGB2014
		{"../../testdata/photos/Painting-Colors_by__herobrine7gamer.jpg", true}, // lcms' sRGB-elle (v2)
		{"testdata/display_p3.png", false},
		{"testdata/adobe_rgb.png", false},
		{"testdata/rec2020.png", false},
		{"testdata/prophoto16.png", false},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			p := profileOf(t, tc.file)
			if got := p.IsSRGB(); got != tc.want {
				t.Errorf("IsSRGB = %v, want %v (matrix %v)", got, tc.want, p.Matrix)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	p3, err := os.ReadFile("testdata/rec2020.icc")
	if err != nil {
		t.Fatal(err)
	}
	cmyk, err := os.ReadFile("../meta/testdata/go_video-001.cmyk.jpeg")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := meta.Read(bytes.NewReader(cmyk), "jpeg")
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(p3)) }
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, icc.ErrMalformed},
		{"header only", p3[:128], icc.ErrMalformed},
		{"no acsp", mod(func(b []byte) []byte { copy(b[36:], "xxxx"); return b }), icc.ErrMalformed},
		{"grey", mod(func(b []byte) []byte { copy(b[16:], "GRAY"); return b }), icc.ErrUnsupported},
		{"Lab PCS", mod(func(b []byte) []byte { copy(b[20:], "Lab "); return b }), icc.ErrUnsupported},
		{"tag count too large", mod(func(b []byte) []byte { b[128] = 0x7f; return b }), icc.ErrMalformed},
		{"cut in the tags", p3[:len(p3)-40], icc.ErrUnsupported}, // rTRC..bTRC point past the end: missing
		{"para type 9", mod(func(b []byte) []byte {
			i := bytes.Index(b, []byte("para"))
			b[i+9] = 9
			return b
		}), icc.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := icc.Parse(tc.data); !errors.Is(err, tc.want) {
				t.Errorf("Parse: %v, want %v", err, tc.want)
			}
		})
	}
	if info.ICC != nil {
		if _, err := icc.Parse(info.ICC); !errors.Is(err, icc.ErrUnsupported) {
			t.Errorf("CMYK profile: %v, want ErrUnsupported", err)
		}
	}
}

// TestCurves checks the parametric functions and tables against their
// definitions at a few points.
func TestCurves(t *testing.T) {
	srgb := icc.Curve{Type: 3, Params: [7]float64{2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045}}
	table := icc.Curve{Table: []float64{0, 0.25, 1}}
	for _, tc := range []struct {
		name string
		c    icc.Curve
		x    float64
		want float64
	}{
		{"gamma 2.2", icc.Curve{Params: [7]float64{2.2}}, 0.5, math.Pow(0.5, 2.2)},
		{"identity", icc.Curve{Params: [7]float64{1}}, 0.3, 0.3},
		{"sRGB dark", srgb, 0.02, 0.02 / 12.92},
		{"sRGB", srgb, 0.5, icc.SRGBDecode(0.5)},
		{"type 1", icc.Curve{Type: 1, Params: [7]float64{2, 1, -0.5}}, 0.25, 0},
		{"type 2", icc.Curve{Type: 2, Params: [7]float64{1, 1, 0, 0.1}}, 0.5, 0.6},
		{"type 4", icc.Curve{Type: 4, Params: [7]float64{1, 1, 0, 0.5, 0.5, 0.1, 0.05}}, 0.2, 0.15},
		{"table middle", table, 0.5, 0.25},
		{"table between", table, 0.75, 0.625},
		{"clipped", icc.Curve{Params: [7]float64{1}}, 2, 1},
	} {
		if got := tc.c.Eval(tc.x); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: Eval(%g) = %g, want %g", tc.name, tc.x, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/rec2020.icc"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, name := range []string{"testdata/display_p3.png", "testdata/adobe_rgb.png", "../meta/testdata/canon40d_100x68.jpg"} {
		b, _ := os.ReadFile(name)
		format := "png"
		if filepath.Ext(name) == ".jpg" {
			format = "jpeg"
		}
		info, _ := meta.Read(bytes.NewReader(b), format)
		f.Add(info.ICC)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := icc.Parse(data)
		if err != nil {
			if !errors.Is(err, icc.ErrMalformed) && !errors.Is(err, icc.ErrUnsupported) {
				t.Fatalf("error %v is neither ErrMalformed nor ErrUnsupported", err)
			}
			return
		}
		p.IsSRGB()
		img := image.NewRGBA(image.Rect(0, 0, 4, 4))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 17)
		}
		icc.NewTransform(p).Convert(img)
	})
}

func decodeFile(name string) (image.Image, string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	return image.Decode(f)
}

func typeName(img image.Image) string {
	switch img.(type) {
	case *image.RGBA:
		return "RGBA"
	case *image.NRGBA:
		return "NRGBA"
	case *image.RGBA64:
		return "RGBA64"
	case *image.NRGBA64:
		return "NRGBA64"
	case *image.YCbCr:
		return "YCbCr"
	}
	return "other"
}

func toRGBA(m image.Image) image.Image {
	d := image.NewRGBA(m.Bounds())
	draw.Draw(d, d.Bounds(), m, m.Bounds().Min, draw.Src)
	return d
}

func toNRGBA(m image.Image) image.Image {
	d := image.NewNRGBA(m.Bounds())
	draw.Draw(d, d.Bounds(), m, m.Bounds().Min, draw.Src)
	return d
}

func toNRGBA64(m image.Image) image.Image {
	d := image.NewNRGBA64(m.Bounds())
	draw.Draw(d, d.Bounds(), m, m.Bounds().Min, draw.Src)
	return d
}

// toYCbCr is the image as JPEG's 4:4:4 planes (resize hands JPEG to JPEG
// over as YCbCr).
func toYCbCr(m image.Image) image.Image {
	b := m.Bounds()
	d := image.NewYCbCr(b, image.YCbCrSubsampleRatio444)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := m.At(x, y).RGBA()
			yy, cb, cr := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(bb>>8))
			d.Y[d.YOffset(x, y)], d.Cb[d.COffset(x, y)], d.Cr[d.COffset(x, y)] = yy, cb, cr
		}
	}
	return d
}

// BenchmarkConvert: an 800x533 output (what the bench job writes) from
// Display P3 to sRGB, 8-bit RGBA and 16-bit RGBA64.
func BenchmarkConvert(b *testing.B) {
	src, p := load(b, "testdata/display_p3.png")
	tr := icc.NewTransform(p)
	for _, deep := range []bool{false, true} {
		var img draw.Image = image.NewRGBA(image.Rect(0, 0, 800, 533))
		name := "RGBA"
		if deep {
			img, name = image.NewRGBA64(img.Bounds()), "RGBA64"
		}
		// Tile the photo over the whole image.
		sb := src.Bounds()
		for y := 0; y < 533; y += sb.Dy() {
			for x := 0; x < 800; x += sb.Dx() {
				draw.Draw(img, image.Rect(x, y, x+sb.Dx(), y+sb.Dy()), src, sb.Min, draw.Src)
			}
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				tr.Convert(img)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(800*533), "ns/pixel")
		})
	}
	b.Run("NewTransform", func(b *testing.B) {
		for b.Loop() {
			icc.NewTransform(p)
		}
	})
}
