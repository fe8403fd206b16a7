package stages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// boxDown is an independent reference: the exact average of each f x f
// block, computed in straight RGBA.
func boxDown(img image.Image, f int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx()/f, b.Dy()/f
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			var s [4]uint32
			for dy := range f {
				for dx := range f {
					r, g, bl, a := img.At(b.Min.X+x*f+dx, b.Min.Y+y*f+dy).RGBA()
					s[0], s[1], s[2], s[3] = s[0]+r>>8, s[1]+g>>8, s[2]+bl>>8, s[3]+a>>8
				}
			}
			n := uint32(f * f)
			out.SetRGBA(x, y, color.RGBA{uint8((s[0] + n/2) / n), uint8((s[1] + n/2) / n), uint8((s[2] + n/2) / n), uint8((s[3] + n/2) / n)})
		}
	}
	return out
}

// psnr compares two images of the same size over R, G and B.
func psnr(t *testing.T, a, b image.Image) float64 {
	t.Helper()
	if a.Bounds().Size() != b.Bounds().Size() {
		t.Fatalf("sizes differ: %v vs %v", a.Bounds(), b.Bounds())
	}
	var se float64
	ab, bb := a.Bounds(), b.Bounds()
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			for _, d := range []float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				se += d * d
			}
		}
	}
	mse := se / float64(3*ab.Dx()*ab.Dy())
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

// Each filter's downscale by an integer factor must be close to the exact
// box average: a resampling bug (offset, wrong weights, aliasing, swapped
// channels) cannot pass.
func TestResizeMatchesBoxReference(t *testing.T) {
	d, err := decodeFile(t, filepath.Join("..", "testdata", "photos", "plasma_FallenLeaf_2560x1600.jpg"), decodeOpts{})
	if err != nil {
		t.Fatal(err)
	}
	src := d.Image
	floors := map[string]float64{"box": 40, "linear": 33, "lanczos": 30, "catmullrom": 30, "mitchell": 33, "nearest": 20}
	for _, factor := range []int{2, 4, 8} {
		ref := boxDown(src, factor)
		for name, floor := range floors {
			w, h := ref.Bounds().Dx(), ref.Bounds().Dy()
			got := resample(src, src.Bounds(), w, h, filters[name])
			if p := psnr(t, got, ref); p < floor {
				t.Errorf("factor %d, %s: PSNR %.1f dB against the box average, want >= %.0f", factor, name, p, floor)
			}
		}
	}
}

// Transparent pixels must not darken their neighbours: resampling works on
// premultiplied colour.
func TestResizeNoDarkFringes(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			if x < 32 {
				src.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 255}) // opaque white
			} else {
				src.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 0}) // transparent black
			}
		}
	}
	got := resample(src, src.Bounds(), 16, 16, filters["lanczos"])
	for y := range 16 {
		for x := range 16 {
			c := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
			if c.A > 8 && (c.R < 245 || c.G < 245 || c.B < 245) {
				t.Fatalf("pixel (%d,%d) = %v: a dark fringe at the alpha edge", x, y, c)
			}
		}
	}
}

func TestResizeStage(t *testing.T) {
	d, err := decodeFile(t, filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg"), decodeOpts{
		Outputs: []Output{{Width: 100, Name: "a/{name}.{ext}"}, {Width: 64, Height: 64, Fit: "fill", Name: "b/{name}.{ext}"}, {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resize()(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	want := []image.Point{{100, 75}, {64, 64}, {640, 480}}
	for i, img := range r.Images {
		if got := img.Bounds().Size(); got != want[i] {
			t.Errorf("output %d is %v, want %v", i, got, want[i])
		}
	}
	if d.Image != nil {
		t.Error("the source pixels were kept after resize")
	}
}

func BenchmarkResize(b *testing.B) {
	d, err := decodeOpts{Outputs: []Output{{Width: 800, Height: 800}}}.stage()(
		context.Background(), File{Path: filepath.Join("..", "testdata", "photos", "plasma_FallenLeaf_2560x1600.jpg")})
	if err != nil {
		b.Fatal(err)
	}
	src := d.Image
	b.ReportAllocs()
	for b.Loop() {
		resample(src, src.Bounds(), 800, 500, filters["lanczos"])
	}
	b.ReportMetric(float64(b.N)*2560*1600/1e6/b.Elapsed().Seconds(), "MP/s")
}

// Linear light: a fine black-and-white checkerboard halved is 50% light,
// which sRGB encodes as about 188, not the 128 of naive averaging.
func TestResizeLinearLight(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			v := uint8(0)
			if (x+y)%2 == 0 {
				v = 255
			}
			src.SetRGBA(x, y, color.RGBA{v, v, v, 255})
		}
	}
	for _, tt := range []struct {
		linear bool
		lo, hi uint8
	}{{false, 120, 136}, {true, 180, 196}} {
		img := resizeOne(src, src.Bounds(), Target{Width: 32, Height: 32, Format: "png",
			Output: Output{Filter: "box", Linear: tt.linear}.WithDefaults()})
		c := color.RGBAModel.Convert(img.At(16, 16)).(color.RGBA)
		if c.R < tt.lo || c.R > tt.hi {
			t.Errorf("linear=%v: grey %d, want %d-%d", tt.linear, c.R, tt.lo, tt.hi)
		}
	}
}

// A 16-bit source keeps 16 bits when written as PNG, and the float path
// agrees with the 8-bit one on ordinary photos.
func TestResizeDeep(t *testing.T) {
	src := image.NewRGBA64(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			src.SetRGBA64(x, y, color.RGBA64{uint16(x * 1600), uint16(y * 2100), 0x1234, 0xffff})
		}
	}
	img := resizeOne(src, src.Bounds(), Target{Width: 20, Height: 15, Format: "png", Output: Output{}.WithDefaults()})
	if _, ok := img.(*image.RGBA64); !ok {
		t.Fatalf("PNG output of a 16-bit source is %T, want *image.RGBA64", img)
	}
	jpg := resizeOne(src, src.Bounds(), Target{Width: 20, Height: 15, Format: "jpeg", Output: Output{}.WithDefaults()})
	if p := psnr(t, img, jpg); p < 45 {
		t.Errorf("16-bit and 8-bit paths differ: PSNR %.1f dB", p)
	}
}

func TestResizeSharpen(t *testing.T) {
	d, err := decodeFile(t, filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg"), decodeOpts{})
	if err != nil {
		t.Fatal(err)
	}
	plain := resizeOne(d.Image, d.Image.Bounds(), Target{Width: 160, Height: 120, Output: Output{}.WithDefaults()})
	sharp := resizeOne(d.Image, d.Image.Bounds(), Target{Width: 160, Height: 120, Output: Output{Sharpen: 1}.WithDefaults()})
	if contrast(sharp) <= contrast(plain) {
		t.Errorf("sharpened local contrast %.2f is not above the plain %.2f", contrast(sharp), contrast(plain))
	}
	if p := psnr(t, sharp, plain); p < 25 {
		t.Errorf("sharpening changed the image too much: PSNR %.1f", p)
	}
}

// contrast is the mean absolute difference between horizontal neighbours.
func contrast(img image.Image) float64 {
	var sum float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X + 1; x < b.Max.X; x++ {
			g1, _, _, _ := img.At(x, y).RGBA()
			g0, _, _, _ := img.At(x-1, y).RGBA()
			sum += math.Abs(float64(g1>>8) - float64(g0>>8))
		}
	}
	return sum / float64(b.Dx()*b.Dy())
}

// The YCbCr path (JPEG to JPEG) must agree with the RGBA path, including
// crops at odd offsets and odd sizes, for every subsampling.
func TestResizeYCbCrMatchesRGBA(t *testing.T) {
	d, err := decodeFile(t, filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg"), decodeOpts{})
	if err != nil {
		t.Fatal(err)
	}
	full := d.Image.(*image.YCbCr)
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio444,
		image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		src := image.NewYCbCr(full.Rect, ratio)
		for y := range full.Rect.Dy() {
			for x := range full.Rect.Dx() {
				c := full.YCbCrAt(x, y)
				src.Y[src.YOffset(x, y)] = c.Y
				src.Cb[src.COffset(x, y)], src.Cr[src.COffset(x, y)] = c.Cb, c.Cr
			}
		}
		for _, tc := range []struct {
			r    image.Rectangle
			w, h int
		}{{src.Rect, 161, 121}, {image.Rect(101, 37, 541, 437), 99, 90}, {src.Rect, 320, 240}} {
			got := resampleYCbCr(src, tc.r, tc.w, tc.h, filters["lanczos"])
			// The JPEG encoder would subsample the RGBA path's chroma 2x2:
			// compare like with like.
			want := subsampleLike(resample(src, tc.r, tc.w, tc.h, filters["lanczos"]), got.SubsampleRatio)
			floor := 40.0
			if ratio == image.YCbCrSubsampleRatio410 || ratio == image.YCbCrSubsampleRatio411 {
				floor = 36 // chroma 4x coarser than luma: the two paths interpolate it differently
			}
			if p := psnr(t, got, want); p < floor {
				t.Errorf("ratio %v, %v -> %dx%d: PSNR %.1f dB against the RGBA path", ratio, tc.r, tc.w, tc.h, p)
			}
		}
	}
}

// subsampleLike converts img to YCbCr with the given ratio, averaging the
// chroma of each block as the JPEG encoder does.
func subsampleLike(img image.Image, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	b := img.Bounds()
	out := image.NewYCbCr(b, ratio)
	sx, sy := subsample(ratio)
	type sum struct{ cb, cr, n int }
	sums := map[int]*sum{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			yy, cb, cr := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			out.Y[out.YOffset(x, y)] = yy
			ci := out.COffset(x, y)
			if sums[ci] == nil {
				sums[ci] = &sum{}
			}
			sums[ci].cb += int(cb)
			sums[ci].cr += int(cr)
			sums[ci].n++
		}
	}
	_ = sx
	_ = sy
	for ci, s := range sums {
		out.Cb[ci] = uint8((s.cb + s.n/2) / s.n)
		out.Cr[ci] = uint8((s.cr + s.n/2) / s.n)
	}
	return out
}

// BenchmarkResamplePlane is the hot loop of JPEG-to-JPEG resizing: one
// 1280x720 plane (a 4 MP photo after shrink-on-load) to 800x450.
func BenchmarkResamplePlane(b *testing.B) {
	src := make([]uint8, 1280*720)
	for i := range src {
		src[i] = uint8(i * 7)
	}
	dst := make([]uint8, 800*450)
	xw := weights(1280, 800, filters["lanczos"])
	yw := weights(720, 450, filters["lanczos"])
	for b.Loop() {
		resamplePlane(dst, 800, 800, 450, src, 1280, image.Rect(0, 0, 1280, 720), xw, yw)
	}
	b.ReportMetric(float64(b.N)*1280*720/1e6/b.Elapsed().Seconds(), "MP/s")
}

// Targets that differ only in how they are encoded share one resize; a
// PNG (no YCbCr planes) or another quality of sharpening does not.
func TestResizeSharedAcrossFormats(t *testing.T) {
	d, err := decodeFile(t, filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg"), decodeOpts{
		Outputs: []Output{
			{Width: 100, Format: "jpeg", Name: "{name}.{ext}"},
			{Width: 100, Format: "webp", Quality: 60, Name: "{name}.{ext}"},
			{Width: 100, Format: "png", Name: "{name}.{ext}"},
			{Width: 100, Format: "webp", Sharpen: 1, Name: "s-{name}.{ext}"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resize()(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	same := func(i, j int) bool { return r.Images[i] == r.Images[j] }
	if !same(0, 1) {
		t.Error("jpeg and webp of one size were resized twice")
	}
	if same(0, 2) || same(1, 3) {
		t.Error("png, or a sharpened webp, shares the jpeg's image")
	}
	if _, ok := r.Images[0].(*image.YCbCr); !ok {
		t.Errorf("the shared image is %T, want the JPEG source's YCbCr planes", r.Images[0])
	}
}

// Encode names a target whose template has {hash} after its bytes: the
// first 10 hex digits of their SHA-256; other targets keep their names.
func TestEncodeHashName(t *testing.T) {
	d, err := decodeFile(t, filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg"), decodeOpts{
		Outputs: []Output{{Width: 100, Format: "jpeg", Name: "{name}.{hash}.{ext}"}, {Width: 100, Format: "webp", Name: "{hash}/{name}-{hash}.{ext}"}, {Width: 50, Name: "{name}.{ext}"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resize()(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Encode()(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"camera_Nikon_P6000_GPS.%s.jpg", "%s/camera_Nikon_P6000_GPS-%s.webp", "camera_Nikon_P6000_GPS.jpg"} {
		sum := sha256.Sum256(e.Files[i])
		h := hex.EncodeToString(sum[:])[:10]
		if want = strings.ReplaceAll(want, "%s", h); e.Targets[i].Name != want {
			t.Errorf("target %d named %s, want %s", i, e.Targets[i].Name, want)
		}
	}
}
