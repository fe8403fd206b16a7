package pngenc

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"

	xdraw "golang.org/x/image/draw"
)

// load decodes a file of the repository's testdata.
func load(t testing.TB, name string) image.Image {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var img image.Image
	if filepath.Ext(name) == ".png" {
		img, err = png.Decode(f)
	} else {
		img, err = jpeg.Decode(f)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return img
}

// convert returns img's pixels as the named type (premultiplied types
// get alpha-premultiplied colours, as draw makes them).
func convert(img image.Image, kind string) image.Image {
	b := img.Bounds()
	r := image.Rect(0, 0, b.Dx(), b.Dy())
	var dst draw.Image
	switch kind {
	case "gray":
		dst = image.NewGray(r)
	case "gray16":
		dst = image.NewGray16(r)
	case "nrgba":
		dst = image.NewNRGBA(r)
	case "rgba":
		dst = image.NewRGBA(r)
	case "nrgba64":
		dst = image.NewNRGBA64(r)
	case "rgba64":
		dst = image.NewRGBA64(r)
	default:
		panic(kind)
	}
	draw.Draw(dst, r, img, b.Min, draw.Src)
	return dst
}

// translucent gives img varied alpha (a ramp, with fully transparent and
// fully opaque pixels) so that RGBA, not RGB, is written.
func translucent(img image.Image) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.Pix[out.PixOffset(x, y)+3] = uint8((x*7 + y*3) % 300 * 255 / 299)
		}
	}
	return out
}

// deepen spreads 8-bit samples over 16 bits with varying low bytes, so
// that a 16-bit round trip is really tested.
func deepen(img image.Image) *image.NRGBA64 {
	b := img.Bounds()
	out := image.NewNRGBA64(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	for i := range out.Pix {
		if i%2 == 1 && i%8 != 7 {
			out.Pix[i] ^= uint8(i * 37)
		}
	}
	return out
}

// stdRoundTrip is what image/png's encoder makes of img, decoded.
func stdRoundTrip(t testing.TB, img image.Image) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	out, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// samePixels fails unless got and want are images of the same type and
// size with the same pixels.
func samePixels(t testing.TB, got, want image.Image) {
	t.Helper()
	if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
		t.Fatalf("decoded to %T, want %T", got, want)
	}
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Fatalf("size %v, want %v", got.Bounds().Size(), want.Bounds().Size())
	}
	g, w := nrgba64(got), nrgba64(want)
	if !bytes.Equal(g.Pix, w.Pix) {
		for i := range g.Pix {
			if g.Pix[i] != w.Pix[i] {
				p := i / 8
				t.Fatalf("pixel (%d,%d) differs: %v, want %v", p%g.Rect.Dx(), p/g.Rect.Dx(),
					g.Pix[p*8:p*8+8], w.Pix[p*8:p*8+8])
			}
		}
	}
}

// nrgba64 copies img's pixels, at the origin, into an NRGBA64 image.
func nrgba64(img image.Image) *image.NRGBA64 {
	b := img.Bounds()
	out := image.NewNRGBA64(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	return out
}

func encodeDecode(t testing.TB, img image.Image, o *Options) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, img, o); err != nil {
		t.Fatal(err)
	}
	out, err := png.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("image/png cannot decode the file: %v", err)
	}
	return out
}

var kinds = []string{"gray", "gray16", "nrgba", "rgba", "nrgba64", "rgba64"}

// TestRoundTrip encodes real photos, opaque and translucent, 8- and
// 16-bit, whole and cropped to awkward sizes (1x1, odd widths, a sub-image
// not at the origin), in one chunk and in many on several goroutines (a
// whole 640x480 photo is several chunks of the default size), and
// checks that image/png decodes them to the pixels of the image itself
// and of image/png's own file.
func TestRoundTrip(t *testing.T) {
	sources := map[string]image.Image{
		"photo":       load(t, "photos/camera_Nikon_P6000_GPS.jpg"),
		"alpha":       load(t, "formats/alpha.png"),
		"1x1":         load(t, "edge/1x1.png"),
		"translucent": translucent(load(t, "photos/camera_Nikon_P6000_GPS.jpg")),
		"deep":        deepen(translucent(load(t, "photos/camera_Nikon_P6000_GPS.jpg"))),
	}
	crops := map[string]image.Rectangle{
		"whole":   {},
		"1x1":     image.Rect(10, 20, 11, 21),
		"1x9":     image.Rect(3, 0, 4, 9),
		"odd":     image.Rect(5, 7, 5+333, 7+61),
		"one-row": image.Rect(0, 40, 71, 41),
		"medium":  image.Rect(100, 50, 100+201, 50+150),
	}
	opts := map[string]*Options{
		"default":   nil,
		"chunks":    {Chunk: 1500, Workers: 3},
		"serial":    {Chunk: 700, Workers: 1},
		"level1":    {Level: 1, Chunk: 4000},
		"level9":    {Level: 9, Chunk: 5000, Workers: 2},
		"tinychunk": {Chunk: 1, Workers: 4},
	}
	for sname, src := range sources {
		for _, kind := range kinds {
			img := convert(src, kind)
			for cname, r := range crops {
				sub := img
				if !r.Empty() {
					if !r.In(img.Bounds()) {
						continue
					}
					sub = img.(interface {
						SubImage(image.Rectangle) image.Image
					}).SubImage(r)
				}
				want := stdRoundTrip(t, sub)
				for oname, o := range opts {
					// Many chunks, each primed with a 32 KiB dictionary, are
					// slow under -race: each crop takes the chunk sizes that
					// still give it a few chunks (149 CPU s with all, 102 without).
					small := o != nil && o.Chunk < 4000
					if cname == "whole" && oname != "default" || cname == "medium" && small ||
						cname == "odd" && oname == "tinychunk" {
						continue
					}
					t.Run(sname+"/"+kind+"/"+cname+"/"+oname, func(t *testing.T) {
						got := encodeDecode(t, sub, o)
						samePixels(t, got, want)
						if kind != "rgba" && kind != "rgba64" { // straight alpha: exact
							samePixels(t, got, convert(sub, kindOf(got)))
						}
					})
				}
			}
		}
	}
}

// kindOf names the type of a decoded image as convert does.
func kindOf(img image.Image) string {
	switch img.(type) {
	case *image.Gray:
		return "gray"
	case *image.Gray16:
		return "gray16"
	case *image.NRGBA:
		return "nrgba"
	case *image.RGBA:
		return "rgba"
	case *image.NRGBA64:
		return "nrgba64"
	case *image.RGBA64:
		return "rgba64"
	}
	return fmt.Sprintf("%T", img)
}

var (
	benchOnce           sync.Once
	benchImg, benchFlat *image.RGBA
)

// photo2000 is a 2000x1333 photo: the 2560x1600 plasma photo in testdata,
// cropped to 3:2 and reduced as the pipeline's outputs are, an opaque
// *image.RGBA.
func photo2000(b testing.TB) *image.RGBA {
	benchOnce.Do(func() {
		benchImg = reduce(load(b, "photos/plasma_FallenLeaf_2560x1600.jpg"), image.Rect(80, 0, 2480, 1600))
		flat := load(b, "photos/Painting-Colors_by__herobrine7gamer.jpg")
		benchFlat = reduce(flat, flat.Bounds())
	})
	return benchImg
}

// flat2000 is a flat, painted image: the 6000x4000 painting in testdata
// at 2000x1333.
func flat2000(b testing.TB) *image.RGBA {
	photo2000(b)
	return benchFlat
}

func reduce(src image.Image, r image.Rectangle) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, 2000, 1333))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, r, xdraw.Src, nil)
	return dst
}

// BenchmarkEncode compares Encode with image/png's default encoder on a
// 2000x1333 photo and a flat painting (opaque *image.RGBA, written as
// RGB), reporting the file's size; compare with
//
//	go test -run X -bench Encode -count 8 ./internal/pngenc | benchstat -col /enc -
func BenchmarkEncode(b *testing.B) {
	for _, src := range []struct {
		name string
		img  *image.RGBA
	}{{"photo", photo2000(b)}, {"flat", flat2000(b)}} {
		img := src.img
		var buf bytes.Buffer
		run := func(b *testing.B, enc func() error) {
			b.SetBytes(int64(len(img.Pix) / 4 * 3))
			for b.Loop() {
				buf.Reset()
				if err := enc(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "file-bytes")
		}
		b.Run("img="+src.name+"/enc=image-png", func(b *testing.B) {
			run(b, func() error { return png.Encode(&buf, img) })
		})
		b.Run("img="+src.name+"/enc=pngenc", func(b *testing.B) {
			run(b, func() error { return Encode(&buf, img, nil) })
		})
		b.Run("img="+src.name+"/enc=pngenc-1worker", func(b *testing.B) {
			run(b, func() error { return Encode(&buf, img, &Options{Workers: 1}) })
		})
	}
}
