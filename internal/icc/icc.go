// Package icc reads RGB matrix/TRC ("matrix-shaper") ICC profiles, the
// kind cameras, phones and editors embed (sRGB, Display P3, Adobe RGB,
// ProPhoto, Rec. 2020), and converts pixels from them to sRGB.
//
// A matrix/TRC profile maps each channel through its tone curve (rTRC,
// gTRC, bTRC: a curv gamma or table, or a para function) to linear light,
// and linear RGB through the colorant matrix (rXYZ, gXYZ, bXYZ, adapted to
// the D50 PCS) to XYZ. To sRGB is then sRGB's inverse matrix and its tone
// curve; out-of-gamut colours are clipped. This is the ICC relative
// colorimetric intent, which is what lcms (and so libvips and ImageMagick)
// does for two matrix/TRC profiles. Profiles made of lookup tables (A2B0
// without colorants) are not read: Parse returns ErrUnsupported.
//
// Profiles are untrusted input: Parse checks every offset and size and
// never panics.
package icc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrUnsupported: the profile is valid as far as Parse looked but is not an
// RGB matrix/TRC profile (CMYK, grey, Lab, lookup tables).
var ErrUnsupported = errors.New("icc: not an RGB matrix/TRC profile")

// ErrMalformed: the profile is cut short or its tags point outside it.
var ErrMalformed = errors.New("icc: malformed profile")

// Profile is a parsed RGB matrix/TRC profile.
type Profile struct {
	// Matrix maps linear RGB to PCS XYZ (D50): its columns are rXYZ,
	// gXYZ and bXYZ.
	Matrix [3][3]float64
	// White is the media white point (wtpt); Chad the chromatic adaptation
	// (chad) from it to D50, the identity when absent. Neither is needed
	// for the relative colorimetric conversion; they are kept for callers.
	White [3]float64
	Chad  [3][3]float64
	// TRC are the red, green and blue tone curves.
	TRC [3]Curve
}

// Curve is a tone curve: encoded value in [0,1] to linear light.
type Curve struct {
	// Table, when not nil, is a sampled curve (curv with 2+ entries),
	// linearly interpolated.
	Table []float64
	// Otherwise the ICC parametric function of type Type (0-4) with
	// Params g, a, b, c, d, e, f (a curv gamma is type 0).
	Type   int
	Params [7]float64
}

// Eval returns the linear value of the encoded value x in [0,1].
func (c *Curve) Eval(x float64) float64 {
	x = max(0, min(1, x))
	if c.Table != nil {
		t := c.Table
		p := x * float64(len(t)-1)
		i := int(p)
		if i >= len(t)-1 {
			return t[len(t)-1]
		}
		f := p - float64(i)
		return t[i]*(1-f) + t[i+1]*f
	}
	g, a, b, cc, d, e, f := c.Params[0], c.Params[1], c.Params[2], c.Params[3], c.Params[4], c.Params[5], c.Params[6]
	pow := func(v float64) float64 {
		if v <= 0 {
			return 0
		}
		return math.Pow(v, g)
	}
	var y float64
	switch c.Type {
	case 0:
		y = pow(x)
	case 1:
		if x >= -b/a {
			y = pow(a*x + b)
		}
	case 2:
		y = cc
		if x >= -b/a {
			y = pow(a*x+b) + cc
		}
	case 3:
		y = cc * x
		if x >= d {
			y = pow(a*x + b)
		}
	case 4:
		y = cc*x + f
		if x >= d {
			y = pow(a*x+b) + e
		}
	}
	return max(0, min(1, y))
}

// Tag signatures read here.
const (
	tagRXYZ = "rXYZ"
	tagGXYZ = "gXYZ"
	tagBXYZ = "bXYZ"
	tagRTRC = "rTRC"
	tagGTRC = "gTRC"
	tagBTRC = "bTRC"
	tagWtpt = "wtpt"
	tagChad = "chad"
)

// Parse reads an RGB matrix/TRC profile. It returns ErrUnsupported for
// other profiles and ErrMalformed for damaged ones.
func Parse(data []byte) (*Profile, error) {
	if len(data) < 132 {
		return nil, ErrMalformed
	}
	be := binary.BigEndian
	if string(data[36:40]) != "acsp" {
		return nil, fmt.Errorf("%w: no acsp signature", ErrMalformed)
	}
	if string(data[16:20]) != "RGB " || string(data[20:24]) != "XYZ " {
		return nil, fmt.Errorf("%w: colour space %q, PCS %q", ErrUnsupported, data[16:20], data[20:24])
	}
	n := int(be.Uint32(data[128:]))
	if n > (len(data)-132)/12 {
		return nil, fmt.Errorf("%w: %d tags do not fit", ErrMalformed, n)
	}
	tags := make(map[string][]byte, n)
	for i := range n {
		e := data[132+12*i:]
		sig := string(e[:4])
		off, size := int64(be.Uint32(e[4:])), int64(be.Uint32(e[8:]))
		if off+size > int64(len(data)) || size < 8 {
			continue // a tag we may not need; checked below if we do
		}
		if _, dup := tags[sig]; !dup {
			tags[sig] = data[off : off+size]
		}
	}
	p := &Profile{Chad: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
	for col, sig := range []string{tagRXYZ, tagGXYZ, tagBXYZ} {
		v, err := readXYZ(tags[sig])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sig, err)
		}
		for row := range 3 {
			p.Matrix[row][col] = v[row]
		}
	}
	for i, sig := range []string{tagRTRC, tagGTRC, tagBTRC} {
		c, err := readCurve(tags[sig])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sig, err)
		}
		p.TRC[i] = c
	}
	if t, ok := tags[tagWtpt]; ok {
		if v, err := readXYZ(t); err == nil {
			p.White = v
		}
	}
	if t := tags[tagChad]; len(t) >= 44 && string(t[:4]) == "sf32" {
		for i := range 9 {
			p.Chad[i/3][i%3] = s15f16(t[8+4*i:])
		}
	}
	return p, nil
}

func s15f16(b []byte) float64 { return float64(int32(binary.BigEndian.Uint32(b))) / 65536 }

func readXYZ(t []byte) ([3]float64, error) {
	if t == nil {
		return [3]float64{}, ErrUnsupported // no colorant: a LUT profile
	}
	if len(t) < 20 || string(t[:4]) != "XYZ " {
		return [3]float64{}, ErrMalformed
	}
	return [3]float64{s15f16(t[8:]), s15f16(t[12:]), s15f16(t[16:])}, nil
}

// maxTable bounds a curv table: 65536 entries is more than any real
// profile has (they use 1024 or 4096) and enough for 16 bits.
const maxTable = 1 << 16

func readCurve(t []byte) (Curve, error) {
	be := binary.BigEndian
	switch {
	case t == nil:
		return Curve{}, ErrUnsupported
	case len(t) >= 12 && string(t[:4]) == "curv":
		n := int64(be.Uint32(t[8:]))
		switch {
		case n == 0:
			return Curve{Type: 0, Params: [7]float64{1}}, nil
		case n == 1 && len(t) >= 14:
			return Curve{Type: 0, Params: [7]float64{float64(be.Uint16(t[12:])) / 256}}, nil
		case n > maxTable || int64(len(t)) < 12+2*n:
			return Curve{}, ErrMalformed
		}
		tab := make([]float64, n)
		for i := range tab {
			tab[i] = float64(be.Uint16(t[12+2*i:])) / 65535
		}
		return Curve{Table: tab}, nil
	case len(t) >= 12 && string(t[:4]) == "para":
		typ := int(be.Uint16(t[8:]))
		count := [...]int{1, 3, 4, 5, 7}
		if typ >= len(count) || len(t) < 12+4*count[typ] {
			return Curve{}, ErrMalformed
		}
		c := Curve{Type: typ}
		for i := range count[typ] {
			c.Params[i] = s15f16(t[12+4*i:])
		}
		if typ > 0 && c.Params[1] == 0 { // a = 0: -b/a undefined
			return Curve{}, ErrMalformed
		}
		return c, nil
	}
	return Curve{}, ErrMalformed
}
