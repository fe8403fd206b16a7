package format

import (
	"image"
	"io"
	"math"
	"sync"

	"golang.org/x/image/webp"
)

// decodeWebP decodes with golang.org/x/image/webp and fixes the colours of
// lossy WebP. VP8 stores "studio range" YCbCr (Y 16-235, chroma 16-240) but
// x/image/webp returns it as an image.YCbCr, which Go converts with the
// full-range JPEG formula: washed out colours, 28 dB from the source photo
// instead of 40. Stretching the planes to full range in place makes Go's
// conversion right.
func decodeWebP(r io.Reader, _ int) (image.Image, error) {
	img, err := webp.Decode(r)
	if err != nil {
		return nil, err
	}
	var y, cb, cr []uint8
	switch m := img.(type) {
	case *image.YCbCr:
		y, cb, cr = m.Y, m.Cb, m.Cr
	case *image.NYCbCrA:
		y, cb, cr = m.Y, m.Cb, m.Cr
	default:
		return img, nil // lossless WebP is RGB already
	}
	luma, chroma := studioLUTs()
	for i, v := range y {
		y[i] = luma[v]
	}
	for i, v := range cb {
		cb[i] = chroma[v]
	}
	for i, v := range cr {
		cr[i] = chroma[v]
	}
	return img, nil
}

var studioLUTs = sync.OnceValues(func() (*[256]uint8, *[256]uint8) {
	var luma, chroma [256]uint8
	for i := range 256 {
		luma[i] = uint8(max(0, min(255, math.Round((float64(i)-16)*255/219))))
		chroma[i] = uint8(max(0, min(255, math.Round((float64(i)-128)*255/224+128))))
	}
	return &luma, &chroma
})
