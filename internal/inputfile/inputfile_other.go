//go:build !unix

package inputfile

import (
	"os"
)

// open checks the path with Lstat when links are not followed, then opens
// it; Open checks the opened file's own Stat. Without O_NOFOLLOW and
// O_NONBLOCK a swap between the two calls is not caught here: on these
// platforms named pipes and links are rare in photo folders.
func open(path string, follow bool) (*os.File, error) {
	if !follow {
		info, err := os.Lstat(path)
		if err != nil {
			return nil, err
		}
		if info.Mode()&os.ModeSymlink != 0 {
			return nil, &os.PathError{Op: "open", Path: path, Err: ErrSymlink}
		}
	}
	return os.Open(path)
}

func blocking(*os.File) error { return nil }
