//go:build nodynamic

package codec

import (
	"bytes"
	"fmt"
	"image"
	"io"

	"github.com/gen2brain/webp"
	"github.com/imgpipe/imgpipe/internal/clone"
)

// webpMethod is libwebp's speed/size trade-off (0 fast … 6 slow). 4 is libwebp's and cwebp's
// default.
const webpMethod = 4

// webpLosslessEffort is what libwebp takes as "quality" in lossless mode: the effort (0 fast …
// 100 small). On an 800x533 photo (BenchmarkEncodeWebP) 25 took 1.2 s and 85 took 2.0 s for
// outputs within 0.05% of each other.
const webpLosslessEffort = 25

// EncodeWebP writes img as WebP: lossy at quality 1-100 (libwebp's scale; 75-85 suits photos),
// or lossless (quality is then checked but not used). Alpha is kept; in lossless mode the colour
// under fully transparent pixels may change (libwebp's default, "exact" off), which is invisible
// and saves bytes. The whole output is built in memory before the single write to w.
//
// Memory: img is converted to a packed NRGBA if it is not one (4 bytes per pixel), and copied
// into the codec's own memory (about 2-3 times that at peak during the call).
// Example:
//
//	err := codec.EncodeWebP(f, img, 85, false)
func EncodeWebP(w io.Writer, img image.Image, quality int, lossless bool) error {
	if err := checkQuality(quality); err != nil {
		return err
	}
	if img.Bounds().Empty() {
		return ErrEmptyImage
	}
	// NRGBA, not RGBA: for RGBA the library hands premultiplied bytes to
	// WebPPictureImportRGBA, which expects straight alpha.
	m := toNRGBA(img)
	opts := webp.Options{Quality: quality, Lossless: lossless, Method: webpMethod}
	if lossless {
		opts.Quality = webpLosslessEffort
	}
	err := webp.Encode(w, m, opts)
	if err != nil {
		return fmt.Errorf("webp encode: %w", err)
	}
	return nil
}

// decodeWebPAnim returns the first frame of an animated WebP, composed on its canvas, as
// *image.RGBA. A still WebP decodes too (as *image.NYCbCrA, via YUV 4:2:0 even when lossless:
// use golang.org/x/image/webp for still images).
//
// webp.Decode, not DecodeAll: libwebp then stops after the first frame (DecodeAll decodes every
// frame), though the library still reserves frame-count canvases in the module's memory.
func decodeWebPAnim(r io.Reader) (image.Image, error) {
	m, err := webp.Decode(r)
	if err != nil {
		return nil, err
	}
	return clone.Image(m), nil // out of the module's memory, as Decode does
}

func decodeConfigWebPAnim(r io.Reader) (image.Config, error) {
	// The library's DecodeConfig needs only the first 32 bytes, but reads them with a single
	// Read; io.ReadAll keeps it correct for readers that return short reads.
	data, err := io.ReadAll(io.LimitReader(r, 1<<16))
	if err != nil {
		return image.Config{}, err
	}
	return webp.DecodeConfig(bytes.NewReader(data))
}
