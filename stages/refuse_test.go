package stages

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync/atomic"
	"testing"
)

// countingFile is a file on disk whose positioned reads are counted.
type countingFile struct {
	*os.File
	read *atomic.Int64
}

func (c countingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.File.ReadAt(p, off)
	c.read.Add(int64(n))
	return n, err
}

// bigHeader returns the first bytes of a w x h image in format fm, a file
// of size bytes, and, for TIFF, its IFD (placed at the end, where libvips
// writes it) with the offset it goes at.
func bigHeader(fm string, w, h uint32, size int64) (head, tail []byte, tailAt int64) {
	be, le := binary.BigEndian, binary.LittleEndian
	switch fm {
	case "png":
		ihdr := be.AppendUint32(be.AppendUint32([]byte("IHDR"), w), h)
		ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
		head = append([]byte("\x89PNG\r\n\x1a\n"), be.AppendUint32(nil, 13)...)
		head = be.AppendUint32(append(head, ihdr...), crc32.ChecksumIEEE(ihdr))
		return append(head, 0, 0x10, 0, 0, 'I', 'D', 'A', 'T'), nil, 0
	case "jpeg", "progressive":
		sof := byte(0xc0)
		if fm == "progressive" {
			sof = 0xc2
		}
		head = []byte{0xff, 0xd8, 0xff, sof, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3,
			1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}
		// A scan header: what follows is entropy-coded data.
		head = append(head, 0xff, 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0)
		return head, nil, 0
	case "bmp":
		head = append([]byte("BM"), le.AppendUint32(nil, uint32(size))...)
		head = le.AppendUint32(le.AppendUint32(head, 0), 54)
		head = le.AppendUint32(le.AppendUint32(le.AppendUint32(head, 40), w), h)
		head = le.AppendUint16(le.AppendUint16(head, 1), 24)
		return append(head, make([]byte, 24)...), nil, 0
	case "tiff":
		tailAt = size - 512
		head = le.AppendUint32([]byte("II*\x00"), uint32(tailAt))
		type entry struct {
			tag, typ uint16
			n, v     uint32
		}
		entries := []entry{{256, 4, 1, w}, {257, 4, 1, h}, {258, 3, 3, uint32(tailAt) + 200},
			{259, 3, 1, 8}, {262, 3, 1, 2}, {273, 4, 1, 8}, {277, 3, 1, 3}, {278, 4, 1, h},
			{279, 4, 1, uint32(tailAt) - 8}}
		tail = le.AppendUint16(nil, uint16(len(entries)))
		for _, e := range entries {
			tail = le.AppendUint32(le.AppendUint16(le.AppendUint16(tail, e.tag), e.typ), e.n)
			tail = le.AppendUint32(tail, e.v)
		}
		tail = le.AppendUint32(tail, 0)
		tail = append(tail, make([]byte, 200-len(tail))...)
		tail = le.AppendUint16(le.AppendUint16(le.AppendUint16(tail, 8), 8), 8)
		return head, tail, tailAt
	}
	panic(fm)
}

// An image over max_pixels, or needing more than the memory budget, is
// refused from its header, read from its first bytes or where the format
// points to (a TIFF's IFD at the end of the file), whatever the file's
// size: a few hundred bytes are read and nothing is decoded (issue #15).
// The files are sparse, 300 MB each, under the default max_file_size.
func TestDecodeBigRefusedFromHeader(t *testing.T) {
	const size = 300 << 20
	tooBig := func(context.Context, int64) (func(), error) {
		return nil, fmt.Errorf("%w: over the budget", ErrTooLarge)
	}
	for _, tc := range []struct {
		format string
		w, h   uint32
		opts   decodeOpts
		want   string // in the error
	}{
		{"tiff", 16000, 12000, decodeOpts{}, "max_pixels"},
		{"png", 16000, 12000, decodeOpts{}, "max_pixels"},
		{"jpeg", 16000, 12000, decodeOpts{}, "max_pixels"},
		{"bmp", 16000, 12000, decodeOpts{}, "max_pixels"},
		{"tiff", 40000, 25000, decodeOpts{MaxPixels: 2e9, Reserve: tooBig}, "budget"},
		{"png", 40000, 25000, decodeOpts{MaxPixels: 2e9, Reserve: tooBig}, "budget"},
		{"progressive", 40000, 25000, decodeOpts{MaxPixels: 2e9, Reserve: tooBig}, "budget"},
		{"tiff", 16000, 12000, decodeOpts{MaxPixels: 2e9, MaxFileSize: 100 << 20}, "max_file_size"},
	} {
		t.Run(tc.format+"/"+tc.want, func(t *testing.T) {
			head, tail, at := bigHeader(tc.format, tc.w, tc.h, size)
			p := sparse(t, "big."+tc.format, head, size)
			if tail != nil {
				f, err := os.OpenFile(p, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.WriteAt(tail, at)
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			var read atomic.Int64
			file := File{Path: p, Rel: "big", Open: func() (io.ReadCloser, error) {
				f, err := os.Open(p)
				return countingFile{f, &read}, err
			}}
			d, err := tc.opts.stage()(context.Background(), file)
			if !errors.Is(err, ErrTooLarge) || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("error %v, want ErrTooLarge naming %s", err, tc.want)
			}
			if d != nil {
				t.Errorf("decoded %v", d)
			}
			if n := read.Load(); n > 64<<10 {
				t.Errorf("read %d bytes of a %d MB file to refuse it; want at most 64 KiB (a header, through a buffer)", n, size>>20)
			}
		})
	}
}
