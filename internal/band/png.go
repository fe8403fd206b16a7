package band

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"image/color"
	"io"

	"github.com/imgpipe/imgpipe/internal/inflate"
)

// PNG opens a non-interlaced PNG of 8-bit greyscale, grey and alpha, RGB,
// RGBA or 8-bit palette samples for reading in bands: the image data is
// inflated and de-filtered one row at a time (two rows held). It reads the
// chunks before the first IDAT. Interlaced (Adam7) files, 16-bit and
// sub-byte samples and a transparent colour key (tRNS without a palette)
// are refused with ErrUnsupported.
func PNG(r io.ReaderAt, size int64) (*Image, error) {
	sr := io.NewSectionReader(r, 0, size)
	br := bufio.NewReaderSize(sr, 4<<10)
	var sig [8]byte
	if _, err := io.ReadFull(br, sig[:]); err != nil || string(sig[:]) != "\x89PNG\r\n\x1a\n" {
		return nil, FormatError("not a PNG")
	}
	p := &pngFile{}
	var palette color.Palette
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return nil, unexpected(err)
		}
		n, typ := binary.BigEndian.Uint32(hdr[:4]), string(hdr[4:])
		if typ == "IDAT" {
			p.data = &idatReader{br: br, left: int64(n), crc: crc32.NewIEEE()}
			p.data.crc.Write(hdr[4:])
			break
		}
		if n > 1<<20 || typ == "IEND" {
			return nil, FormatError("no image data")
		}
		chunk := make([]byte, n+4)
		if _, err := io.ReadFull(br, chunk); err != nil {
			return nil, unexpected(err)
		}
		body := chunk[:n]
		switch typ {
		case "IHDR":
			if n != 13 {
				return nil, FormatError("bad IHDR")
			}
			p.w, p.h = int(binary.BigEndian.Uint32(body)), int(binary.BigEndian.Uint32(body[4:]))
			depth, ct, interlace := body[8], body[9], body[12]
			if err := check(p.w, p.h); err != nil {
				return nil, err
			}
			if depth != 8 || interlace != 0 {
				return nil, fmt.Errorf("%w: depth %d, interlace %d", ErrUnsupported, depth, interlace)
			}
			p.ct = ct
			switch ct {
			case 0:
				p.bpp = 1
			case 2:
				p.bpp = 3
			case 3:
				p.bpp = 1
			case 4:
				p.bpp = 2
			case 6:
				p.bpp = 4
			default:
				return nil, FormatError(fmt.Sprintf("colour type %d", ct))
			}
		case "PLTE":
			if n%3 != 0 || n > 768 {
				return nil, FormatError("bad palette")
			}
			palette = make(color.Palette, n/3)
			for i := range palette {
				palette[i] = color.RGBA{body[3*i], body[3*i+1], body[3*i+2], 0xff}
			}
		case "tRNS":
			if p.ct != 3 {
				return nil, fmt.Errorf("%w: transparent colour key", ErrUnsupported)
			}
			for i := 0; i < int(n) && i < len(palette); i++ {
				c := palette[i].(color.RGBA)
				palette[i] = color.NRGBA{c.R, c.G, c.B, body[i]}
			}
		}
	}
	if p.w == 0 {
		return nil, FormatError("no IHDR")
	}
	if p.ct == 3 {
		if len(palette) == 0 {
			return nil, FormatError("no palette")
		}
		// image/png fills a short palette with opaque black; the resizer
		// reads a paletted image through At: 16-bit premultiplied, >> 8.
		for i := range p.lut {
			var c color.Color = color.RGBA{0, 0, 0, 0xff}
			if i < len(palette) {
				c = palette[i]
			}
			r, g, b, a := c.RGBA()
			p.lut[i] = [4]byte{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
		}
	}
	stride := int64(p.w) * int64(p.bpp)
	holds := 2*(stride+1) + 4*int64(p.w) + inflate.ReaderHolds + aheadHolds(int(stride))
	return &Image{Width: p.w, Height: p.h, Gray: p.ct == 0, Holds: holds, rows: p.rows}, nil
}

type pngFile struct {
	w, h int
	ct   byte
	bpp  int
	lut  [256][4]byte
	data *idatReader
}

// rows inflates and de-filters the rows in a goroutine of its own (ahead)
// while the caller's goroutine converts and takes them: inflating is most
// of the CPU of a big PNG, and the rows' resampling most of the rest.
func (p *pngFile) rows(ctx context.Context, fn func(y int, row []byte) error) error {
	if err := zlibHeader(p.data); err != nil {
		return err
	}
	// The rows end before the Adler-32 sum: not computed. The inflater
	// reads the chunks' data in large reads: no buffer between.
	z := inflate.NewReader(p.data)
	stride := p.w * p.bpp
	cur, prev := make([]byte, stride+1), make([]byte, stride+1)
	out := make([]byte, 4*p.w)
	return ahead(ctx, p.h, stride, func(y int, row []byte) error {
		if _, err := io.ReadFull(z, cur); err != nil {
			return fmt.Errorf("row %d: %w", y, unexpected(err))
		}
		if err := unfilter(cur[0], cur[1:], prev[1:], p.bpp); err != nil {
			return err
		}
		copy(row, cur[1:])
		cur, prev = prev, cur
		return nil
	}, func(y int, row []byte) error {
		p.convert(out, row)
		return fn(y, out)
	})
}

// unfilter undoes a row's filter in place, given the row above.
func unfilter(ft byte, cdat, pdat []byte, bpp int) error {
	switch ft {
	case 0:
	case 1:
		for i := bpp; i < len(cdat); i++ {
			cdat[i] += cdat[i-bpp]
		}
	case 2:
		for i, p := range pdat {
			cdat[i] += p
		}
	case 3:
		for i := 0; i < bpp; i++ {
			cdat[i] += pdat[i] / 2
		}
		for i := bpp; i < len(cdat); i++ {
			cdat[i] += uint8((int(cdat[i-bpp]) + int(pdat[i])) / 2)
		}
	case 4:
		for i := 0; i < bpp; i++ {
			cdat[i] += pdat[i]
		}
		for i := bpp; i < len(cdat); i++ {
			a, b, c := int(cdat[i-bpp]), int(pdat[i]), int(pdat[i-bpp])
			pa, pb, pc := abs(b-c), abs(a-c), abs(a+b-2*c)
			switch {
			case pa <= pb && pa <= pc:
				cdat[i] += uint8(a)
			case pb <= pc:
				cdat[i] += uint8(b)
			default:
				cdat[i] += uint8(c)
			}
		}
	default:
		return FormatError(fmt.Sprintf("bad filter type %d", ft))
	}
	return nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// convert turns a de-filtered row into premultiplied RGBA.
func (p *pngFile) convert(dst, src []byte) {
	switch p.ct {
	case 0:
		for x, v := range src {
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = v, v, v, 255
		}
	case 2:
		for x := 0; x < p.w; x++ {
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = src[3*x], src[3*x+1], src[3*x+2], 255
		}
	case 3:
		for x, i := range src {
			copy(dst[4*x:4*x+4], p.lut[i][:])
		}
	case 4:
		for x := 0; x < p.w; x++ {
			v := src[2*x]
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = v, v, v, src[2*x+1]
		}
		premultiply(dst)
	case 6:
		copy(dst, src)
		premultiply(dst)
	}
}

// idatReader reads the data of consecutive IDAT chunks as one stream,
// checking each chunk's CRC.
type idatReader struct {
	br   *bufio.Reader
	left int64 // bytes left in this chunk
	crc  hash.Hash32
	done bool
}

func (r *idatReader) Read(p []byte) (int, error) {
	for r.left == 0 {
		if r.done {
			return 0, io.EOF
		}
		var tail [12]byte // CRC of this chunk, header of the next
		if _, err := io.ReadFull(r.br, tail[:4]); err != nil {
			return 0, unexpected(err)
		}
		if binary.BigEndian.Uint32(tail[:4]) != r.crc.Sum32() {
			return 0, FormatError("IDAT checksum mismatch")
		}
		if _, err := io.ReadFull(r.br, tail[4:]); err != nil {
			return 0, unexpected(err)
		}
		if string(tail[8:]) != "IDAT" {
			r.done = true
			return 0, io.EOF
		}
		r.left = int64(binary.BigEndian.Uint32(tail[4:8]))
		r.crc.Reset()
		r.crc.Write(tail[8:])
	}
	n, err := r.br.Read(p[:min(int64(len(p)), r.left)])
	r.crc.Write(p[:n])
	r.left -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
