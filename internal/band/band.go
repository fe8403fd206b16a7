// Package band decodes images a band of rows at a time, so that an image
// far larger than memory can be resized as its rows arrive: TIFF strips and
// tiles (uncompressed, Deflate, LZW, PackBits), non-interlaced PNG and
// uncompressed BMP, 8 bits a sample; and JPEG, in MCU rows at a reduced
// scale (Strips). Rows come in order, top to bottom, as
// premultiplied 8-bit RGBA: exactly the bytes the resizer reads from the
// image the full decoder (image/png, golang.org/x/image/tiff and bmp)
// returns for the same file. Variants it does not read are refused with
// ErrUnsupported before any pixel is read: the caller decodes them whole.
package band

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"sync"
)

// ErrUnsupported is returned by the openers for a file this package does
// not decode in bands (16-bit samples, an interlaced PNG, a paletted
// TIFF...). It says nothing of whether the file is valid.
var ErrUnsupported = errors.New("band: variant not decoded in bands")

// FormatError reports a file that is not valid, or cut short.
type FormatError string

func (e FormatError) Error() string { return "band: invalid format: " + string(e) }

// Image is an image opened for reading in bands.
type Image struct {
	Width, Height int
	// Gray: the full decoder returns a greyscale image.
	Gray bool
	// Holds is the most bytes Rows holds at once: its row buffers and the
	// decompressors' state (a band of tiles: one decompressor a tile
	// across).
	Holds int64
	rows  func(ctx context.Context, fn func(y int, row []byte) error) error

	// A JPEG is decoded in bands at a reduced scale (1/2, 1/4, 1/8 of its
	// size, from its DCT coefficients), as images of whole rows: Scales is
	// set, Rows is not to be called, Strips is.
	Scales bool
	// YCbCr: the strips are *image.YCbCr (a JPEG not in RGB or CMYK).
	YCbCr   bool
	strips  func(ctx context.Context, scale int, fn func(strip image.Image) error) error
	holdsAt func(scale int) int64
}

// Strips calls fn for every strip of an image that Scales, decoded at
// 1/scale, in order top to bottom: the rows from y0 to y1 of the image
// the format's whole decoder returns at that scale, with bounds (0, y0)-
// (width, y1), valid until fn returns. It stops at the first error of fn,
// of the file or of ctx. fn runs in the caller's goroutine; the strips
// are decoded ahead in one goroutine of Strips', which has ended when
// Strips returns. It may be called once.
func (m *Image) Strips(ctx context.Context, scale int, fn func(strip image.Image) error) error {
	if m.strips == nil {
		return fmt.Errorf("%w: read in rows (Rows)", ErrUnsupported)
	}
	return m.strips(ctx, scale, fn)
}

// HoldsAt is Holds for an image that Scales, decoded at 1/scale; Holds
// for the others.
func (m *Image) HoldsAt(scale int) int64 {
	if m.holdsAt == nil {
		return m.Holds
	}
	return m.holdsAt(scale)
}

// Rows calls fn for every row, y from 0 to Height-1 in order, with the
// row's 4*Width bytes of premultiplied RGBA, valid until fn returns. It
// stops at the first error of fn, of the file (io.ErrUnexpectedEOF for a
// file cut short) or of ctx, which it checks between rows. fn runs in the
// caller's goroutine; a TIFF's blocks are decompressed ahead by two
// goroutines of Rows' (a PNG's rows by one), bounded in number and memory
// (Holds), which have all ended when Rows returns. It may be called once.
func (m *Image) Rows(ctx context.Context, fn func(y int, row []byte) error) error {
	if m.rows == nil {
		return fmt.Errorf("%w: read in strips at a scale (Strips)", ErrUnsupported)
	}
	return m.rows(ctx, fn)
}

// maxWidth bounds the row length this package accepts: a header may
// declare any width, and a row buffer is allocated from it.
const maxWidth = 1 << 24

// check refuses sizes no row buffer should be made for.
func check(w, h int) error {
	if w <= 0 || h <= 0 {
		return FormatError(fmt.Sprintf("size %dx%d", w, h))
	}
	if w > maxWidth || h > 1<<30 {
		return fmt.Errorf("%w: %dx%d", ErrUnsupported, w, h)
	}
	return nil
}

// unexpected turns io.EOF, met inside a row, into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// premultiply turns non-premultiplied RGBA into premultiplied in place,
// rounding as the resizer does for an *image.NRGBA.
func premultiply(px []byte) {
	for i := 0; i+3 < len(px); i += 4 {
		a := uint32(px[i+3])
		if a == 255 {
			continue
		}
		px[i] = uint8((uint32(px[i])*a + 127) / 255)
		px[i+1] = uint8((uint32(px[i+1])*a + 127) / 255)
		px[i+2] = uint8((uint32(px[i+2])*a + 127) / 255)
	}
}

// aheadBatch is about how many bytes of rows ahead hands over at a time,
// and aheadBatches how many such batches it holds: one being filled, one
// being handed on, two waiting.
const (
	aheadBatch   = 256 << 10
	aheadBatches = 4
)

// aheadHolds is what ahead holds for rows of rowBytes.
func aheadHolds(rowBytes int) int64 {
	return aheadBatches * int64(max(aheadBatch, rowBytes))
}

// ahead calls produce for rows 0 to h-1 in order, in a goroutine of its
// own, each filling its row's rowBytes, and consume for each produced row
// in order, in the caller's goroutine: a decoder whose rows come from one
// stream (a PNG's zlib data) decompresses the next rows while the caller
// resamples these, on another core. Rows go over in batches of about
// aheadBatch bytes, aheadBatches at most in flight. It returns the first
// error of consume, of produce (after consuming the rows produced before
// it) or of ctx, which it checks before each row, and only after the
// goroutine has ended.
func ahead(ctx context.Context, h, rowBytes int, produce func(y int, row []byte) error,
	consume func(y int, row []byte) error) error {
	type batch struct {
		y0, n int
		buf   []byte
		err   error
	}
	per := max(1, aheadBatch/rowBytes)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	free := make(chan []byte, aheadBatches)
	for range aheadBatches {
		free <- make([]byte, per*rowBytes)
	}
	full := make(chan batch, aheadBatches)
	wg.Add(1)
	go func() { // creates and closes full
		defer wg.Done()
		defer close(full)
		for y0 := 0; y0 < h; y0 += per {
			var b batch
			select {
			case b.buf = <-free:
			case <-ctx.Done():
				return
			}
			b.y0 = y0
			for ; b.n < min(per, h-y0); b.n++ {
				if b.err = produce(y0+b.n, b.buf[b.n*rowBytes:][:rowBytes]); b.err != nil {
					break
				}
			}
			full <- b // never blocks: it holds as many batches as there are buffers
			if b.err != nil {
				return
			}
		}
	}()
	for b := range full {
		for i := range b.n {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := consume(b.y0+i, b.buf[i*rowBytes:][:rowBytes]); err != nil {
				return err
			}
		}
		if b.err != nil {
			return b.err
		}
		free <- b.buf // never blocks: one place a buffer
	}
	return ctx.Err() // full closed early only when cancelled
}

// zlibHeader reads and checks the two bytes of a zlib stream's header
// (Deflate, no preset dictionary), after which r holds raw Deflate data.
// The decoders here read the stream without its zlib reader: they stop
// at their last row, before the Adler-32 sum, which that reader computes
// over every byte (2% of the CPU of a big TIFF).
func zlibHeader(r io.Reader) error {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return unexpected(err)
	}
	if hdr[0]&0x0f != 8 || (uint16(hdr[0])<<8|uint16(hdr[1]))%31 != 0 || hdr[1]&0x20 != 0 {
		return FormatError("not a zlib stream (or one with a preset dictionary)")
	}
	return nil
}
