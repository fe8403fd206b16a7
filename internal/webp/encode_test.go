package webp

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	xwebp "golang.org/x/image/webp"
)

// roundTrip encodes and decodes m with x/image/webp, checking the size.
func roundTrip(t testing.TB, m image.Image, o *Options) ([]byte, image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, m, o); err != nil {
		t.Fatal(err)
	}
	d, err := xwebp.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("x/image/webp: %v", err)
	}
	if d.Bounds().Size() != m.Bounds().Size() {
		t.Fatalf("decoded %v, want %v", d.Bounds().Size(), m.Bounds().Size())
	}
	return buf.Bytes(), d
}

// photos are the corpus photos scaled to photoWidth pixels wide.
func photos(t testing.TB) map[string]image.Image {
	t.Helper()
	names, err := filepath.Glob("../../testdata/photos/*.jpg")
	if err != nil || len(names) == 0 {
		t.Fatalf("no photos: %v", err)
	}
	w := photoWidth
	if raceEnabled || testing.Short() {
		w /= 4 // the encoder has no goroutines: -race only makes it slow
	}
	out := map[string]image.Image{}
	for _, n := range names {
		m := readPhoto(t, n, w)
		b := m.Bounds()
		out[filepath.Base(n)] = scaled(m, w, max(1, w*b.Dy()/b.Dx()))
	}
	return out
}

const photoWidth = 480

// Real photos come back at 30 dB or better at quality 80, and files grow
// with quality while fidelity does not fall.
func TestPhotos(t *testing.T) {
	for name, m := range photos(t) {
		t.Run(name, func(t *testing.T) {
			prevSize, prevPSNR := 0, 0.0
			for _, q := range []int{50, 80, 90} {
				data, d := roundTrip(t, m, &Options{Quality: q})
				p := psnr(m, d)
				t.Logf("q%d: %d bytes, %.2f dB", q, len(data), p)
				if q == 80 && p < 30 && !(raceEnabled || testing.Short()) {
					t.Errorf("q80: PSNR %.2f dB, want >= 30", p)
				}
				if len(data) < prevSize*95/100 || p < prevPSNR-0.3 {
					t.Errorf("q%d: %d bytes %.2f dB after %d bytes %.2f dB", q, len(data), p, prevSize, prevPSNR)
				}
				prevSize, prevPSNR = len(data), p
			}
		})
	}
}

// A YCbCr source is read from its planes: it comes back as close as the
// same pixels given as RGBA.
func TestYCbCrSource(t *testing.T) {
	rgba := testPhoto(t, 161, 97)
	b := rgba.Bounds()
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio444} {
		ycc := image.NewYCbCr(b, ratio)
		for y := range b.Dy() {
			for x := range b.Dx() {
				c := rgba.RGBAAt(x, y)
				yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
				ycc.Y[ycc.YOffset(x, y)] = yy
				ycc.Cb[ycc.COffset(x, y)] = cb // 4:2:0: the last pixel of each 2x2 wins
				ycc.Cr[ycc.COffset(x, y)] = cr
			}
		}
		_, d1 := roundTrip(t, ycc, &Options{Quality: 80})
		_, d2 := roundTrip(t, rgba, &Options{Quality: 80})
		p1, p2 := psnr(ycc, d1), psnr(rgba, d2)
		if p1 < p2-1 {
			t.Errorf("%v: YCbCr source %.2f dB, RGBA %.2f dB", ratio, p1, p2)
		}
		// A sub-image starting at odd coordinates.
		sub := ycc.SubImage(image.Rect(3, 5, 60, 41))
		_, d3 := roundTrip(t, sub, nil)
		if p := psnr(sub, d3); p < 30 {
			t.Errorf("%v sub-image: %.2f dB", ratio, p)
		}
	}
}

// Test inputs of every kind and awkward sizes decode back, lossy and
// lossless; lossless ones exactly.
func TestRoundTrip(t *testing.T) {
	cases := map[string]image.Image{}
	for _, f := range []string{"alpha.png", "lossless.webp", "gray.jpg", "lossy_alpha.webp"} {
		cases[f] = readImage(t, "../../testdata/formats/"+f)
	}
	cases["1x1.png"] = readImage(t, "../../testdata/edge/1x1.png")
	for _, s := range []image.Point{{1, 1}, {1, 17}, {17, 1}, {15, 15}, {16, 16}, {17, 33}, {33, 17}, {31, 2}} {
		cases["noise-"+s.String()] = noise(s.X, s.Y, uint64(s.X*100+s.Y))
	}
	flat := image.NewRGBA(image.Rect(0, 0, 40, 24))
	for i := range flat.Pix {
		flat.Pix[i] = []uint8{200, 30, 90, 255}[i%4]
	}
	cases["flat"] = flat
	cases["gray-noise"] = &image.Gray{Pix: noise(37, 11, 5).Pix[:37*11], Stride: 37, Rect: image.Rect(0, 0, 37, 11)}
	cases["offset-bounds"] = noise(40, 40, 9).SubImage(image.Rect(7, 9, 30, 28))
	cases["all-transparent"] = image.NewNRGBA(image.Rect(0, 0, 21, 9))
	// Paletted (GIF) sources, on both sides of the 16 colours where VP8L
	// starts packing pixels (see encodeVP8L), one with transparency.
	for _, n := range []int{1, 2, 5, 16, 17, 40} {
		var pal color.Palette
		for i := range n {
			pal = append(pal, color.NRGBA{uint8(i * 5), uint8(i * 3), 7, uint8(255 - i%2*255)})
		}
		p := image.NewPaletted(image.Rect(0, 0, 13, 7), pal)
		for i := range p.Pix {
			p.Pix[i] = uint8(i * 7 % n)
		}
		cases[fmt.Sprintf("paletted-%d", n)] = p
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			_, d := roundTrip(t, m, &Options{Quality: 90})
			if name == "flat" {
				if p := psnr(m, d); p < 40 {
					t.Errorf("flat colour: %.2f dB", p)
				}
			}
			_, d = roundTrip(t, m, &Options{Lossless: true})
			b := m.Bounds()
			for y := range b.Dy() {
				for x := range b.Dx() {
					want := color.NRGBAModel.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
					got := color.NRGBAModel.Convert(d.At(x, y)).(color.NRGBA)
					if want.A == 0 && got.A == 0 {
						continue
					}
					if got != want {
						t.Fatalf("lossless: (%d,%d) = %v, want %v", x, y, got, want)
					}
				}
			}
		})
	}
}

func TestOptionsAndErrors(t *testing.T) {
	m := noise(20, 20, 1)
	var a, b bytes.Buffer
	if err := Encode(&a, m, nil); err != nil {
		t.Fatal(err)
	}
	if err := Encode(&b, m, &Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("nil options differ from quality 75")
	}
	for _, q := range []int{-5, 1, 100, 1000} {
		roundTrip(t, m, &Options{Quality: q})
	}
	for _, r := range []image.Rectangle{image.Rect(0, 0, 0, 5), image.Rect(0, 0, 16384, 1)} {
		if err := Encode(&a, image.NewGray(r), nil); err == nil {
			t.Errorf("%v: no error", r)
		}
	}
}

// ICC and EXIF land in their chunks, through Options or Embed, and the
// file still decodes.
func TestMetadata(t *testing.T) {
	icc, exif := bytes.Repeat([]byte("icc"), 11), []byte("Exif\x00\x00MM\x00*")
	alpha := readImage(t, "../../testdata/formats/alpha.png")
	for _, c := range []struct {
		name string
		img  image.Image
		o    Options
	}{
		{"lossy", noise(9, 9, 1), Options{}},
		{"lossy-alpha", alpha, Options{}},
		{"lossless-alpha", alpha, Options{Lossless: true}},
	} {
		o := c.o
		o.ICC, o.EXIF = icc, exif
		direct, _ := roundTrip(t, c.img, &o)
		plain, _ := roundTrip(t, c.img, &c.o)
		embedded, err := Embed(plain, icc, exif)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(direct, embedded) {
			t.Errorf("%s: Embed gives another file than Options", c.name)
		}
		for _, want := range []string{"VP8X", "ICCP" + "\x21\x00\x00\x00" + string(icc), "EXIF"} {
			if !bytes.Contains(direct, []byte(want)) {
				t.Errorf("%s: no %q", c.name, want[:4])
			}
		}
		if _, err := xwebp.Decode(bytes.NewReader(embedded)); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		cfg, err := xwebp.DecodeConfig(bytes.NewReader(embedded))
		if err != nil || cfg.Width != c.img.Bounds().Dx() || cfg.Height != c.img.Bounds().Dy() {
			t.Errorf("%s: config %+v, %v", c.name, cfg, err)
		}
	}
	if _, err := Embed([]byte("RIFF\x04\x00\x00\x00WEBP"), icc, nil); err == nil {
		t.Error("Embed of an empty WebP: no error")
	}
}

// dwebp (libwebp's decoder) decodes outputs without a word of complaint.
// CI installs it (Debian package webp); elsewhere the test needs it too
// unless it is missing from a developer's machine.
func TestDwebp(t *testing.T) {
	dwebp, err := exec.LookPath("dwebp")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dwebp not installed: .ci/run installs the webp package")
		}
		t.Skip("dwebp not installed (apt-get install webp)")
	}
	dir := t.TempDir()
	alpha := readImage(t, "../../testdata/formats/alpha.png")
	for name, c := range map[string]struct {
		img image.Image
		o   Options
	}{
		"photo-q50":  {testPhoto(t, 203, 131), Options{Quality: 50}},
		"photo-q95":  {testPhoto(t, 203, 131), Options{Quality: 95}},
		"alpha":      {alpha, Options{ICC: []byte("icc"), EXIF: []byte("exif")}},
		"lossless":   {alpha, Options{Lossless: true}},
		"noise-1x17": {noise(1, 17, 2), Options{}},
	} {
		data, _ := roundTrip(t, c.img, &c.o)
		in := filepath.Join(dir, name+".webp")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(dwebp, in, "-o", filepath.Join(dir, name+".png")).CombinedOutput()
		if err != nil || strings.Contains(strings.ToLower(string(out)), "warn") || !strings.Contains(string(out), "Saved") {
			t.Errorf("%s: dwebp: %v\n%s", name, err, out)
		}
	}
}

// FuzzEncode encodes random small images of random sizes; x/image/webp
// decodes each back.
func FuzzEncode(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(75), false, uint64(1))
	f.Add(uint8(17), uint8(33), uint8(1), false, uint64(2))
	f.Add(uint8(40), uint8(3), uint8(100), true, uint64(3))
	f.Fuzz(func(t *testing.T, w, h, q uint8, lossless bool, seed uint64) {
		w, h = max(w%64, 1), max(h%64, 1)
		rng := rand.New(rand.NewPCG(seed, 0))
		m := image.NewNRGBA(image.Rect(0, 0, int(w), int(h)))
		smooth := rng.IntN(2) == 0
		for i := range m.Pix {
			if smooth {
				m.Pix[i] = uint8(i/4%int(w)*3 + i/4/int(w)*2 + i%4*40)
			} else {
				m.Pix[i] = uint8(rng.IntN(256))
			}
		}
		if rng.IntN(2) == 0 { // opaque
			for i := 3; i < len(m.Pix); i += 4 {
				m.Pix[i] = 255
			}
		}
		var img image.Image = m
		if rng.IntN(3) == 0 { // paletted, as from a GIF
			pal := make(color.Palette, 1+rng.IntN(40))
			for i := range pal {
				pal[i] = color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(2) * 255)}
			}
			p := image.NewPaletted(m.Rect, pal)
			for i := range p.Pix {
				p.Pix[i] = uint8(rng.IntN(len(pal)))
			}
			img = p
		}
		var buf bytes.Buffer
		if err := Encode(&buf, img, &Options{Quality: int(q), Lossless: lossless}); err != nil {
			if lossless && strings.Contains(err.Error(), "lossless encoder failed") {
				t.Skip(err) // nativewebp's known panics (see encodeVP8L)
			}
			t.Fatal(err)
		}
		if _, err := xwebp.Decode(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatalf("x/image/webp: %v", err)
		}
	})
}

// BenchmarkEncode writes an 800x533 photo (what the resize stage hands
// the encoder) at quality 80, lossy and lossless.
func BenchmarkEncode(b *testing.B) {
	m := readImage(b, "../../testdata/photos/Painting-Colors_by__herobrine7gamer.jpg")
	if s := m.Bounds().Size(); s != image.Pt(800, 533) {
		m = scaled(m, 800, 533)
	}
	for _, c := range []struct {
		name string
		o    Options
	}{{"lossy-q80", Options{Quality: 80}}, {"lossless", Options{Lossless: true}}} {
		b.Run(c.name, func(b *testing.B) {
			var buf bytes.Buffer
			start, cpu := time.Now(), processCPU()
			for b.Loop() {
				buf.Reset()
				if err := Encode(&buf, m, &c.o); err != nil {
					b.Fatal(err)
				}
			}
			mp := float64(800*533) / 1e6
			b.ReportMetric(float64(buf.Len()), "bytes")
			b.ReportMetric(time.Since(start).Seconds()*1000/float64(b.N)/mp, "ms/MP")
			if cpu > 0 {
				b.ReportMetric((processCPU()-cpu).Seconds()*1000/float64(b.N)/mp, "cpu-ms/MP")
			}
		})
	}
}

// When the modes overflow the first partition, the frame is written with
// fewer modes.
func TestFirstPartitionOverflow(t *testing.T) {
	m := testPhoto(t, 160, 96)
	firstSize := func(bPred bool, lastMode int) int {
		f, err := encodeFrame(toPlanes(m), qualityToIndex(75), 160, 96, bPred, lastMode)
		if err != nil {
			t.Fatal(err)
		}
		return (int(f[0]) | int(f[1])<<8 | int(f[2])<<16) >> 5
	}
	all, i16, dc := firstSize(true, predTM), firstSize(false, predTM), firstSize(false, predDC)
	if !(all > i16 && i16 > dc) {
		t.Fatalf("first partition: %d, %d, %d bytes with all modes, 16x16 ones, DC only", all, i16, dc)
	}
	defer func(l int) { firstPartitionLimit = l }(firstPartitionLimit)
	for _, limit := range []int{all, i16, dc} {
		firstPartitionLimit = limit
		data, d := roundTrip(t, m, nil)
		if got := (int(data[20]) | int(data[21])<<8 | int(data[22])<<16) >> 5; got > limit {
			t.Errorf("limit %d: first partition %d bytes", limit, got)
		}
		if p := psnr(m, d); p < 25 {
			t.Errorf("limit %d: %.2f dB", limit, p)
		}
	}
	firstPartitionLimit = dc - 1
	if err := Encode(io.Discard, m, nil); !errors.Is(err, errTooBig) {
		t.Errorf("error %v, want %v", err, errTooBig)
	}
}
