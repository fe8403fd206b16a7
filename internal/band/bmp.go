package band

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
)

// BMP opens an uncompressed 8-bit (paletted) or 24-bit BMP for reading in
// bands: each row is read where it lies in the file (bottom-up files are
// read from their end), one row held. Other depths and compressed files
// are refused with ErrUnsupported.
func BMP(r io.ReaderAt, size int64) (*Image, error) {
	var h [54]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, unexpected(err)
	}
	le := binary.LittleEndian
	if string(h[:2]) != "BM" {
		return nil, FormatError("not a BMP")
	}
	pixOff, dib := int64(le.Uint32(h[10:])), le.Uint32(h[14:])
	w, ht := int(int32(le.Uint32(h[18:]))), int(int32(le.Uint32(h[22:])))
	bpp, compression := le.Uint16(h[28:]), le.Uint32(h[30:])
	if dib != 40 && dib != 108 && dib != 124 {
		return nil, fmt.Errorf("%w: header of %d bytes", ErrUnsupported, dib)
	}
	topDown := ht < 0
	if topDown {
		ht = -ht
	}
	if err := check(w, ht); err != nil {
		return nil, err
	}
	if compression != 0 || bpp != 8 && bpp != 24 {
		return nil, fmt.Errorf("%w: %d bits a pixel, compression %d", ErrUnsupported, bpp, compression)
	}
	b := &bmpFile{r: r, w: w, h: ht, topDown: topDown, bpp: int(bpp), pixOff: pixOff}
	b.stride = (int64(bpp)*int64(w) + 31) / 32 * 4
	if bpp == 8 {
		n := int(le.Uint32(h[46:]))
		if n == 0 || n > 256 {
			n = 256
		}
		pal := make([]byte, 4*n)
		if _, err := r.ReadAt(pal, 14+int64(dib)); err != nil {
			return nil, unexpected(err)
		}
		for i := range b.lut {
			b.lut[i] = [4]byte{0, 0, 0, 255}
			if i < n {
				b.lut[i] = [4]byte{pal[4*i+2], pal[4*i+1], pal[4*i], 255}
			}
		}
	}
	return &Image{Width: w, Height: ht, Holds: b.stride + 4*int64(w), rows: b.rows}, nil
}

type bmpFile struct {
	r              io.ReaderAt
	w, h, bpp      int
	topDown        bool
	pixOff, stride int64
	lut            [256][4]byte
}

func (b *bmpFile) rows(ctx context.Context, fn func(y int, row []byte) error) error {
	raw := make([]byte, b.stride)
	out := make([]byte, 4*b.w)
	for y := 0; y < b.h; y++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		i := int64(b.h - 1 - y)
		if b.topDown {
			i = int64(y)
		}
		if n, err := b.r.ReadAt(raw, b.pixOff+i*b.stride); n < len(raw) {
			return fmt.Errorf("row %d: %w", y, unexpected(err))
		}
		if b.bpp == 8 {
			for x := 0; x < b.w; x++ {
				copy(out[4*x:4*x+4], b.lut[raw[x]][:])
			}
		} else {
			for x := 0; x < b.w; x++ {
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = raw[3*x+2], raw[3*x+1], raw[3*x], 255
			}
		}
		if err := fn(y, out); err != nil {
			return err
		}
	}
	return nil
}
