//go:build nodynamic

package codec

import (
	"fmt"
	"image"
	"io"

	"github.com/gen2brain/avif"
)

// avifSpeed is libavif's speed for EncodeAVIF (0 slowest/smallest … 10 fastest).
// BenchmarkEncodeAVIF, 800x533 photo at q60, 2-core amd64 under wazero: speed 6 3.3 s 21.6 KB
// 37.7 dB; speed 8 1.4-1.9 s 23.1 KB 37.1 dB; speed 9 and 10 0.36 s 25.1 KB 36.7 dB (the same
// bytes). In a batch tool encode time dominates, so the fastest: 4-5x faster than 8 for ~9%
// more bytes at equal quality setting. 9 rather than 10, which libavif may one day map to
// libaom's real-time mode.
const avifSpeed = 9

// EncodeAVIF writes img as AVIF at quality 1-100 (libavif's scale; 100 is lossless), 8-bit,
// YUV 4:2:0, at libavif speed 9 (see avifSpeed): for a batch tool encode time dominates, and it
// is 4-5x faster than speed 8 and ~9x faster than libavif's default of 6, for 9-16% more bytes.
// Alpha is kept (coded at the same quality). The output is built in memory before the single
// write to w.
//
// Memory: img is converted to packed premultiplied RGBA if it is not one (4 bytes per pixel) and
// copied into the codec's memory; the encoder's memory peaks at several times that.
func EncodeAVIF(w io.Writer, img image.Image, quality int) error {
	if err := checkQuality(quality); err != nil {
		return err
	}
	if img.Bounds().Empty() {
		return ErrEmptyImage
	}
	m := toRGBA(img)
	err := avif.Encode(w, m, avif.Options{
		Quality:           quality,
		QualityAlpha:      quality,
		Speed:             avifSpeed,
		ChromaSubsampling: image.YCbCrSubsampleRatio420,
	})
	if err != nil {
		return fmt.Errorf("avif encode: %w", err)
	}
	return nil
}
