// Package format is imgpipe's one registry of image formats: for each, its
// name, file extensions, magic bytes, decoder, encoder (if imgpipe writes
// it), what it can hold (alpha, animation, colour profile, EXIF, 16 bits)
// and the build that provides it. Everything else in imgpipe asks the
// registry: the scan's extension rule, the decode and encode stages, the
// help texts and the error messages. Adding a format is one entry here
// plus its codec.
package format

import (
	"image"
	"image/color"
	"io"
	"slices"
	"strings"

	"github.com/imgpipe/imgpipe/internal/band"
)

// Format describes one image format.
type Format struct {
	// Name is the format's name in settings and reports ("jpeg").
	Name string
	// Exts are its file extensions, lower case, without the dot; the first
	// is the one given to outputs ("jpg").
	Exts []string
	// Magic reports whether a file's leading bytes (at least HeadLen of
	// them when the file is that long) are in this format.
	Magic func(head []byte) bool

	// DecodeConfig reads the header; Decode the pixels. Decode's scale is
	// 1, or 2, 4 or 8 (1/scale of the size) where Scales is set. Both nil
	// when this build cannot read the format (Needs says why).
	DecodeConfig func(r io.Reader) (image.Config, error)
	Decode       func(r io.Reader, scale int) (image.Image, error)
	// Bands opens the file for reading a band of rows at a time
	// (internal/band), so that an image too big to hold whole is resized as
	// its rows arrive; it refuses the variants it does not read with
	// band.ErrUnsupported. Nil: the format is always decoded whole.
	Bands func(r io.ReaderAt, size int64) (*band.Image, error)
	// HeaderWithin, when set, is where the header of a file read in bands
	// must end: a file over the size limit of a whole decode (which only
	// its header can show to be read in bands) whose header is not there
	// is refused as too large, not searched to its end (a JPEG's segments
	// come before its first scan, and can be anywhere in a damaged file).
	// JPEG: 64 KiB. Only a JPEG over max_file_size (816 MiB by default:
	// some 2 GP at quality 90) with more metadata than that before its
	// first scan is refused for it; reading further for the header costs
	// about 3 ms a 64 KiB (image/jpeg's DecodeConfig, the fallback, reads
	// it all into memory).
	HeaderWithin int64
	// Scales: Decode can decode at 1/2, 1/4 and 1/8 of the size straight
	// from the compressed data (JPEG's DCT), far cheaper than a full decode.
	Scales bool
	// Fallback decodes, at full size, what Decode refuses with ErrVariant.
	Fallback func(r io.Reader) (image.Image, error)
	// FallbackHolds estimates the bytes Fallback holds for a w x h image
	// with samples bytes a pixel, given the file, or refuses a file that
	// Fallback could not decode in bounded time. Nil: what Holds says.
	FallbackHolds func(r io.ReaderAt, w, h, samples int) (int64, error)
	// Holds estimates what the decoder holds for a w x h image decoded at
	// 1/scale with samples bytes a pixel, given the file (r is read only
	// where the header says what it costs: a progressive JPEG, an
	// interlaced PNG): the pixels it allocates (padding included) and the
	// bytes they and its working state take. Nil: w x h pixels, samples
	// bytes each.
	Holds func(r io.ReaderAt, w, h, scale, samples int) (pixels, bytes int64)

	// Encode writes img; nil when this build cannot write the format.
	Encode func(w io.Writer, img image.Image, o EncodeOptions) error
	// Embed adds a colour profile and EXIF to an encoded file; nil when the
	// format cannot carry them (they are then dropped, with a note).
	Embed func(file, icc, exif []byte) ([]byte, error)
	// EmbedXMP adds an XMP packet and IPTC records to an encoded file (the
	// formats that have no place for IPTC ignore it); nil when the format
	// carries neither. Called before Embed.
	EmbedXMP func(file, xmp, iptc []byte) ([]byte, error)

	// Alpha: the format stores transparency. Outputs in formats without it
	// are flattened onto a background.
	Alpha bool
	// Animation: the format holds several frames, read by DecodeFrames and
	// written by EncodeFrames (nil when this build cannot).
	Animation    bool
	CountFrames  func(data []byte) (frames int, pixels int64, err error)
	DecodeFrames func(data []byte) (*Animation, error)
	EncodeFrames func(w io.Writer, frames []image.Image, a *Animation, o EncodeOptions) error
	// Deep: outputs in the format keep 16 bits a channel from deep sources.
	Deep bool
	// YCbCr: Encode takes *image.YCbCr planes as they are, so a YCbCr source
	// is resized in YCbCr, with no RGB round trip (JPEG to JPEG).
	YCbCr bool
	// EncodeHolds estimates the bytes the encoder holds for an output of
	// pixels pixels, beyond the pixels and the encoded file. Nil: none.
	EncodeHolds func(pixels int64) int64

	// Still, for a variant of another format that imgpipe writes as that
	// format (animated WebP: as WebP, still or animated), names that
	// format.
	Still string
	// Title is the name as people write it ("JPEG", "WebP").
	Title string
	// ReadNeeds and WriteNeeds say what it takes to read or write the
	// format when this build cannot ("an imgpipe built with -tags
	// nodynamic (see README)"); "" when no build can.
	ReadNeeds, WriteNeeds string
	// Build is the build tag that provides the format's codecs in this
	// binary: "" for every build.
	Build string
}

// EncodeOptions are the settings an encoder may use.
type EncodeOptions struct {
	Quality     int  // 1-100, for lossy formats
	Progressive bool // JPEG
	Lossless    bool // WebP
	// Palette is the source's palette, for formats that need one (GIF):
	// outputs are mapped back onto it. Nil: a generic palette.
	Palette color.Palette
}

// DefaultOutput is the format written for an input whose own format this
// build cannot write (Output.Format "same").
const DefaultOutput = "jpeg"

// HeadLen is how many leading bytes Sniff needs.
const HeadLen = 32

// formats is the registry, in the order Sniff tries them.
var formats []*Format

// register adds f to the registry; a format registered again replaces the
// earlier entry (a build tag's codecs filling in what the default lacks).
func register(f *Format) {
	for i, g := range formats {
		if g.Name == f.Name {
			formats[i] = f
			return
		}
	}
	formats = append(formats, f)
}

// ByName returns the format named name, or nil.
func ByName(name string) *Format {
	for _, f := range formats {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// ByExt returns the format whose extension ext is (with or without the
// dot, any case), or nil.
func ByExt(ext string) *Format {
	ext = strings.ToLower(strings.TrimPrefix(ext, "."))
	if ext == "" {
		return nil
	}
	for _, f := range formats {
		if slices.Contains(f.Exts, ext) {
			return f
		}
	}
	return nil
}

// Sniff returns the format of a file's leading bytes, or nil.
func Sniff(head []byte) *Format {
	for _, f := range formats {
		if f.Magic != nil && f.Magic(head) {
			return f
		}
	}
	return nil
}

// All returns every registered format, in registry order.
func All() []*Format { return slices.Clone(formats) }

// Readable reports whether this build decodes f.
func (f *Format) Readable() bool { return f.Decode != nil }

// Writable reports whether this build encodes f.
func (f *Format) Writable() bool { return f.Encode != nil }

// Ext is the extension given to outputs in f.
func (f *Format) Ext() string {
	if len(f.Exts) == 0 {
		return f.Name
	}
	return f.Exts[0]
}

// Writable lists the names of the formats this build writes, in registry
// order, for help texts and messages.
func Writable() []string {
	var names []string
	for _, f := range formats {
		if f.Writable() {
			names = append(names, f.Name)
		}
	}
	return names
}

// WritableElsewhere lists the formats that this build cannot write and
// another can, for help texts.
func WritableElsewhere() []*Format {
	var out []*Format
	for _, f := range formats {
		if !f.Writable() && f.WriteNeeds != "" {
			out = append(out, f)
		}
	}
	return out
}

// ReadableList names the formats this build reads, for messages: "JPEG,
// PNG, GIF, BMP, TIFF or WebP".
func ReadableList() string {
	var names []string
	for _, f := range formats {
		if f.Readable() && f.Still == "" {
			names = append(names, f.Title)
		}
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
