// Package plan decides, from an input's header, which outputs it gets,
// whether they are already up to date, and whether two inputs would write
// the same file: the engine's side of the decode stage.
package plan

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/stages"
)

// Skip is returned (as an error) by Plan when an input needs no work: its
// outputs are up to date, or this is a dry run. It is a result, not a
// failure.
type Skip struct {
	Reason string
	// Outputs are the output paths the input has, or would have.
	Outputs []string
	// Targets are the outputs planned, named as in Outputs, and Format,
	// Width and Height the source's, for a manifest's entry of an input
	// skipped as up to date (set only then).
	Targets       []stages.Target
	Format        string
	Width, Height int
	// Planned marks a dry run's plan for an input that a real run would
	// write; Reason then says why ("new", "settings changed: ...").
	Planned bool
}

func (s *Skip) Error() string {
	if s.Planned {
		return "would write: " + s.Reason
	}
	return "skipped: " + s.Reason
}

// Planner decides, from an input's header, what outputs it gets, whether
// they are already up to date, and whether two inputs would write the same
// file. One Planner serves one run; it is safe for concurrent use and keeps
// one map entry per output name.
//
// An output is up to date when State records that it was made from this
// input (same path below its root, size and modification time) with the
// same settings (SettingsOf), and the file is still the one written. An
// output made before the folder had a record is judged by modification
// times: up to date when newer than its input.
type Planner struct {
	Outputs []stages.Output      // at least one
	Decode  stages.DecodeOptions // the decode options, whose pixel-changing ones are part of the settings
	OutDir  string               // "" when outputs go to a caller's sink
	Force   bool                 // rewrite outputs that are up to date
	DryRun  bool                 // plan only: every input ends as a Skip saying what would happen
	State   *State               // the output folder's record; nil: modification times alone decide
	// Check judges outputs that go to a sink (OutDir ""), which keeps its
	// own record: why the input f (rel below its root) must be done for
	// targets, "" when each is up to date. nil: a sink's outputs are
	// always written.
	Check func(f stages.File, rel string, targets []stages.Target) (why string, err error)
	// CaseInsensitive makes output names that differ only in case collide
	// (IMG_1.jpg and IMG_1.JPG): set it when the output folder's file
	// system folds case (see CaseInsensitive).
	CaseInsensitive bool

	once     sync.Once
	begin    sync.Once
	settings []Settings // of each output
	outAbs   string     // OutDir, absolute

	mu      sync.Mutex
	claimed map[string]claim    // by output name (folded when CaseInsensitive)
	notes   map[string][]string // by input path, until taken
}

type claim struct{ input, name string }

func (p *Planner) init() {
	p.once.Do(func() {
		p.settings = make([]Settings, len(p.Outputs))
		for i, o := range p.Outputs {
			p.settings[i] = SettingsOf(o, p.Decode)
		}
		if p.OutDir != "" {
			p.outAbs, _ = filepath.Abs(p.OutDir)
		}
	})
}

// Plan returns the targets for f, an upright w x h image in format. It
// returns a *Skip when every output is up to date (and Force is off) or on
// a dry run, and an error wrapping stages.ErrCollision when another input
// already claimed one of the names.
func (p *Planner) Plan(f stages.File, srcFormat string, w, h int) ([]stages.Target, error) {
	p.init()
	rel := cleanRel(f)
	ext := path.Ext(rel)
	twin := sync.OnceValue(func() bool { return hasTwin(f) }) // looked up once, if needed
	targets := make([]stages.Target, 0, len(p.Outputs))
	var notes []string
	narrowest := -1
	for i, o := range p.Outputs {
		if o.DropWider && !o.Enlarge && o.Width > w {
			notes = append(notes, fmt.Sprintf("no %d px wide output: the image is %d px wide", o.Width, w))
			if narrowest < 0 || o.Width < p.Outputs[narrowest].Width {
				narrowest = i
			}
			continue
		}
		targets = append(targets, p.target(o, i, rel, ext, srcFormat, w, h, twin))
	}
	if len(targets) == 0 && narrowest >= 0 {
		// Narrower than every size asked for: one output, at its own width
		// and named after it.
		o := p.Outputs[narrowest]
		o.Width = w
		targets = append(targets, p.target(o, narrowest, rel, ext, srcFormat, w, h, twin))
		notes = append(notes, fmt.Sprintf("written at its own width, %d px, as %s", w, targets[0].Name))
	}
	if err := p.claim(f, targets); err != nil {
		return nil, err
	}
	if p.OutDir == "" {
		if p.DryRun {
			names := make([]string, len(targets))
			for i, t := range targets {
				names[i] = t.Name
			}
			return nil, &Skip{Reason: "new", Outputs: names, Planned: true}
		}
		if p.Check != nil && !p.Force {
			why, err := p.Check(f, rel, targets)
			if err != nil {
				return nil, err
			}
			if why == "" {
				names := make([]string, len(targets))
				for i, t := range targets {
					names[i] = t.Name
				}
				return nil, &Skip{Reason: "output is up to date (use --force to rewrite)", Outputs: names,
					Targets: targets, Format: srcFormat, Width: w, Height: h}
			}
		}
		p.keepNotes(f, notes)
		return targets, nil
	}
	names, found, why, err := p.judge(f, rel, targets)
	if err != nil {
		return nil, err
	}
	if why == "" {
		return nil, &Skip{Reason: "output is up to date (use --force to rewrite)", Outputs: names,
			Targets: found, Format: srcFormat, Width: w, Height: h}
	}
	if p.DryRun {
		return nil, &Skip{Reason: why, Outputs: names, Planned: true}
	}
	if p.State != nil {
		p.begin.Do(func() { p.State.Begin(p.settings) }) // a failure is kept for State.Close
	}
	p.keepNotes(f, notes)
	return targets, nil
}

func (p *Planner) target(o stages.Output, i int, rel, ext, srcFormat string, w, h int, twin func() bool) stages.Target {
	t := o.Target(rel, srcFormat, w, h)
	if ext != "" && !isExtOf(ext, t.Format) && twin() {
		// IMG_1.png beside IMG_1.jpg, converted to JPEG: IMG_1-png.jpg,
		// whichever of the two is planned first.
		t = o.Target(strings.TrimSuffix(rel, ext)+"-"+strings.ToLower(ext[1:])+ext, srcFormat, w, h)
	}
	t.Index, t.Settings = i, p.settings[i].Hash
	return t
}

// judge returns the outputs' paths, the targets as found (a name with
// {hash} is the file recorded for it), and why the input must be (re)done,
// "" when every output is up to date. Below the output folder it refuses
// to plan over a file that may be an input (see inOutDir).
func (p *Planner) judge(f stages.File, rel string, targets []stages.Target) (names []string, found []stages.Target, why string, err error) {
	names = make([]string, len(targets))
	found = slices.Clone(targets)
	for i, t := range targets {
		if strings.Contains(t.Name, "{hash}") {
			// Named by its bytes: the record knows the file, if any.
			if p.State != nil && !p.Force {
				if old := p.State.hashed(t.Name, rel, p.settings[t.Index].Hash); old != "" {
					found[i].Name = old
				}
			}
			if found[i].Name == t.Name && why == "" {
				why = "new"
			}
			t = found[i]
		}
		names[i] = filepath.Join(p.OutDir, filepath.FromSlash(t.Name))
		st, err := os.Stat(names[i])
		if err == nil && (p.State == nil || !p.State.isOutput(t.Name)) && p.inOutDir(f) {
			// The input's folder is the output folder: the file there is
			// not known as an output, so it may be an input (this one).
			return nil, nil, "", fmt.Errorf("%w: %s would overwrite %s, which is not an output of imgpipe (the input is in the output folder): choose a --name that cannot be an input's name, e.g. {name}-small.{ext}",
				stages.ErrCollision, t.Name, names[i])
		}
		if why != "" {
			continue
		}
		switch {
		case p.Force:
			why = "forced"
		case err != nil:
			why = "new"
		case p.State == nil:
			if f.ModTime.IsZero() || st.ModTime().Before(f.ModTime) {
				why = "the input is newer than its output"
			}
		default:
			if v, reason := p.State.check(t.Name, st, f, rel, p.settings[t.Index], !p.DryRun); v != upToDate {
				why = reason
			}
		}
	}
	return names, found, why, nil
}

// Done records that the input f was written as targets, to paths: the
// state's record of each output. Call it once the files are in place.
func (p *Planner) Done(f stages.File, targets []stages.Target, paths []string) {
	if p.State == nil || p.DryRun {
		return
	}
	p.init()
	rel := cleanRel(f)
	for i, t := range targets {
		if i >= len(paths) {
			break
		}
		st, err := os.Stat(paths[i])
		if err != nil {
			continue
		}
		p.State.add(t.Name, st, f, rel, p.settings[t.Index])
	}
	if p.inOutDir(f) {
		// In a folder that is both input and output, a lost record would
		// make the next run take the output for an input: write it now.
		p.State.Flush()
	}
}

// Notes returns, once, what the plan of the input at path left out (sizes
// wider than the image); the pipeline adds them to the input's result.
func (p *Planner) Notes(path string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.notes[path]
	delete(p.notes, path)
	return n
}

func (p *Planner) keepNotes(f stages.File, notes []string) {
	if len(notes) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.notes == nil {
		p.notes = map[string][]string{}
	}
	p.notes[f.Path] = notes
}

// IsOutput reports whether f, found by a source, is an output rather than
// an input: the state file itself, a file the walk of a tree above the
// output folder found inside it (./photos with -o ./photos/small), or,
// when the input's own folder is the output folder or lies inside it, a
// file recorded as an output or planned as one in this run.
func (p *Planner) IsOutput(f stages.File) bool {
	if p.OutDir == "" || f.Open != nil || f.Path == "" { // in memory or in an fs.FS: not a path on disk
		return false
	}
	p.init()
	abs, err := filepath.Abs(f.Path)
	if err != nil || p.outAbs == "" || !strings.HasPrefix(abs, p.outAbs+string(filepath.Separator)) {
		return false
	}
	if filepath.Base(abs) == StateName {
		return true
	}
	if !p.inOutDir(f) {
		return true
	}
	name := filepath.ToSlash(abs[len(p.outAbs)+1:])
	if p.State != nil && p.State.isOutput(name) {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.claimed[p.key(name)]
	return ok
}

// inOutDir reports whether f's root (the folder its Rel is relative to) is
// the output folder or lies inside it: a folder resized into itself
// ("imgpipe resize s -o s --name {name}-small.{ext}").
func (p *Planner) inOutDir(f stages.File) bool {
	if p.outAbs == "" || f.Open != nil || f.Path == "" {
		return false
	}
	abs, err := filepath.Abs(f.Path)
	if err != nil {
		return false
	}
	root := filepath.Dir(abs) // a file named on its own: its folder
	if rel := filepath.FromSlash(f.Rel); f.Rel != "" && strings.HasSuffix(abs, string(filepath.Separator)+rel) {
		root = strings.TrimSuffix(abs, string(filepath.Separator)+rel)
	}
	return root == p.outAbs || strings.HasPrefix(root, p.outAbs+string(filepath.Separator))
}

func (p *Planner) key(name string) string {
	if p.CaseInsensitive {
		return strings.ToLower(name)
	}
	return name
}

func (p *Planner) claim(f stages.File, targets []stages.Target) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.claimed == nil {
		p.claimed = map[string]claim{}
	}
	fold := ""
	if p.CaseInsensitive {
		fold = " (the output folder's file system ignores case)"
	}
	for i, t := range targets {
		key := p.key(t.Name)
		for _, u := range targets[:i] {
			if p.key(u.Name) == key {
				return fmt.Errorf("%w: outputs %d and %d are both named %s%s; give them distinct name templates", stages.ErrCollision, u.Index+1, t.Index+1, t.Name, fold)
			}
		}
		if other, ok := p.claimed[key]; ok && other.input != f.Path {
			if other.name != t.Name {
				return fmt.Errorf("%w: %s and %s, the output of %s, are one file%s; use --name with {format} or rename one",
					stages.ErrCollision, t.Name, other.name, other.input, fold)
			}
			return fmt.Errorf("%w: %s is also the output of %s; use --name with {format} or rename one", stages.ErrCollision, t.Name, other.input)
		}
	}
	for _, t := range targets {
		p.claimed[p.key(t.Name)] = claim{f.Path, t.Name}
	}
	return nil
}

// Release drops the output names claimed by the input at path, so that
// another input may take them: a watch calls it once an input is deleted
// or moved away. It costs one pass over the claimed names.
func (p *Planner) Release(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, owner := range p.claimed {
		if owner.input == path {
			delete(p.claimed, name)
		}
	}
}

// CaseInsensitive reports whether the file system holding dir (or, if dir
// does not exist yet, its nearest existing parent) folds case: it creates
// a temporary file there and looks for its upper-case twin. When it cannot
// tell, it says true, the cautious answer (names differing only in case are
// then refused as collisions).
func CaseInsensitive(dir string) bool {
	d := dir
	if d == "" {
		return true
	}
	for {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			break
		}
		parent := filepath.Dir(d)
		if parent == d {
			return true
		}
		d = parent
	}
	f, err := os.CreateTemp(d, fmt.Sprintf("%s%d-*.tmp", atomicfile.TempPrefix, os.Getpid()))
	if err != nil {
		return true
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	upper := filepath.Join(filepath.Dir(name), strings.ToUpper(filepath.Base(name)))
	_, err = os.Stat(upper)
	return err == nil
}

// hasTwin reports whether f, a file on disk, has a sibling with the same
// name and another image extension (IMG_1.jpg beside IMG_1.png). Such an
// input, when converted, would take the name of the sibling's output; the
// check is on the disk rather than on what was planned so far, so that the
// names do not depend on which input a worker reaches first.
func hasTwin(f stages.File) bool {
	if f.Open != nil || f.Path == "" {
		return false // in memory or in an fs.FS: no folder to look in
	}
	own := filepath.Ext(f.Path)
	stem := strings.TrimSuffix(f.Path, own)
	for _, fm := range format.All() {
		for _, ext := range fm.Exts {
			if strings.EqualFold("."+ext, own) {
				continue
			}
			for _, e := range []string{ext, strings.ToUpper(ext)} {
				if _, err := os.Lstat(stem + "." + e); err == nil {
					return true
				}
			}
		}
	}
	return false
}

// isExtOf reports whether ext (with its dot) is an extension of the format
// named name.
func isExtOf(ext, name string) bool {
	f := format.ByExt(ext)
	return f != nil && f.Name == name
}

// Rel is f's path below its root as outputs mirror it and records keep
// it (see cleanRel).
func Rel(f stages.File) string { return cleanRel(f) }

// cleanRel returns f's relative path made safe to join below an output
// folder: slash-separated, no leading slash, no "..", never empty.
func cleanRel(f stages.File) string {
	rel := filepath.ToSlash(f.Rel)
	if rel == "" {
		rel = filepath.Base(f.Path)
	}
	rel = path.Clean("/" + rel)[1:] // rooting first drops every ".."
	if rel == "" {
		rel = "image"
	}
	return rel
}
