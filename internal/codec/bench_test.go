//go:build nodynamic

package codec

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/gen2brain/avif"
	"github.com/gen2brain/webp"
)

// benchPhoto is an 800x533 photo (3:2 crop of the FallenLeaf wallpaper), the size of a
// typical web output.
func benchPhoto(b *testing.B) *image.NRGBA {
	return photo(b, "plasma_FallenLeaf_2560x1600.jpg", 800, 533)
}

// loop times f: once outside the timer first (the first call compiles the WebAssembly
// module), then for b.Loop, failing on any error.
func loop(b *testing.B, f func() error) {
	b.Helper()
	if err := f(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeWebP(b *testing.B) {
	src := benchPhoto(b)
	for _, tc := range []struct {
		name     string
		lossless bool
	}{{"q85", false}, {"lossless", true}} {
		b.Run(tc.name, func(b *testing.B) {
			var n int
			enc := func() error {
				var buf bytes.Buffer
				err := EncodeWebP(&buf, src, 85, tc.lossless)
				n = buf.Len()
				return err
			}
			loop(b, enc)
			b.ReportMetric(float64(n), "bytes/img")
		})
	}
	// libwebp's lossless "quality" is its effort (0 fastest … 100 smallest).
	for _, effort := range []int{25, 50, 75, 85} {
		b.Run(fmt.Sprintf("lossless-effort%d", effort), func(b *testing.B) {
			var out bytes.Buffer
			enc := func() error {
				out.Reset()
				return webp.Encode(&out, src, webp.Options{Lossless: true, Quality: effort, Method: webpMethod})
			}
			loop(b, enc)
			b.ReportMetric(float64(out.Len()), "bytes/img")
		})
	}
}

// BenchmarkEncodeAVIF measures EncodeAVIF (speed avifSpeed) and, for the record, the other
// libaom speeds the choice was made from.
func BenchmarkEncodeAVIF(b *testing.B) {
	src := benchPhoto(b)
	b.Run("q60", func(b *testing.B) {
		var n int
		enc := func() error {
			var buf bytes.Buffer
			err := EncodeAVIF(&buf, src, 60)
			n = buf.Len()
			return err
		}
		loop(b, enc)
		b.ReportMetric(float64(n), "bytes/img")
	})
	rgba := toRGBA(src)
	for _, speed := range []int{6, 8, 9, 10} {
		b.Run(fmt.Sprintf("q60-speed%d", speed), func(b *testing.B) {
			var out bytes.Buffer
			enc := func() error {
				out.Reset()
				return avif.Encode(&out, rgba, avif.Options{Quality: 60, QualityAlpha: 60, Speed: speed, ChromaSubsampling: image.YCbCrSubsampleRatio420})
			}
			loop(b, enc)
			got, err := Decode("avif", bytes.NewReader(out.Bytes()))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(out.Len()), "bytes/img")
			b.ReportMetric(psnr(b, src, got), "dB")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	files := []struct{ format, path string }{
		{"avif", filepath.Join("testdata", "avif_picosdeeuropa.avif")},
		{"heif", filepath.Join("testdata", "picos_160x120.heic")},
		{"webp-anim", filepath.Join("testdata", "image-rs_anim.webp")},
	}
	if dir := os.Getenv("IMGPIPE_CORPUS"); dir != "" {
		files = append(files, struct{ format, path string }{"heif", filepath.Join(dir, "formats/unsupported/iPhone11_IMG_5195.HEIC")})
	}
	for _, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(f.format+"/"+filepath.Base(f.path), func(b *testing.B) {
			dec := func() error {
				_, err := Decode(f.format, bytes.NewReader(data))
				return err
			}
			loop(b, dec)
		})
	}
}
