//go:build nodynamic

// Package codec writes WebP and AVIF and reads the formats Go's registered decoders cannot:
// AVIF, HEIC/HEIF and animated WebP (first frame).
//
// The codecs are libwebp, libavif (with aom) and libheif (with libde265) compiled to WebAssembly
// and run by wazero, in pure Go: no cgo, no system library. Build and test with -tags nodynamic:
// without it the gen2brain libraries dlopen a system libwebp/libavif/libheif at start-up when one
// is installed (via purego), and on Linux purego makes even a CGO_ENABLED=0 binary dynamically
// linked against libc. TestBuiltWithNodynamic fails when the tag is missing.
//
// Side effect of importing: the libraries register "avif", "heic" (brand heic only) and "webp"
// decoders with package image, so image.Decode anywhere in the binary reads AVIF and HEIC through
// them (without this package's copy and checks). Which WebP decoder image.Decode picks, this one
// or golang.org/x/image/webp, follows package initialisation order: call x/image/webp directly
// where it matters.
//
// Costs. Importing the package costs no start-up time: each WebAssembly module is compiled on
// its first use, once per process (measured on a 2-core amd64 box: WebP ~0.6 s and ~35 MB RSS,
// AVIF encoder ~1.6 s and ~80 MB, AVIF decoder ~0.8 s and ~35 MB, HEIC decoder ~0.9 s and ~45 MB),
// and the compiled code then stays in memory for the life of the process. Each call instantiates
// a fresh module with its own linear memory (about 2-4 times the image's RGBA size at peak),
// freed when the call returns; Decode copies the pixels out so that memory is not kept alive by
// the returned image. The codecs are single-threaded inside a call: the caller's worker pool owns
// the CPU.
//
// All functions are safe for concurrent use.
//
// Status: every file carries the nodynamic build constraint, so the
// default build and `go test ./...` leave this package out; a build with
// -tags nodynamic wires it into the decode and encode stages
// (stages/extra_codecs.go). Making it the default would need every imgpipe
// build to carry the tag, and a decision on the LGPL-3.0 of the embedded
// libheif/libde265 (HEIC).
package codec

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
)

// Format names accepted by Decode and DecodeConfig.
const (
	FormatAVIF     = "avif"
	FormatHEIF     = "heif"      // HEIC/HEIF (HEVC in HEIF); "heic" is accepted too
	FormatWebPAnim = "webp-anim" // animated WebP: the first frame, composed on the canvas
)

// Errors a caller may act on.
var (
	// ErrUnsupportedFormat is returned by Decode and DecodeConfig for a format name they do not know.
	ErrUnsupportedFormat = errors.New("codec: unsupported format")
	// ErrQuality is returned for a quality outside 1-100.
	ErrQuality = errors.New("codec: quality must be 1-100")
	// ErrEmptyImage is returned when asked to encode an image with no pixels.
	ErrEmptyImage = errors.New("codec: empty image")
)

func checkQuality(q int) error {
	if q < 1 || q > 100 {
		return fmt.Errorf("%w (got %d)", ErrQuality, q)
	}
	return nil
}

// toNRGBA returns img as a tightly packed *image.NRGBA (Stride == 4*width), converting or
// repacking only when needed. The libraries read Pix as width*height*4 bytes and ignore
// Stride, so a sub-image must be repacked.
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	if m, ok := img.(*image.NRGBA); ok && m.Stride == 4*b.Dx() {
		return m
	}
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}

// toRGBA is toNRGBA for premultiplied *image.RGBA (what libavif is told it gets).
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	if m, ok := img.(*image.RGBA); ok && m.Stride == 4*b.Dx() {
		return m
	}
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}
