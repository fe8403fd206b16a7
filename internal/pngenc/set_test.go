package pngenc

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSet encodes every PNG in $IMGPIPE_PNG_SET with image/png and
// with each flate level on one goroutine, reporting the CPU ms an image
// and the mean size, against image/png's when that runs first: the
// measurement behind the levels, smoothBelow and filterStride (change it and run
// again). The set used: 2000 px PNG outputs of the 36 benchmark photos
// and a 100 MP file,
//
//	imgpipe resize /tmp/big100/big-100mp.jpg /tmp/bench-photos -o SET -w 2000 -H 2000 --format png
//	IMGPIPE_PNG_SET=SET go test -run X -bench Set -benchtime 1x ./internal/pngenc
func BenchmarkSet(b *testing.B) {
	dir := os.Getenv("IMGPIPE_PNG_SET")
	if dir == "" {
		b.Skip("IMGPIPE_PNG_SET not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	var imgs []image.Image
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	var stdSize int64
	var buf bytes.Buffer
	run := func(b *testing.B, enc func(image.Image) error) int64 {
		var size int64
		c0 := cpuTime()
		n := 0
		for b.Loop() {
			size = 0
			for _, img := range imgs {
				buf.Reset()
				if err := enc(img); err != nil {
					b.Fatal(err)
				}
				size += int64(buf.Len())
			}
			n++
		}
		b.ReportMetric(float64((cpuTime()-c0).Milliseconds())/float64(n*len(imgs)), "cpu-ms/img")
		b.ReportMetric(float64(size)/float64(len(imgs)), "bytes/img")
		if stdSize > 0 {
			b.ReportMetric(float64(size)/float64(stdSize), "size/std")
		}
		return size
	}
	b.Run("image-png", func(b *testing.B) {
		stdSize = run(b, func(img image.Image) error { return png.Encode(&buf, img) })
	})
	for _, t := range []float64{0.5, 1} {
		b.Run(fmt.Sprintf("auto-smoothBelow%g", t), func(b *testing.B) {
			defer func(old float64) { smoothBelow = old }(smoothBelow)
			smoothBelow = t
			run(b, func(img image.Image) error { return Encode(&buf, img, &Options{Workers: 1}) })
		})
	}
	for level := 1; level <= 9; level++ {
		b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
			run(b, func(img image.Image) error { return Encode(&buf, img, &Options{Level: level, Workers: 1}) })
		})
	}

}
