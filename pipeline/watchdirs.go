package pipeline

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/imgpipe/imgpipe/stages"
)

// watchedDir is a folder under watch: the event loop keeps one per folder,
// by its path as watched, to tell its files' Rel and to drop the folders below
// it when it goes.
type watchedDir struct {
	rel  string              // relative to its root, with slashes
	real string              // absolute, symlinks resolved
	subs map[string]struct{} // watched child folders
}

// addTree watches dir and the folders below it; with files set, it also
// queues the files it finds, as for a folder created after start. seen holds
// the resolved folders of this walk, against symlink loops.
func (w *watcher) addTree(ctx context.Context, dir, rel string, files bool, seen map[string]bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	real, err := realPath(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) { // gone again already
			return nil
		}
		return w.report(stages.File{Path: dir, Rel: rel}, err)
	}
	if w.excluded(dir, real) || seen[real] {
		return nil
	}
	seen[real] = true
	if other, ok := w.realDirs[real]; ok && other != dir {
		if r, err := realPath(other); err == nil && r == real {
			return nil // watched under another name (a link)
		}
		w.forgetDir(other, true) // moved without our hearing of it (overflow)
	}
	if _, ok := w.dirs[dir]; !ok {
		if err := w.fw.Add(dir); err != nil {
			switch hint := limitHint(err); {
			case errors.Is(err, fs.ErrNotExist):
				return nil
			case hint != "":
				// Go on without a watch: what is there now is still emitted.
				w.warnOnce(hint, "watch: system limit reached, so this folder and others after it are not watched for changes;"+
					" to raise the limit"+hint, "path", dir, "err", err)
			default:
				return w.report(stages.File{Path: dir, Rel: rel}, err)
			}
		} else {
			w.dirs[dir] = &watchedDir{rel: rel, real: real}
			w.realDirs[real] = dir
			if parent, ok := w.dirs[filepath.Dir(dir)]; ok && filepath.Dir(dir) != dir {
				if parent.subs == nil {
					parent.subs = map[string]struct{}{}
				}
				parent.subs[dir] = struct{}{}
			}
			delete(w.reported, dir)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if err := w.report(stages.File{Path: dir, Rel: rel}, err); err != nil {
			return err
		}
		// ReadDir returns what it could read before the error: go on with it.
	}
	for _, e := range entries {
		name := e.Name()
		if w.rule.Skip(name, true) {
			continue
		}
		p, r := filepath.Join(dir, name), path.Join(rel, name)
		info, err := e.Info()
		if err != nil {
			continue // deleted since ReadDir
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			if info, err = os.Stat(p); err != nil {
				continue // dangling: Scan reports the ones named like images
			}
			if info.IsDir() && !w.opts.Scan.FollowSymlinks {
				continue
			}
		}
		switch {
		case info.IsDir():
			if err := w.addTree(ctx, p, r, files, seen); err != nil {
				return err
			}
		case files && info.Mode().IsRegular():
			w.pending.changed(time.Now(), p, r, stateOf(info))
		}
	}
	return nil
}

// forgetDir drops a deleted or moved folder and those below it from the
// watch list; with checkRemoved, it checks, a Settle later, whether their
// images are gone.
func (w *watcher) forgetDir(dir string, checkRemoved bool) {
	d, ok := w.dirs[dir]
	if !ok {
		return
	}
	for sub := range d.subs {
		w.forgetDir(sub, checkRemoved)
	}
	delete(w.dirs, dir)
	if w.realDirs[d.real] == dir {
		delete(w.realDirs, d.real)
	}
	if parent, ok := w.dirs[filepath.Dir(dir)]; ok {
		delete(parent.subs, dir)
	}
	// A moved folder keeps its inotify watch under the old name; drop it
	// so that moving it back in gets a watch with the right name. For a
	// deleted one this is a no-op (the error says so).
	_ = w.fw.Remove(dir)
	if !checkRemoved {
		return
	}
	for name, f := range w.known[dir] {
		w.pending.went(time.Now(), filepath.Join(dir, name), f.Rel)
	}
}

// loadExcludes resolves opts.Scan.Exclude, as given and with symlinks
// resolved; for a folder that does not exist yet, its nearest existing
// parent is resolved.
func (w *watcher) loadExcludes() {
	w.exclude = w.exclude[:0]
	for _, x := range w.opts.Scan.Exclude {
		abs, err := filepath.Abs(x)
		if err != nil {
			continue
		}
		w.exclude = append(w.exclude, abs)
		var rest []string
		for p := abs; ; p = filepath.Dir(p) {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				if real = filepath.Join(append([]string{real}, rest...)...); real != abs {
					w.exclude = append(w.exclude, real)
				}
				break
			}
			if filepath.Dir(p) == p {
				break
			}
			rest = append([]string{filepath.Base(p)}, rest...)
		}
	}
}

// excluded reports whether a folder is an excluded one, by its path as
// given or resolved.
func (w *watcher) excluded(dir, real string) bool {
	abs, _ := filepath.Abs(dir)
	for _, x := range w.exclude {
		if x == abs || x == real {
			return true
		}
	}
	return false
}

func realPath(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	return filepath.Abs(real)
}
