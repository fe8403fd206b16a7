package pipeline

import (
	"errors"
	"io/fs"

	"github.com/imgpipe/imgpipe/stages"
)

// Error is a per-input failure: which stage failed on which input, and why.
// Its message reads "decode photos/a.jpg: unexpected EOF". Results carry
// it; Run returns one only when the run as a whole stops on it (fail-fast,
// or an output folder that cannot be written).
type Error struct {
	Stage string // "scan", "decode", "resize", a custom step's name, "encode", "save"; "watch" for a folder Watch cannot watch
	Path  string // the input
	Err   error  // the cause; wraps the sentinels below where one applies
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if pe, ok := e.Err.(*fs.PathError); ok && pe.Path == e.Path {
		msg = pe.Err.Error() // "scan a.jpg: permission denied", not "scan a.jpg: open a.jpg: permission denied"
	}
	return e.Stage + " " + e.Path + ": " + msg
}

// Unwrap returns the cause, so errors.Is(err, ErrTooLarge) works on an *Error.
func (e *Error) Unwrap() error { return e.Err }

// The classes of failure, for errors.Is. They are the stages package's
// sentinels, repeated here so callers need import only pipeline.
var (
	ErrNotImage          = stages.ErrNotImage          // the bytes are not an image
	ErrUnsupportedFormat = stages.ErrUnsupportedFormat // an image the decoders cannot read
	ErrCorrupt           = stages.ErrCorrupt           // damaged or truncated
	ErrTooLarge          = stages.ErrTooLarge          // over max_pixels or max_file_size
	ErrCollision         = stages.ErrCollision         // two inputs, one output name
	ErrPanic             = stages.ErrPanic             // a decoder or step panicked on this input
	ErrOutput            = stages.ErrOutput            // the output folder cannot be written: ends the run
)

// ErrNoFolder: a folder given to Pipeline.Watch is missing, or is not a
// folder. The watch does not start (its Source returns an *Error wrapping
// ErrNoFolder for each such folder); a watched folder that goes later is a
// failed result wrapping it.
var ErrNoFolder = errors.New("no folder to watch")
