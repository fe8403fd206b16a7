package stages

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/imgpipe/imgpipe/internal/format"
)

// decodeOpts is what a test gives the decode stage: DecodeOptions' fields,
// the outputs every input gets (default: one of its own size and format)
// and a memory budget (default none).
type decodeOpts struct {
	MaxPixels         int64
	MaxFileSize       int64
	MaxPixelsPerByte  int64
	IgnoreOrientation bool
	FullDecode        bool
	Frames            string
	Outputs           []Output
	Reserve           func(ctx context.Context, n int64) (func(), error)
}

func (o decodeOpts) stage() func(context.Context, File) (*Decoded, error) {
	var plan func(File, string, int, int) ([]Target, error)
	if len(o.Outputs) > 0 {
		plan = func(f File, format string, w, h int) ([]Target, error) {
			ts := make([]Target, len(o.Outputs))
			for i, out := range o.Outputs {
				ts[i] = out.Target(f.Rel, format, w, h)
				ts[i].Index = i
			}
			return ts, nil
		}
	}
	return Decode(DecodeOptions{MaxPixels: o.MaxPixels, MaxFileSize: o.MaxFileSize, MaxPixelsPerByte: o.MaxPixelsPerByte,
		IgnoreOrientation: o.IgnoreOrientation,
		FullDecode:        o.FullDecode, Frames: o.Frames}, plan, o.Reserve)
}

// decodeFile runs the decode stage on a file of ../testdata with one
// full-size output (unless opts says otherwise) and no output folder.
func decodeFile(t *testing.T, path string, opts decodeOpts) (*Decoded, error) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return opts.stage()(context.Background(), File{Path: path, Rel: filepath.Base(path), Size: info.Size(), ModTime: info.ModTime()})
}

func TestDecode(t *testing.T) {
	tests := []struct {
		file   string
		format string
		w, h   int // upright
		gray   bool
	}{
		{"photos/camera_Nikon_P6000_GPS.jpg", "jpeg", 640, 480, false},
		{"photos/friends_by_Aitzol_Berasategi.jpg", "jpeg", 2056, 3088, false},
		{"orientation/Landscape_6.jpg", "jpeg", 36, 24, false},
		{"orientation/Portrait_8.jpg", "jpeg", 24, 36, false},
		{"formats/alpha.png", "png", 0, 0, false},
		{"formats/video.gif", "gif", 150, 103, false},
		{"formats/8bpp.bmp", "bmp", 0, 0, false},
		{"formats/paletted.tiff", "tiff", 0, 0, false},
		{"formats/lossless.webp", "webp", 0, 0, false},
		{"formats/lossy_alpha.webp", "webp", 0, 0, false},
		{"formats/cmyk.jpeg", "jpeg", 150, 103, false},
		{"formats/progressive.jpeg", "jpeg", 200, 133, false},
		{"edge/no_extension_jpeg", "jpeg", 320, 200, false},
		{"edge/IMG_0001.JPG", "jpeg", 320, 200, false},
		{"edge/1x1.png", "png", 1, 1, false},
		{"edge/3x3_420.jpg", "jpeg", 3, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d, err := decodeFile(t, filepath.Join("..", "testdata", tt.file), decodeOpts{})
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if d.Format != tt.format {
				t.Errorf("format %q, want %q", d.Format, tt.format)
			}
			if tt.w != 0 && (d.Width != tt.w || d.Height != tt.h) {
				t.Errorf("size %dx%d, want %dx%d", d.Width, d.Height, tt.w, tt.h)
			}
			if b := d.Image.Bounds(); b.Dx() != d.Width || b.Dy() != d.Height {
				t.Errorf("image is %v, header said %dx%d", b, d.Width, d.Height)
			}
			if d.Gray != tt.gray {
				t.Errorf("gray = %v, want %v", d.Gray, tt.gray)
			}
		})
	}
}

func TestDecodeBroken(t *testing.T) {
	tests := []struct {
		file string
		want error
	}{
		{"bad/empty.jpg", ErrNotImage},
		{"bad/not_an_image.png", ErrNotImage},
		{"bad/html_404_page.jpg", ErrNotImage},
		{"bad/truncated_header_only.jpg", ErrCorrupt},
		{"bad/bad_crc_ihdr.png", ErrCorrupt},
		{"bad/truncated_50pct_rgb8.png", ErrCorrupt},
		{"bad/png_header_65535x65535_rgba.png", ErrTooLarge},
		{"bad/jpeg_65500x65500.jpg", ErrTooLarge},
		{"bad/gif_65535x65535.gif", ErrTooLarge},
		{"bad/png_50000x50000_1bit_zeros.png", ErrTooLarge},
		{"bad/tiff_60000x60000.tif", ErrTooLarge},
		{"bad/webp_16383x16383.webp", ErrTooLarge},
		{"formats/unsupported.avif", ErrUnsupportedFormat},
		{"formats/arithmetic.jpg", ErrUnsupportedFormat},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := decodeFile(t, filepath.Join("..", "testdata", tt.file), decodeOpts{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// A decompression bomb is refused from its header: decoding it must not
// allocate anything like its claimed size (2.5 GB for the 50000x50000 PNG).
func TestDecodeBombAllocatesLittle(t *testing.T) {
	for _, f := range []string{"bad/png_50000x50000_1bit_zeros.png", "bad/jpeg_65500x65500.jpg", "bad/tiff_60000x60000.tif"} {
		t.Run(f, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := decodeFile(t, filepath.Join("..", "testdata", f), decodeOpts{})
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v, want ErrTooLarge", err)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
				t.Errorf("allocated %d bytes refusing a bomb; want < 4 MiB", n)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	path := filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg")
	if _, err := decodeFile(t, path, decodeOpts{MaxPixels: 640*480 - 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("max_pixels: error %v, want ErrTooLarge", err)
	}
	if _, err := decodeFile(t, path, decodeOpts{MaxFileSize: 1000}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("max_file_size: error %v, want ErrTooLarge", err)
	}
	if _, err := decodeFile(t, path, decodeOpts{MaxPixels: 640 * 480}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

func TestDecodeReservesBeforeDecoding(t *testing.T) {
	path := filepath.Join("..", "testdata", "photos", "camera_Nikon_P6000_GPS.jpg")
	var reserved int64
	released := 0
	d, err := decodeFile(t, path, decodeOpts{Reserve: func(ctx context.Context, n int64) (func(), error) {
		reserved = n
		return func() { released++ }, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if reserved < 4*640*480 {
		t.Errorf("reserved %d bytes, want at least the decoded size %d", reserved, 4*640*480)
	}
	if d == nil || released != 0 {
		t.Errorf("release called %d times on success, want 0: the memory is held until the input ends", released)
	}

	// A failed reservation (the run is cancelled) fails the input before decoding.
	_, err = decodeFile(t, path, decodeOpts{Reserve: func(ctx context.Context, n int64) (func(), error) {
		return nil, context.Canceled
	}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// An input never waits for memory while holding some: when the fast JPEG
// decoder turns out not to read a file and image/jpeg takes over at full
// size, the first reservation is given back before the second is asked
// for. (Holding the first while waiting for the second deadlocked a batch
// whose budget could not hold both, issue #18.)
func TestDecodeNeverWaitsHoldingMemory(t *testing.T) {
	// deadlock.jpg (from ../shared/attack) is a 313-byte 10000x10000
	// 4-component progressive JPEG without an Adobe marker: our decoder
	// refuses it after a 1/8 decode, image/jpeg would take it at full size.
	// The budget here refuses the second reservation, so the test checks
	// the order without paying for the full decode.
	for _, path := range []string{"testdata/attack/deadlock.jpg", "../testdata/photos/camera_Nikon_P6000_GPS.jpg", "../testdata/formats/anim.gif"} {
		t.Run(path, func(t *testing.T) {
			held, calls := 0, 0
			_, err := decodeFile(t, path, decodeOpts{
				MaxPixelsPerByte: -1, // deadlock.jpg is 319,488 pixels a byte
				Outputs:          []Output{{Width: 100}},
				Reserve: func(ctx context.Context, n int64) (func(), error) {
					calls++
					if held > 0 {
						t.Errorf("reservation %d asked for while %d are held", calls, held)
					}
					if calls > 1 {
						return nil, context.Canceled
					}
					held++
					return sync.OnceFunc(func() { held-- }), nil
				}})
			want := 1
			if strings.Contains(path, "deadlock") || strings.Contains(path, "anim") {
				want = 2 // the fallback's charge; an animation's frames, counted once read
			}
			if calls != want {
				t.Errorf("%d reservations, want %d (err %v)", calls, want, err)
			}
			if err != nil && held != 0 {
				t.Errorf("failed with %d reservations still held: %v", held, err)
			}
		})
	}
}

// Lossy WebP is studio-range YCbCr: decoded colours must match libwebp's
// (the reference PNG was decoded by libwebp through ImageMagick).
func TestDecodeWebPColours(t *testing.T) {
	d, err := decodeFile(t, filepath.Join("..", "testdata", "formats", "lossy_alpha.webp"), decodeOpts{})
	if err != nil {
		t.Fatal(err)
	}
	ref := testdataImage(t, "formats", "lossy_alpha.ref.png")
	// Compare opaque pixels only: libwebp and Go blend edges differently.
	var se float64
	n := 0
	b := ref.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, a1 := d.Image.At(x, y).RGBA()
			r2, g2, b2, a2 := ref.At(x, y).RGBA()
			if a1 != 0xffff || a2 != 0xffff {
				continue
			}
			for _, v := range []float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				se += v * v
			}
			n += 3
		}
	}
	if p := 10 * math.Log10(255*255/(se/float64(n))); p < 35 {
		t.Errorf("WebP colours: PSNR %.1f dB against libwebp's decode, want >= 35", p)
	}
}

// HEIC and AVIF inputs, and WebP and AVIF outputs, need the nodynamic
// build; the default build says so instead of failing obscurely.
func TestExtraFormatsNeedTheTag(t *testing.T) {
	if format.ByName("avif").Writable() {
		t.Skip("built with -tags nodynamic: TestWASMFormats covers these formats")
	}
	_, err := decodeFile(t, filepath.Join("..", "testdata", "formats", "small.heic"), decodeOpts{})
	if !errors.Is(err, ErrUnsupportedFormat) || !strings.Contains(err.Error(), "-tags nodynamic") {
		t.Errorf("HEIC: %v, want ErrUnsupportedFormat with the build hint", err)
	}
	if err := (Output{Format: "avif"}).Validate("output"); err == nil || !strings.Contains(err.Error(), "-tags nodynamic") {
		t.Errorf("avif output: %v, want an error with the build hint", err)
	}
	if err := (Output{Format: "webp"}).Validate("output"); err != nil {
		t.Errorf("webp output: %v; every build writes WebP", err)
	}
}

// Shrink-on-load must not cost visible quality: for targets just past each
// JPEG scale (where the resize left after it is smallest), the output must
// stay close to what decoding every pixel gives. With solHeadroom 1 (the
// largest scale that fits) three of the 1/4 and 1/8 cases fall to
// 41.4-45.8 dB; with 1.25 the worst is 50.3. At 1/2 (2.05x) the reduced
// IDCT alone gives 60.8 dB.
func TestShrinkOnLoadQuality(t *testing.T) {
	tests := []struct {
		file  string
		width int // source width / width: just above 2, 4, 8 or between
	}{
		{"photos/Painting-Colors_by__herobrine7gamer.jpg", 2920}, // 2.05x, 4:4:4
		{"photos/Painting-Colors_by__herobrine7gamer.jpg", 1460}, // 4.1x
		{"photos/Painting-Colors_by__herobrine7gamer.jpg", 730},  // 8.2x
		{"photos/Painting-Colors_by__herobrine7gamer.jpg", 800},  // 7.5x
		{"photos/friends_by_Aitzol_Berasategi.jpg", 500},         // 4.1x, progressive
		{"photos/friends_by_Aitzol_Berasategi.jpg", 250},         // 8.2x, progressive
		{"photos/phone_Samsung_SM-G930F.jpg", 980},               // 4.1x, 4:4:0
		{"photos/plasma_FallenLeaf_2560x1600.jpg", 620},          // 4.1x
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", filepath.Base(tt.file), tt.width), func(t *testing.T) {
			resized := func(full bool) image.Image {
				d, err := decodeFile(t, filepath.Join("..", "testdata", tt.file), decodeOpts{
					FullDecode: full,
					Outputs:    []Output{{Width: tt.width}},
				})
				if err != nil {
					t.Fatal(err)
				}
				r, err := Resize()(context.Background(), d)
				if err != nil {
					t.Fatal(err)
				}
				return r.Images[0]
			}
			if p := psnr(t, resized(true), resized(false)); p < 48 {
				t.Errorf("shrink-on-load output is %.1f dB from the full decode's, want >= 48", p)
			}
		})
	}
}

// TestMemReaderBytes: the reader decode hands the decoders gives out the
// bytes it has not read yet, the file's own (the JPEG decoder decodes them
// in place), and reads like a bytes.Reader.
func TestMemReaderBytes(t *testing.T) {
	data, err := os.ReadFile("../testdata/edge/IMG_0001.JPG")
	if err != nil {
		t.Fatal(err)
	}
	r := newMemReader(data)
	if b := r.Bytes(); len(b) != len(data) || &b[0] != &data[0] {
		t.Fatalf("Bytes before reading: %d bytes, not the file's %d in place", len(b), len(data))
	}
	head := make([]byte, 10)
	if n, err := r.Read(head); n != 10 || err != nil {
		t.Fatalf("Read: %d, %v", n, err)
	}
	if b := r.Bytes(); len(b) != len(data)-10 || &b[0] != &data[10] {
		t.Errorf("Bytes after reading 10: %d bytes, want the file's last %d in place", len(b), len(data)-10)
	}
}
