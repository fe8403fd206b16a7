package stages

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/imgpipe/imgpipe/internal/band"
	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/internal/meta"
)

// DecodeOptions controls the decode stage. The zero value is the default.
type DecodeOptions struct {
	// MaxPixels refuses images (and outputs) with more pixels, from the
	// header. Default 100 MP, above any camera; 4 GP read in bands (README).
	MaxPixels int64 `yaml:"max_pixels"`
	// MaxFileSize refuses larger files before reading them. Default: 8
	// bytes a pixel of MaxPixels' default (by format) plus 16 MiB.
	MaxFileSize int64 `yaml:"-"`
	// MaxPixelsPerByte refuses images over 16 megapixels with more pixels
	// than this per byte of file (a 34-byte WebP can declare 100 MP).
	// Default 100: real photos have 2 to 50. Negative: no limit.
	MaxPixelsPerByte int64 `yaml:"max_pixels_per_byte"`
	// IgnoreOrientation leaves EXIF-rotated photos as stored.
	IgnoreOrientation bool `yaml:"ignore_orientation"`
	// FullDecode turns off shrink-on-load: decoding a JPEG at 1/2, 1/4 or
	// 1/8 when every output is that much smaller.
	FullDecode bool `yaml:"full_decode"`
	// Frames is all (default: animations stay animated) or first.
	Frames string `yaml:"frames"`
}

// DefaultMaxPixels is the default of DecodeOptions.MaxPixels.
const DefaultMaxPixels = 100_000_000

// defaultMaxBandPixels is the default of DecodeOptions.MaxPixels for an
// image decoded in bands: it holds a window of rows, not its pixels, so
// only time bounds it (about 2 minutes of CPU for 4 gigapixels).
const defaultMaxBandPixels = 4_000_000_000

// defaultMaxPixelsPerByte is the default of DecodeOptions.MaxPixelsPerByte.
const defaultMaxPixelsPerByte = 100

// minPixelsPerByteCheck: images of at most this many pixels (16 MP, 64 MB
// as RGBA) are never refused by MaxPixelsPerByte. Small graphics compress
// far better than photos (a flat 1000x1000 GIF takes 3 KB, 370 pixels a
// byte) and cost little whatever their ratio.
const minPixelsPerByteCheck = 16_000_000

// defaultMaxFileSize is the default MaxFileSize: 8 bytes a pixel + 16 MiB.
func defaultMaxFileSize(maxPixels int64) int64 { return 8*maxPixels + 16<<20 }

// Decoded is an input read into memory, upright.
type Decoded struct {
	File   File
	Format string // the sniffed source format
	// Width and Height are the upright full size; Image, the upright
	// pixels, may be smaller (shrink-on-load); Resize drops it; nil if banded.
	Width, Height int
	Image         image.Image
	Meta          meta.Info // colour profile and EXIF of the source
	Gray          bool      // the source is greyscale: outputs stay greyscale
	Targets       []Target  // the outputs to make, in the configured order

	anim    *format.Animation // every frame, when a target writes an animation
	full    area              // the whole image in Image's pixels (shrunkArea); zero: all of them
	resized []image.Image     // one per target, when resized as decoded in bands
	palette color.Palette     // the source's palette (GIF, PNG-8), for GIF outputs
	notes   []string          // what decode left out without failing the input
}

// Decode returns the decode stage: it opens an input once, checks its
// first bytes, size and header against the limits, asks plan for its
// targets (nil: one of its own size and format), charges all its memory
// with reserve (nil: no budget) before reading on, decodes, turns upright.
func Decode(opts DecodeOptions,
	plan func(f File, format string, w, h int) ([]Target, error),
	reserve func(ctx context.Context, bytes int64) (release func(), err error),
) func(context.Context, File) (*Decoded, error) {
	band := limits{pixels: opts.MaxPixels, file: opts.MaxFileSize}
	if opts.MaxPixels == 0 {
		opts.MaxPixels, band.pixels = DefaultMaxPixels, defaultMaxBandPixels
	}
	if opts.MaxFileSize == 0 {
		opts.MaxFileSize, band.file = defaultMaxFileSize(opts.MaxPixels), defaultMaxFileSize(band.pixels)
	}
	if opts.MaxPixelsPerByte == 0 {
		opts.MaxPixelsPerByte = defaultMaxPixelsPerByte
	}
	if plan == nil {
		plan = planSame
	}
	if reserve == nil {
		reserve = func(context.Context, int64) (func(), error) { return func() {}, nil }
	}
	return func(ctx context.Context, f File) (*Decoded, error) {
		in, err := read(ctx, f, opts.MaxFileSize, band.file, opts.MaxPixels)
		if err != nil {
			return nil, err
		}
		defer in.src.Close()
		defer in.putData()
		if err := in.header(&opts, band.pixels); err != nil {
			return nil, err
		}
		if in.targets, err = plan(f, in.format.Name, in.w, in.h); err != nil {
			return nil, err
		}
		if err := checkTargets(in.targets, opts.MaxPixels); err != nil {
			return nil, err
		}
		if in.band != nil && streams(in.targets) {
			if !in.band.Scales {
				return in.stream(ctx, reserve)
			}
			scale := 1
			if !opts.FullDecode {
				scale = in.streamShrinkOnLoad()
			}
			if areas, ok := in.scaledTargets(scale); ok {
				return in.streamScaled(ctx, scale, areas, reserve)
			}
		}
		if in.band != nil {
			in.band = nil // decoded whole after all: under the limits for that
			if err := checkPixels(in.w, in.h, opts.MaxPixels); err != nil {
				return nil, err
			}
			if err := in.checkWholeSize(opts.MaxFileSize); err != nil {
				return nil, err
			}
		}
		return in.decode(ctx, &opts, reserve)
	}
}

// limits are the defaults of MaxPixels and MaxFileSize for an image
// decoded in bands (the options themselves when set).
type limits struct{ pixels, file int64 }

// checkTargets refuses outputs over maxPixels: a 1x1 PNG enlarged to
// 200000 pixels wide would need 160 GB.
func checkTargets(targets []Target, maxPixels int64) error {
	for _, t := range targets {
		if px := int64(t.Width) * int64(t.Height); px > maxPixels {
			return fmt.Errorf("%w: output %s would be %dx%d, %.1f megapixels, over the %.1f megapixel limit (max_pixels)",
				ErrTooLarge, t.Name, t.Width, t.Height, float64(px)/1e6, float64(maxPixels)/1e6)
		}
	}
	return nil
}

// planSame is the plan of a Decode with none: one output of the input's
// own size and format.
func planSame(f File, format string, w, h int) ([]Target, error) {
	return []Target{Output{}.Target(f.Rel, format, w, h)}, nil
}

// input is one input on its way through Decode's steps.
type input struct {
	file    File
	src     *opened // the file, open until Decode returns
	data    []byte  // its bytes, once charged and read
	format  *format.Format
	cfg     image.Config
	info    meta.Info
	w, h    int // upright
	targets []Target
	frames  int         // frames to decode: more than 1 only for an animation kept whole
	band    *band.Image // the image opened for reading in bands, when it is read so
}

// read opens the input, sniffs its format from its first bytes and checks
// its size against limit (bandLimit for a file on disk in a format read in
// bands), reading nothing more; a stream (no positioned reads) is read
// whole, unless the header in its first 64 KiB says it is over maxPixels.
func read(ctx context.Context, f File, limit, bandLimit, maxPixels int64) (*input, error) {
	src, err := f.openOnce(ctx, limit)
	if err != nil {
		return nil, err
	}
	fm := format.Sniff(src.head)
	if fm != nil && fm.Bands != nil && src.stream == nil {
		limit = bandLimit
	}
	switch {
	case fm == nil && src.size == 0:
		err = fmt.Errorf("%w: the file is empty", ErrNotImage)
	case fm == nil:
		err = fmt.Errorf("%w: its bytes are not %s", ErrNotImage, format.ReadableList())
	case !fm.Readable():
		err = unreadable(fm)
	case src.size > limit:
		err = fmt.Errorf("%w: file is %d bytes, over the %d byte limit (max_file_size)", ErrTooLarge, src.size, limit)
	}
	if err == nil && src.stream != nil {
		err = src.headerFirst(fm, maxPixels)
	}
	if err == nil {
		err = src.buffer(ctx, limit) // a stream without positioned reads
	}
	if err != nil {
		src.Close()
		return nil, err
	}
	return &input{file: f, src: src, format: fm, frames: 1}, nil
}

// unreadable explains a format this build cannot read.
func unreadable(f *format.Format) error {
	if f.ReadNeeds != "" {
		return fmt.Errorf("%w: %s needs %s", ErrUnsupportedFormat, f.Title, f.ReadNeeds)
	}
	return fmt.Errorf("%w: %s", ErrUnsupportedFormat, f.Title)
}

// header reads the size and metadata, turns the size upright and checks it
// against MaxPixels (bandPixels for an image to be read in bands: one over
// streamAbove pixels, upright as stored, whose variant internal/band
// reads) and MaxPixelsPerByte.
func (in *input) header(opts *DecodeOptions, bandPixels int64) error {
	src := in.src.section()
	bounded := in.format.HeaderWithin > 0 && in.src.size > opts.MaxFileSize
	if bounded {
		src = io.NewSectionReader(in.src, 0, min(in.src.size, in.format.HeaderWithin))
	}
	cfg, err := in.format.DecodeConfig(src)
	if err != nil {
		if bounded {
			return fmt.Errorf("%w: file is %d bytes, over the %d byte limit (max_file_size), and its header is not in its first %d KiB",
				ErrTooLarge, in.src.size, opts.MaxFileSize, in.format.HeaderWithin>>10)
		}
		return classify(err)
	}
	in.cfg = cfg
	if int64(cfg.Width)*int64(cfg.Height) <= streamAbove {
		// Not read in bands, whatever its format: refused before its
		// metadata is looked for in a file padded to gigabytes.
		if err := in.checkWholeSize(opts.MaxFileSize); err != nil {
			return err
		}
	}
	in.info, _ = meta.Read(in.src.section(), in.format.Name) // malformed metadata is ignored, never fatal
	if opts.IgnoreOrientation {
		in.info.Orientation = 0
	}
	in.w, in.h = cfg.Width, cfg.Height
	if in.info.Orientation >= 5 && in.info.Orientation <= 8 {
		in.w, in.h = in.h, in.w
	}
	if in.w <= 0 || in.h <= 0 {
		return corrupt(fmt.Errorf("header says %dx%d", in.w, in.h))
	}
	px := int64(in.w) * int64(in.h)
	limit := opts.MaxPixels
	if px > streamAbove && in.format.Bands != nil && in.info.Orientation <= 1 && in.src.stream == nil {
		if m, err := in.format.Bands(in.src, in.src.size); err == nil {
			in.band, limit = m, bandPixels
		}
	}
	if err := checkPixels(in.w, in.h, limit); err != nil {
		return err
	}
	if err := in.checkWholeSize(opts.MaxFileSize); err != nil {
		return err
	}
	if r := opts.MaxPixelsPerByte; r > 0 && px > minPixelsPerByteCheck && px/max(in.src.size, 1) > r {
		return fmt.Errorf("%w: %dx%d from a %d byte file is %d pixels a byte, over the %d limit (max_pixels_per_byte) for images over %d megapixels",
			ErrTooLarge, in.w, in.h, in.src.size, px/max(in.src.size, 1), r, minPixelsPerByteCheck/1_000_000)
	}
	return nil
}

// checkWholeSize refuses a file over limit (max_file_size for a file
// decoded whole) unless it is read in bands: read let it through under
// the limit of a format read in bands, which a JPEG of a few megapixels
// padded to gigabytes must not get.
func (in *input) checkWholeSize(limit int64) error {
	if in.band == nil && in.src.size > limit {
		return fmt.Errorf("%w: file is %d bytes, over the %d byte limit (max_file_size)", ErrTooLarge, in.src.size, limit)
	}
	return nil
}

// checkPixels refuses a w x h image over limit pixels.
func checkPixels(w, h int, limit int64) error {
	if px := int64(w) * int64(h); px > limit {
		return fmt.Errorf("%w: %dx%d is %.1f megapixels, over the %.1f megapixel limit (max_pixels)",
			ErrTooLarge, w, h, float64(px)/1e6, float64(limit)/1e6)
	}
	return nil
}

// countFrames decides whether every frame is decoded (an animation, when a
// target can hold one), and refuses animations over MaxPixels in total.
func (in *input) countFrames(opts *DecodeOptions) error {
	if !in.animated(opts) {
		return nil
	}
	n, px, err := in.format.CountFrames(in.data)
	if err != nil {
		return corrupt(err)
	}
	if all := int64(n) * int64(in.w) * int64(in.h); n > 1 && (all > opts.MaxPixels || px > opts.MaxPixels) {
		return fmt.Errorf("%w: %d frames of %dx%d are %.1f megapixels, over the %.1f megapixel limit (max_pixels)",
			ErrTooLarge, n, in.w, in.h, float64(all)/1e6, float64(opts.MaxPixels)/1e6)
	}
	in.frames = max(n, 1)
	return nil
}

// animated reports whether the input may be decoded as an animation.
func (in *input) animated(opts *DecodeOptions) bool {
	return in.format.Animation && opts.Frames != "first" && keepsFrames(in.targets)
}

// keepsFrames reports whether a target writes a format that holds
// animation.
func keepsFrames(targets []Target) bool {
	for _, t := range targets {
		if f := format.ByName(t.Format); f != nil && f.EncodeFrames != nil {
			return true
		}
	}
	return false
}

// decode charges the memory the input needs, once, then reads the file,
// decodes it and turns it upright. An input never waits for memory while
// holding some: when the fast decoder turns out not to read the file
// (format.ErrVariant), or an animation turns out to have several frames
// to keep, the charge is given back before the larger one is taken.
func (in *input) decode(ctx context.Context, opts *DecodeOptions,
	reserve func(context.Context, int64) (func(), error)) (*Decoded, error) {
	scale := 1
	if in.format.Scales && !opts.FullDecode {
		scale = shrinkOnLoad(in.targets)
	}
	release, err := reserve(ctx, in.need(scale))
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Decoded, error) {
		release()
		return nil, err
	}
	if in.data, err = in.src.readAll(ctx); err != nil {
		return fail(err)
	}
	if in.animated(opts) {
		if err := in.countFrames(opts); err != nil {
			return fail(err)
		}
		if in.frames > 1 {
			release()
			if release, err = reserve(ctx, in.need(scale)); err != nil {
				return nil, err
			}
		}
	}
	img, anim, err := in.pixels(scale)
	if errors.Is(err, format.ErrVariant) && in.format.Fallback != nil {
		release()
		release = func() {}
		n, ferr := in.fallbackNeed()
		if ferr != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnsupportedFormat, ferr)
		}
		if release, err = reserve(ctx, n); err != nil {
			return nil, err
		}
		if img, err = in.format.Fallback(bytes.NewReader(in.data)); err != nil {
			err = classify(err)
		}
		scale = 1
	}
	if err != nil {
		return fail(err)
	}
	upright := meta.Apply(onCanvas(img, in.cfg, scale), in.info.Orientation)
	if scale > 1 && trims(in.targets) {
		// The trimmed box is known only now: if it needs more pixels than
		// were decoded, decode again, finer (a photo without a border,
		// the usual case, costs a few pixel reads here).
		if s := trimScale(in.targets, upright, in.w, in.h, scale); s < scale {
			release()
			img, upright = nil, nil
			if release, err = reserve(ctx, in.need(s)); err != nil {
				return nil, err
			}
			if img, anim, err = in.pixels(s); err != nil {
				return fail(err)
			}
			scale = s
			upright = meta.Apply(onCanvas(img, in.cfg, scale), in.info.Orientation)
		}
	}
	d := &Decoded{File: in.file, Format: in.format.Name, Width: in.w, Height: in.h, Meta: in.info,
		Targets: in.targets, anim: anim}
	if n := in.info.DroppedICC; n > 0 {
		d.notes = append(d.notes, fmt.Sprintf("the input's %scolour profile is over the %d MiB limit and was dropped; colours may shift in colour-managed viewers",
			iccSize(n), meta.MaxICC>>20))
	}
	d.Gray = img.ColorModel() == color.GrayModel || img.ColorModel() == color.Gray16Model
	if p, ok := img.(*image.Paletted); ok {
		d.palette = p.Palette
	} else if anim != nil {
		d.palette = anim.Palette
	}
	d.Image = upright
	d.full = shrunkArea(upright.Bounds(), in.w, in.h, scale, in.info.Orientation)
	return d, nil
}

// shrunkArea is the area of the whole image in b, its decode at 1/scale
// turned upright by EXIF orientation o; w x h is the upright full size.
// The decoder rounds its size up, its last column and row standing for
// what is left of the image, so the image spans w/scale of b from its left
// edge, or up to its right edge where turning it upright put that partial
// column or row first (meta.Reverses), and likewise down.
func shrunkArea(b image.Rectangle, w, h, scale, o int) area {
	a := whole(b)
	if scale == 1 {
		return a
	}
	a.dx = min(float64(w)/float64(scale), a.dx)
	a.dy = min(float64(h)/float64(scale), a.dy)
	across, down := meta.Reverses(o)
	if across {
		a.x0 = float64(b.Dx()) - a.dx
	}
	if down {
		a.y0 = float64(b.Dy()) - a.dy
	}
	return a
}

// iccSize words a dropped profile's size, when known: "15.0 MiB ".
func iccSize(n int64) string {
	if n == meta.MaxICC+1 {
		return ""
	}
	return fmt.Sprintf("%.1f MiB ", float64(n)/(1<<20))
}

// fallbackNeed is need(1) with what the format's Fallback holds in place
// of what its own decoder does, or why the fallback is refused.
func (in *input) fallbackNeed() (int64, error) {
	n := in.need(1)
	if in.format.FallbackHolds == nil {
		return n, nil
	}
	_, own := in.holds(1)
	held, err := in.format.FallbackHolds(in.reader(), in.cfg.Width, in.cfg.Height, in.samples())
	if err != nil {
		return 0, err
	}
	return n + int64(in.frames)*(held-own), nil
}

// pixels decodes the image at 1/scale, or every frame of an animation.
func (in *input) pixels(scale int) (image.Image, *format.Animation, error) {
	if in.frames > 1 {
		anim, err := in.format.DecodeFrames(in.data)
		if err != nil {
			return nil, nil, classify(err)
		}
		return anim.Frames[0], anim, nil
	}
	img, err := in.format.Decode(newMemReader(in.data), scale)
	if err != nil && !errors.Is(err, format.ErrVariant) {
		err = classify(err)
	}
	return img, nil, err
}

// memReader is a bytes.Reader over a file in memory that also hands out
// the bytes it has not read, as bytes.Buffer's Bytes does: the JPEG
// decoder, which wants the whole file, then decodes them in place instead
// of copying them first.
type memReader struct {
	*bytes.Reader
	data []byte
}

func newMemReader(data []byte) memReader { return memReader{bytes.NewReader(data), data} }

// Bytes returns the unread bytes; they are the file's, not a copy.
func (r memReader) Bytes() []byte { return r.data[r.Size()-int64(r.Len()):] }

// onCanvas returns img on a canvas of the size its header gives, when a
// full-size decode covers only part of it (the first frame of a GIF may).
func onCanvas(img image.Image, cfg image.Config, scale int) image.Image {
	b := img.Bounds()
	if scale != 1 || b.Min == (image.Point{}) && b.Dx() == cfg.Width && b.Dy() == cfg.Height {
		return img
	}
	canvas := image.NewRGBA(image.Rect(0, 0, cfg.Width, cfg.Height))
	draw.Draw(canvas, b, img, b.Min, draw.Src)
	return canvas
}

// solHeadroom is how much resizing shrink-on-load at 1/4 and 1/8 leaves,
// at least, to the resize stage. Their reduced IDCTs (2x2 and 1x1 of each
// block) are crude filters: when the resize after them would be close to
// 1:1, the output is essentially that filter's image, which aliases fine
// detail. Measured on the 36-photo benchmark set (fit 800x800): with 1.25
// instead of 1, the worst output went from 37.6 to 45.0 dB PSNR against a
// full decode's, for about 2% more CPU. libvips and Pillow leave 2x: on
// the same job that cost 30% more CPU and took the peak memory over 200
// MB. The 4x4 IDCT of 1/2 scale is a good filter on its own (61 dB from
// the full decode at 2.05x in TestShrinkOnLoadQuality), so 1/2 needs no
// headroom: a 320x200 photo bound for 160x100 is decoded at exactly that
// size, with no resize at all.
const solHeadroom = 1.25

// shrinkOnLoad picks the largest scale (8, 4, 2 or 1) that leaves the
// decoded image at least as large as every target needs, and for 1/4 and
// 1/8 at least solHeadroom times as large.
func shrinkOnLoad(targets []Target) int { return shrinkOnLoadAt(targets, solHeadroom) }

// shrinkOnLoadAt is shrinkOnLoad with the headroom given.
func shrinkOnLoadAt(targets []Target, headroom float64) int {
	scale := 8
	for _, t := range targets {
		f := min(float64(t.Crop.Dx())/float64(t.Width), float64(t.Crop.Dy())/float64(t.Height))
		s := 1
		for _, c := range []int{8, 4, 2} {
			need := float64(c)
			if c >= 4 {
				need *= headroom
			}
			if need <= f {
				s = c
				break
			}
		}
		scale = min(scale, s)
	}
	return scale
}

// need estimates the peak bytes the input needs between decode and save,
// decoded at 1/scale: the file, what the decoder holds (format.Holds), a
// copy more if the pixels are turned upright, the colour profile, and each
// output's pixels plus its encoded bytes (with a copy of the profile), for
// every frame decoded. It errs on the high side: it is what the memory
// budget is charged.
func (in *input) need(scale int) int64 {
	px, held := in.holds(scale)
	n := in.src.size + held
	if o := in.info.Orientation; o >= 2 && o <= 8 {
		n += 4 * px // turned upright into an NRGBA copy
	}
	icc := int64(len(in.info.ICC))
	n += icc
	for _, t := range in.targets {
		n += outputHolds(t, icc)
	}
	return int64(in.frames) * n
}

// samples is how many bytes a pixel takes once decoded, from the header's
// colour model.
func (in *input) samples() int {
	switch in.cfg.ColorModel {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	return 4 // RGBA and most others
}

// holds is the pixels the decoder allocates at 1/scale and the bytes it
// holds (format.Holds).
func (in *input) holds(scale int) (pixels, bytes int64) {
	samples := in.samples()
	if in.format.Holds != nil {
		return in.format.Holds(in.reader(), in.w, in.h, scale, samples)
	}
	px := int64(in.w) * int64(in.h)
	return px, int64(samples) * px
}

// putData gives the file's bytes back to the pool once Decode is done
// with them. The decoders copy what they return, but an animation's
// frames are left to the garbage collector, to be safe.
func (in *input) putData() {
	data := in.data
	if data == nil {
		data = in.src.data // read at open, and Decode ended before readAll
	}
	if data != nil && in.frames <= 1 {
		putData(data)
	}
	in.data, in.src.data = nil, nil
}

// reader reads the file: its bytes once read, else the open file.
func (in *input) reader() io.ReaderAt {
	if in.data != nil {
		return bytes.NewReader(in.data)
	}
	return in.src
}

// classify maps a decoder's error to imgpipe's error classes.
func classify(err error) error {
	var (
		jpegU jpeg.UnsupportedError
		pngU  png.UnsupportedError
		tiffU tiff.UnsupportedError
	)
	switch {
	case errors.Is(err, image.ErrFormat):
		return fmt.Errorf("%w: %w", ErrNotImage, err)
	case errors.As(err, &jpegU), errors.As(err, &pngU), errors.As(err, &tiffU), errors.Is(err, bmp.ErrUnsupported),
		strings.Contains(err.Error(), "unsupported"): // webp, gif: plain errors.New texts
		return fmt.Errorf("%w: %w", ErrUnsupportedFormat, err)
	case errors.Is(err, io.EOF):
		return corrupt(io.ErrUnexpectedEOF) // a header cut short is a truncated file
	}
	return corrupt(err)
}
