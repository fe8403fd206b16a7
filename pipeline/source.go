package pipeline

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"path"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/imgpipe/imgpipe/stages"
)

// Source finds inputs and hands each to emit, in order, until it has no
// more or ctx is done. It must return emit's error when emit returns one.
// The constructors below cover folders, the watcher, lists of paths, an
// fs.FS and in-memory bytes; any function of this type will do.
type Source func(ctx context.Context, emit Emit) error

// Dirs scans files and folder trees (the scan stage): a file named in roots
// is an input whatever its name; in folders, stages.InputRule picks the
// inputs. The tree below each folder is mirrored in the output.
func Dirs(roots []string, opts ScanOptions) Source {
	return func(ctx context.Context, emit Emit) error {
		return scan(ctx, roots, opts, opts.rule(), emit)
	}
}

// Paths emits each path as an input, as Dirs does with default options:
// a file is an input whatever its name, a folder is walked; outputs are
// named after each file's base name.
func Paths(paths ...string) Source {
	return Dirs(paths, ScanOptions{})
}

// FS walks root in fsys and emits the inputs stages.InputRule picks (root
// itself, if a file, whatever its name); outputs mirror the tree below root.
func FS(fsys fs.FS, root string) Source {
	var rule stages.InputRule
	return func(ctx context.Context, emit Emit) error {
		return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err != nil {
				return emit(stages.File{Path: p, Rel: p}, err)
			}
			if p != root && rule.Skip(d.Name(), d.IsDir()) {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rel := p
			if root != "." && root != p {
				rel = p[len(root)+1:]
			} else if root == p {
				rel = path.Base(p)
			}
			f := stages.File{Path: p, Rel: rel, Open: func() (io.ReadCloser, error) { return fsys.Open(p) }}
			if info, err := d.Info(); err == nil {
				f.Size, f.ModTime = info.Size(), info.ModTime()
			}
			head, err := readHead(f.Open)
			if err != nil {
				return emit(f, err)
			}
			var ok bool
			if f.Format, ok = stages.Accept(p, head); !ok && p != root {
				return nil
			}
			return emit(f, nil)
		})
	}
}

// Bytes emits one in-memory image, named name (outputs are named after
// it). An upload handler has bytes, not files.
func Bytes(name string, data []byte) Source {
	format, _ := stages.Accept(name, data)
	return func(ctx context.Context, emit Emit) error {
		return emit(stages.File{
			Path: name, Rel: path.Base(name), Size: int64(len(data)), Format: format,
			Open: func() (io.ReadCloser, error) { return bytesFile{bytes.NewReader(data)}, nil },
		}, nil)
	}
}

// bytesFile is in-memory bytes as a file: with ReadAt and Size, the
// decode stage reads them in place instead of copying them.
type bytesFile struct{ *bytes.Reader }

func (bytesFile) Close() error { return nil }

// Reader emits one image read from r, named name. r is read once, whole,
// when the source runs.
func Reader(name string, r io.Reader) Source {
	return func(ctx context.Context, emit Emit) error {
		data, err := io.ReadAll(r)
		if err != nil {
			return emit(stages.File{Path: name, Rel: path.Base(name)}, err)
		}
		return Bytes(name, data)(ctx, emit)
	}
}

// Concat runs sources one after the other.
func Concat(sources ...Source) Source {
	return func(ctx context.Context, emit Emit) error {
		for _, s := range sources {
			if err := s(ctx, emit); err != nil {
				return err
			}
		}
		return nil
	}
}

// source runs src on its own goroutine and returns the channel of what it
// finds, closed when src returns. Files src cannot read become failed
// results at once.
func source(ctx context.Context, g *errgroup.Group, r *run, buffer int, src Source) <-chan item[stages.File] {
	out := make(chan item[stages.File], buffer)
	st := &stats{name: "scan", workers: 1, buffer: buffer}
	r.stats = append(r.stats, st)
	g.Go(func() error {
		defer close(out)
		start := time.Now()
		var waited time.Duration
		err := src(ctx, func(f stages.File, err error) error {
			// An output is never an input, whatever the source: a tree that
			// holds the output folder (./photos with -o ./photos/small, or a
			// folder resized into itself) never feeds outputs back in. Sources
			// skip the folder earlier and cheaper (ScanOptions.Exclude, as the
			// CLI and Watch do); this is the guarantee. (The planner has no
			// output folder when a sink takes the outputs.)
			if r.planner.IsOutput(f) {
				return nil
			}
			if err != nil {
				st.failed.Add(1)
				r.report(Result{Input: f.Path, Status: StatusFailed, Stage: "scan",
					Err: &Error{Stage: "scan", Path: f.Path, Err: err}})
				return ctx.Err()
			}
			st.in.Add(1)
			t := time.Now()
			r.inFlight.Add(1)
			r.ahead.Add(1)
			select {
			case out <- item[stages.File]{f, &ticket{file: f, ahead: true}}:
				st.out.Add(1)
			case <-ctx.Done():
				return ctx.Err()
			}
			waited += time.Since(t)
			return nil
		})
		st.waitOut.Add(int64(waited))
		st.busy.Add(int64(time.Since(start) - waited))
		return err
	})
	return out
}
