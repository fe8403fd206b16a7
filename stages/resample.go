package stages

import (
	"image"
	"image/color"
	"math"

	"github.com/disintegration/imaging"
)

// filter is a resampling kernel: its support radius and its weight function.
type filter struct {
	support float64
	kernel  func(float64) float64
}

// filters are the --filter choices. The kernels are imaging's.
var filters = map[string]filter{
	"lanczos":    {imaging.Lanczos.Support, imaging.Lanczos.Kernel},
	"catmullrom": {imaging.CatmullRom.Support, imaging.CatmullRom.Kernel},
	"mitchell":   {imaging.MitchellNetravali.Support, imaging.MitchellNetravali.Kernel},
	"linear":     {imaging.Linear.Support, imaging.Linear.Kernel},
	"box":        {imaging.Box.Support, imaging.Box.Kernel},
	"nearest":    {0, nil},
}

// taps holds, for each output pixel along one axis, the first source pixel
// it reads and the normalised weights of the pixels from there on.
type taps struct {
	start []int
	w     [][]float32
}

// weights computes the taps that resample n source pixels into m output
// pixels with f. When shrinking, the kernel is widened by the scale factor
// so every source pixel contributes (no aliasing).
func weights(n, m int, f filter) taps {
	t := taps{start: make([]int, m), w: make([][]float32, m)}
	scale := float64(n) / float64(m)
	if f.kernel == nil { // nearest
		for i := range m {
			t.start[i] = min(n-1, int((float64(i)+0.5)*scale))
			t.w[i] = []float32{1}
		}
		return t
	}
	widen := max(scale, 1)
	support := f.support * widen
	for i := range m {
		center := (float64(i)+0.5)*scale - 0.5
		lo := max(0, int(math.Ceil(center-support)))
		hi := min(n-1, int(math.Floor(center+support)))
		if hi < lo { // a box narrower than a pixel: take the nearest
			lo = min(n-1, max(0, int(math.Round(center))))
			hi = lo
		}
		ws := make([]float32, hi-lo+1)
		var sum float64
		for j := lo; j <= hi; j++ {
			v := f.kernel((float64(j) - center) / widen)
			ws[j-lo] = float32(v)
			sum += v
		}
		if sum == 0 {
			ws = []float32{1}
			lo = min(n-1, max(0, int(math.Round(center))))
		} else {
			for j := range ws {
				ws[j] = float32(float64(ws[j]) / sum)
			}
		}
		t.start[i], t.w[i] = lo, ws
	}
	return t
}

// convolve resamples one row of 4-channel pixels, src, into dst along taps t.
// dstStep and srcStep are the byte distances between pixels.
func convolve(dst []uint8, dstStep int, src []uint8, srcStep int, t taps) {
	var acc [4]float32
	for i, ws := range t.w {
		acc = [4]float32{}
		p := t.start[i] * srcStep
		for _, wt := range ws {
			s := src[p : p+4 : p+4]
			acc[0] += wt * float32(s[0])
			acc[1] += wt * float32(s[1])
			acc[2] += wt * float32(s[2])
			acc[3] += wt * float32(s[3])
			p += srcStep
		}
		pack(dst[i*dstStep:i*dstStep+4], acc[:])
	}
}

// pack rounds premultiplied RGBA sums to bytes, clamping the overshoot of
// filters with negative lobes so that no colour exceeds its alpha.
func pack(dst []uint8, acc []float32) {
	for i := 0; i+3 < len(acc); i += 4 {
		a := clamp8(acc[i+3])
		dst[i+3] = a
		dst[i] = min(clamp8(acc[i]), a)
		dst[i+1] = min(clamp8(acc[i+1]), a)
		dst[i+2] = min(clamp8(acc[i+2]), a)
	}
}

func clamp8(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// rowReader returns a function that fills dst with the premultiplied RGBA
// pixels of row y, columns x0 to x1, of img. Common image types are read
// directly; others go through At, which is slow but correct.
func rowReader(img image.Image) func(dst []uint8, x0, x1, y int) {
	switch m := img.(type) {
	case *image.RGBA:
		return func(dst []uint8, x0, x1, y int) {
			copy(dst, m.Pix[m.PixOffset(x0, y):m.PixOffset(x1, y)])
		}
	case *image.NRGBA:
		return func(dst []uint8, x0, x1, y int) {
			src := m.Pix[m.PixOffset(x0, y):m.PixOffset(x1, y)]
			for i := 0; i+3 < len(src); i += 4 {
				a := uint32(src[i+3])
				dst[i+3] = uint8(a)
				if a == 255 {
					dst[i], dst[i+1], dst[i+2] = src[i], src[i+1], src[i+2]
					continue
				}
				dst[i] = uint8((uint32(src[i])*a + 127) / 255)
				dst[i+1] = uint8((uint32(src[i+1])*a + 127) / 255)
				dst[i+2] = uint8((uint32(src[i+2])*a + 127) / 255)
			}
		}
	case *image.YCbCr:
		return func(dst []uint8, x0, x1, y int) {
			yi := m.YOffset(x0, y) - x0
			for x := x0; x < x1; x++ {
				ci := m.COffset(x, y)
				r, g, b := color.YCbCrToRGB(m.Y[yi+x], m.Cb[ci], m.Cr[ci])
				i := 4 * (x - x0)
				dst[i], dst[i+1], dst[i+2], dst[i+3] = r, g, b, 255
			}
		}
	case *image.Gray:
		return func(dst []uint8, x0, x1, y int) {
			src := m.Pix[m.PixOffset(x0, y):m.PixOffset(x1, y)]
			for i, v := range src {
				dst[4*i], dst[4*i+1], dst[4*i+2], dst[4*i+3] = v, v, v, 255
			}
		}
	}
	return func(dst []uint8, x0, x1, y int) {
		for x := x0; x < x1; x++ {
			r, g, b, a := img.At(x, y).RGBA()
			i := 4 * (x - x0)
			dst[i], dst[i+1], dst[i+2], dst[i+3] = uint8(r>>8), uint8(g>>8), uint8(b>>8), uint8(a>>8)
		}
	}
}
