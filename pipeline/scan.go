package pipeline

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/internal/inputfile"
	"github.com/imgpipe/imgpipe/stages"
)

// Emit receives what a source finds, in order. With err == nil, f is an
// input to process. With err != nil, f.Path names something that could not
// be read (an unreadable folder, a dangling link) and err says why, without
// repeating the path (the pipeline's error adds it); the pipeline reports it
// as a failed input and the source carries on.
// Emit returns an error (the context's) once the run is stopping; a source
// must then return it.
type Emit func(f stages.File, err error) error

// ScanOptions controls how folder trees are walked. The zero value is the
// default: skip hidden files, do not follow symlinked folders. Which files
// are inputs is stages.InputRule's to say, for every source alike.
type ScanOptions struct {
	// Hidden includes dotfiles and dot-folders, which are skipped by default
	// (".DS_Store", "._IMG_0001.JPG" and editor temp files are never photos).
	Hidden bool `yaml:"hidden"`
	// FollowSymlinks descends into symlinked folders. Each folder is visited
	// at most once, so link loops end. Symlinks to files are always followed.
	FollowSymlinks bool `yaml:"follow_symlinks"`
	// Exclude lists folders never descended into, typically the output
	// folder when it lies inside an input tree.
	Exclude []string `yaml:"-"`
}

// rule is the input rule these options ask for.
func (o ScanOptions) rule() stages.InputRule { return stages.InputRule{Hidden: o.Hidden} }

// scan walks roots in order and emits every input it finds. A root may be a
// file, which is emitted as it is (its Rel is its base name), or a folder,
// walked in lexical order with Rel relative to it, whose files are inputs
// as rule says (stages.InputRule): "IMG_1.JPG", "x.jpeg" and "scan" (no
// extension, image bytes) are found; a file whose name says image but whose
// bytes are not one is emitted too, so the decode stage reports it.
//
// scan holds one open file at a time besides one open folder a level of
// the tree it is in, and memory proportional to the number of folders
// visited.
func scan(ctx context.Context, roots []string, opts ScanOptions, rule stages.InputRule, emit Emit) error {
	s := scanner{opts: opts, rule: rule, emit: emit, seenDirs: map[string]bool{}, seenFiles: map[string]bool{}}
	for _, p := range opts.Exclude {
		if abs, err := filepath.Abs(p); err == nil {
			s.exclude = append(s.exclude, abs)
		}
		if real, err := filepath.EvalSymlinks(p); err == nil { // compared with resolved folders
			if abs, err := filepath.Abs(real); err == nil {
				s.exclude = append(s.exclude, abs)
			}
		}
	}
	for _, root := range roots {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.root(ctx, root); err != nil {
			return err
		}
	}
	return nil
}

type scanner struct {
	opts      ScanOptions
	rule      stages.InputRule
	emit      Emit
	exclude   []string
	seenDirs  map[string]bool // real paths of folders visited, against link loops
	seenFiles map[string]bool // absolute paths emitted, against overlapping roots
}

func (s *scanner) root(ctx context.Context, root string) error {
	info, err := os.Stat(root)
	if err != nil {
		return s.emit(stages.File{Path: root, Rel: filepath.Base(root)}, err)
	}
	if !info.IsDir() {
		return s.file(root, filepath.Base(root), info, true, true)
	}
	return s.openDir(ctx, root, "")
}

// afterList is called with each folder's path once it has been listed and
// before the scan descends into its subfolders; tests swap folders in it.
var afterList = func(dir string) {}

// openDir opens the folder at dir by its path, following links (a root,
// or a link the options say to follow), and walks it.
func (s *scanner) openDir(ctx context.Context, dir, rel string) error {
	d, err := os.Open(dir)
	if err != nil {
		return s.emit(stages.File{Path: dir, Rel: rel}, err)
	}
	defer d.Close()
	return s.dir(ctx, d, dir, rel)
}

// subdir walks the folder name, listed as a folder in the open folder
// parent: it is opened through parent, never by a path and never through
// a symbolic link, so a folder swapped for a link to elsewhere after the
// listing is not entered (issue #18.10). What it has become since is
// judged as the scan judges a link, or left for the next scan.
func (s *scanner) subdir(ctx context.Context, parent *os.File, name, p, rel string) error {
	d, err := openSubdir(parent, name)
	switch {
	case errors.Is(err, errNotDir):
		if info, err := os.Lstat(p); err == nil && info.Mode()&fs.ModeSymlink != 0 {
			return s.link(ctx, p, rel)
		}
		return nil // a file now, or gone
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return s.emit(stages.File{Path: p, Rel: rel}, err)
	}
	defer d.Close()
	return s.dir(ctx, d, p, rel)
}

// dir walks one open folder d, found at dir; rel is its path below the
// root, with slashes.
func (s *scanner) dir(ctx context.Context, d *os.File, dir, rel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(dir)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return s.emit(stages.File{Path: dir, Rel: rel}, err)
	}
	if s.seenDirs[real] || rel != "" && s.excluded(real) { // a root is walked even if excluded: -o names the input folder
		return nil
	}
	s.seenDirs[real] = true
	entries, err := d.ReadDir(-1)
	if err != nil {
		if e := s.emit(stages.File{Path: dir, Rel: rel}, err); e != nil {
			return e
		}
		// ReadDir returns what it could read before the error: go on with it.
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	afterList(dir)
	for _, e := range entries {
		name := e.Name()
		if e.Type()&fs.ModeSymlink == 0 && s.rule.Skip(name, e.IsDir()) {
			continue // links are judged by what they point to, in link
		}
		p := filepath.Join(dir, name)
		r := path.Join(rel, name)
		switch {
		case e.IsDir():
			err = s.subdir(ctx, d, name, p, r)
		case e.Type()&fs.ModeSymlink != 0:
			err = s.link(ctx, p, r)
		case e.Type().IsRegular():
			var info fs.FileInfo
			if info, err = e.Info(); err == nil {
				err = s.file(p, r, info, false, false)
			} else if !errors.Is(err, fs.ErrNotExist) { // deleted since ReadDir: nothing to do
				err = s.emit(stages.File{Path: p, Rel: r}, err)
			} else {
				err = nil
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// link handles a symlink met inside a folder.
func (s *scanner) link(ctx context.Context, p, rel string) error {
	info, err := os.Stat(p)
	if err != nil {
		if _, named := stages.Accept(p, nil); !named || s.rule.Skip(filepath.Base(p), false) {
			return nil // a dangling link to something that is not a photo is no loss
		}
		return s.emit(stages.File{Path: p, Rel: rel}, err)
	}
	if s.rule.Skip(filepath.Base(p), info.IsDir()) {
		return nil
	}
	if info.IsDir() {
		if !s.opts.FollowSymlinks {
			return nil
		}
		return s.openDir(ctx, p, rel)
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	return s.file(p, rel, info, false, true)
}

// file emits p if it is named like an image (without opening it), or if
// its first bytes are an image's, or if it was named on the command line
// (explicit). link: p may be a symbolic link to a
// file, which the scan accepts (decode follows it); otherwise p was a
// regular file when listed, and decode refuses it if it has been swapped
// for a link since.
func (s *scanner) file(p, rel string, info fs.FileInfo, explicit, link bool) error {
	if abs, err := filepath.Abs(p); err == nil {
		if s.seenFiles[abs] {
			return nil
		}
		s.seenFiles[abs] = true
	}
	f := stages.File{Path: p, Rel: rel, Size: info.Size(), ModTime: info.ModTime(), Link: link}
	if _, named := stages.Accept(p, nil); named {
		// Named like an image: an input whatever its bytes. Decode opens it
		// once, sniffs the bytes it reads and reports one that is not an
		// image; opening it here as well cost each input four system calls
		// (open, fstat, pread, close). Format stays "" until decode.
		return s.emit(f, nil)
	}
	head, err := readHeadFile(p, link)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while we looked
		}
		return s.emit(f, err)
	}
	var ok bool
	if f.Format, ok = stages.Accept(p, head); !ok && !explicit {
		return nil // no extension, and not an image
	}
	return s.emit(f, nil)
}

func (s *scanner) excluded(abs string) bool {
	for _, x := range s.exclude {
		if abs == x {
			return true
		}
	}
	return false
}

// readHeadFile reads the first format.HeadLen bytes of the file at p (fewer
// if it is shorter), following a symbolic link only if link. What is not a
// regular file is refused without blocking: a FIFO swapped in after the
// listing cannot hang the scan.
func readHeadFile(p string, link bool) ([]byte, error) {
	head := make([]byte, format.HeadLen)
	n, err := inputfile.ReadHead(p, link, head)
	return head[:n], err
}

// readHead reads the first format.HeadLen bytes of what open opens.
func readHead(open func() (io.ReadCloser, error)) ([]byte, error) {
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, format.HeadLen)
	n, err := io.ReadFull(f, head)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return head[:n], err
}
