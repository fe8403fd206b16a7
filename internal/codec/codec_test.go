//go:build nodynamic

package codec

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	xdraw "golang.org/x/image/draw"
	xwebp "golang.org/x/image/webp"
)

// photo returns a real photo scaled to w x h as *image.NRGBA: the Nikon P6000 sample
// (640x480) for small sizes, a 3:2 crop of the FallenLeaf wallpaper for benchmarks.
func photo(tb testing.TB, name string, w, h int) *image.NRGBA {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "photos", name))
	if err != nil {
		tb.Fatal(err)
	}
	src, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	sb := src.Bounds()
	// Crop to the target aspect ratio around the centre, then scale.
	cw, ch := sb.Dx(), sb.Dx()*h/w
	if ch > sb.Dy() {
		cw, ch = sb.Dy()*w/h, sb.Dy()
	}
	crop := image.Rect(0, 0, cw, ch).Add(sb.Min).Add(image.Pt((sb.Dx()-cw)/2, (sb.Dy()-ch)/2))
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, crop, draw.Src, nil)
	return dst
}

func smallPhoto(tb testing.TB) *image.NRGBA {
	return photo(tb, "camera_Nikon_P6000_GPS.jpg", 160, 120)
}

// psnr is the PSNR in dB of b against a over R, G and B (8-bit, straight alpha
// ignored), both compared from their own Bounds().Min.
func psnr(tb testing.TB, a, b image.Image) float64 {
	tb.Helper()
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Size() != bb.Size() {
		tb.Fatalf("psnr: sizes differ: %v vs %v", ab.Size(), bb.Size())
	}
	var sum float64
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			ca := color.NRGBAModel.Convert(a.At(ab.Min.X+x, ab.Min.Y+y)).(color.NRGBA)
			cb := color.NRGBAModel.Convert(b.At(bb.Min.X+x, bb.Min.Y+y)).(color.NRGBA)
			for _, d := range [3]float64{float64(ca.R) - float64(cb.R), float64(ca.G) - float64(cb.G), float64(ca.B) - float64(cb.B)} {
				sum += d * d
			}
		}
	}
	mse := sum / float64(3*ab.Dx()*ab.Dy())
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

// scaled returns m scaled to w x h (for comparing a decoded image with a small reference).
func scaled(m image.Image, w, h int) image.Image {
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), m, m.Bounds(), draw.Src, nil)
	return dst
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func decodePNG(tb testing.TB, name string) image.Image {
	tb.Helper()
	m, err := png.Decode(bytes.NewReader(readTestdata(tb, name)))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestEncodeWebPLossy decodes with golang.org/x/image/webp and converts its YCbCr with VP8's
// limited-range equations (vp8RGB): Go's own full-range conversion costs about 2.5 dB on its
// own (logged), whoever made the file.
func TestEncodeWebPLossy(t *testing.T) {
	src := smallPhoto(t)
	for _, q := range []int{85, 90} {
		var buf bytes.Buffer
		if err := EncodeWebP(&buf, src, q, false); err != nil {
			t.Fatal(err)
		}
		got, err := xwebp.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("q%d: x/image/webp cannot read our output: %v", q, err)
		}
		p := psnr(t, src, vp8RGB(got))
		t.Logf("q%d: %d bytes, PSNR %.1f dB (%.1f dB with Go's full-range YCbCr)", q, buf.Len(), p, psnr(t, src, got))
		if p < 30 {
			t.Errorf("q%d: PSNR %.1f dB, want >= 30", q, p)
		}
	}
}

func TestEncodeWebPLossless(t *testing.T) {
	src := smallPhoto(t)
	var buf bytes.Buffer
	if err := EncodeWebP(&buf, src, 85, true); err != nil {
		t.Fatal(err)
	}
	got, err := xwebp.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes", buf.Len())
	assertSamePixels(t, src, got)
}

func assertSamePixels(t *testing.T, want, got image.Image) {
	t.Helper()
	wb, gb := want.Bounds(), got.Bounds()
	if wb.Size() != gb.Size() {
		t.Fatalf("size %v, want %v", gb.Size(), wb.Size())
	}
	for y := 0; y < wb.Dy(); y++ {
		for x := 0; x < wb.Dx(); x++ {
			w := color.NRGBAModel.Convert(want.At(wb.Min.X+x, wb.Min.Y+y))
			g := color.NRGBAModel.Convert(got.At(gb.Min.X+x, gb.Min.Y+y))
			if w != g {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
}

func TestEncodeAVIF(t *testing.T) {
	src := smallPhoto(t)
	var buf bytes.Buffer
	if err := EncodeAVIF(&buf, src, 85); err != nil {
		t.Fatal(err)
	}
	cfg, err := DecodeConfig("avif", bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 160 || cfg.Height != 120 {
		t.Errorf("DecodeConfig: %dx%d, want 160x120", cfg.Width, cfg.Height)
	}
	got, err := Decode("avif", bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	p := psnr(t, src, got)
	t.Logf("%d bytes, PSNR %.1f dB", buf.Len(), p)
	if p < 30 {
		t.Errorf("PSNR %.1f dB, want >= 30", p)
	}
}

// TestAlphaKept encodes a photo whose left half is transparent, with a band of 50% alpha,
// and checks the decoded alpha channel.
func TestAlphaKept(t *testing.T) {
	src := smallPhoto(t)
	b := src.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			i := src.PixOffset(x, y) + 3
			switch {
			case x < b.Dx()/2:
				src.Pix[i] = 0
			case x < b.Dx()*3/4:
				src.Pix[i] = 128
			}
		}
	}
	decodeWebP := func(data []byte) (image.Image, error) {
		m, err := xwebp.Decode(bytes.NewReader(data))
		return vp8RGB(m), err
	}
	decodeAVIF := func(data []byte) (image.Image, error) { return Decode("avif", bytes.NewReader(data)) }
	tests := []struct {
		name   string
		encode func(*bytes.Buffer) error
		decode func([]byte) (image.Image, error)
		tol    int // largest alpha difference allowed
		rgbDB  float64
	}{
		{"webp-lossy", func(w *bytes.Buffer) error { return EncodeWebP(w, src, 85, false) }, decodeWebP, 0, 30},
		{"webp-lossless", func(w *bytes.Buffer) error { return EncodeWebP(w, src, 85, true) }, decodeWebP, 0, 60},
		{"avif", func(w *bytes.Buffer) error { return EncodeAVIF(w, src, 85) }, decodeAVIF, 8, 28},
		// A premultiplied source must come out with its straight colours.
		{"webp-lossless-from-RGBA", func(w *bytes.Buffer) error { return EncodeWebP(w, toRGBA(src), 85, true) }, decodeWebP, 0, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.encode(&buf); err != nil {
				t.Fatal(err)
			}
			got, err := tt.decode(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			worst := 0
			var sum float64
			var n int
			gb := got.Bounds()
			for y := 0; y < b.Dy(); y++ {
				for x := 0; x < b.Dx(); x++ {
					want := src.NRGBAAt(x, y)
					g := color.NRGBAModel.Convert(got.At(gb.Min.X+x, gb.Min.Y+y)).(color.NRGBA)
					worst = max(worst, abs(int(g.A)-int(want.A)))
					if want.A == 255 && x >= b.Dx()*3/4 { // opaque part: colours must be right
						for _, d := range []int{int(g.R) - int(want.R), int(g.G) - int(want.G), int(g.B) - int(want.B)} {
							sum += float64(d * d)
						}
						n += 3
					}
				}
			}
			if worst > tt.tol {
				t.Errorf("alpha differs by up to %d, want <= %d", worst, tt.tol)
			}
			if p := 10 * math.Log10(255*255/max(sum/float64(n), 1e-9)); p < tt.rgbDB {
				t.Errorf("opaque part: PSNR %.1f dB, want >= %.0f", p, tt.rgbDB)
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestEncodeSubImage checks that an image whose Pix has a wider stride and whose bounds do not
// start at (0,0) is encoded as the pixels it shows (the libraries ignore Stride).
func TestEncodeSubImage(t *testing.T) {
	src := smallPhoto(t)
	sub := src.SubImage(image.Rect(30, 20, 130, 90))
	var buf bytes.Buffer
	if err := EncodeWebP(&buf, sub, 85, true); err != nil {
		t.Fatal(err)
	}
	got, err := xwebp.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	assertSamePixels(t, sub, got)

	buf.Reset()
	if err := EncodeAVIF(&buf, sub, 90); err != nil {
		t.Fatal(err)
	}
	got, err = Decode("avif", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if p := psnr(t, sub, got); p < 30 {
		t.Errorf("AVIF of a sub-image: PSNR %.1f dB, want >= 30", p)
	}
}

func TestEncodeErrors(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	empty := image.NewNRGBA(image.Rect(0, 0, 0, 0))
	tests := []struct {
		name string
		err  error
		call func() error
	}{
		{"webp-q0", ErrQuality, func() error { return EncodeWebP(&bytes.Buffer{}, src, 0, false) }},
		{"webp-q101", ErrQuality, func() error { return EncodeWebP(&bytes.Buffer{}, src, 101, true) }},
		{"avif-q0", ErrQuality, func() error { return EncodeAVIF(&bytes.Buffer{}, src, 0) }},
		{"webp-empty", ErrEmptyImage, func() error { return EncodeWebP(&bytes.Buffer{}, empty, 80, false) }},
		{"avif-empty", ErrEmptyImage, func() error { return EncodeAVIF(&bytes.Buffer{}, empty, 80) }},
		{"webp-write-fails", errWrite, func() error { return EncodeWebP(failWriter{}, src, 80, false) }},
		{"avif-write-fails", errWrite, func() error { return EncodeAVIF(failWriter{}, src, 80) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.err) {
				t.Errorf("got %v, want %v", err, tt.err)
			}
		})
	}
}

var errWrite = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

// TestConcurrent runs every codec from several goroutines at once (run with -race).
func TestConcurrent(t *testing.T) {
	src := photo(t, "camera_Nikon_P6000_GPS.jpg", 48, 32)
	avifData := readTestdata(t, "avif_picosdeeuropa.avif")
	heicData := readTestdata(t, "picos_160x120.heic")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 3 {
		wg.Go(func() { errs <- EncodeWebP(&bytes.Buffer{}, src, 80, false) })
		wg.Go(func() { errs <- EncodeAVIF(&bytes.Buffer{}, src, 60) })
		wg.Go(func() { _, err := Decode("avif", bytes.NewReader(avifData)); errs <- err })
		wg.Go(func() { _, err := Decode("heif", bytes.NewReader(heicData)); errs <- err })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// vp8RGB converts the *image.YCbCr (or the YCbCr part of *image.NYCbCrA) that
// golang.org/x/image/webp returns for lossy WebP to RGB with the BT.601 limited-range
// equations VP8 and libwebp use (RFC 6386; libwebp's dsp/yuv.h). Go's color.YCbCr assumes
// JPEG's full range, which lowers contrast and saturation of every lossy WebP it decodes.
func vp8RGB(m image.Image) image.Image {
	var y *image.YCbCr
	var a *image.NYCbCrA
	switch m := m.(type) {
	case *image.YCbCr:
		y = m
	case *image.NYCbCrA:
		y, a = &m.YCbCr, m
	default:
		return m
	}
	b := y.Rect
	dst := image.NewNRGBA(b)
	clamp := func(v float64) uint8 { return uint8(min(max(v+0.5, 0), 255)) }
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			yy := 1.164 * (float64(y.Y[y.YOffset(px, py)]) - 16)
			ci := y.COffset(px, py)
			cb, cr := float64(y.Cb[ci])-128, float64(y.Cr[ci])-128
			c := color.NRGBA{clamp(yy + 1.596*cr), clamp(yy - 0.391*cb - 0.813*cr), clamp(yy + 2.018*cb), 255}
			if a != nil {
				c.A = a.A[a.AOffset(px, py)]
			}
			dst.SetNRGBA(px, py, c)
		}
	}
	return dst
}
