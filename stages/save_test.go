package stages

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestSaveAtomicAndInsideOutDir(t *testing.T) {
	out := t.TempDir()
	save := Save(SaveOptions{OutDir: out})
	e := &Encoded{Decoded: &Decoded{File: File{Path: "x"}, Targets: []Target{{Name: "a/b/c.jpg"}, {Name: "top.jpg"}}},
		Files: [][]byte{[]byte("one"), []byte("two")}}
	s, err := save(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range s.Paths {
		data, err := os.ReadFile(p)
		if err != nil || string(data) != string(e.Files[i]) {
			t.Errorf("%s: %q %v", p, data, err)
		}
	}
	// A symlink inside the output folder cannot lead a write outside it.
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(out, "link")); err == nil {
		e.Targets = []Target{{Name: "link/evil.jpg"}}
		e.Files = [][]byte{[]byte("x")}
		if _, err := save(context.Background(), e); err == nil {
			t.Error("a write through a symlink out of the output folder succeeded")
		}
		if _, err := os.Stat(filepath.Join(outside, "evil.jpg")); err == nil {
			t.Error("a file was written outside the output folder")
		}
	}
	for _, name := range []string{"../escape.jpg", "/abs.jpg"} {
		e.Targets = []Target{{Name: name}}
		if _, err := save(context.Background(), e); err == nil {
			t.Errorf("%s: written", name)
		}
	}
	entries, _ := os.ReadDir(out)
	for _, en := range entries {
		if IsTemp(en.Name()) {
			t.Errorf("temporary file left: %s", en.Name())
		}
	}
}

func TestRemoveStaleTemp(t *testing.T) {
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "sub"), 0o755)
	dead := filepath.Join(out, "sub", fmt.Sprintf("%s%d-1.tmp", TempPrefix, 1<<22+12345)) // no such process
	mine := filepath.Join(out, fmt.Sprintf("%s%d-2.tmp", TempPrefix, os.Getpid()))
	other := filepath.Join(out, "photo.jpg")
	for _, p := range []string{dead, mine, other} {
		os.WriteFile(p, []byte("x"), 0o644)
	}
	if n := RemoveStaleTemp(out); n != 1 {
		t.Errorf("removed %d, want 1", n)
	}
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Error("a dead process's temporary file is still there")
	}
	for _, p := range []string{mine, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed", p)
		}
	}
}
