package jpeg

import (
	"bytes"
	"errors"
	"image"
	stdjpeg "image/jpeg"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testFiles returns the JPEG files in testdata.
func testFiles(t testing.TB) []string {
	var files []string
	ents, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".jpg" || ext == ".jpeg") {
			files = append(files, filepath.Join("testdata", e.Name()))
		}
	}
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	return files
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// psnrFloor is the minimum PSNR of a scaled decode against a box-downscale
// of the full decode. The reduced IDCT is a low-pass filter, not a box
// filter, so tiny, sharp images get a lower floor.
func psnrFloor(w, h int) float64 {
	if w < 128 || h < 128 {
		return 25
	}
	return 30
}

func TestDecodeTestdata(t *testing.T) {
	for _, name := range testFiles(t) {
		data := readFile(t, name)
		t.Run(filepath.Base(name), func(t *testing.T) {
			if len(data) > 256<<10 && (raceEnabled || testing.Short()) {
				// The benchmark photo: too slow under the race detector.
				t.Skip("large file skipped in -short and -race runs")
			}
			want, werr := stdjpeg.Decode(bytes.NewReader(data))
			wcfg, wcerr := stdjpeg.DecodeConfig(bytes.NewReader(data))
			cfg, cerr := DecodeConfig(bytes.NewReader(data))
			if (wcerr == nil) != (cerr == nil) {
				t.Fatalf("DecodeConfig error %v, image/jpeg %v", cerr, wcerr)
			}
			if cerr == nil && cfg != wcfg {
				t.Errorf("DecodeConfig %+v, image/jpeg %+v", cfg, wcfg)
			}
			for _, s := range []int{1, 2, 4, 8} {
				got, err := Decode(bytes.NewReader(data), &Options{Scale: s})
				if werr != nil {
					if err == nil {
						t.Fatalf("scale %d: decoded, but image/jpeg fails: %v", s, werr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("scale %d: %v", s, err)
				}
				w, h := ScaledSize(cfg.Width, cfg.Height, s)
				if got.Bounds() != image.Rect(0, 0, w, h) {
					t.Fatalf("scale %d: bounds %v, want %dx%d", s, got.Bounds(), w, h)
				}
				if s == 1 {
					mean, max, err := compareFull(got, want, 4)
					if err != nil {
						t.Fatalf("scale 1: %v", err)
					}
					t.Logf("scale 1: %T mean diff %.3f max %d", got, mean, max)
					continue
				}
				psnr, err := compareScaled(got, want, s, psnrFloor(cfg.Width, cfg.Height))
				if err != nil {
					t.Fatalf("scale %d: %v", s, err)
				}
				t.Logf("scale %d: PSNR %.1f dB", s, psnr)
			}
		})
	}
}

// TestDecodeInPlace: a reader with a Bytes method (bytes.Buffer) is
// decoded in place, with the same pixels and errors as a copy of the file
// read through a bytes.Reader, and its bytes are left as they were.
func TestDecodeInPlace(t *testing.T) {
	for _, name := range testFiles(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data := readFile(t, name)
			orig := bytes.Clone(data)
			for _, s := range []int{1, 2, 8} {
				want, werr := Decode(bytes.NewReader(orig), &Options{Scale: s})
				got, gerr := Decode(bytes.NewBuffer(data), &Options{Scale: s})
				if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
					t.Fatalf("scale %d: error %v in place, %v from a copy", s, gerr, werr)
				}
				if werr == nil && !samePixels(got, want) {
					t.Errorf("scale %d: pixels differ in place", s)
				}
				if !bytes.Equal(data, orig) {
					t.Fatalf("scale %d: the file's bytes changed", s)
				}
			}
		})
	}
}

func TestScaledSize(t *testing.T) {
	for _, tc := range []struct{ w, h, s, ww, wh int }{
		{1, 1, 8, 1, 1},
		{3, 3, 2, 2, 2},
		{16, 16, 8, 2, 2},
		{17, 9, 8, 3, 2},
		{4032, 3024, 8, 504, 378},
		{4032, 3024, 1, 4032, 3024},
		{4033, 3025, 4, 1009, 757},
		{10, 10, 0, 10, 10},
	} {
		if w, h := ScaledSize(tc.w, tc.h, tc.s); w != tc.ww || h != tc.wh {
			t.Errorf("ScaledSize(%d, %d, %d) = %d, %d; want %d, %d", tc.w, tc.h, tc.s, w, h, tc.ww, tc.wh)
		}
	}
}

func TestOptions(t *testing.T) {
	data := readFile(t, "testdata/video-001.jpeg")
	for _, opts := range []*Options{nil, {}, {Scale: 1}} {
		m, err := Decode(bytes.NewReader(data), opts)
		if err != nil || m.Bounds().Dx() != 150 {
			t.Errorf("Decode(%+v) = %v, %v", opts, m, err)
		}
	}
	for _, s := range []int{-1, 3, 5, 16} {
		if _, err := Decode(bytes.NewReader(data), &Options{Scale: s}); err == nil {
			t.Errorf("scale %d: no error", s)
		}
	}
}

func TestUnsupported(t *testing.T) {
	for _, name := range []string{"testdata/libjpeg-turbo_testimgari.jpg", "testdata/libjpeg-turbo_monkey12_12bit.jpg"} {
		_, err := Decode(bytes.NewReader(readFile(t, name)), nil)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: error %v, want ErrUnsupported", name, err)
		}
	}
	// Patch a baseline file's SOF0 into lossless / hierarchical / arithmetic.
	data := readFile(t, "testdata/video-001.jpeg")
	i := bytes.Index(data, []byte{0xFF, 0xC0})
	for _, m := range []byte{0xC3, 0xC5, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF} {
		b := bytes.Clone(data)
		b[i+1] = m
		if _, err := Decode(bytes.NewReader(b), nil); !errors.Is(err, ErrUnsupported) {
			t.Errorf("SOF 0x%02X: error %v, want ErrUnsupported", m, err)
		}
	}
}

func TestFormatError(t *testing.T) {
	if got := FormatError("x").Error(); got != "jpeg: invalid format: x" {
		t.Errorf("FormatError.Error() = %q", got)
	}
}

// TestBroken checks that damaged input gives an error and never panics.
func TestBroken(t *testing.T) {
	base := readFile(t, "testdata/video-001.q50.420.jpeg")
	prog := readFile(t, "testdata/video-001.q50.420.progressive.jpeg")
	sos := bytes.Index(base, []byte{0xFF, 0xDA})
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 4096)
	rng.Read(random)
	cases := map[string][]byte{
		"empty":                 {},
		"one byte":              {0xFF},
		"SOI only":              {0xFF, 0xD8},
		"SOI EOI":               {0xFF, 0xD8, 0xFF, 0xD9},
		"truncated header":      base[:sos/2],
		"header no data":        base[:sos+14],
		"truncated data":        base[:len(base)/2],
		"truncated progressive": prog[:len(prog)*2/3],
		"random":                random,
		"SOI random":            append([]byte{0xFF, 0xD8}, random...),
	}
	for name, data := range cases {
		for _, s := range []int{1, 8} {
			if m, err := Decode(bytes.NewReader(data), &Options{Scale: s}); err == nil {
				t.Errorf("%s: scale %d: no error (%v)", name, s, m.Bounds())
			}
		}
		_, werr := stdjpeg.DecodeConfig(bytes.NewReader(data))
		if _, err := DecodeConfig(bytes.NewReader(data)); (err == nil) != (werr == nil) {
			t.Errorf("%s: DecodeConfig error %v, image/jpeg %v", name, err, werr)
		}
	}
}

// TestPrefixes decodes every prefix of small files, and files with single
// corrupted bytes: no panics, and a successful decode has the right size.
func TestPrefixes(t *testing.T) {
	for _, name := range []string{"testdata/3x3_420.jpg", "testdata/video-001.q50.410.progressive.jpeg", "testdata/video-001.restart2.jpeg"} {
		data := readFile(t, name)
		step := 1 + len(data)/400 // about 400 prefixes per file
		if testing.Short() {
			step *= 4
		}
		for n := 0; n < len(data); n += step {
			checkDecode(t, data[:n])
		}
		rng := rand.New(rand.NewSource(2))
		for i := 0; i < 300; i++ {
			b := bytes.Clone(data)
			b[rng.Intn(len(b))] ^= byte(1 + rng.Intn(255))
			checkDecode(t, b)
		}
	}
}

// checkDecode decodes data at every scale; if it succeeds the bounds must be
// the scaled size of DecodeConfig's.
func checkDecode(t testing.TB, data []byte) {
	t.Helper()
	cfg, cerr := DecodeConfig(bytes.NewReader(data))
	if cerr == nil && cfg.Width*cfg.Height > 1<<22 {
		return // the caller refuses such sizes from the header
	}
	for _, s := range []int{1, 2, 4, 8} {
		m, err := Decode(bytes.NewReader(data), &Options{Scale: s})
		if err != nil {
			continue
		}
		if cerr != nil {
			t.Fatalf("Decode succeeds but DecodeConfig fails: %v", cerr)
		}
		w, h := ScaledSize(cfg.Width, cfg.Height, s)
		if m.Bounds() != image.Rect(0, 0, w, h) {
			t.Fatalf("scale %d: bounds %v, want %dx%d", s, m.Bounds(), w, h)
		}
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestReaderError(t *testing.T) {
	if _, err := Decode(errReader{}, nil); err == nil {
		t.Error("Decode: no error")
	}
	if _, err := DecodeConfig(errReader{}); err == nil {
		t.Error("DecodeConfig: no error")
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range testFiles(f) {
		data := readFile(f, name)
		if len(data) < 64<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		checkDecode(t, data)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("decoding took %v", d)
		}
	})
}

func benchFile(b *testing.B, name string, decode func([]byte) error) {
	data := readFile(b, name)
	cfg, err := DecodeConfig(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if err := decode(data); err != nil {
			b.Fatal(err)
		}
	}
	cpu := processCPU() - cpu0
	// MP/s of source pixels, by wall time and by process CPU time (the
	// latter is less sensitive to other load on the machine; it includes
	// GC work on other threads).
	mp := float64(cfg.Width*cfg.Height) * float64(b.N) / 1e6
	b.ReportMetric(mp/b.Elapsed().Seconds(), "MP/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(mp/cpu.Seconds(), "cpu-MP/s")
	}
}

func benchDecode(b *testing.B, name string) {
	b.Run("image-jpeg", func(b *testing.B) {
		benchFile(b, name, func(data []byte) error {
			_, err := stdjpeg.Decode(bytes.NewReader(data))
			return err
		})
	})
	for _, s := range []int{1, 2, 4, 8} {
		b.Run("scale="+string(rune('0'+s)), func(b *testing.B) {
			benchFile(b, name, func(data []byte) error {
				_, err := Decode(bytes.NewReader(data), &Options{Scale: s})
				return err
			})
		})
	}
}

// BenchmarkDecode decodes a 4-MP baseline 4:2:0 photo.
func BenchmarkDecode(b *testing.B) { benchDecode(b, "testdata/plasma_FallenLeaf_2560x1600.jpg") }

// BenchmarkDecodeProgressive decodes a small progressive photo.
func BenchmarkDecodeProgressive(b *testing.B) {
	benchDecode(b, "testdata/progressive_plasma_BytheWater_thumb.jpg")
}

// BenchmarkDecodeCorpus decodes large corpus files when IMGPIPE_CORPUS is set.
func BenchmarkDecodeCorpus(b *testing.B) {
	root := os.Getenv("IMGPIPE_CORPUS")
	if root == "" {
		b.Skip("IMGPIPE_CORPUS not set")
	}
	for _, f := range []string{"photos/camera_Olympus_E-P3_12MP.jpg", "photos/sunset_by_Aitzol_Berasategi.jpg", "formats/jpeg/progressive_FallenLeaf.jpg"} {
		b.Run(filepath.Base(f), func(b *testing.B) { benchDecode(b, filepath.Join(root, f)) })
	}
}

// BenchmarkDecodeFixed measures the decoder's fixed cost per image (markers,
// quantisation and Huffman tables, buffers): tiny files, where it is all
// there is, and a 100x68 photo, where it is most of it. DecodeConfig is what
// the decode stage calls first on every input.
func BenchmarkDecodeFixed(b *testing.B) {
	for _, name := range []string{"1x1.jpg", "3x3_420.jpg", "camera_Canon_40D_100x68.jpg"} {
		b.Run(name, func(b *testing.B) {
			benchFile(b, "testdata/"+name, func(data []byte) error {
				_, err := Decode(bytes.NewReader(data), nil)
				return err
			})
		})
	}
	b.Run("config", func(b *testing.B) {
		benchFile(b, "testdata/camera_Canon_40D_100x68.jpg", func(data []byte) error {
			_, err := DecodeConfig(bytes.NewReader(data))
			return err
		})
	})
}

// BenchmarkDecodeDir decodes every .jpg in the folder IMGPIPE_JPEG_DIR at
// 1/2 scale, as the decode stage does for thumbnails of small photos (one
// op is the whole folder; the planes go back through Recycle, as resize
// gives them back). With one copy of each photo of bench/make-small.sh's
// set it measures the decoder on issue #17's job without the rest of it.
func BenchmarkDecodeDir(b *testing.B) {
	dir := os.Getenv("IMGPIPE_JPEG_DIR")
	if dir == "" {
		b.Skip("IMGPIPE_JPEG_DIR not set")
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil || len(names) == 0 {
		b.Fatalf("no .jpg in %s (%v)", dir, err)
	}
	var files [][]byte
	size := 0
	for _, n := range names {
		data := readFile(b, n)
		files = append(files, data)
		size += len(data)
	}
	for _, s := range []int{1, 2} {
		b.Run("scale="+string(rune('0'+s)), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				for _, data := range files {
					img, err := Decode(bytes.NewReader(data), &Options{Scale: s})
					if err != nil {
						b.Fatal(err)
					}
					Recycle(img)
				}
			}
			// Process CPU time per op: less sensitive than wall time to
			// other load on the machine.
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
