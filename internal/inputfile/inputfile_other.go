//go:build !unix

package inputfile

import (
	"io/fs"
	"os"
)

// File is an open input: positioned reads, then Close.
type File struct{ *os.File }

// open checks the path with Lstat when links are not followed, then opens
// it and reads the opened file's own Stat. Without O_NOFOLLOW and
// O_NONBLOCK a swap between the two calls is not caught here: on these
// platforms named pipes and links are rare in photo folders.
func open(path string, follow bool) (*File, fs.FileMode, int64, error) {
	if !follow {
		info, err := os.Lstat(path)
		if err != nil {
			return nil, 0, 0, err
		}
		if info.Mode()&os.ModeSymlink != 0 {
			return nil, 0, 0, &os.PathError{Op: "open", Path: path, Err: ErrSymlink}
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, 0, err
	}
	return &File{f}, info.Mode().Type(), info.Size(), nil
}
