package stages

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"image/jpeg"
	"image/png"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	ijpeg "github.com/imgpipe/imgpipe/internal/jpeg"
	"github.com/imgpipe/imgpipe/internal/meta"
)

// DecodeOptions controls the decode stage. The zero value is the default.
type DecodeOptions struct {
	// MaxPixels refuses images with more pixels than this, from their
	// header, before any pixel memory is allocated. Default 100 megapixels:
	// above any camera of today, below what fits comfortably in memory.
	MaxPixels int64 `yaml:"max_pixels"`
	// MaxFileSize refuses input files larger than this many bytes.
	// Default 0: no limit other than MaxPixels.
	MaxFileSize ByteSize `yaml:"max_file_size"`
	// IgnoreOrientation leaves EXIF-rotated photos as stored. By default
	// they are turned upright.
	IgnoreOrientation bool `yaml:"ignore_orientation"`
	// FullDecode decodes every pixel of a JPEG even when the outputs are
	// much smaller. By default a JPEG is decoded at 1/2, 1/4 or 1/8 of its
	// size straight from its DCT coefficients when every output is at least
	// that much smaller (shrink-on-load, as libjpeg does): several times
	// faster, and a fraction of the memory.
	FullDecode bool `yaml:"full_decode"`
	// Frames is "all" (default) to keep every frame of an animated GIF in
	// GIF outputs, or "first" to keep only the first frame. Other output
	// formats always take the first frame.
	Frames string `yaml:"frames"`

	// Planner decides each input's outputs from its header. Required.
	Planner *Planner `yaml:"-"`
	// Reserve is called with the memory an input will need once decoded,
	// before its pixels are allocated; it blocks until that much is free
	// and returns the function that gives it back. Nil means no budget.
	Reserve func(ctx context.Context, bytes int64) (release func(), err error) `yaml:"-"`
}

// DefaultMaxPixels is the default of DecodeOptions.MaxPixels.
const DefaultMaxPixels = 100_000_000

// Decoded is an input read into memory, upright.
type Decoded struct {
	File   File
	Format string // the sniffed source format
	// Width and Height are the upright size of the source at full
	// resolution, whatever size Image was decoded at.
	Width, Height int
	// Image holds the upright pixels. It may be smaller than Width x Height
	// when the decoder could shrink on load. The resize stage drops it.
	Image image.Image
	Meta  meta.Info // colour profile and EXIF of the source
	// Anim holds every frame of an animated GIF when a target writes GIF.
	Anim *Animation
	// Palette is the source's palette, for paletted sources (GIF, PNG-8):
	// GIF outputs are mapped back onto it.
	Palette color.Palette
	Gray    bool     // the source is greyscale: outputs stay greyscale
	Targets []Target // the outputs to make

	// Elapsed is the time spent on this input in the stages so far.
	Elapsed time.Duration

	// release gives back the memory reserved for this input.
	release func()
}

// AddElapsed adds t to the time spent on d. The pipeline calls it after
// each stage.
func (d *Decoded) AddElapsed(t time.Duration) { d.Elapsed += t }

// Release gives back the memory reserved for d. The pipeline calls it once
// the input is finished, successfully or not; calling it again does nothing.
func (d *Decoded) Release() {
	if d.release != nil {
		d.release()
	}
}

// Decode returns the decode stage: it reads a File, checks its header
// against the limits, plans its outputs (which may end it as a *Skip),
// reserves memory, decodes the pixels and turns them upright.
//
// Memory: what memoryNeed estimates, charged to DecodeOptions.Reserve
// before any pixel is allocated: the file's bytes, the decoded pixels (at
// the shrink-on-load scale for JPEG), a rotated copy, and the outputs.
func Decode(opts DecodeOptions) func(context.Context, File) (*Decoded, error) {
	if opts.MaxPixels == 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	return func(ctx context.Context, f File) (*Decoded, error) {
		return decode(ctx, f, &opts)
	}
}

func decode(ctx context.Context, f File, opts *DecodeOptions) (*Decoded, error) {
	if opts.MaxFileSize > 0 && f.Size > int64(opts.MaxFileSize) {
		return nil, fmt.Errorf("%w: file is %d bytes, over the %d byte limit (max_file_size)", ErrTooLarge, f.Size, opts.MaxFileSize)
	}
	data, err := readAll(f, int64(opts.MaxFileSize))
	if err != nil {
		return nil, err
	}
	format := Sniff(data)
	switch format {
	case "":
		if len(data) == 0 {
			return nil, fmt.Errorf("%w: the file is empty", ErrNotImage)
		}
		return nil, fmt.Errorf("%w: its bytes are not JPEG, PNG, GIF, BMP, TIFF or WebP", ErrNotImage)
	}
	if format == "webp" && len(data) > 20 && string(data[12:16]) == "VP8X" && data[20]&0x02 != 0 {
		format = "webp-anim" // animated: x/image/webp cannot read it
	}
	dec, ok := decoders[format]
	if !ok {
		return nil, unsupported(format)
	}
	cfg, err := dec.config(bytes.NewReader(data))
	if err != nil {
		return nil, classify(err)
	}
	info, _ := meta.Read(bytes.NewReader(data), format) // malformed metadata is ignored, never fatal
	if opts.IgnoreOrientation {
		info.Orientation = 0
	}
	w, h := cfg.Width, cfg.Height
	if info.Orientation >= 5 && info.Orientation <= 8 {
		w, h = h, w
	}
	if w <= 0 || h <= 0 {
		return nil, corrupt(fmt.Errorf("header says %dx%d", w, h))
	}
	if px := int64(w) * int64(h); px > opts.MaxPixels {
		return nil, fmt.Errorf("%w: %dx%d is %.1f megapixels, over the %.1f megapixel limit (max_pixels)",
			ErrTooLarge, w, h, float64(px)/1e6, float64(opts.MaxPixels)/1e6)
	}
	targets, err := opts.Planner.Plan(f, format, w, h)
	if err != nil {
		return nil, err
	}

	frames := 1
	if format == "gif" && opts.Frames != "first" && writesGIF(targets) {
		n, px, _, err := gifBlocks(data)
		if err != nil {
			return nil, corrupt(err)
		}
		if all := int64(n) * int64(w) * int64(h); n > 1 && (all > opts.MaxPixels || px > opts.MaxPixels) {
			return nil, fmt.Errorf("%w: %d frames of %dx%d are %.1f megapixels, over the %.1f megapixel limit (max_pixels)",
				ErrTooLarge, n, w, h, float64(all)/1e6, float64(opts.MaxPixels)/1e6)
		}
		frames = max(n, 1)
	}

	scale := 1
	if format == "jpeg" && !opts.FullDecode {
		scale = shrinkOnLoad(targets)
	}
	// Charge the memory budget before allocating pixels. need(s) is the
	// estimate at JPEG scale s; every frame of an animation counts.
	need := func(s int) int64 {
		return int64(frames) * memoryNeed(format, cfg.ColorModel, data, w, h, s, targets, info.Orientation)
	}
	release := func() {}
	reserve := func(n int64) error {
		if opts.Reserve == nil {
			return nil
		}
		more, err := opts.Reserve(ctx, n)
		if err == nil {
			prev := release
			release = func() { prev(); more() }
		}
		return err
	}
	if err := reserve(need(scale)); err != nil {
		return nil, err
	}
	var img image.Image
	var anim *Animation
	switch {
	case frames > 1:
		if anim, err = decodeAnimation(data); err == nil {
			img = anim.Frames[0]
		}
	case format == "jpeg":
		img, err = ijpeg.Decode(bytes.NewReader(data), &ijpeg.Options{Scale: scale})
		switch {
		case errors.Is(err, ijpeg.ErrUnsupported):
			// image/jpeg decodes it (or says why not), at full size: charge that too.
			if err = reserve(need(1) - need(scale)); err == nil {
				img, err = decodePixels(dec, data)
			}
		case err != nil:
			err = classify(err)
		}
	case format == "webp":
		if img, err = decodePixels(dec, data); err == nil {
			webpFullRange(img)
		}
	default:
		img, err = decodePixels(dec, data)
	}
	if err != nil {
		release()
		return nil, err
	}
	gray := img.ColorModel() == color.GrayModel || img.ColorModel() == color.Gray16Model
	var pal color.Palette
	if p, ok := img.(*image.Paletted); ok {
		pal = p.Palette
	} else if anim != nil {
		pal = anim.Palette
	}
	if b := img.Bounds(); format == "gif" && (b.Min != image.Point{} || b.Dx() != w || b.Dy() != h) {
		// The first frame of a GIF may cover only part of its canvas.
		canvas := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(canvas, b, img, b.Min, draw.Src)
		img = canvas
	}
	img = meta.Apply(img, info.Orientation)
	return &Decoded{File: f, Format: format, Width: w, Height: h, Image: img, Meta: info, Gray: gray,
		Anim: anim, Palette: pal, Targets: targets, release: release}, nil
}

func writesGIF(targets []Target) bool {
	for _, t := range targets {
		if t.Format == "gif" {
			return true
		}
	}
	return false
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

// shrinkOnLoad picks the largest JPEG scale (8, 4, 2 or 1) that leaves the
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

// webpFullRange fixes the colours of lossy WebP. VP8 stores "studio
// range" YCbCr (Y 16-235, chroma 16-240) but x/image/webp returns it as an
// image.YCbCr, which Go converts with the full-range JPEG formula: washed
// out colours, 28 dB from the source photo instead of 40. Stretching the
// planes to full range in place makes Go's conversion right.
func webpFullRange(img image.Image) {
	var y, cb, cr []uint8
	switch m := img.(type) {
	case *image.YCbCr:
		y, cb, cr = m.Y, m.Cb, m.Cr
	case *image.NYCbCrA:
		y, cb, cr = m.Y, m.Cb, m.Cr
	default:
		return // lossless WebP is RGB already
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
}

var studioLUTs = sync.OnceValues(func() (*[256]uint8, *[256]uint8) {
	var luma, chroma [256]uint8
	for i := range 256 {
		luma[i] = uint8(max(0, min(255, math.Round((float64(i)-16)*255/219))))
		chroma[i] = uint8(max(0, min(255, math.Round((float64(i)-128)*255/224+128))))
	}
	return &luma, &chroma
})

// decodePixels decodes data with dec.
func decodePixels(dec decoder, data []byte) (image.Image, error) {
	img, err := dec.decode(bytes.NewReader(data))
	if err != nil {
		return nil, classify(err)
	}
	return img, nil
}

// memoryNeed estimates the peak bytes an input needs between decode and
// save: the file, what the decoder holds (progressive JPEGs keep their DCT
// coefficients, 2 bytes each for the ones the scale needs), the decoded
// pixels (a copy more if they are rotated), and each output's pixels plus
// its encoded bytes. It errs on the high side: it is what the memory budget
// is charged.
func memoryNeed(format string, model color.Model, data []byte, w, h, scale int, targets []Target, orientation int) int64 {
	px := int64(w) * int64(h)
	samples := int64(4) // bytes a pixel once decoded: RGBA and most others
	switch model {
	case color.GrayModel, color.AlphaModel:
		samples = 1
	case color.Gray16Model:
		samples = 2
	case color.YCbCrModel:
		samples = 3
	case color.RGBA64Model, color.NRGBA64Model:
		samples = 8
	}
	n := int64(len(data))
	if format == "jpeg" {
		s := max(scale, 1)
		// Decoders pad planes to whole 16x16 blocks (MCUs).
		spx := int64((w/s+16)&^15) * int64((h/s+16)&^15)
		n += samples * spx
		if isProgressive(data) {
			n += 2 * samples * spx // the coefficients kept: as many as samples, 2 bytes each
		}
		px = spx
	} else {
		n += samples * px
	}
	if orientation >= 2 && orientation <= 8 {
		n += 4 * px // turned upright into an NRGBA copy
	}
	for _, t := range targets {
		opx := int64(t.Width) * int64(t.Height)
		n += 5 * opx
		if t.Format == "jpeg" {
			// The encoder's coefficients (up to 6.4 bytes a pixel, at
			// most 32 MB) and, from RGB, its YCbCr planes (3 bytes).
			n += min(7*opx, 32<<20) + 3*opx
		}
	}
	return n
}

// isProgressive reports whether a JPEG's frame header (before its first
// scan) is progressive (SOF2).
func isProgressive(data []byte) bool {
	for i := 2; i+3 < len(data); {
		if data[i] != 0xff {
			return false
		}
		marker := data[i+1]
		switch {
		case marker == 0xc2:
			return true
		case marker == 0xda: // start of scan: no SOF2 before it
			return false
		case marker == 0xff: // fill byte
			i++
			continue
		}
		i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
	}
	return false
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
