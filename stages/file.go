package stages

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File is one input image found by a source (a folder scan, the watcher, an
// explicit list, an fs.FS or an in-memory reader).
type File struct {
	// Path names the input in results and errors. For files on disk it is
	// the path to open; for in-memory inputs it is a name chosen by the caller.
	Path string
	// Rel is the path relative to the root it was found under, with
	// forward slashes. The save stage mirrors it below the output folder.
	Rel string
	// Size and ModTime are the input's size in bytes and modification time
	// (zero when unknown). ModTime drives the "output is up to date" skip.
	Size    int64
	ModTime time.Time
	// Format is the sniffed format ("jpeg", "png", ...), or "" when the
	// bytes were not recognised.
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

// imageExts are the extensions that say "this is an image". A file with one
// of these names whose bytes are not an image is reported as failed rather
// than skipped.
var imageExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".jpe": true, ".jfif": true, ".png": true,
	".gif": true, ".bmp": true, ".tif": true, ".tiff": true, ".webp": true,
	".heic": true, ".heif": true, ".avif": true,
}

// HasImageExt reports whether name ends in an image extension (any case).
func HasImageExt(name string) bool {
	return imageExts[strings.ToLower(filepath.Ext(name))]
}

// sniffLen is how many leading bytes Sniff needs.
const sniffLen = 32

// Sniff names the image format of the leading bytes of a file: "jpeg",
// "png", "gif", "bmp", "tiff", "webp", "heif", "avif", or "" if none.
// HEIF and AVIF are recognised so they can be reported as unsupported
// rather than as "not an image".
func Sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xd8")):
		return "jpeg"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return "gif"
	case bytes.HasPrefix(head, []byte("BM")) && len(head) >= 18:
		return "bmp"
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return "tiff"
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "webp"
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		switch string(head[8:12]) {
		case "avif", "avis":
			return "avif"
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return "heif"
		}
	}
	return ""
}
