package webp

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"

	"github.com/HugoSmits86/nativewebp"
)

// encodeVP8L returns img's VP8L bitstream (the "VP8L" chunk's payload) and
// whether it has transparency.
//
// nativewebp v0.9.3 codes *image.Paletted with VP8L's colour-indexing
// transform and then writes streams that neither x/image/webp nor dwebp
// decode ("invalid LZ77 parameters") for palettes of 16 colours or fewer,
// and for some larger ones with transparency (17 colours, alternate ones
// transparent); so paletted images go to it as NRGBA. (Paletted input
// compressed 10% better where it worked.)
//
// It also panics on a few tiny images (a 1x1 or 2x1 grey image of one
// particular value, found by FuzzEncode): that is turned into an error.
func encodeVP8L(img image.Image) (data []byte, alpha bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			data, alpha, err = nil, false, fmt.Errorf("webp: lossless encoder failed: %v", r)
		}
	}()
	if p, ok := img.(*image.Paletted); ok {
		n := image.NewNRGBA(image.Rect(0, 0, p.Rect.Dx(), p.Rect.Dy()))
		draw.Draw(n, n.Rect, p, p.Rect.Min, draw.Src)
		img = n
	}
	var buf bytes.Buffer
	if err := nativewebp.Encode(&buf, img, nil); err != nil {
		return nil, false, err
	}
	f := buf.Bytes()
	if len(f) < 25 || string(f[12:16]) != "VP8L" {
		return nil, false, errors.New("webp: lossless encoder gave no VP8L chunk")
	}
	data = f[20:]
	data = data[:min(len(data), int(uint32(f[16])|uint32(f[17])<<8|uint32(f[18])<<16|uint32(f[19])<<24))]
	alpha = data[4]&0x10 != 0 // alpha_is_used, after the 14+14 size bits
	return data, alpha, nil
}
