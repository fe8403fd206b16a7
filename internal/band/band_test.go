package band

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// opener is one of the package's openers, by format.
type opener func(io.ReaderAt, int64) (*Image, error)

// fullDecoders are the decoders whose pixels Rows must give, row by row.
var fullDecoders = map[string]func(io.Reader) (image.Image, error){"tiff": tiff.Decode, "png": png.Decode, "bmp": bmp.Decode}

var openers = map[string]opener{"tiff": TIFF, "png": PNG, "bmp": BMP}

// wantRow is row y of img as the resizer reads it: premultiplied 8-bit
// RGBA, rounded as stages' rowReader rounds each image type.
func wantRow(img image.Image, y int) []byte {
	b := img.Bounds()
	out := make([]byte, 0, 4*b.Dx())
	for x := b.Min.X; x < b.Max.X; x++ {
		switch m := img.(type) {
		case *image.RGBA:
			out = append(out, m.Pix[m.PixOffset(x, y):][:4]...)
		case *image.NRGBA:
			c := m.NRGBAAt(x, y)
			a := uint32(c.A)
			if a == 255 {
				out = append(out, c.R, c.G, c.B, 255)
			} else {
				out = append(out, uint8((uint32(c.R)*a+127)/255), uint8((uint32(c.G)*a+127)/255), uint8((uint32(c.B)*a+127)/255), c.A)
			}
		case *image.Gray:
			v := m.GrayAt(x, y).Y
			out = append(out, v, v, v, 255)
		default:
			r, g, b, a := img.At(x, y).RGBA()
			out = append(out, uint8(r>>8), uint8(g>>8), uint8(b>>8), uint8(a>>8))
		}
	}
	return out
}

// photo is a 67x45 crop of a real photo, with an alpha ramp when alpha.
func photo(t testing.TB, alpha bool) *image.NRGBA {
	t.Helper()
	f, err := os.Open("testdata/rgb-none.tif")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := tiff.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	m := image.NewNRGBA(src.Bounds())
	draw.Draw(m, m.Bounds(), src, image.Point{}, draw.Src)
	if alpha {
		for y := 0; y < m.Rect.Dy(); y++ {
			for x := 0; x < m.Rect.Dx(); x++ {
				m.Pix[m.PixOffset(x, y)+3] = uint8(x * 255 / m.Rect.Dx())
			}
		}
	}
	return m
}

// files are the test inputs: files made by libvips (testdata/README.md)
// and files encoded here by the Go encoders, one per variant.
func files(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	names, _ := filepath.Glob("testdata/*")
	for _, n := range names {
		if filepath.Ext(n) == ".md" {
			continue
		}
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(n)] = data
	}
	enc := func(name string, fn func(w io.Writer) error) {
		var b bytes.Buffer
		if err := fn(&b); err != nil {
			t.Fatal(err)
		}
		out[name] = b.Bytes()
	}
	opaque, translucent := photo(t, false), photo(t, true)
	rgba := image.NewRGBA(opaque.Rect)
	draw.Draw(rgba, rgba.Rect, opaque, image.Point{}, draw.Src)
	gray := image.NewGray(opaque.Rect)
	draw.Draw(gray, gray.Rect, opaque, image.Point{}, draw.Src)
	pal := image.NewPaletted(opaque.Rect, nil) // 8 bits an index: 20 colours, some translucent
	for i := range 20 {
		pal.Palette = append(pal.Palette, color.NRGBA{uint8(i * 13), uint8(255 - i*11), uint8(i * i / 2), uint8(min(255, i*40))})
	}
	draw.FloydSteinberg.Draw(pal, pal.Rect, translucent, image.Point{})
	opal := image.NewPaletted(opaque.Rect, color.Palette{color.RGBA{10, 20, 30, 255}, color.RGBA{200, 100, 50, 255}, color.RGBA{255, 255, 255, 255}})
	draw.FloydSteinberg.Draw(opal, opal.Rect, opaque, image.Point{})
	enc("go-rgb.png", func(w io.Writer) error { return png.Encode(w, rgba) })
	enc("go-rgba.png", func(w io.Writer) error { return png.Encode(w, translucent) })
	enc("go-gray.png", func(w io.Writer) error { return png.Encode(w, gray) })
	enc("go-paletted-trns.png", func(w io.Writer) error { return png.Encode(w, pal) })
	enc("go-rgb-fast.png", func(w io.Writer) error {
		return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, rgba)
	})
	enc("go-deflate-pred.tif", func(w io.Writer) error {
		return tiff.Encode(w, rgba, &tiff.Options{Compression: tiff.Deflate, Predictor: true})
	})
	enc("go-nrgba.tif", func(w io.Writer) error { return tiff.Encode(w, translucent, nil) })
	enc("go-gray.tif", func(w io.Writer) error { return tiff.Encode(w, gray, &tiff.Options{Compression: tiff.Deflate}) })
	enc("go-24.bmp", func(w io.Writer) error { return bmp.Encode(w, rgba) })
	enc("go-8.bmp", func(w io.Writer) error { return bmp.Encode(w, opal) })
	data, err := os.ReadFile("../../testdata/formats/8bpp.bmp")
	if err != nil {
		t.Fatal(err)
	}
	out["8bpp.bmp"] = data
	return out
}

func formatOf(name string) string {
	switch filepath.Ext(name) {
	case ".tif":
		return "tiff"
	case ".png":
		return "png"
	}
	return "bmp"
}

// tiffPaths runs fn twice: with TIFF blocks decompressed whole by
// workers, and as streams in the caller's goroutine (rowsStreamed).
func tiffPaths(t *testing.T, fn func(t *testing.T)) {
	for _, p := range []struct {
		name  string
		force bool
		limit int64
	}{{"workers", true, wholeBlocks}, {"streamed", false, 0}} {
		t.Run(p.name, func(t *testing.T) {
			oldForce, oldLimit := forceWorkers, wholeBlocks
			forceWorkers, wholeBlocks = p.force, p.limit
			t.Cleanup(func() { forceWorkers, wholeBlocks = oldForce, oldLimit })
			fn(t)
		})
	}
}

// Every variant read in bands gives, row by row, exactly the pixels of a
// full decode of the same file; the variants not read in bands are
// refused with ErrUnsupported before any pixel.
func TestRowsMatchFullDecode(t *testing.T) {
	tiffPaths(t, func(t *testing.T) {
		unsupported := map[string]bool{"rgb-interlaced.png": true}
		for name, data := range files(t) {
			t.Run(name, func(t *testing.T) {
				fm := formatOf(name)
				full, err := fullDecoders[fm](bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				m, err := openers[fm](bytes.NewReader(data), int64(len(data)))
				if unsupported[name] {
					if !errors.Is(err, ErrUnsupported) {
						t.Fatalf("error %v, want ErrUnsupported", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				b := full.Bounds()
				if m.Width != b.Dx() || m.Height != b.Dy() {
					t.Fatalf("size %dx%d, want %v", m.Width, m.Height, b)
				}
				_, gray := full.(*image.Gray)
				if m.Gray != gray {
					t.Errorf("Gray %v, full decode %T", m.Gray, full)
				}
				next := 0
				err = m.Rows(context.Background(), func(y int, row []byte) error {
					if y != next {
						t.Fatalf("row %d after %d", y, next-1)
					}
					next++
					if want := wantRow(full, y); !bytes.Equal(row, want) {
						t.Fatalf("row %d differs from the full decode:\n got %v\nwant %v", y, row[:16], want[:16])
					}
					return nil
				})
				if err != nil || next != m.Height {
					t.Fatalf("Rows: %v after %d rows of %d", err, next, m.Height)
				}
			})
		}
	})
}

// A file cut short is an error, never a hang or a short image: wherever
// the full decoder fails on it, the band decoder fails too.
func TestRowsTruncated(t *testing.T) {
	tiffPaths(t, func(t *testing.T) {
		for name, data := range files(t) {
			if name == "rgb-interlaced.png" {
				continue
			}
			t.Run(name, func(t *testing.T) {
				fm := formatOf(name)
				failed := 0
				for _, cut := range []int{len(data) / 2, len(data) * 9 / 10, len(data) - 40} {
					short := data[:cut]
					m, err := openers[fm](bytes.NewReader(short), int64(len(short)))
					if err != nil {
						failed++
						continue // refused from the header: the IFD or palette is gone
					}
					rows := 0
					done := make(chan error, 1)
					go func() {
						done <- m.Rows(context.Background(), func(int, []byte) error { rows++; return nil })
					}()
					select {
					case err = <-done:
					case <-time.After(5 * time.Second):
						t.Fatalf("cut at %d of %d: Rows did not return", cut, len(data))
					}
					_, fullErr := fullDecoders[fm](bytes.NewReader(short))
					if err == nil && fullErr != nil {
						t.Errorf("cut at %d of %d: no error after %d rows; the full decoder says %v", cut, len(data), rows, fullErr)
					}
					if err != nil && rows == m.Height {
						t.Errorf("cut at %d: error %v after every row", cut, err)
					}
					if err != nil {
						failed++
					}
				}
				if failed == 0 {
					t.Errorf("no cut of the file was refused")
				}
			})
		}
	})
}

// A cancel in the middle of a band (a strip, a row of tiles, the zlib
// stream of a PNG) returns ctx's error at once, before the next row.
func TestRowsCancelled(t *testing.T) {
	tiffPaths(t, func(t *testing.T) {
		for name, data := range files(t) {
			if name == "rgb-interlaced.png" {
				continue
			}
			t.Run(name, func(t *testing.T) {
				m, err := openers[formatOf(name)](bytes.NewReader(data), int64(len(data)))
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				last := -1
				err = m.Rows(ctx, func(y int, _ []byte) error {
					last = y
					if y == 5 {
						cancel()
					}
					return nil
				})
				if !errors.Is(err, context.Canceled) || last != 5 {
					t.Errorf("error %v after row %d, want context.Canceled after row 5", err, last)
				}
			})
		}
	})
}

// An error of the caller's function in the middle of a band ends Rows
// (and Strips) with that error, and no goroutine of theirs outlives the
// call: the TIFF workers, the PNG inflater, the JPEG strip decoder.
func TestRowsCallerError(t *testing.T) {
	stop := errors.New("stop")
	tiffPaths(t, func(t *testing.T) {
		for name, data := range files(t) {
			if name == "rgb-interlaced.png" {
				continue
			}
			t.Run(name, func(t *testing.T) {
				m, err := openers[formatOf(name)](bytes.NewReader(data), int64(len(data)))
				if err != nil {
					t.Fatal(err)
				}
				err = m.Rows(context.Background(), func(y int, _ []byte) error {
					if y == 5 {
						return stop
					}
					return nil
				})
				if err != stop {
					t.Errorf("error %v, want the caller's", err)
				}
				goleak.VerifyNone(t)
			})
		}
	})
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "photos", "plasma_FallenLeaf_2560x1600.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := JPEG(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = m.Strips(context.Background(), 2, func(image.Image) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Errorf("error %v after %d strips, want the caller's after 3", err, n)
	}
	goleak.VerifyNone(t)
}

// A JPEG opens for strips at a scale: they cover the image at that
// scale top to bottom, Rows refuses it, and a file cut short fails.
func TestJPEGStrips(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "photos", "plasma_FallenLeaf_2560x1600.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := JPEG(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Width != 2560 || m.Height != 1600 || !m.Scales || !m.YCbCr || m.Gray {
		t.Fatalf("opened as %+v", m)
	}
	if err := m.Rows(context.Background(), func(int, []byte) error { return nil }); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Rows: %v, want ErrUnsupported", err)
	}
	y := 0
	err = m.Strips(context.Background(), 4, func(s image.Image) error {
		if b := s.Bounds(); b.Min.Y != y || b.Dx() != 640 {
			t.Fatalf("strip %v after row %d", b, y)
		}
		y = s.Bounds().Max.Y
		return nil
	})
	if err != nil || y != 400 {
		t.Fatalf("strips end at row %d: %v", y, err)
	}
	short := data[:len(data)/2]
	m, err = JPEG(bytes.NewReader(short), int64(len(short)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Strips(context.Background(), 8, func(image.Image) error { return nil }); err == nil {
		t.Error("a file cut short: no error")
	}
}
