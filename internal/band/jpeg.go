package band

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"

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
		YCbCr: b.Model() == color.YCbCrModel, strips: f.strips, holdsAt: b.Holds}, nil
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

func (f *jpegFile) strips(ctx context.Context, scale int, fn func(image.Image) error) error {
	f.ctx = ctx
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := f.b.Next(scale)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}
