// Command psnr is a helper of bench/compare.sh.
//
//	psnr A B          prints the PSNR in dB of image B against image A over
//	                  the R, G and B channels (8 bits), or "inf" if they are
//	                  identical. Nothing is resized: when the sizes differ by
//	                  at most 2 pixels a side (two resizers rounding a box
//	                  differently) both are cropped to the common top-left
//	                  part and the value is followed by " sizes-differ" (the
//	                  two were scaled by slightly different factors, so their
//	                  pixels drift apart: a small image loses many dB to it);
//	                  a larger difference is an error.
//	psnr -luma A B    the same over luma (BT.601: 0.299 R + 0.587 G +
//	                  0.114 B), as bench/big.sh reports it.
//	psnr -mp FILE...  prints the total megapixels of the images (from their
//	                  headers) and how many there are: "241.6 36".
//
// It reads what imgpipe reads (JPEG, PNG, GIF, BMP, TIFF, WebP; an
// animation's first frame), through imgpipe's format registry: lossy WebP
// read by golang.org/x/image/webp alone would be converted to RGB with the
// full-range JPEG formula, washed out (a q80 photo measured 27.2 dB that
// way, 40.1 dB read right, 40.4 dB decoded by dwebp).
package main

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"os"

	"github.com/imgpipe/imgpipe/internal/format"
)

// maxDiff is the largest size difference, in pixels a side, that is
// cropped away rather than refused.
const maxDiff = 2

func main() {
	args := os.Args[1:]
	if len(args) >= 1 && args[0] == "-mp" {
		if err := megapixels(args[1:]); err != nil {
			fail(err)
		}
		return
	}
	if len(args) == 3 && args[0] == "-luma" {
		luma, args = true, args[1:]
	}
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: psnr [-luma] A B | psnr -mp FILE...")
		os.Exit(2)
	}
	a, err := load(args[0])
	if err != nil {
		fail(err)
	}
	b, err := load(args[1])
	if err != nil {
		fail(err)
	}
	p, err := psnr(a, b)
	if err != nil {
		fail(fmt.Errorf("%s vs %s: %w", args[0], args[1], err))
	}
	v := fmt.Sprintf("%.2f", p)
	if math.IsInf(p, 1) {
		v = "inf"
	}
	if a.Bounds().Size() != b.Bounds().Size() {
		v += " sizes-differ"
	}
	fmt.Println(v)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "psnr:", err)
	os.Exit(1)
}

func load(path string) (image.Image, error) {
	f, data, err := sniff(path)
	if err != nil {
		return nil, err
	}
	img, err := f.Decode(bytes.NewReader(data), 1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// sniff reads a file and finds its format.
func sniff(path string) (*format.Format, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	f := format.Sniff(data[:min(len(data), format.HeadLen)])
	if f == nil || !f.Readable() {
		return nil, nil, fmt.Errorf("%s: not an image this build reads", path)
	}
	return f, data, nil
}

// luma: psnr compares luma, not R, G and B.
var luma bool

// psnr compares the common top-left part of a and b.
func psnr(a, b image.Image) (float64, error) {
	ab, bb := a.Bounds(), b.Bounds()
	if d := abs(ab.Dx() - bb.Dx()); d > maxDiff {
		return 0, fmt.Errorf("widths %d and %d differ by more than %d pixels", ab.Dx(), bb.Dx(), maxDiff)
	}
	if d := abs(ab.Dy() - bb.Dy()); d > maxDiff {
		return 0, fmt.Errorf("heights %d and %d differ by more than %d pixels", ab.Dy(), bb.Dy(), maxDiff)
	}
	w, h := min(ab.Dx(), bb.Dx()), min(ab.Dy(), bb.Dy())
	if w == 0 || h == 0 {
		return 0, fmt.Errorf("empty image")
	}
	var sum float64
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			if luma {
				d := (0.299*float64(r1>>8) + 0.587*float64(g1>>8) + 0.114*float64(b1>>8)) -
					(0.299*float64(r2>>8) + 0.587*float64(g2>>8) + 0.114*float64(b2>>8))
				sum += 3 * d * d
				continue
			}
			sum += sq(r1, r2) + sq(g1, g2) + sq(b1, b2)
		}
	}
	mse := sum / float64(3*w*h)
	if mse == 0 {
		return math.Inf(1), nil
	}
	return 10 * math.Log10(255*255/mse), nil
}

// sq is the squared difference of two 16-bit channel values, on the 8-bit scale.
func sq(u, v uint32) float64 {
	d := float64(u>>8) - float64(v>>8)
	return d * d
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func megapixels(paths []string) error {
	var total float64
	for _, p := range paths {
		f, data, err := sniff(p)
		if err != nil {
			return err
		}
		cfg, err := f.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		total += float64(cfg.Width) * float64(cfg.Height) / 1e6
	}
	fmt.Printf("%.1f %d\n", total, len(paths))
	return nil
}
