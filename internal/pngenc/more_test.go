package pngenc

import (
	"bytes"
	"errors"
	"hash/adler32"
	"image"
	"image/color/palette"
	"image/png"
	"runtime"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// failingWriter takes n bytes, then fails every write.
type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

// TestWriteErrorStopsWorkers fails the writer at every stage of a
// many-chunk encode (the signature, IHDR, the first IDAT, one in the
// middle): Encode must return the writer's error and leave no goroutine
// behind (goleak, in TestMain and here).
func TestWriteErrorStopsWorkers(t *testing.T) {
	img := convert(load(t, "photos/camera_Nikon_P6000_GPS.jpg"), "nrgba")
	var full bytes.Buffer
	o := &Options{Chunk: 4096, Workers: 4}
	if err := Encode(&full, img, o); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 5, 8, 20, 40, 5000, full.Len() / 2, full.Len() - 13} {
		err := Encode(&failingWriter{n: n}, img, o)
		if !errors.Is(err, errDiskFull) {
			t.Fatalf("writer failing after %d bytes: err = %v, want %v", n, err, errDiskFull)
		}
		goleak.VerifyNone(t)
	}
}

// TestFallback: the types Encode hands to image/png come out as
// image/png's own bytes.
func TestFallback(t *testing.T) {
	photo := load(t, "photos/camera_Nikon_P6000_GPS.jpg") // *image.YCbCr
	pal := image.NewPaletted(image.Rect(0, 0, 50, 30), palette.Plan9)
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i * 7)
	}
	cmyk := image.NewCMYK(image.Rect(0, 0, 9, 4))
	for i := range cmyk.Pix {
		cmyk.Pix[i] = uint8(i * 31)
	}
	for name, img := range map[string]image.Image{"ycbcr": photo, "paletted": pal, "cmyk": cmyk} {
		t.Run(name, func(t *testing.T) {
			if Handles(img) {
				t.Fatalf("Handles(%T) = true, want false", img)
			}
			var got, want bytes.Buffer
			if err := Encode(&got, img, nil); err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(&want, img); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("%T: %d bytes, image/png wrote %d other bytes", img, got.Len(), want.Len())
			}
		})
	}
}

// TestRefuses: images PNG cannot hold and options out of range.
func TestRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		img  image.Image
		o    *Options
		want string
	}{
		{"empty", image.NewNRGBA(image.Rect(0, 0, 0, 5)), nil, "pngenc: invalid image size: (0,0)-(0,5)"},
		{"level", image.NewNRGBA(image.Rect(0, 0, 1, 1)), &Options{Level: 10}, "pngenc: level 10: want 1 to 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Encode(&bytes.Buffer{}, tc.img, tc.o)
			var ue UnsupportedError
			if !errors.As(err, &ue) || err.Error() != tc.want {
				t.Fatalf("err = %v, want UnsupportedError %q", err, tc.want)
			}
		})
	}
}

// TestHoldsCoversEncode: what Encode allocates (an upper bound of what it
// holds at once), beyond the file it writes, stays within Holds, for a
// 2000x1333 photo opaque (RGB) and translucent 16-bit (the widest pixel),
// and a flat image (level 7 chunks), with no compressor pooled from
// before.
func TestHoldsCoversEncode(t *testing.T) {
	rgb := photo2000(t)
	deep := deepen(translucent(rgb))
	tiny := convert(translucent(rgb).SubImage(image.Rect(0, 0, 64, 64)), "nrgba64")
	for name, img := range map[string]image.Image{"rgb": rgb, "flat": flat2000(t), "rgba16": deep, "tiny": tiny} {
		t.Run(name, func(t *testing.T) {
			px := int64(img.Bounds().Dx() * img.Bounds().Dy())
			out := bytes.NewBuffer(make([]byte, 0, 10*px))
			runtime.GC()
			runtime.GC() // twice: sync.Pool keeps a victim cache for one GC
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if err := Encode(out, img, nil); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			alloc := int64(after.TotalAlloc - before.TotalAlloc)
			if h := Holds(px); alloc > h {
				t.Fatalf("Encode allocated %d bytes, Holds(%d) = %d", alloc, px, h)
			}
			t.Logf("allocated %d bytes, Holds %d, %d workers", alloc, Holds(px), runtime.GOMAXPROCS(0))
		})
	}
}

// TestAdlerCombine: the sum of a stream cut anywhere is combined from its
// pieces' sums.
func TestAdlerCombine(t *testing.T) {
	data := make([]byte, 200000)
	for i := range data {
		data[i] = uint8(i*i>>3 + i)
	}
	for _, cut := range []int{0, 1, 5552, 65521, 100000, len(data)} {
		got := adlerCombine(adler32.Checksum(data[:cut]), adler32.Checksum(data[cut:]), int64(len(data)-cut))
		if want := adler32.Checksum(data); got != want {
			t.Errorf("cut at %d: %08x, want %08x", cut, got, want)
		}
	}
}

// FuzzEncode: any size, type, pixels and chunking encode to a file that
// image/png decodes to the pixels of image/png's own file.
func FuzzEncode(f *testing.F) {
	f.Add(uint8(3), uint8(2), uint8(0), uint16(0), uint8(0), []byte("pixels"))
	f.Add(uint8(1), uint8(1), uint8(3), uint16(1), uint8(2), []byte{0x80, 0, 0xff, 7})
	f.Add(uint8(40), uint8(9), uint8(5), uint16(64), uint8(3), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 250})
	f.Fuzz(func(t *testing.T, w, h, kind uint8, chunk uint16, workers uint8, pix []byte) {
		if w == 0 || h == 0 || len(pix) == 0 {
			return
		}
		r := image.Rect(0, 0, int(w)%64+1, int(h)%64+1)
		var img image.Image
		switch kind % 6 {
		case 0:
			img = &image.Gray{Pix: fill(pix, r.Dx()*r.Dy()), Stride: r.Dx(), Rect: r}
		case 1:
			img = &image.Gray16{Pix: fill(pix, 2*r.Dx()*r.Dy()), Stride: 2 * r.Dx(), Rect: r}
		case 2:
			img = &image.NRGBA{Pix: fill(pix, 4*r.Dx()*r.Dy()), Stride: 4 * r.Dx(), Rect: r}
		case 3:
			m := &image.RGBA{Pix: fill(pix, 4*r.Dx()*r.Dy()), Stride: 4 * r.Dx(), Rect: r}
			premultiply(m.Pix, 1)
			img = m
		case 4:
			img = &image.NRGBA64{Pix: fill(pix, 8*r.Dx()*r.Dy()), Stride: 8 * r.Dx(), Rect: r}
		case 5:
			m := &image.RGBA64{Pix: fill(pix, 8*r.Dx()*r.Dy()), Stride: 8 * r.Dx(), Rect: r}
			premultiply(m.Pix, 2)
			img = m
		}
		o := &Options{Chunk: int(chunk), Workers: int(workers % 5), Level: int(kind/6) % 10} // 0: a level a chunk
		samePixels(t, encodeDecode(t, img, o), stdRoundTrip(t, img))
	})
}

// fill repeats p to n bytes, varied so that repeats are not exact.
func fill(p []byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = p[i%len(p)] + uint8(i/len(p))
	}
	return out
}

// premultiply makes RGBA (size bytes a sample, big-endian) valid
// alpha-premultiplied colour: no channel above alpha.
func premultiply(pix []byte, size int) {
	for i := 0; i+4*size <= len(pix); i += 4 * size {
		a := sample(pix[i+3*size:], size)
		for c := 0; c < 3; c++ {
			v := sample(pix[i+c*size:], size) * a / (1<<(8*size) - 1)
			if size == 1 {
				pix[i+c] = uint8(v)
			} else {
				pix[i+2*c], pix[i+2*c+1] = uint8(v>>8), uint8(v)
			}
		}
	}
}

func sample(p []byte, size int) uint32 {
	if size == 1 {
		return uint32(p[0])
	}
	return uint32(p[0])<<8 | uint32(p[1])
}

// TestSameBytesAnyWorkers: the file does not depend on the number of
// goroutines (re-runs and {hash} names rely on deterministic encoders).
func TestSameBytesAnyWorkers(t *testing.T) {
	img := convert(load(t, "photos/camera_Nikon_P6000_GPS.jpg"), "rgba")
	var want bytes.Buffer
	if err := Encode(&want, img, &Options{Workers: 1, Chunk: 20000}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{2, 3, 8} {
		var got bytes.Buffer
		if err := Encode(&got, img, &Options{Workers: w, Chunk: 20000}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%d workers: %d bytes, 1 worker: %d other bytes", w, got.Len(), want.Len())
		}
	}
}

// TestBrokenImageIsAnError: an image whose Pix is shorter than its
// bounds say fails with an error from a worker goroutine (a panic there
// would end the process, not reach the caller's recover).
func TestBrokenImageIsAnError(t *testing.T) {
	img := &image.NRGBA{Pix: make([]byte, 4*100*100), Stride: 4 * 100, Rect: image.Rect(0, 0, 100, 1000)}
	err := Encode(&bytes.Buffer{}, img, &Options{Chunk: 4096, Workers: 2})
	if err == nil {
		t.Fatal("Encode of a truncated image: no error")
	}
	t.Log(err)
}
