package stages

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgpipe/imgpipe/internal/format"
)

// peak runs f and returns how long it took, the bytes it allocated in all
// (TotalAlloc) and the peak of the heap in use above where it started,
// sampled every millisecond.
func peak(f func()) (took time.Duration, alloc, heap uint64) {
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var top atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > top.Load() {
				top.Store(m.HeapInuse)
			}
		}
	}()
	start := time.Now()
	f()
	took = time.Since(start)
	close(stop)
	<-sampled
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	heap = max(top.Load(), after.HeapInuse)
	if heap > before.HeapInuse {
		heap -= before.HeapInuse
	} else {
		heap = 0
	}
	return took, after.TotalAlloc - before.TotalAlloc, heap
}

// The crafted files of issue #18 (testdata/attack, see its README), at
// default settings, each end as a failure with a clear reason or as an
// image, in under 10 s and 500 MB. Before: pj4_999.jpg took 33 s and 1.97
// GB, p16i.png 2 GB, tiff_rgba16.tif 1.6 GB, the 34-byte WebP and the
// 62-byte GIF 408 MB each, and icc16.png failed instead of dropping its
// profile.
func TestDecodeAttackFiles(t *testing.T) {
	for _, tc := range []struct {
		file string
		want error  // nil: decoded
		why  string // in the error, or in a note when decoded
	}{
		{"deadlock.jpg", ErrTooLarge, "max_pixels_per_byte"},
		{"pj4_999.jpg", ErrTooLarge, "max_pixels_per_byte"},
		{"webp_vp8l.webp", ErrTooLarge, "max_pixels_per_byte"},
		{"gif_canvas.gif", ErrTooLarge, "max_pixels_per_byte"},
		{"tiff_rgba16.tif", ErrTooLarge, "max_pixels_per_byte"},
		{"p16i.png", ErrTooLarge, "max_pixels_per_byte"},
		{"icc15.png", nil, "colour profile is over the 4 MiB limit"},
		{"icc16.png", nil, "colour profile is over the 4 MiB limit"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var d *Decoded
			var err error
			took, alloc, heap := peak(func() {
				d, err = decodeFile(t, filepath.Join("testdata", "attack", tc.file), decodeOpts{})
				if err == nil {
					var r *Resized
					if r, err = Resize()(context.Background(), d); err == nil {
						_, err = Encode()(context.Background(), r)
					}
				}
			})
			t.Logf("%v, %d MB allocated, heap peak +%d MB: %v", took.Round(time.Millisecond), alloc>>20, heap>>20, err)
			switch {
			case tc.want != nil && (!errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.why)):
				t.Errorf("error %v, want %v about %s", err, tc.want, tc.why)
			case tc.want == nil && err != nil:
				t.Errorf("error %v, want the image", err)
			case tc.want == nil && !strings.Contains(strings.Join(d.notes, "; "), tc.why):
				t.Errorf("notes %q, want one about %s", d.notes, tc.why)
			}
			if took > 10*time.Second || heap > 500<<20 {
				t.Errorf("took %v, heap peak %d MB: want < 10 s, < 500 MB", took, heap>>20)
			}
		})
	}
}

// The image/jpeg fallback is bounded like our decoder (issue #18.4):
// pj4_999.jpg, 999 scans of a 4-component 10000x10000 image, is refused
// before image/jpeg spends 33 s and 2 GB on it, and its charge is what
// image/jpeg would hold (4 bytes a coefficient, 4 components).
func TestDecodeFallbackBounded(t *testing.T) {
	var asked []int64
	var err error
	took, _, heap := peak(func() {
		_, err = decodeFile(t, filepath.Join("testdata", "attack", "pj4_999.jpg"), decodeOpts{
			MaxPixelsPerByte: -1, Outputs: []Output{{Width: 100}},
			Reserve: func(ctx context.Context, n int64) (func(), error) {
				asked = append(asked, n)
				return func() {}, nil
			}})
	})
	t.Logf("%v, heap peak +%d MB, charges %v: %v", took.Round(time.Millisecond), heap>>20, asked, err)
	if !errors.Is(err, ErrUnsupportedFormat) || !strings.Contains(err.Error(), "scans") {
		t.Errorf("error %v, want the fallback refused for its scans", err)
	}
	if took > 3*time.Second || heap > 500<<20 {
		t.Errorf("took %v, heap peak %d MB: want < 3 s, < 500 MB", took, heap>>20)
	}

	// deadlock.jpg has few scans: image/jpeg is charged what it holds.
	asked = nil
	_, err = decodeFile(t, filepath.Join("testdata", "attack", "deadlock.jpg"), decodeOpts{
		MaxPixelsPerByte: -1, Outputs: []Output{{Width: 100}},
		Reserve: func(ctx context.Context, n int64) (func(), error) {
			asked = append(asked, n)
			if len(asked) > 1 {
				return nil, context.Canceled // do not pay for the decode
			}
			return func() {}, nil
		}})
	if len(asked) != 2 || asked[1] < 5*4*10000*10000 {
		t.Errorf("charges %v (%v): want the fallback's, at least %d", asked, err, 5*4*10000*10000)
	}
}

// The charge covers what the decoders hold (issue #18.6): image/png holds
// an interlaced image twice (its passes, then the whole), x/image/tiff a
// strip's raw samples besides the pixels: p16i.png peaked at 2.05 GB
// charged 0.8 GB. Checked from the charge alone, without decoding.
func TestDecodeChargesWhatDecodersHold(t *testing.T) {
	for file, least := range map[string]int64{
		"p16i.png":        2 * 8 * 10000 * 10000,
		"tiff_rgba16.tif": 2 * 8 * 10000 * 10000,
	} {
		var asked int64
		_, err := decodeFile(t, filepath.Join("testdata", "attack", file), decodeOpts{
			MaxPixelsPerByte: -1, Outputs: []Output{{Width: 100}},
			Reserve: func(ctx context.Context, n int64) (func(), error) {
				asked = n
				return nil, context.Canceled
			}})
		if !errors.Is(err, context.Canceled) || asked < least {
			t.Errorf("%s: charged %d (%v), want at least %d", file, asked, err, least)
		}
	}
}

// Outputs are capped by max_pixels too (issue #18.12): a 1x1 PNG enlarged
// to 200000 pixels wide died of out-of-memory.
func TestDecodeOutputOverMaxPixels(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dot.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = decodeFile(t, p, decodeOpts{Outputs: []Output{{Width: 200000, Enlarge: true}}})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "200000x200000") {
		t.Errorf("error %v, want ErrTooLarge naming the 200000x200000 output", err)
	}
}

// The colour profile is charged: once as read, and per output for the
// copy each one embeds (issue #18.6: a 15 MiB profile in each of 100
// outputs was never charged).
func TestDecodeChargesProfile(t *testing.T) {
	in := &input{src: &opened{ReaderAt: bytes.NewReader(nil), size: 1000}, format: format.ByName("png"), frames: 1,
		cfg: image.Config{ColorModel: color.RGBAModel, Width: 10, Height: 10}, w: 10, h: 10,
		targets: []Target{{Width: 10, Height: 10, Format: "png"}, {Width: 5, Height: 5, Format: "jpeg"}}}
	without := in.need(1)
	in.info.ICC = make([]byte, 1<<20)
	if got, want := in.need(1)-without, int64(5<<20); got != want {
		t.Errorf("a 1 MiB profile and two outputs add %d bytes to the charge, want %d", got, want)
	}
}
