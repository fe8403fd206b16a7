package webp

import (
	"bytes"
	"errors"
	"image"

	"github.com/HugoSmits86/nativewebp"
)

// encodeVP8L returns img's VP8L bitstream (the "VP8L" chunk's payload) and
// whether it has transparency.
func encodeVP8L(img image.Image) ([]byte, bool, error) {
	var buf bytes.Buffer
	if err := nativewebp.Encode(&buf, img, nil); err != nil {
		return nil, false, err
	}
	f := buf.Bytes()
	if len(f) < 25 || string(f[12:16]) != "VP8L" {
		return nil, false, errors.New("webp: lossless encoder gave no VP8L chunk")
	}
	data := f[20:]
	data = data[:min(len(data), int(uint32(f[16])|uint32(f[17])<<8|uint32(f[18])<<16|uint32(f[19])<<24))]
	alpha := data[4]&0x10 != 0 // alpha_is_used, after the 14+14 size bits
	return data, alpha, nil
}
