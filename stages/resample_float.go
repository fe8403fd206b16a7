package stages

import (
	"image"
	"math"
	"sync"
)

// resampleFloat is resample in float32, for the two cases 8-bit integer
// arithmetic cannot serve: linear-light resizing (sRGB decoded to linear
// before filtering and encoded after, which keeps fine bright detail from
// darkening) and 16-bit sources (deep), whose output keeps 16 bits. It
// costs about four times the memory of resample for the intermediate.
func resampleFloat(src image.Image, a area, w, h int, f filter, linear, deep bool) image.Image {
	r := a.r
	xw, yw := a.taps(w, h, f)
	mid := make([]float32, 4*w*r.Dy())
	row := make([]float32, 4*r.Dx())
	read := rowReader64(src)
	for y := 0; y < r.Dy(); y++ {
		read(row, r.Min.X, r.Max.X, r.Min.Y+y, linear)
		out := mid[4*w*y : 4*w*(y+1)]
		for i, ws := range xw.w {
			var acc [4]float32
			p := 4 * xw.start[i]
			for _, wt := range ws {
				acc[0] += wt * row[p]
				acc[1] += wt * row[p+1]
				acc[2] += wt * row[p+2]
				acc[3] += wt * row[p+3]
				p += 4
			}
			copy(out[4*i:4*i+4], acc[:])
		}
	}
	acc := make([]float32, 4*w)
	var dst8 *image.RGBA
	var dst16 *image.RGBA64
	if deep {
		dst16 = image.NewRGBA64(image.Rect(0, 0, w, h))
	} else {
		dst8 = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	for y := 0; y < h; y++ {
		clear(acc)
		for k, wt := range yw.w[y] {
			src := mid[4*w*(yw.start[y]+k):][:4*w]
			for i, v := range src {
				acc[i] += wt * v
			}
		}
		for x := 0; x < w; x++ {
			c := acc[4*x : 4*x+4]
			a := clamp01(c[3])
			var rgb [3]float32
			for k := range 3 {
				v := min(clamp01(c[k]), a) // premultiplied: no channel above alpha
				if linear && a > 0 {
					v = toSRGB(v/a) * a // encode the straight colour, premultiply again
				}
				rgb[k] = v
			}
			if deep {
				i := y*dst16.Stride + 8*x
				for k, v := range [4]float32{rgb[0], rgb[1], rgb[2], a} {
					u := uint16(v*65535 + 0.5)
					dst16.Pix[i+2*k], dst16.Pix[i+2*k+1] = uint8(u>>8), uint8(u)
				}
			} else {
				i := y*dst8.Stride + 4*x
				dst8.Pix[i], dst8.Pix[i+1], dst8.Pix[i+2], dst8.Pix[i+3] =
					uint8(rgb[0]*255+0.5), uint8(rgb[1]*255+0.5), uint8(rgb[2]*255+0.5), uint8(a*255+0.5)
			}
		}
	}
	if deep {
		return dst16
	}
	return dst8
}

func clamp01(v float32) float32 { return max(0, min(1, v)) }

// rowReader64 returns a function that fills dst with the premultiplied
// RGBA of row y, columns x0 to x1, as floats in 0..1, in linear light when
// asked.
func rowReader64(img image.Image) func(dst []float32, x0, x1, y int, linear bool) {
	return func(dst []float32, x0, x1, y int, linear bool) {
		lut := linearLUT()
		for x := x0; x < x1; x++ {
			r, g, b, a := img.At(x, y).RGBA() // premultiplied, 16-bit
			i := 4 * (x - x0)
			fa := float32(a) / 65535
			dst[i+3] = fa
			for k, v := range [3]uint32{r, g, b} {
				switch {
				case !linear || a == 0:
					dst[i+k] = float32(v) / 65535
				case a == 0xffff:
					dst[i+k] = lut[v]
				default:
					dst[i+k] = lut[min(v*0xffff/a, 0xffff)] * fa
				}
			}
		}
	}
}

// linearLUT maps each 16-bit sRGB level to linear light.
var linearLUT = sync.OnceValue(func() *[65536]float32 {
	var t [65536]float32
	for i := range t {
		t[i] = toLinear(float32(i) / 65535)
	}
	return &t
})

// toLinear and toSRGB are the sRGB transfer function and its inverse.
func toLinear(v float32) float32 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return float32(math.Pow((float64(v)+0.055)/1.055, 2.4))
}

func toSRGB(v float32) float32 {
	if v <= 0.0031308 {
		return v * 12.92
	}
	return float32(1.055*math.Pow(float64(v), 1/2.4) - 0.055)
}
