package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/imgpipe/imgpipe/stages"
)

// rootCheckEvery is how often the watched folders themselves are looked
// at. A root that is deleted or moved away sends an event, but one on a disk
// that is unmounted does not (fsnotify drops inotify's IN_UNMOUNT): this
// check is what notices it. One stat per root every two seconds costs
// nothing.
const rootCheckEvery = 2 * time.Second

// openRoots checks, before anything is watched, that every root is a
// folder, and returns what it found of each (to notice later that a root
// was replaced, as a mount point is by an unmount). A root that is missing
// or not a folder is an *Error wrapping ErrNoFolder: a watch that would
// watch nothing there must not start and run forever.
func openRoots(roots []string) ([]string, map[string]fs.FileInfo, error) {
	if len(roots) == 0 {
		return nil, nil, fmt.Errorf("watch: %w: none given", ErrNoFolder)
	}
	var clean []string
	infos := map[string]fs.FileInfo{}
	var errs []error
	for _, root := range roots {
		root = filepath.Clean(root)
		info, err := os.Stat(root)
		switch {
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			errs = append(errs, &Error{Stage: "watch", Path: root, Err: fmt.Errorf("%w: %w", ErrNoFolder, err)})
		case !info.IsDir():
			errs = append(errs, &Error{Stage: "watch", Path: root, Err: fmt.Errorf("%w: it is a file", ErrNoFolder)})
		default:
			clean = append(clean, root)
			infos[root] = info
		}
	}
	return clean, infos, errors.Join(errs...)
}

// rootThere reports whether root is still the folder it was at start.
func (w *watcher) rootThere(root string) bool {
	was, ok := w.rootInfo[root]
	if !ok {
		return false
	}
	info, err := os.Stat(root)
	return err == nil && info.IsDir() && os.SameFile(was, info)
}

// checkRoots looks at every root still watched, and drops those that are
// gone.
func (w *watcher) checkRoots() error {
	for _, root := range w.roots {
		if _, ok := w.rootInfo[root]; ok && !w.rootThere(root) {
			if err := w.rootGone(root); err != nil {
				return err
			}
		}
	}
	return nil
}

// rootGone stops watching root, which was deleted, moved away or
// unmounted, and reports it as a failed input wrapping ErrNoFolder. Its
// images are not taken as removed (an unmounted disk has not lost its
// photos): OnRemove is not called for them. When no root is left, the
// watch ends with an error.
func (w *watcher) rootGone(root string) error {
	delete(w.rootInfo, root)
	w.dropTree(root)
	err := w.reportErr(stages.File{Path: root, Rel: filepath.Base(root)},
		fmt.Errorf("%w: gone (deleted, moved away or unmounted), no longer watched", ErrNoFolder))
	if err != nil {
		return err
	}
	if len(w.rootInfo) == 0 {
		return fmt.Errorf("watch: no folder left to watch: %s is gone", root)
	}
	return nil
}

// dropTree forgets dir and everything below it: watches, emitted images
// and files waiting, with no removal checks.
func (w *watcher) dropTree(dir string) {
	w.forgetDir(dir, false)
	for d := range w.known {
		if within(d, dir) {
			delete(w.known, d)
		}
	}
	w.pending.dropBelow(dir)
}

// within reports whether path p is dir or lies below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) || dir == string(filepath.Separator)
}
