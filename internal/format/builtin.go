package format

import (
	"bytes"
	"image"
	"image/gif"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"github.com/imgpipe/imgpipe/internal/band"
	ijpeg "github.com/imgpipe/imgpipe/internal/jpeg"
	"github.com/imgpipe/imgpipe/internal/meta"
	"github.com/imgpipe/imgpipe/internal/pngenc"
	iwebp "github.com/imgpipe/imgpipe/internal/webp"
)

// nodynamic is what it takes to read or write the formats whose codecs
// are compiled to WebAssembly (internal/codec).
const nodynamic = "an imgpipe built with -tags nodynamic (see README)"

// The formats of every build: JPEG (our own codec, image/jpeg for what it
// does not read), PNG read by the standard library and written by
// internal/pngenc, GIF from the standard library; BMP, TIFF and WebP
// (lossy, lossless, alpha) from golang.org/x/image, animated WebP composed
// here from frames it decodes (webpanim.go), WebP written, still or
// animated, by our own encoder (internal/webp). HEIF and
// AVIF are known so that they are reported as unsupported rather than as
// "not an image"; a build with -tags nodynamic reads them (nodynamic.go).
// The order is the order Sniff tries them: animated WebP before WebP.
func init() {
	register(&Format{
		Name: "jpeg", Title: "JPEG", Exts: []string{"jpg", "jpeg", "jpe", "jfif"},
		Magic:        prefix("\xff\xd8"),
		DecodeConfig: decodeJPEGConfig, Decode: decodeJPEG, Scales: true, Fallback: decodeStdJPEG, Holds: jpegHolds,
		Bands: band.JPEG, HeaderWithin: 64 << 10,
		Encode: func(w io.Writer, img image.Image, o EncodeOptions) error {
			return ijpeg.Encode(w, img, &ijpeg.EncodeOptions{Quality: o.Quality, Progressive: o.Progressive})
		},
		Embed: meta.EmbedJPEG, EmbedXMP: meta.EmbedJPEGExtra, YCbCr: true,
		FallbackHolds: jpegFallbackHolds,
		// The encoder's coefficients (up to 6.4 bytes a pixel, at most 32
		// MB) and, from RGB, its YCbCr planes (3 bytes).
		EncodeHolds: func(px int64) int64 { return min(7*px, 32<<20) + 3*px },
	})
	register(&Format{
		Name: "png", Title: "PNG", Exts: []string{"png"},
		Magic:        prefix("\x89PNG\r\n\x1a\n"),
		DecodeConfig: png.DecodeConfig, Decode: unscaled(png.Decode), Holds: pngHolds, Bands: band.PNG,
		Encode: func(w io.Writer, img image.Image, _ EncodeOptions) error {
			return pngenc.Encode(w, img, nil)
		},
		Embed: meta.EmbedPNG, EmbedXMP: meta.EmbedPNGExtra,
		Alpha: true, Deep: true,
		// Per encoding goroutine a compressor and two chunks (pngenc.Holds).
		EncodeHolds: pngenc.Holds,
	})
	register(&Format{
		Name: "gif", Title: "GIF", Exts: []string{"gif"},
		Magic:        func(h []byte) bool { return prefix("GIF87a")(h) || prefix("GIF89a")(h) },
		DecodeConfig: gif.DecodeConfig, Decode: unscaled(gif.Decode),
		Encode: func(w io.Writer, img image.Image, o EncodeOptions) error {
			return gif.Encode(w, Paletted(img, o.Palette), nil)
		},
		Alpha: true, Animation: true,
		CountFrames: gifFrames, DecodeFrames: decodeGIFFrames, EncodeFrames: encodeGIFFrames,
	})
	register(&Format{
		Name: "bmp", Title: "BMP", Exts: []string{"bmp"},
		Magic:        func(h []byte) bool { return prefix("BM")(h) && len(h) >= 18 },
		DecodeConfig: bmp.DecodeConfig, Decode: unscaled(bmp.Decode), Bands: band.BMP,
		Encode: func(w io.Writer, img image.Image, _ EncodeOptions) error { return bmp.Encode(w, img) },
	})
	register(&Format{
		Name: "tiff", Title: "TIFF", Exts: []string{"tif", "tiff"},
		Magic:        func(h []byte) bool { return prefix("II*\x00")(h) || prefix("MM\x00*")(h) },
		DecodeConfig: tiff.DecodeConfig, Decode: unscaled(tiff.Decode), Encode: encodeTIFF, Bands: band.TIFF,
		Alpha: true,
		Holds: tiffHolds,
	})
	register(&Format{
		Name: "webp-anim", Title: "animated WebP", Still: "webp",
		Magic:        func(h []byte) bool { return isWebP(h) && len(h) > 20 && string(h[12:16]) == "VP8X" && h[20]&0x02 != 0 },
		DecodeConfig: decodeWebPAnimConfig, Decode: decodeWebPAnim,
		Alpha: true, Animation: true,
		CountFrames: webpAnimFrames, DecodeFrames: decodeWebPAnimFrames,
	})
	register(&Format{
		Name: "webp", Title: "WebP", Exts: []string{"webp"},
		Magic:        isWebP,
		DecodeConfig: webp.DecodeConfig, Decode: decodeWebP,
		Encode: func(w io.Writer, img image.Image, o EncodeOptions) error {
			return iwebp.Encode(w, img, &iwebp.Options{Quality: o.Quality, Lossless: o.Lossless})
		},
		Embed: iwebp.Embed, EmbedXMP: iwebp.EmbedXMP, Alpha: true, YCbCr: true,
		EncodeFrames: encodeWebPFrames, // animated WebP is read as webp-anim
		// Measured peaks (heap in use, 1600x1000 photo): lossy 7-8 bytes
		// a pixel (planes, reconstruction, quantised coefficients), lossless
		// 47-52 (nativewebp's copies and symbol arrays). EncodeHolds cannot
		// see the options, so it charges for the larger.
		EncodeHolds: func(px int64) int64 { return 56 * px },
	})
	register(&Format{
		Name: "avif", Title: "AVIF", Exts: []string{"avif"},
		Magic:     brand("avif", "avis"),
		Alpha:     true,
		ReadNeeds: nodynamic, WriteNeeds: nodynamic,
	})
	register(&Format{
		Name: "heif", Title: "HEIF", Exts: []string{"heic", "heif"},
		Magic:     brand("heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"),
		ReadNeeds: nodynamic,
	})
}

func prefix(p string) func([]byte) bool {
	return func(h []byte) bool { return bytes.HasPrefix(h, []byte(p)) }
}

func isWebP(h []byte) bool {
	return len(h) >= 12 && string(h[0:4]) == "RIFF" && string(h[8:12]) == "WEBP"
}

// brand matches an ISO base media file (HEIF, AVIF) by its major brand.
func brand(brands ...string) func([]byte) bool {
	return func(h []byte) bool {
		if len(h) < 12 || string(h[4:8]) != "ftyp" {
			return false
		}
		for _, b := range brands {
			if string(h[8:12]) == b {
				return true
			}
		}
		return false
	}
}

// unscaled adapts a decoder that only decodes at full size.
func unscaled(decode func(io.Reader) (image.Image, error)) func(io.Reader, int) (image.Image, error) {
	return func(r io.Reader, _ int) (image.Image, error) { return decode(r) }
}

// pngHolds: image/png decodes an interlaced (Adam7) file pass by pass, each
// into an image of its own, and then copies the passes into the whole: the
// seven passes together are as large as the image, so it holds twice the
// pixels (a 16-bit RGBA 10000x10000 file: 1.6 GB, not 800 MB).
func pngHolds(r io.ReaderAt, w, h, _, samples int) (pixels, bytes int64) {
	pixels = int64(w) * int64(h)
	bytes = int64(samples) * pixels
	var ihdr [29]byte // signature, IHDR length and type, then its 13 bytes
	if n, _ := r.ReadAt(ihdr[:], 0); n == len(ihdr) && string(ihdr[12:16]) == "IHDR" && ihdr[28] == 1 {
		bytes *= 2
	}
	return pixels, bytes
}

// tiffHolds: golang.org/x/image/tiff inflates a whole strip or tile into a
// buffer before it converts it into pixels; a file of one strip (most
// deflate TIFFs a program writes) holds its raw samples besides the image.
func tiffHolds(_ io.ReaderAt, w, h, _, samples int) (pixels, bytes int64) {
	pixels = int64(w) * int64(h)
	return pixels, 2 * int64(samples) * pixels
}
