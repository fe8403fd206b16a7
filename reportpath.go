package main

import (
	"path/filepath"
	"strings"
)

// inputHolding returns the input (a folder, or a file) that path is
// inside or is, unless it is inside outDir; "" if none. Paths are compared
// absolute with links resolved, as far as they exist.
func inputHolding(path string, inputs []string, outDir string) string {
	p := resolved(path)
	if outDir != "" && within(p, resolved(outDir)) {
		return ""
	}
	for _, in := range inputs {
		if within(p, resolved(in)) {
			return in
		}
	}
	return ""
}

// resolved is p absolute, with the links of its longest existing prefix
// resolved.
func resolved(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	for dir, rest := abs, ""; ; {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return abs
		}
		dir, rest = parent, filepath.Join(filepath.Base(dir), rest)
	}
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
