package stages

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"math"
	"strings"

	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/internal/icc"
)

// Placeholder kinds (Output.Placeholder).
const (
	// PlaceholderBlurHash is a BlurHash (blurha.sh): 4x3 cosine components
	// (3x4 for a portrait) of the image in about 28 ASCII characters.
	PlaceholderBlurHash = "blurhash"
	// PlaceholderLQIP is a low-quality image placeholder: a JPEG 16 pixels
	// on its long side, as a data: URI (about 500 bytes) that a page shows
	// scaled up, and so blurred, until the image loads.
	PlaceholderLQIP = "lqip"
	// PlaceholderThumbHash is a ThumbHash (evanw.github.io/thumbhash), base64:
	// aspect ratio and alpha kept, about 28-36 characters.
	PlaceholderThumbHash = "thumbhash"
)

// placeholder computes the placeholder of the given kind from the scout
// copy of a decoded image. A page shows a placeholder untagged, that is as
// sRGB, whatever the image's own profile: tr, when not nil, converts the
// shrunk pixels from that profile to sRGB first, so that a wide-gamut
// photo's placeholder has the colours the photo is shown with. Cost: a
// few thousand pixels' work, whatever the image's size.
func (s *scout) placeholder(kind string, tr *icc.Transform) string {
	shrunk := func(side int) *image.RGBA {
		img := s.shrunk(side)
		if tr != nil {
			img = tr.Convert(img).(*image.RGBA) // Convert keeps *image.RGBA
		}
		return img
	}
	switch kind {
	case PlaceholderBlurHash:
		return blurHash(shrunk(32))
	case PlaceholderLQIP:
		return lqip(shrunk(16))
	case PlaceholderThumbHash:
		return thumbHash(shrunk(100)) // the reference's largest input
	}
	return ""
}

// srgbTransform returns the conversion of d's pixels to sRGB, nil when they are
// sRGB already or when the profile is not one internal/icc reads (grey,
// CMYK, lookup tables: those are used as they are, as encode does).
func srgbTransform(d *Decoded) *icc.Transform {
	if d.Meta.ICC == nil || d.Gray || iccSpace(d.Meta.ICC) != "RGB " {
		return nil
	}
	p, err := icc.Parse(d.Meta.ICC)
	if err != nil || p.IsSRGB() {
		return nil
	}
	return icc.NewTransform(p)
}

// shrunk returns the scout box-filtered to side pixels on its long side.
func (s *scout) shrunk(side int) *image.RGBA {
	b := s.img.Rect
	f := min(1, float64(side)/float64(max(b.Dx(), b.Dy())))
	w, h := max(1, round(float64(b.Dx())*f)), max(1, round(float64(b.Dy())*f))
	if img, ok := resample(s.img, b, w, h, filters["box"]).(*image.RGBA); ok {
		return img
	}
	return s.img // already that small
}

// lqip encodes img as a JPEG data: URI, flattened onto white.
func lqip(img *image.RGBA) string {
	var buf bytes.Buffer
	var src image.Image = img
	if !img.Opaque() {
		src = flatten(img, color.White)
	}
	if err := format.ByName("jpeg").Encode(&buf, src, format.EncodeOptions{Quality: 60}); err != nil {
		return ""
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

// blurHash encodes img as a BlurHash, following the published algorithm
// (github.com/woltapp/blurhash, Algorithm.md): the DC and AC cosine
// components of the image in linear light, quantised and written in
// base 83. Transparent pixels count as black, as in the reference.
func blurHash(img *image.RGBA) string {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	cx, cy := 4, 3
	if h > w {
		cx, cy = 3, 4
	}
	var lin [256]float64
	for i := range lin {
		lin[i] = srgbToLinear(i)
	}
	cosX := cosines(cx, w)
	cosY := cosines(cy, h)
	factors := make([][3]float64, cx*cy)
	for j := range cy {
		for i := range cx {
			var f [3]float64
			for y := range h {
				row := img.Pix[y*img.Stride:]
				for x := range w {
					basis := cosX[i*w+x] * cosY[j*h+y]
					f[0] += basis * lin[row[4*x]]
					f[1] += basis * lin[row[4*x+1]]
					f[2] += basis * lin[row[4*x+2]]
				}
			}
			norm := 2.0
			if i == 0 && j == 0 {
				norm = 1
			}
			scale := norm / float64(w*h)
			factors[j*cx+i] = [3]float64{f[0] * scale, f[1] * scale, f[2] * scale}
		}
	}
	var sb strings.Builder
	sb.WriteString(base83((cx-1)+(cy-1)*9, 1))
	maxValue := 1.0
	if ac := factors[1:]; len(ac) > 0 {
		var actualMax float64
		for _, f := range ac {
			actualMax = max(actualMax, math.Abs(f[0]), math.Abs(f[1]), math.Abs(f[2]))
		}
		q := int(max(0, min(82, math.Floor(actualMax*166-0.5))))
		maxValue = float64(q+1) / 166
		sb.WriteString(base83(q, 1))
	} else {
		sb.WriteString(base83(0, 1))
	}
	dc := factors[0]
	sb.WriteString(base83(linearToSRGB(dc[0])<<16|linearToSRGB(dc[1])<<8|linearToSRGB(dc[2]), 4))
	for _, f := range factors[1:] {
		q := func(v float64) int {
			return int(max(0, min(18, math.Floor(signPow(v/maxValue, 0.5)*9+9.5))))
		}
		sb.WriteString(base83(q(f[0])*19*19+q(f[1])*19+q(f[2]), 2))
	}
	return sb.String()
}

// cosines returns cos(pi*i*x/n) for i < k, x < n, at [i*n+x].
func cosines(k, n int) []float64 {
	c := make([]float64, k*n)
	for i := range k {
		for x := range n {
			c[i*n+x] = math.Cos(math.Pi * float64(i) * float64(x) / float64(n))
		}
	}
	return c
}

func srgbToLinear(v int) float64 {
	f := float64(v) / 255
	if f <= 0.04045 {
		return f / 12.92
	}
	return math.Pow((f+0.055)/1.055, 2.4)
}

func linearToSRGB(v float64) int {
	v = max(0, min(1, v))
	if v <= 0.0031308 {
		return int(v*12.92*255 + 0.5)
	}
	return int((1.055*math.Pow(v, 1/2.4)-0.055)*255 + 0.5)
}

func signPow(v, exp float64) float64 { return math.Copysign(math.Pow(math.Abs(v), exp), v) }

const base83Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"

// base83 writes value in length base-83 digits, most significant first.
func base83(value, length int) string {
	b := make([]byte, length)
	for i := length - 1; i >= 0; i-- {
		b[i] = base83Digits[value%83]
		value /= 83
	}
	return string(b)
}
