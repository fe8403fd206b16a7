package webp

import "image"

// alphaPlane returns img's alpha, w*h bytes, or nil when img is opaque.
func alphaPlane(img image.Image) []uint8 {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return nil
	}
	b := img.Bounds()
	a := make([]uint8, b.Dx()*b.Dy())
	opaque := true
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			_, _, _, al := img.At(x, y).RGBA()
			a[i] = uint8(al >> 8)
			opaque = opaque && a[i] == 255
			i++
		}
	}
	if opaque {
		return nil
	}
	return a
}

// encodeALPH returns the ALPH chunk payload for a w x h alpha plane:
// header byte (no preprocessing, no filter, compression 0) and the raw
// plane.
func encodeALPH(a []uint8, w, h int) []byte {
	return append([]byte{0}, a...)
}
