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
			var al uint8
			switch m := img.(type) {
			case *image.NRGBA:
				al = m.Pix[m.PixOffset(x, y)+3]
			case *image.RGBA:
				al = m.Pix[m.PixOffset(x, y)+3]
			default:
				_, _, _, a16 := img.At(x, y).RGBA()
				al = uint8(a16 >> 8)
			}
			a[i] = al
			opaque = opaque && al == 255
			i++
		}
	}
	if opaque {
		return nil
	}
	return a
}

// encodeALPH returns the ALPH chunk payload for a w x h alpha plane:
// compression method 1, the plane losslessly coded as the green channel of
// a VP8L image stream without its header (RFC 9649 section 5.2.2), or the
// raw plane (method 0) when that is smaller. The plane goes to the VP8L
// encoder as a grey image, so red and blue equal green and the
// subtract-green transform leaves them zero. Filtering the plane first
// (ALPH's horizontal, vertical or gradient filters) made
// testdata/formats/alpha.png's and lossy_alpha.webp's alpha 7-19% larger:
// VP8L's own predictors do better. A paletted plane (colour indexing) was
// 10% smaller on lossy_alpha.webp, but see encodeVP8L.
func encodeALPH(a []uint8, w, h int) []byte {
	raw := append([]byte{0}, a...)
	g := &image.Gray{Pix: a, Stride: w, Rect: image.Rect(0, 0, w, h)}
	data, _, err := encodeVP8L(g)
	// data[0] is the VP8L signature, data[1:5] the size and flags.
	if err != nil || len(data) <= 5 || len(data)-4 >= len(raw) {
		return raw
	}
	return append([]byte{1}, data[5:]...)
}
