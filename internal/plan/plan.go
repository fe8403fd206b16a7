// Package plan decides, from an input's header, which outputs it gets,
// whether they are already up to date, and whether two inputs would write
// the same file: the engine's side of the decode stage.
package plan

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

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
}

func (s *Skip) Error() string { return "skipped: " + s.Reason }

// Planner decides, from an input's header, what outputs it gets, whether
// they are already up to date, and whether two inputs would write the same
// file. One Planner serves one run; it is safe for concurrent use and keeps
// one map entry per output name.
type Planner struct {
	Outputs []stages.Output // at least one
	OutDir  string          // "" when outputs go to a caller's sink
	Force   bool            // rewrite outputs that are up to date
	DryRun  bool            // plan only: every input ends as a Skip saying what would happen

	mu      sync.Mutex
	claimed map[string]string // output name -> input path
}

// Plan returns the targets for f, an upright w x h image in format. It
// returns a *Skip when every output exists and is newer than the input (and
// Force is off) or on a dry run, and an error wrapping stages.ErrCollision when
// another input already claimed one of the names.
func (p *Planner) Plan(f stages.File, srcFormat string, w, h int) ([]stages.Target, error) {
	targets := make([]stages.Target, len(p.Outputs))
	rel := cleanRel(f)
	ext := path.Ext(rel)
	twin := sync.OnceValue(func() bool { return hasTwin(f) }) // looked up once, if needed
	for i, o := range p.Outputs {
		t := o.Target(rel, srcFormat, w, h)
		if ext != "" && !isExtOf(ext, t.Format) && twin() {
			// IMG_1.png beside IMG_1.jpg, converted to JPEG: IMG_1-png.jpg,
			// whichever of the two is planned first.
			t = o.Target(strings.TrimSuffix(rel, ext)+"-"+strings.ToLower(ext[1:])+ext, srcFormat, w, h)
		}
		t.Index = i
		targets[i] = t
	}
	if err := p.claim(f, targets); err != nil {
		return nil, err
	}
	if p.OutDir == "" {
		return targets, nil
	}
	upToDate := !p.Force
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = filepath.Join(p.OutDir, filepath.FromSlash(t.Name))
		if upToDate {
			st, err := os.Stat(names[i])
			upToDate = err == nil && !f.ModTime.IsZero() && !st.ModTime().Before(f.ModTime)
		}
	}
	if upToDate {
		return nil, &Skip{Reason: "output is up to date (use --force to rewrite)", Outputs: names}
	}
	if p.DryRun {
		why := "new"
		if _, err := os.Stat(names[0]); err == nil {
			why = "replaces an older output"
			if p.Force {
				why = "forced"
			}
		}
		return nil, &Skip{Reason: "dry run: would write (" + why + ")", Outputs: names}
	}
	return targets, nil
}

func (p *Planner) claim(f stages.File, targets []stages.Target) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.claimed == nil {
		p.claimed = map[string]string{}
	}
	for i, t := range targets {
		key := strings.ToLower(t.Name) // collide as case-insensitive disks (macOS, Windows) would
		for _, u := range targets[:i] {
			if strings.ToLower(u.Name) == key {
				return fmt.Errorf("%w: outputs %d and %d are both named %s; give them distinct name templates", stages.ErrCollision, u.Index+1, t.Index+1, t.Name)
			}
		}
		if other, ok := p.claimed[key]; ok && other != f.Path {
			return fmt.Errorf("%w: %s is also the output of %s; use --name with {format} or rename one", stages.ErrCollision, t.Name, other)
		}
	}
	for _, t := range targets {
		p.claimed[strings.ToLower(t.Name)] = f.Path
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
		if owner == path {
			delete(p.claimed, name)
		}
	}
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
