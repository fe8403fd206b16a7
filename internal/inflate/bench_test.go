package inflate

import (
	"bytes"
	"compress/flate"
	"io"
	"os"
	"path/filepath"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// benchStreams are real streams from the 100 MP files bench/make-big.sh
// makes (in $IMGPIPE_BIG, /tmp/big100 by default): the first 24 MB of
// the PNG's image data (16 MiB of it is inflated), a strip of 128 rows
// of the Deflate TIFF and a 256x256 tile of the tiled one. Each with the
// size to inflate.
func benchStreams(b *testing.B) map[string]struct {
	z   []byte
	out int
} {
	dir := os.Getenv("IMGPIPE_BIG")
	if dir == "" {
		dir = "/tmp/big100"
	}
	png, tif, tiled := filepath.Join(dir, "big-100mp.png"), filepath.Join(dir, "big-100mp-deflate.tif"),
		filepath.Join(dir, "big-100mp-tiled.tif")
	for _, p := range []string{png, tif, tiled} {
		if _, err := os.Stat(p); err != nil {
			b.Skipf("%v: make the files with bench/make-big.sh DIR 100, set IMGPIPE_BIG=DIR", err)
		}
	}
	z := pngStream(b, png)
	return map[string]struct {
		z   []byte
		out int
	}{
		"png":   {z[:24<<20], 16 << 20},
		"strip": {tiffStreams(b, tif)[10], 12247 * 128 * 3},
		"tile":  {tiffStreams(b, tiled)[10], 256 * 256 * 3},
	}
}

// BenchmarkInflate: MB/s of output on real streams, for this package (as
// band uses it: Decode for TIFF blocks, Reader for the PNG stream),
// klauspost/compress/flate (what band used) and compress/flate, each
// reusing its state from op to op.
func BenchmarkInflate(b *testing.B) {
	for _, name := range []string{"png", "strip", "tile"} {
		s := benchStreams(b)[name]
		dst := make([]byte, s.out)
		want, err := stdInflate(s.z, s.out)
		if err != nil || len(want) != s.out {
			b.Fatalf("%s: %d bytes, %v", name, len(want), err)
		}
		run := func(b *testing.B, fn func() error) {
			b.SetBytes(int64(s.out))
			for b.Loop() {
				if err := fn(); err != nil {
					b.Fatal(err)
				}
			}
			if !bytes.Equal(dst, want) {
				b.Fatal("other bytes than compress/flate")
			}
		}
		b.Run(name+"/inflate", func(b *testing.B) {
			if name == "png" {
				z := NewReader(nil)
				run(b, func() error {
					z.Reset(bytes.NewReader(s.z))
					_, err := io.ReadFull(z, dst)
					return err
				})
				return
			}
			var d Decoder
			run(b, func() error {
				_, err := d.Decode(dst, bytes.NewReader(s.z))
				return err
			})
		})
		b.Run(name+"/klauspost", func(b *testing.B) {
			z := kflate.NewReader(nil)
			run(b, func() error {
				z.(kflate.Resetter).Reset(bytes.NewReader(s.z), nil)
				_, err := io.ReadFull(z, dst)
				return err
			})
		})
		b.Run(name+"/stdlib", func(b *testing.B) {
			z := flate.NewReader(bytes.NewReader(nil))
			run(b, func() error {
				z.(flate.Resetter).Reset(bytes.NewReader(s.z), nil)
				_, err := io.ReadFull(z, dst)
				return err
			})
		})
	}
}
