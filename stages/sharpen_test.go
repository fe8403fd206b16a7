package stages

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

var sharpenSigmas = []float64{0.5, 1}

// testdataImage decodes a file of ../testdata with the standard library
// (tests that need pixels, not the decode stage).
func testdataImage(t testing.TB, dir, file string) image.Image {
	t.Helper()
	return stdDecode(t, filepath.Join("..", "testdata", dir, file))
}

// stdDecode decodes the file at path with the standard library's decoders.
func stdDecode(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// sharpenInputs are what resizeOne hands to sharpen: resample's
// *image.RGBA, resampleYCbCr's *image.YCbCr, resampleFloat's 16-bit
// *image.RGBA64, and sources of the target's size as they were decoded.
func sharpenInputs(t testing.TB) []struct {
	name  string
	img   image.Image
	photo bool // 8-bit and opaque: imaging.Sharpen is the reference
} {
	photo := testdataImage(t, "photos", "camera_Nikon_P6000_GPS.jpg") // 640x480 YCbCr
	alpha := testdataImage(t, "formats", "alpha.png")                 // 75x100 NRGBA
	deep := image.NewNRGBA64(photo.Bounds())                          // the photo as a 16-bit PNG would decode
	draw.Draw(deep, deep.Bounds(), photo, photo.Bounds().Min, draw.Src)
	return []struct {
		name  string
		img   image.Image
		photo bool
	}{
		{"photo_rgba", resample(photo, photo.Bounds(), 320, 240, filters["lanczos"]), true},
		{"photo_ycbcr", resampleYCbCr(photo.(*image.YCbCr), photo.Bounds(), 320, 240, filters["lanczos"]), true},
		{"photo_ycbcr_unscaled", photo, true},
		{"alpha_png", alpha, false},
		{"alpha_png_resized", resample(alpha, alpha.Bounds(), 60, 80, filters["lanczos"]), false},
		{"deep_rgba64", resampleFloat(deep, whole(deep.Bounds()), 320, 240, filters["lanczos"], false, true), false},
		{"deep_nrgba64_offset", sharpenDeepGradient(), false},
		{"deep_gray16", sharpenGray16(resampleFloat(deep, whole(deep.Bounds()), 200, 150, filters["lanczos"], false, true)), false},
	}
}

// sharpenDeepGradient is a translucent 16-bit image with smooth gradients
// (every low byte in use) crossed by hard bars, at bounds that do not start
// at (0,0).
func sharpenDeepGradient() *image.NRGBA64 {
	img := image.NewNRGBA64(image.Rect(-7, 5, 93, 85))
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBA64{uint16((x + 7) * 655), uint16((y - 5) * 819), 0x4000, 0xc000 + uint16(y-5)*200}
			if (x/9)%2 == 0 {
				c.B = 0xd123
			}
			img.SetNRGBA64(x, y, c)
		}
	}
	return img
}

func sharpenGray16(img image.Image) *image.Gray16 {
	g := image.NewGray16(img.Bounds())
	draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
	return g
}

// pixels64 returns every pixel of img, premultiplied, 16 bits a channel.
func pixels64(img image.Image) []uint32 {
	b := img.Bounds()
	out := make([]uint32, 0, 4*b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			out = append(out, r, g, bl, a)
		}
	}
	return out
}

// meanLaplacian is the mean absolute Laplacian of the four premultiplied
// channels, 16-bit, over the interior: a measure of local contrast that
// sees alpha too (alpha.png is black, with its shape in alpha).
func meanLaplacian(img image.Image) float64 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	px := pixels64(img)
	at := func(x, y, k int) float64 { return float64(px[4*(y*w+x)+k]) }
	var sum float64
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			for k := range 4 {
				sum += math.Abs(4*at(x, y, k) - at(x-1, y, k) - at(x+1, y, k) - at(x, y-1, k) - at(x, y+1, k))
			}
		}
	}
	return sum / float64(4*(w-2)*(h-2))
}

func TestSharpen(t *testing.T) {
	for _, in := range sharpenInputs(t) {
		for _, sigma := range sharpenSigmas {
			t.Run(in.name+fmt.Sprintf("/sigma=%g", sigma), func(t *testing.T) {
				before := pixels64(in.img)
				got := sharpen(in.img, sigma)

				if got.Bounds() != in.img.Bounds() {
					t.Fatalf("bounds %v, want the input's %v", got.Bounds(), in.img.Bounds())
				}
				after := pixels64(in.img)
				for i := range before {
					if before[i] != after[i] {
						t.Fatal("the input was modified")
					}
				}
				out := pixels64(got)
				if isDeep(in.img) {
					if _, ok := got.(*image.RGBA64); !ok {
						t.Fatalf("a 16-bit input came out as %T, want *image.RGBA64", got)
					}
					// An 8-bit result widened to 16 bits has equal bytes (v*0x101).
					wide := 0
					for _, v := range out {
						if v>>8 != v&0xff {
							wide++
						}
					}
					if wide < len(out)/2 {
						t.Errorf("only %d of %d 16-bit samples use their low byte", wide, len(out))
					}
					changed := 0
					for i, v := range out {
						if v&0xff != before[i]&0xff {
							changed++
						}
					}
					if changed < len(out)/10 { // linear ramps stay as they are
						t.Errorf("only %d of %d 16-bit samples changed in their low byte", changed, len(out))
					}
				} else if _, ok := got.(*image.RGBA); !ok {
					t.Fatalf("an 8-bit input came out as %T, want *image.RGBA", got)
				}

				for i := 3; i < len(out); i += 4 {
					if before[i] == 0xffff && out[i] != 0xffff {
						t.Fatalf("an opaque pixel became translucent: alpha %#x", out[i])
					}
					if out[i-3] > out[i] || out[i-2] > out[i] || out[i-1] > out[i] {
						t.Fatalf("premultiplied colour above alpha: %v", out[i-3:i+1])
					}
				}

				l0, l1 := meanLaplacian(in.img), meanLaplacian(got)
				t.Logf("mean |Laplacian| %.0f -> %.0f", l0, l1)
				if l1 <= l0*1.1 {
					t.Errorf("mean |Laplacian| %.0f -> %.0f: local contrast did not grow", l0, l1)
				}

				if in.photo {
					p := psnr(t, got, imaging.Sharpen(in.img, sigma))
					t.Logf("PSNR against imaging.Sharpen: %.1f dB", p)
					if p < 40 {
						t.Errorf("PSNR against imaging.Sharpen %.1f dB, want >= 40", p)
					}
				}
			})
		}
	}
}

// A flat image has nothing to sharpen: every pixel comes out as it went
// in, whatever the type, size (smaller than the kernel included) or alpha.
func TestSharpenFlat(t *testing.T) {
	fill := func(img draw.Image, c color.Color) image.Image {
		draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		return img
	}
	ycc := image.NewYCbCr(image.Rect(0, 0, 17, 9), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = 90
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = 100, 160
	}
	r := image.Rect(3, -2, 20, 11)
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"rgba", fill(image.NewRGBA(r), color.RGBA{10, 128, 251, 255})},
		{"nrgba_translucent", fill(image.NewNRGBA(r), color.NRGBA{200, 100, 50, 128})},
		{"nrgba_transparent", fill(image.NewNRGBA(r), color.NRGBA{200, 100, 50, 0})},
		{"gray", fill(image.NewGray(r), color.Gray{77})},
		{"ycbcr", ycc},
		{"rgba_1x1", fill(image.NewRGBA(image.Rect(0, 0, 1, 1)), color.RGBA{1, 2, 3, 255})},
		{"rgba_2x40", fill(image.NewRGBA(image.Rect(0, 0, 2, 40)), color.RGBA{1, 2, 3, 255})},
		{"rgba64", fill(image.NewRGBA64(r), color.RGBA64{0x1234, 0xfedc, 0x8001, 0xffff})},
		{"nrgba64_translucent", fill(image.NewNRGBA64(r), color.NRGBA64{0xabcd, 0x0102, 0x7fff, 0x9999})},
		{"gray16", fill(image.NewGray16(r), color.Gray16{0x4321})},
	} {
		for _, sigma := range sharpenSigmas {
			t.Run(tc.name+fmt.Sprintf("/sigma=%g", sigma), func(t *testing.T) {
				in, out := pixels64(tc.img), pixels64(sharpen(tc.img, sigma))
				for i := range out {
					if out[i] != out[i%4] {
						t.Fatalf("not flat: sample %d is %#x, the first pixel's %#x", i, out[i], out[i%4])
					}
					d := int(out[i]) - int(in[i])
					if (isDeep(tc.img) && d != 0) || d < -0x101 || d > 0x101 {
						t.Fatalf("pixel %v, want the input's %v", out[i-i%4:][:4], in[i-i%4:][:4])
					}
				}
			})
		}
	}
}

// Sigmas that mean off return the input itself; an empty image too; a
// kernel wider than the image repeats the border pixels.
func TestSharpenEdgeCases(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 17)
	}
	for _, sigma := range []float64{0, -1, math.NaN()} {
		if got := sharpen(img, sigma); got != image.Image(img) {
			t.Errorf("sigma %g: got a new image, want the input", sigma)
		}
	}
	empty := image.NewRGBA(image.Rect(5, 5, 5, 9))
	if got := sharpen(empty, 1); got != image.Image(empty) {
		t.Error("an empty image: got a new image, want the input")
	}
	if got := sharpen(img, 10); got.Bounds() != img.Bounds() { // radius 30
		t.Errorf("sigma 10 on 4x3: bounds %v", got.Bounds())
	}
}

// A shape of one colour keeps its colour up to its sharpened edge: no dark
// or light fringe where it meets transparency.
func TestSharpenAlphaEdge(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 96, 96))
	for y := range 96 {
		for x := range 96 {
			if dx, dy := x-48, y-48; dx*dx+dy*dy < 30*30 {
				src.SetNRGBA(x, y, color.NRGBA{128, 128, 128, 255})
			}
		}
	}
	// An antialiased edge, made without the overshoot of lanczos (whose
	// clamping in resample leaves a light fringe of its own).
	small := resample(src, src.Bounds(), 37, 37, filters["linear"])
	for _, sigma := range sharpenSigmas {
		t.Run(fmt.Sprintf("sigma=%g", sigma), func(t *testing.T) {
			got := sharpen(small, sigma).(*image.RGBA)
			for y := range 37 {
				for x := range 37 {
					c := color.NRGBAModel.Convert(got.RGBAAt(x, y)).(color.NRGBA)
					// Allow for 8-bit premultiplied rounding, amplified by
					// the mask and by un-premultiplying. Sharpening colour
					// but not alpha would be about 20 off here.
					if c.A >= 64 && (c.R < 122 || c.R > 134) {
						t.Fatalf("pixel (%d,%d) = %v: a fringe at the alpha edge (want grey 128)", x, y, c)
					}
				}
			}
			if c := got.RGBAAt(0, 0); c != (color.RGBA{}) {
				t.Errorf("corner %v, want transparent", c)
			}
			if c := got.RGBAAt(18, 18); c != (color.RGBA{128, 128, 128, 255}) {
				t.Errorf("centre %v, want opaque grey", c)
			}
		})
	}
}

// BenchmarkSharpen times sharpen against imaging.Sharpen (which runs on
// GOMAXPROCS goroutines; compare with -cpu 1 too) on an 800x533 resize
// output, and sharpen on its 16-bit form.
func BenchmarkSharpen(b *testing.B) {
	src := testdataImage(b, "photos", "Painting-Colors_by__herobrine7gamer.jpg") // 6000x4000
	img8 := resample(src, src.Bounds(), 800, 533, filters["lanczos"])
	img16 := image.NewRGBA64(img8.Bounds())
	draw.Draw(img16, img16.Bounds(), img8, image.Point{}, draw.Src)
	for _, sigma := range sharpenSigmas {
		for _, bc := range []struct {
			name string
			fn   func()
		}{
			{"stages", func() { sharpen(img8, sigma) }},
			{"imaging", func() { imaging.Sharpen(img8, sigma) }},
			{"stages_16bit", func() { sharpen(img16, sigma) }},
		} {
			b.Run(fmt.Sprintf("sigma=%g/%s", sigma, bc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					bc.fn()
				}
				b.ReportMetric(float64(b.N)*800*533/1e6/b.Elapsed().Seconds(), "MP/s")
			})
		}
	}
}
