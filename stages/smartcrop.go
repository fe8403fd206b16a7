package stages

import (
	"image"
	"math"
)

// scoutSize is the long side, in pixels, of the copy that trim boxes aside,
// smart crops are found on. A crop placed to within 1/256 of the image is
// placed to within a few output pixels of any thumbnail, and the copy costs
// a box-filtered read of the decoded pixels (see README, For web builds).
const scoutSize = 256

// scout is a small copy of a decoded image, made once per input when a
// target needs it, with the maps that smart crops are scored on.
type scout struct {
	img      *image.RGBA // at most scoutSize on the long side
	sx, sy   float64     // scout pixels per full-size source pixel
	lum      []uint8     // luminance
	saliency []float32   // for attention
	busy     []float32   // for entropy
}

// newScout shrinks the decoded image src of an upright w x h input.
func newScout(src image.Image, w, h int) *scout {
	b := src.Bounds()
	f := min(1, scoutSize/float64(max(b.Dx(), b.Dy())))
	sw, sh := max(1, round(float64(b.Dx())*f)), max(1, round(float64(b.Dy())*f))
	var img image.Image
	if ycc, ok := src.(*image.YCbCr); ok && (sw != b.Dx() || sh != b.Dy()) {
		// Shrink the planes as they are and convert only the small copy:
		// converting every decoded pixel to RGB cost more than the rest of
		// the smart crop together.
		img = resampleYCbCr(ycc, b, sw, sh, filters["box"])
		b = img.Bounds()
	} else {
		img = resample(src, b, sw, sh, filters["box"])
	}
	rgba, ok := img.(*image.RGBA)
	if !ok || rgba.Bounds().Min != (image.Point{}) {
		rgba = image.NewRGBA(image.Rect(0, 0, sw, sh))
		read := rowReader(img)
		for y := range sh {
			read(rgba.Pix[y*rgba.Stride:][:4*sw], b.Min.X, b.Min.X+sw, b.Min.Y+y)
		}
	}
	return &scout{img: rgba, sx: float64(sw) / float64(w), sy: float64(sh) / float64(h)}
}

// luminance returns (and keeps) the Rec. 601 luma of every scout pixel.
func (s *scout) luminance() []uint8 {
	if s.lum != nil {
		return s.lum
	}
	p := s.img.Pix
	s.lum = make([]uint8, len(p)/4)
	for i := range s.lum {
		r, g, b := int32(p[4*i]), int32(p[4*i+1]), int32(p[4*i+2])
		s.lum[i] = uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 16)
	}
	return s.lum
}

// attention returns (and keeps) the saliency of every scout pixel: edges
// (the absolute Laplacian of luminance), skin tones and saturated colour,
// weighted as smartcrop.js and libvips' attention crop weigh them (skin
// above all, then detail, then saturation).
func (s *scout) attention() []float32 {
	if s.saliency != nil {
		return s.saliency
	}
	w, h := s.img.Rect.Dx(), s.img.Rect.Dy()
	lum, p := s.luminance(), s.img.Pix
	s.saliency = make([]float32, w*h)
	for y := range h {
		for x := range w {
			i := y*w + x
			l := float32(lum[i])
			// Edges: 4 * centre - the 4 neighbours (clamped at the sides).
			n := float32(lum[max(y-1, 0)*w+x]) + float32(lum[min(y+1, h-1)*w+x]) +
				float32(lum[y*w+max(x-1, 0)]) + float32(lum[y*w+min(x+1, w-1)])
			edge := abs32f(4*l-n) / 255
			r, g, b := float32(p[4*i])/255, float32(p[4*i+1])/255, float32(p[4*i+2])/255
			light := l / 255
			// Skin: the direction of (r, g, b) close to that of skin tones.
			var skin float32
			if mag := float32(math.Sqrt(float64(r*r + g*g + b*b))); mag > 0 && light >= 0.2 {
				dr, dg, db := r/mag-0.78, g/mag-0.57, b/mag-0.44
				if d := 1 - float32(math.Sqrt(float64(dr*dr+dg*dg+db*db))); d > 0.8 {
					skin = (d - 0.8) / 0.2
				}
			}
			// Saturation (HSL) of colours neither near black nor near white.
			var sat float32
			if light > 0.05 && light < 0.9 {
				hi, lo := max(r, g, b), min(r, g, b)
				if l2 := (hi + lo) / 2; hi > lo {
					s := (hi - lo) / (1 - abs32f(2*l2-1))
					if s > 0.4 {
						sat = (min(s, 1) - 0.4) / 0.6
					}
				}
			}
			s.saliency[i] = 2*edge + 1.8*skin + 0.3*sat
		}
	}
	return s.saliency
}

func abs32f(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// crop returns the position, in full-size source pixels, of the cw x ch
// crop within area (of a w x h source) that anchor ("attention" or
// "entropy") prefers. Of windows that score the same, the one nearest
// the centre of area wins, so a flat image is cropped as center does.
func (s *scout) crop(area image.Rectangle, cw, ch int, anchor string) image.Rectangle {
	W, H := s.img.Rect.Dx(), s.img.Rect.Dy()
	// The area and the window in scout pixels.
	a := image.Rect(int(float64(area.Min.X)*s.sx), int(float64(area.Min.Y)*s.sy),
		min(W, int(math.Ceil(float64(area.Max.X)*s.sx))), min(H, int(math.Ceil(float64(area.Max.Y)*s.sy))))
	ww := max(1, min(a.Dx(), round(float64(cw)*s.sx)))
	wh := max(1, min(a.Dy(), round(float64(ch)*s.sy)))
	nx, ny := a.Dx()-ww+1, a.Dy()-wh+1
	scores := make([]float64, nx*ny)
	m := s.attention
	if anchor == "entropy" {
		m = s.busyness
	}
	s.sums(scores, m(), a, ww, wh)
	best, bestD := -1, math.Inf(1)
	top := math.Inf(-1)
	for _, v := range scores {
		top = max(top, v)
	}
	cx, cy := float64(nx-1)/2, float64(ny-1)/2
	for i, v := range scores {
		if v < top-1e-9*math.Abs(top) {
			continue
		}
		dx, dy := float64(i%nx)-cx, float64(i/nx)-cy
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = i, d
		}
	}
	// Back to source pixels: the window's centre, kept inside the area.
	mx := (float64(a.Min.X+best%nx) + float64(ww)/2) / s.sx
	my := (float64(a.Min.Y+best/nx) + float64(wh)/2) / s.sy
	x := max(area.Min.X, min(area.Max.X-cw, round(mx-float64(cw)/2)))
	y := max(area.Min.Y, min(area.Max.Y-ch, round(my-float64(ch)/2)))
	return image.Rect(x, y, x+cw, y+ch)
}

// sums fills scores[j*nx+i] with the sum of m over the ww x wh window at
// (a.Min.X+i, a.Min.Y+j), from a summed-area table of m over a.
func (s *scout) sums(scores []float64, m []float32, a image.Rectangle, ww, wh int) {
	W := s.img.Rect.Dx()
	sw := a.Dx() + 1
	sat := make([]float64, sw*(a.Dy()+1))
	for y := range a.Dy() {
		var run float64
		for x := range a.Dx() {
			run += float64(m[(a.Min.Y+y)*W+a.Min.X+x])
			sat[(y+1)*sw+x+1] = sat[y*sw+x+1] + run
		}
	}
	nx, ny := a.Dx()-ww+1, a.Dy()-wh+1
	for j := range ny {
		for i := range nx {
			scores[j*nx+i] = sat[(j+wh)*sw+i+ww] - sat[j*sw+i+ww] - sat[(j+wh)*sw+i] + sat[j*sw+i]
		}
	}
}

// entropyBlock is the side, in scout pixels, of the blocks whose
// luminance entropy "entropy" sums, and entropyBins the histogram's bins.
// Small blocks measure texture: a smooth gradient (a sky) has few levels in
// any one block however many it has across the image, which the entropy of
// a whole window would count as busy.
const (
	entropyBlock = 8
	entropyBins  = 32
)

// busyness returns (and keeps) the entropy map: each scout pixel holds the
// entropy, in bits, of the luminance histogram of its entropyBlock block.
func (s *scout) busyness() []float32 {
	if s.busy != nil {
		return s.busy
	}
	w, h := s.img.Rect.Dx(), s.img.Rect.Dy()
	lum := s.luminance()
	s.busy = make([]float32, w*h)
	var hist [entropyBins]int
	for by := 0; by < h; by += entropyBlock {
		for bx := 0; bx < w; bx += entropyBlock {
			hist = [entropyBins]int{}
			x1, y1 := min(bx+entropyBlock, w), min(by+entropyBlock, h)
			for y := by; y < y1; y++ {
				for _, v := range lum[y*w+bx : y*w+x1] {
					hist[int(v)*entropyBins/256]++
				}
			}
			n := float64((x1 - bx) * (y1 - by))
			var e float64
			for _, c := range hist {
				if c > 0 {
					p := float64(c) / n
					e -= p * math.Log2(p)
				}
			}
			for y := by; y < y1; y++ {
				row := s.busy[y*w+bx : y*w+x1]
				for i := range row {
					row[i] = float32(e)
				}
			}
		}
	}
	return s.busy
}
