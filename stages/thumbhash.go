package stages

import (
	"encoding/base64"
	"image"
	"math"
)

// thumbHash encodes img (at most 100x100) as a ThumbHash, base64: the
// published algorithm (evanw.github.io/thumbhash, the reference
// rgbaToThumbHash), which keeps the aspect ratio and alpha, in 21 to 25
// bytes. Premultiplied pixels are taken back to straight alpha first, as
// the reference reads straight RGBA. Cost: about 8 cosines a pixel and
// coefficient.
func thumbHash(img *image.RGBA) string {
	b := img.Rect
	w, h := b.Dx(), b.Dy()
	rgba := make([]uint8, 0, 4*w*h)
	for y := range h {
		row := img.Pix[y*img.Stride:][:4*w]
		for x := 0; x < len(row); x += 4 {
			r, g, bl, a := row[x], row[x+1], row[x+2], row[x+3]
			if a != 0 && a != 255 {
				un := func(v uint8) uint8 { return uint8(min(255, (int(v)*255+int(a)/2)/int(a))) }
				r, g, bl = un(r), un(g), un(bl)
			}
			rgba = append(rgba, r, g, bl, a)
		}
	}
	return base64.StdEncoding.EncodeToString(rgbaToThumbHash(w, h, rgba))
}

// jsRound rounds as JavaScript's Math.round does (halves up), so that the
// bytes match the reference's.
func jsRound(v float64) int { return int(math.Floor(v + 0.5)) }

// rgbaToThumbHash is the reference's function of the same name: w x h
// straight-alpha RGBA pixels (w, h <= 100) to the hash's bytes.
func rgbaToThumbHash(w, h int, rgba []uint8) []byte {
	n := w * h
	// The average colour, weighted by alpha.
	var avgR, avgG, avgB, avgA float64
	for i := 0; i < n; i++ {
		alpha := float64(rgba[4*i+3]) / 255
		avgR += alpha / 255 * float64(rgba[4*i])
		avgG += alpha / 255 * float64(rgba[4*i+1])
		avgB += alpha / 255 * float64(rgba[4*i+2])
		avgA += alpha
	}
	if avgA > 0 {
		avgR, avgG, avgB = avgR/avgA, avgG/avgA, avgB/avgA
	}
	hasAlpha := avgA < float64(n)
	lLimit := 7.0
	if hasAlpha {
		lLimit = 5 // fewer luminance bits when there is alpha
	}
	side := float64(max(w, h))
	lx := max(1, jsRound(lLimit*float64(w)/side))
	ly := max(1, jsRound(lLimit*float64(h)/side))
	// RGBA to LPQA, composited atop the average colour.
	l, p, q, a := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		alpha := float64(rgba[4*i+3]) / 255
		r := avgR*(1-alpha) + alpha/255*float64(rgba[4*i])
		g := avgG*(1-alpha) + alpha/255*float64(rgba[4*i+1])
		b := avgB*(1-alpha) + alpha/255*float64(rgba[4*i+2])
		l[i] = (r + g + b) / 3
		p[i] = (r+g)/2 - b
		q[i] = r - g
		a[i] = alpha
	}
	// The DCT: a DC term and AC terms normalised by their largest.
	fx := make([]float64, w)
	encode := func(channel []float64, nx, ny int) (dc float64, ac []float64, scale float64) {
		for cy := 0; cy < ny; cy++ {
			for cx := 0; cx*ny < nx*(ny-cy); cx++ {
				for x := range w {
					fx[x] = math.Cos(math.Pi / float64(w) * float64(cx) * (float64(x) + 0.5))
				}
				f := 0.0
				for y := range h {
					fy := math.Cos(math.Pi / float64(h) * float64(cy) * (float64(y) + 0.5))
					row := channel[y*w:][:w]
					for x, v := range row {
						f += v * fx[x] * fy
					}
				}
				f /= float64(n)
				if cx > 0 || cy > 0 {
					ac = append(ac, f)
					scale = max(scale, math.Abs(f))
				} else {
					dc = f
				}
			}
		}
		if scale > 0 {
			for i := range ac {
				ac[i] = 0.5 + 0.5/scale*ac[i]
			}
		}
		return dc, ac, scale
	}
	lDC, lAC, lScale := encode(l, max(3, lx), max(3, ly))
	pDC, pAC, pScale := encode(p, 3, 3)
	qDC, qAC, qScale := encode(q, 3, 3)
	var aDC, aScale float64
	var aAC []float64
	if hasAlpha {
		aDC, aAC, aScale = encode(a, 5, 5)
	}
	landscape := w > h
	header24 := jsRound(63*lDC) | jsRound(31.5+31.5*pDC)<<6 | jsRound(31.5+31.5*qDC)<<12 | jsRound(31*lScale)<<18
	if hasAlpha {
		header24 |= 1 << 23
	}
	header16 := jsRound(63*pScale)<<3 | jsRound(63*qScale)<<9
	if landscape {
		header16 |= ly | 1<<15
	} else {
		header16 |= lx
	}
	hash := []byte{byte(header24), byte(header24 >> 8), byte(header24 >> 16), byte(header16), byte(header16 >> 8)}
	if hasAlpha {
		hash = append(hash, byte(jsRound(15*aDC)|jsRound(15*aScale)<<4))
	}
	start := len(hash)
	acs := [][]float64{lAC, pAC, qAC}
	if hasAlpha {
		acs = append(acs, aAC)
	}
	i := 0
	for _, ac := range acs {
		for _, f := range ac {
			at := start + i>>1
			if at == len(hash) {
				hash = append(hash, 0)
			}
			hash[at] |= byte(jsRound(15*f) << ((i & 1) << 2))
			i++
		}
	}
	return hash
}
