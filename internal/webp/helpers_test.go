package webp

import (
	"image"
	"image/color"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"golang.org/x/image/draw"
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
	return scaled(readImage(t, "../../testdata/photos/plasma_FallenLeaf_2560x1600.jpg"), w, h)
}

func scaled(m image.Image, w, h int) *image.RGBA {
	d := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(d, d.Bounds(), m, m.Bounds(), draw.Src, nil)
	return d
}

// psnr compares the colours (not alpha) of two images, through a
// studio-range-aware reading of decoded VP8 YCbCr.
func psnr(a, b image.Image) float64 {
	ab, bb := a.Bounds(), b.Bounds()
	var se float64
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1 := rgb8(a, ab.Min.X+x, ab.Min.Y+y)
			r2, g2, b2 := rgb8(b, bb.Min.X+x, bb.Min.Y+y)
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

// rgb8 is the unpremultiplied colour at (x, y); VP8's studio-range YCbCr
// (what x/image/webp returns) is converted with the BT.601 studio formula.
func rgb8(m image.Image, x, y int) (r, g, b float64) {
	var yy, cb, cr uint8
	switch m := m.(type) {
	case *image.YCbCr:
		yy, cb, cr = m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)]
	case *image.NYCbCrA:
		yy, cb, cr = m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)]
	default:
		c := color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
		return float64(c.R), float64(c.G), float64(c.B)
	}
	Y, U, V := 1.164*(float64(yy)-16), float64(cb)-128, float64(cr)-128
	cl := func(v float64) float64 { return math.Round(max(0, min(255, v))) }
	return cl(Y + 1.596*V), cl(Y - 0.392*U - 0.813*V), cl(Y + 2.017*U)
}
