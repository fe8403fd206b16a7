package band

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"sync"

	"github.com/imgpipe/imgpipe/internal/jpeg"
)

// JPEG opens a baseline or progressive JPEG for reading in bands: the file
// is read as a stream through internal/jpeg's window, and decoded an MCU
// row at a time at the scale Strips is given (see jpeg.Bands for what a
// progressive file holds). It reads the header up to the first scan. What
// internal/jpeg does not decode in bands (a sequential file in several
// scans, arithmetic coding, 12 bits...) is refused with ErrUnsupported.
func JPEG(r io.ReaderAt, size int64) (*Image, error) {
	f := &jpegFile{r: io.NewSectionReader(r, 0, size), ctx: context.Background()}
	b, err := jpeg.NewBands(f)
	if err != nil {
		var fe jpeg.FormatError
		if errors.As(err, &fe) || errors.Is(err, jpeg.ErrUnsupported) {
			return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		return nil, unexpected(err)
	}
	f.b = b
	w, h := b.Size()
	if err := check(w, h); err != nil {
		return nil, err
	}
	return &Image{Width: w, Height: h, Gray: b.Gray(), Holds: b.Holds(1), Scales: true,
		YCbCr: b.Model() == color.YCbCrModel, strips: f.strips, holdsAt: f.holdsAt}, nil
}

// jpegFile is the stream jpeg.Bands reads, giving up when ctx is done (a
// progressive file's scans are all decoded before its first strip).
type jpegFile struct {
	r   io.Reader
	ctx context.Context
	b   *jpeg.Bands
}

func (f *jpegFile) Read(p []byte) (int, error) {
	if err := f.ctx.Err(); err != nil {
		return 0, err
	}
	return f.r.Read(p)
}

// stripsAhead is how many decoded strips strips keeps copies of: one
// being handed on, the others decoded ahead.
const stripsAhead = 3

// holdsAt is what strips holds at 1/scale: what jpeg.Bands holds (its
// strip among it) and the copies of stripsAhead strips.
func (f *jpegFile) holdsAt(scale int) int64 {
	return f.b.Holds(scale) + stripsAhead*f.b.StripBytes(scale)
}

// strips decodes the strips in a goroutine of its own, which copies each
// into one of stripsAhead buffers, while the caller's goroutine hands them
// to fn: the entropy decoding and IDCT of the next MCU rows run beside the
// resampling of these, on another core. It returns only after that
// goroutine has ended.
func (f *jpegFile) strips(ctx context.Context, scale int, fn func(image.Image) error) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	f.ctx = ctx
	type strip struct {
		m   image.Image
		err error
	}
	free := make(chan image.Image, stripsAhead)
	for range stripsAhead {
		free <- nil // allocated at the first strip, each its own copy
	}
	full := make(chan strip, stripsAhead)
	wg.Add(1)
	go func() { // creates and closes full
		defer wg.Done()
		defer close(full)
		for {
			var dst image.Image
			select {
			case dst = <-free:
			case <-ctx.Done():
				return
			}
			m, err := f.b.Next(scale)
			if err == nil {
				dst, err = copyStrip(dst, m)
			}
			if err == io.EOF {
				return
			}
			full <- strip{dst, err} // never blocks: one place a buffer
			if err != nil {
				return
			}
		}
	}()
	for s := range full {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.err != nil {
			return s.err
		}
		if err := fn(s.m); err != nil {
			return err
		}
		free <- s.m // never blocks
	}
	return ctx.Err()
}

// copyStrip copies strip m into dst, reusing dst's pixels when they are
// large enough, and returns the copy.
func copyStrip(dst, m image.Image) (image.Image, error) {
	grow := func(b []byte, n int) []byte {
		if cap(b) < n {
			return make([]byte, n)
		}
		return b[:n]
	}
	switch m := m.(type) {
	case *image.YCbCr:
		d, _ := dst.(*image.YCbCr)
		if d == nil {
			d = &image.YCbCr{}
		}
		y, cb, cr := d.Y, d.Cb, d.Cr
		*d = *m
		d.Y, d.Cb, d.Cr = grow(y, len(m.Y)), grow(cb, len(m.Cb)), grow(cr, len(m.Cr))
		copy(d.Y, m.Y)
		copy(d.Cb, m.Cb)
		copy(d.Cr, m.Cr)
		return d, nil
	case *image.Gray:
		d, _ := dst.(*image.Gray)
		if d == nil {
			d = &image.Gray{}
		}
		pix := d.Pix
		*d = *m
		d.Pix = grow(pix, len(m.Pix))
		copy(d.Pix, m.Pix)
		return d, nil
	case *image.RGBA:
		d, _ := dst.(*image.RGBA)
		if d == nil {
			d = &image.RGBA{}
		}
		pix := d.Pix
		*d = *m
		d.Pix = grow(pix, len(m.Pix))
		copy(d.Pix, m.Pix)
		return d, nil
	case *image.CMYK:
		d, _ := dst.(*image.CMYK)
		if d == nil {
			d = &image.CMYK{}
		}
		pix := d.Pix
		*d = *m
		d.Pix = grow(pix, len(m.Pix))
		copy(d.Pix, m.Pix)
		return d, nil
	}
	return nil, fmt.Errorf("band: a JPEG strip of %T", m)
}
