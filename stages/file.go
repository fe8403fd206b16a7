package stages

import (
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/imgpipe/imgpipe/internal/format"
)

// File is one input, as a source found it.
type File struct {
	// Path names the input in results and errors; on disk, the path to
	// open. Rel is its path below the root it was found under, with
	// slashes: the output folder mirrors it.
	Path, Rel string
	// Size and ModTime are the input's size and modification time (zero
	// when unknown): they tell whether an output is up to date.
	Size    int64
	ModTime time.Time
	// Format is the sniffed format ("jpeg", ...), or "" if not recognised.
	Format string
	// Open opens the input for reading. Nil means os.Open(Path).
	Open func() (io.ReadCloser, error) `json:"-"`
}

// open returns a reader for f.
func (f File) open() (io.ReadCloser, error) {
	if f.Open != nil {
		return f.Open()
	}
	return os.Open(f.Path)
}

// hasImageExt reports whether name ends in an image extension (any case):
// one of a format's in the registry.
func hasImageExt(name string) bool {
	return format.ByExt(filepath.Ext(name)) != nil
}
