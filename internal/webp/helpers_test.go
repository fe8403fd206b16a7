package webp

import (
	"bytes"
	"image"
	"image/color"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"golang.org/x/image/draw"

	ijpeg "github.com/imgpipe/imgpipe/internal/jpeg"
)

// noise is a w x h opaque image of random colours.
func noise(w, h int, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			m.Pix[i] = 255
		}
	}
	return m
}

// readImage decodes a test image.
func readImage(t testing.TB, name string) image.Image {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// testPhoto is the plasma photo scaled to w x h (RGBA).
func testPhoto(t testing.TB, w, h int) *image.RGBA {
	return scaled(readPhoto(t, "../../testdata/photos/plasma_FallenLeaf_2560x1600.jpg", w), w, h)
}

// readPhoto decodes a JPEG photo at the smallest of 1/1-1/8 scale that is
// still at least w pixels wide (scaling in the DCT is far cheaper than
// resampling the full image).
func readPhoto(t testing.TB, name string, w int) image.Image {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ijpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	s := 8
	for s > 1 && cfg.Width/s < w {
		s /= 2
	}
	m, err := ijpeg.Decode(bytes.NewReader(data), &ijpeg.Options{Scale: s})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func scaled(m image.Image, w, h int) *image.RGBA {
	d := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(d, d.Bounds(), m, m.Bounds(), draw.Src, nil)
	return d
}

// psnr compares the colours (not alpha) of a source image and its decoded
// WebP, whose YCbCr (x/image/webp's lossy output) is studio range.
func psnr(a, b image.Image) float64 {
	ab, bb := a.Bounds(), b.Bounds()
	var se float64
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1 := rgb8(a, ab.Min.X+x, ab.Min.Y+y, false)
			r2, g2, b2 := rgb8(b, bb.Min.X+x, bb.Min.Y+y, true)
			for _, d := range [3]float64{r1 - r2, g1 - g2, b1 - b2} {
				se += d * d
			}
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*3*float64(ab.Dx()*ab.Dy())/se)
}

// rgb8 is the unpremultiplied colour at (x, y); with studio, YCbCr is
// converted with the BT.601 studio-range formula.
func rgb8(m image.Image, x, y int, studio bool) (r, g, b float64) {
	var yy, cb, cr uint8
	switch m := m.(type) {
	case *image.YCbCr:
		if !studio {
			break
		}
		yy, cb, cr = m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)]
	case *image.NYCbCrA:
		if !studio {
			break
		}
		yy, cb, cr = m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)]
	}
	if !studio || !isYCbCr(m) {
		c := color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
		return float64(c.R), float64(c.G), float64(c.B)
	}
	Y, U, V := 1.164*(float64(yy)-16), float64(cb)-128, float64(cr)-128
	cl := func(v float64) float64 { return math.Round(max(0, min(255, v))) }
	return cl(Y + 1.596*V), cl(Y - 0.392*U - 0.813*V), cl(Y + 2.017*U)
}

func isYCbCr(m image.Image) bool {
	switch m.(type) {
	case *image.YCbCr, *image.NYCbCrA:
		return true
	}
	return false
}
