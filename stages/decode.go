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

	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/internal/meta"
)

// DecodeOptions controls the decode stage. The zero value is the default.
type DecodeOptions struct {
	// MaxPixels refuses images with more pixels than this, from their
	// header. Default 100 megapixels: above any camera of today.
	MaxPixels int64 `yaml:"max_pixels"`
	// MaxFileSize refuses input files larger than this many bytes.
	MaxFileSize int64 `yaml:"-"`
	// IgnoreOrientation leaves EXIF-rotated photos as stored.
	IgnoreOrientation bool `yaml:"ignore_orientation"`
	// FullDecode decodes every pixel of a JPEG. By default a JPEG is
	// decoded at 1/2, 1/4 or 1/8 when every output is that much smaller
	// (shrink-on-load): several times faster, a fraction of the memory.
	FullDecode bool `yaml:"full_decode"`
	// Frames is "all" (default) to keep every frame of an animation in
	// outputs that can hold one, or "first".
	Frames string `yaml:"frames"`
}

// DefaultMaxPixels is the default of DecodeOptions.MaxPixels.
const DefaultMaxPixels = 100_000_000

// Decoded is an input read into memory, upright.
type Decoded struct {
	File   File
	Format string // the sniffed source format
	// Width and Height are the upright full size; Image, the upright
	// pixels, may be smaller (shrink-on-load). Resize drops Image.
	Width, Height int
	Image         image.Image
	Meta          meta.Info // colour profile and EXIF of the source
	Gray          bool      // the source is greyscale: outputs stay greyscale
	// Targets are the outputs to make, in the configured order.
	Targets []Target

	anim    *format.Animation // every frame, when a target writes an animation
	palette color.Palette     // the source's palette (GIF, PNG-8), for GIF outputs
}

// Decode returns the decode stage: it checks an input's header against the
// limits, asks plan for its targets (nil: one of the input's own size and
// format), charges its memory (file, pixels, outputs) with reserve (nil: no
// budget) before allocating any pixel, decodes and turns it upright.
func Decode(opts DecodeOptions,
	plan func(f File, format string, w, h int) ([]Target, error),
	reserve func(ctx context.Context, bytes int64) (release func(), err error),
) func(context.Context, File) (*Decoded, error) {
	if opts.MaxPixels == 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if plan == nil {
		plan = planSame
	}
	if reserve == nil {
		reserve = func(context.Context, int64) (func(), error) { return func() {}, nil }
	}
	return func(ctx context.Context, f File) (*Decoded, error) {
		in, err := read(f, opts.MaxFileSize)
		if err != nil {
			return nil, err
		}
		if err := in.header(&opts); err != nil {
			return nil, err
		}
		if in.targets, err = plan(f, in.format.Name, in.w, in.h); err != nil {
			return nil, err
		}
		if err := in.countFrames(&opts); err != nil {
			return nil, err
		}
		return in.decode(ctx, &opts, reserve)
	}
}

// planSame is the plan of a Decode with none: one output of the input's
// own size and format.
func planSame(f File, format string, w, h int) ([]Target, error) {
	return []Target{Output{}.Target(f.Rel, format, w, h)}, nil
}

// input is one input on its way through Decode's steps.
type input struct {
	file    File
	data    []byte
	format  *format.Format
	cfg     image.Config
	info    meta.Info
	w, h    int // upright
	targets []Target
	frames  int // frames to decode: more than 1 only for an animation kept whole
}

// read reads the whole input and sniffs its format.
func read(f File, limit int64) (*input, error) {
	if limit > 0 && f.Size > limit {
		return nil, fmt.Errorf("%w: file is %d bytes, over the %d byte limit (max_file_size)", ErrTooLarge, f.Size, limit)
	}
	data, err := readAll(f, limit)
	if err != nil {
		return nil, err
	}
	fm := format.Sniff(data)
	switch {
	case fm == nil && len(data) == 0:
		return nil, fmt.Errorf("%w: the file is empty", ErrNotImage)
	case fm == nil:
		return nil, fmt.Errorf("%w: its bytes are not %s", ErrNotImage, format.ReadableList())
	case !fm.Readable():
		return nil, unreadable(fm)
	}
	return &input{file: f, data: data, format: fm, frames: 1}, nil
}

// unreadable explains a format this build cannot read.
func unreadable(f *format.Format) error {
	if f.ReadNeeds != "" {
		return fmt.Errorf("%w: %s needs %s", ErrUnsupportedFormat, f.Title, f.ReadNeeds)
	}
	return fmt.Errorf("%w: %s", ErrUnsupportedFormat, f.Title)
}

// header reads the size and metadata, turns the size upright and checks it
// against MaxPixels.
func (in *input) header(opts *DecodeOptions) error {
	cfg, err := in.format.DecodeConfig(bytes.NewReader(in.data))
	if err != nil {
		return classify(err)
	}
	in.cfg = cfg
	in.info, _ = meta.Read(bytes.NewReader(in.data), in.format.Name) // malformed metadata is ignored, never fatal
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
	if px := int64(in.w) * int64(in.h); px > opts.MaxPixels {
		return fmt.Errorf("%w: %dx%d is %.1f megapixels, over the %.1f megapixel limit (max_pixels)",
			ErrTooLarge, in.w, in.h, float64(px)/1e6, float64(opts.MaxPixels)/1e6)
	}
	return nil
}

// countFrames decides whether every frame is decoded (an animation, when a
// target can hold one), and refuses animations over MaxPixels in total.
func (in *input) countFrames(opts *DecodeOptions) error {
	if !in.format.Animation || opts.Frames == "first" || !keepsFrames(in.targets) {
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

// decode charges the memory the input needs, once, then decodes it and
// turns it upright. When the fast decoder turns out not to read the file
// (format.ErrVariant), the charge is given back before the fallback's is
// taken: an input never waits for memory while holding some.
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
	img, anim, err := in.pixels(scale)
	if errors.Is(err, format.ErrVariant) && in.format.Fallback != nil {
		release()
		if release, err = reserve(ctx, in.need(1)); err != nil {
			return nil, err
		}
		if img, err = in.format.Fallback(bytes.NewReader(in.data)); err != nil {
			err = classify(err)
		}
		scale = 1
	}
	if err == nil && scale > 1 && trims(in.targets) {
		// The trimmed box is known only now: if it needs more pixels than
		// were decoded, decode again, finer (a photo without a border,
		// the usual case, costs a few pixel reads here).
		if s := trimScale(in.targets, meta.Apply(img, in.info.Orientation), in.w, in.h, scale); s < scale {
			release()
			img = nil
			if release, err = reserve(ctx, in.need(s)); err != nil {
				return nil, err
			}
			img, anim, err = in.pixels(s)
			scale = s
		}
	}
	if err != nil {
		release()
		return nil, err
	}
	d := &Decoded{File: in.file, Format: in.format.Name, Width: in.w, Height: in.h, Meta: in.info,
		Targets: in.targets, anim: anim}
	d.Gray = img.ColorModel() == color.GrayModel || img.ColorModel() == color.Gray16Model
	if p, ok := img.(*image.Paletted); ok {
		d.palette = p.Palette
	} else if anim != nil {
		d.palette = anim.Palette
	}
	d.Image = meta.Apply(onCanvas(img, in.cfg, scale), in.info.Orientation)
	return d, nil
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
	img, err := in.format.Decode(bytes.NewReader(in.data), scale)
	if err != nil && !errors.Is(err, format.ErrVariant) {
		err = classify(err)
	}
	return img, nil, err
}

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
func shrinkOnLoad(targets []Target) int {
	scale := 8
	for _, t := range targets {
		f := min(float64(t.Crop.Dx())/float64(t.Width), float64(t.Crop.Dy())/float64(t.Height))
		s := 1
		for _, c := range []int{8, 4, 2} {
			need := float64(c)
			if c >= 4 {
				need *= solHeadroom
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
// copy more if the pixels are turned upright, and each output's pixels plus
// its encoded bytes, for every frame decoded. It errs on the high side: it
// is what the memory budget is charged.
func (in *input) need(scale int) int64 {
	samples := 4 // bytes a pixel once decoded: RGBA and most others
	switch in.cfg.ColorModel {
	case color.GrayModel, color.AlphaModel:
		samples = 1
	case color.Gray16Model:
		samples = 2
	case color.YCbCrModel:
		samples = 3
	case color.RGBA64Model, color.NRGBA64Model:
		samples = 8
	}
	px, held := int64(in.w)*int64(in.h), int64(samples)*int64(in.w)*int64(in.h)
	if in.format.Holds != nil {
		px, held = in.format.Holds(in.data, in.w, in.h, scale, samples)
	}
	n := int64(len(in.data)) + held
	if o := in.info.Orientation; o >= 2 && o <= 8 {
		n += 4 * px // turned upright into an NRGBA copy
	}
	for _, t := range in.targets {
		opx := int64(t.Width) * int64(t.Height)
		n += 5 * opx
		if f := format.ByName(t.Format); f != nil && f.EncodeHolds != nil {
			n += f.EncodeHolds(opx)
		}
	}
	return int64(in.frames) * n
}

// readAll reads the whole input, refusing more than limit bytes when
// limit > 0 (the size in File may be stale or unknown).
func readAll(f File, limit int64) ([]byte, error) {
	rc, err := f.open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	r := io.Reader(rc)
	if limit > 0 {
		r = io.LimitReader(rc, limit+1)
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(f.Size, 512)+1))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	if limit > 0 && int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%w: file is over the %d byte limit (max_file_size)", ErrTooLarge, limit)
	}
	return buf.Bytes(), nil
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
