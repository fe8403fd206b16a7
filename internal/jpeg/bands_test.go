package jpeg

import (
	"bytes"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"testing/iotest"
)

// bandsImage decodes data with NewBands at 1/scale, reading it a few
// bytes at a time, and pastes the bands into one image of the type Decode
// returns, checking that they tile it top to bottom.
func bandsImage(t *testing.T, data []byte, scale int) (image.Image, error) {
	t.Helper()
	b, err := NewBands(iotest.HalfReader(bytes.NewReader(data)))
	if err != nil {
		return nil, err
	}
	w, h := b.Size()
	sw, sh := ScaledSize(w, h, scale)
	var whole image.Image
	y := 0
	for {
		band, err := b.Next(scale)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		r := band.Bounds()
		if r.Min.Y != y || r.Min.X != 0 || r.Max.X != sw || r.Max.Y > sh || r.Empty() {
			t.Fatalf("band %v after row %d of %dx%d", r, y, sw, sh)
		}
		y = r.Max.Y
		whole = paste(t, whole, band, image.Rect(0, 0, sw, sh))
	}
	if y != sh {
		t.Fatalf("bands end at row %d of %d", y, sh)
	}
	if _, err := b.Next(scale); err != io.EOF {
		t.Fatalf("Next after the end: %v", err)
	}
	return whole, nil
}

// paste copies band into dst (made of band's type, bounds r, when nil).
func paste(t *testing.T, dst, band image.Image, r image.Rectangle) image.Image {
	switch m := band.(type) {
	case *image.Gray:
		if dst == nil {
			dst = image.NewGray(r)
		}
		d := dst.(*image.Gray)
		for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
			copy(d.Pix[d.PixOffset(0, y):][:r.Dx()], m.Pix[m.PixOffset(0, y):][:r.Dx()])
		}
	case *image.YCbCr:
		if dst == nil {
			dst = image.NewYCbCr(r, m.SubsampleRatio)
		}
		d := dst.(*image.YCbCr)
		for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
			copy(d.Y[d.YOffset(0, y):][:r.Dx()], m.Y[m.YOffset(0, y):][:r.Dx()])
			for x := 0; x < r.Dx(); x++ {
				d.Cb[d.COffset(x, y)] = m.Cb[m.COffset(x, y)]
				d.Cr[d.COffset(x, y)] = m.Cr[m.COffset(x, y)]
			}
		}
	case *image.RGBA:
		if dst == nil {
			dst = image.NewRGBA(r)
		}
		d := dst.(*image.RGBA)
		for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
			copy(d.Pix[d.PixOffset(0, y):][:4*r.Dx()], m.Pix[m.PixOffset(0, y):][:4*r.Dx()])
		}
	case *image.CMYK:
		if dst == nil {
			dst = image.NewCMYK(r)
		}
		d := dst.(*image.CMYK)
		for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
			copy(d.Pix[d.PixOffset(0, y):][:4*r.Dx()], m.Pix[m.PixOffset(0, y):][:4*r.Dx()])
		}
	default:
		t.Fatalf("band of type %T", band)
	}
	return dst
}

// samePixels reports whether a and b have the same type, bounds and
// samples (the planes compared within the bounds only).
func samePixels(a, b image.Image) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) || a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// largestSegment returns the length of data's largest marker segment
// before its first scan.
func largestSegment(data []byte) int {
	n := 0
	for i := 2; i+4 <= len(data) && data[i] == 0xFF; {
		l := int(data[i+2])<<8 | int(data[i+3])
		n = max(n, l+2)
		if data[i+1] == mSOS {
			break
		}
		i += 2 + l
	}
	return n
}

// TestBandsMatchDecode decodes every test file in bands at every scale,
// with the production window and with the smallest that holds the file's
// segments (so that most files slide it), and checks that the bands are Decode's image, pixel for
// pixel, and that a file Decode refuses is refused too (by NewBands with
// ErrUnsupported for what it leaves to a whole decode).
func TestBandsMatchDecode(t *testing.T) {
	files := append(testFiles(t), filepath.Join("..", "..", "testdata", "formats", "progressive.jpeg"),
		filepath.Join("..", "..", "testdata", "formats", "gray.jpg"), filepath.Join("..", "..", "testdata", "formats", "cmyk.jpeg"))
	for _, small := range []bool{false, true} {
		for _, name := range files {
			data := readFile(t, name)
			window := windowSize
			if small {
				window = max(largestSegment(data)+64, 2<<10)
			}
			if len(data) > 256<<10 && (raceEnabled || testing.Short()) {
				continue
			}
			t.Run(filepath.Base(name), func(t *testing.T) {
				old, oldUnit := windowSize, unitAhead
				windowSize, unitAhead = window, min(unitAhead, window/4)
				defer func() { windowSize, unitAhead = old, oldUnit }()
				for _, s := range []int{1, 2, 4, 8} {
					want, werr := Decode(bytes.NewReader(data), &Options{Scale: s})
					got, err := bandsImage(t, data, s)
					switch {
					case errors.Is(err, ErrUnsupported):
						t.Logf("scale %d: %v", s, err)
					case (err == nil) != (werr == nil):
						t.Errorf("scale %d: bands: %v; Decode: %v", s, err, werr)
					case err == nil && !samePixels(got, want):
						t.Errorf("scale %d: bands differ from Decode's %T %v", s, want, want.Bounds())
					}
				}
			})
		}
	}
}

// checkBands decodes data whole and in bands at 1/scale: both fail, or
// both give the same pixels (a variant left to the whole decoder aside).
func checkBands(t *testing.T, data []byte, scale int) {
	t.Helper()
	if cfg, err := DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width*cfg.Height > 1<<22 {
		return // the caller refuses such sizes from the header
	}
	want, werr := Decode(bytes.NewReader(data), &Options{Scale: scale})
	got, err := bandsImage(t, data, scale)
	switch {
	case errors.Is(err, ErrUnsupported):
	case (err == nil) != (werr == nil):
		t.Fatalf("scale %d: bands: %v; Decode: %v", scale, err, werr)
	case err == nil && !samePixels(got, want):
		t.Fatalf("scale %d: bands differ from Decode's %T %v", scale, want, want.Bounds())
	}
}

// TestBandsTruncated cuts files short everywhere: the bands fail where
// Decode does (a band may have been returned before), and never panic.
func TestBandsTruncated(t *testing.T) {
	for _, name := range []string{"testdata/video-001.q50.420.jpeg", "testdata/video-001.q50.420.progressive.jpeg",
		"testdata/video-001.restart2.jpeg", "testdata/video-005.gray.q50.jpeg", "testdata/video-001.cmyk.jpeg"} {
		data := readFile(t, name)
		t.Run(filepath.Base(name), func(t *testing.T) {
			for n := 0; n < len(data); n += 1 + len(data)/150 {
				for _, s := range []int{2, 8} {
					checkBands(t, data[:n], s)
				}
			}
		})
	}
}

// failAfter reads n bytes of r, then fails with err: a file whose read
// fails, or a context cancelled, in the middle of a band.
type failAfter struct {
	r   io.Reader
	n   int
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	p = p[:min(len(p), f.n)]
	k, err := f.r.Read(p)
	f.n -= k
	return k, err
}

// TestBandsReaderError: an error of the reader, met in the middle of the
// scans, is what Next returns, and every later call too.
func TestBandsReaderError(t *testing.T) {
	stop := errors.New("stopped")
	for _, name := range []string{"testdata/plasma_FallenLeaf_2560x1600.jpg", "testdata/progressive_plasma_BytheWater_thumb.jpg"} {
		data := readFile(t, name)
		t.Run(filepath.Base(name), func(t *testing.T) {
			old := windowSize
			windowSize = largestSegment(data) + 64
			defer func() { windowSize = old }()
			b, err := NewBands(&failAfter{r: bytes.NewReader(data), n: len(data) / 2, err: stop})
			if err != nil {
				t.Fatal(err)
			}
			bands := 0
			for ; ; bands++ {
				if _, err = b.Next(4); err != nil {
					break
				}
			}
			if !errors.Is(err, stop) {
				t.Fatalf("after %d bands: %v, want %v", bands, err, stop)
			}
			if _, err := b.Next(4); !errors.Is(err, stop) {
				t.Fatalf("Next again: %v", err)
			}
		})
	}
}

func FuzzBands(f *testing.F) {
	for _, name := range testFiles(f) {
		data := readFile(f, name)
		if len(data) < 64<<10 {
			f.Add(data, uint8(2))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, s uint8) {
		checkBands(t, data, 1<<(s%4))
	})
}

// BenchmarkBandsFile decodes the JPEG named by IMGPIPE_BANDS_JPEG in bands
// at 1/IMGPIPE_BANDS_SCALE (default 8), reading it from disk as the band
// reader does: the decoding goroutine of a big image alone, without the
// resampler beside it (bench/make-big.sh makes such files).
func BenchmarkBandsFile(b *testing.B) {
	name := os.Getenv("IMGPIPE_BANDS_JPEG")
	if name == "" {
		b.Skip("IMGPIPE_BANDS_JPEG not set")
	}
	scale := 8
	if s := os.Getenv("IMGPIPE_BANDS_SCALE"); s != "" {
		var err error
		if scale, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		bands, err := NewBands(f)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err = bands.Next(scale); err != nil {
				break
			}
		}
		f.Close()
		if err != io.EOF {
			b.Fatal(err)
		}
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
