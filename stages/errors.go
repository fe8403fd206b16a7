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
	// ErrUnsupportedFormat: an image the decoders cannot read (HEIC...).
	ErrUnsupportedFormat = errors.New("unsupported image format")
	// ErrCorrupt: the file is damaged or truncated.
	ErrCorrupt = errors.New("corrupt image")
	// ErrTooLarge: over a configured limit, refused from the header.
	ErrTooLarge = errors.New("image too large")
	// ErrCollision: two inputs would write the same output file.
	ErrCollision = errors.New("output name collision")
	// ErrPanic: a decoder or step panicked on this input (recovered).
	ErrPanic = errors.New("panic")
	// ErrOutput: no output can be written (disk full): the run ends.
	ErrOutput = errors.New("output folder not writable")
)

// corrupt wraps a decoder's error so that it matches ErrCorrupt while
// keeping the decoder's own error in the chain.
func corrupt(err error) error {
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}
