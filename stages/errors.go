package stages

import (
	"errors"
	"fmt"
)

// Sentinel errors for the classes of failure a caller may act on. Stage
// errors wrap them, so test with errors.Is.
var (
	// ErrNotImage: the bytes are not an image in any format imgpipe knows.
	ErrNotImage = errors.New("not an image")
	// ErrUnsupportedFormat: an image, but in a format or variant the
	// decoders cannot read (HEIC, AVIF, arithmetic-coded JPEG, CMYK TIFF…).
	ErrUnsupportedFormat = errors.New("unsupported image format")
	// ErrCorrupt: the file is damaged or truncated.
	ErrCorrupt = errors.New("corrupt image")
	// ErrTooLarge: the image (or file) is over a configured limit. It is
	// refused from its header, before its pixels are allocated.
	ErrTooLarge = errors.New("image too large")
	// ErrCollision: two inputs would write the same output file.
	ErrCollision = errors.New("output name collision")
	// ErrPanic: a decoder or step panicked on this input; the panic was
	// recovered and the batch went on.
	ErrPanic = errors.New("panic")
	// ErrOutput: outputs cannot be written, for any input (a full disk, a
	// read-only file system): the pipeline ends the run.
	ErrOutput = errors.New("output folder not writable")
)

// corrupt wraps a decoder's error so that it matches ErrCorrupt while
// keeping the decoder's own error in the chain.
func corrupt(err error) error {
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}
