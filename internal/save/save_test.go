package save

import (
	"context"
	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"github.com/imgpipe/imgpipe/stages"
	"os"
	"path/filepath"
	"testing"
)

func TestSaveAtomicAndInsideOutDir(t *testing.T) {
	out := t.TempDir()
	saver, err := New(Options{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer saver.Close()
	save := saver.Save
	e := &stages.Encoded{Decoded: &stages.Decoded{File: stages.File{Path: "x"}, Targets: []stages.Target{{Name: "a/b/c.jpg"}, {Name: "top.jpg"}}},
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
		e.Targets = []stages.Target{{Name: "link/evil.jpg"}}
		e.Files = [][]byte{[]byte("x")}
		if _, err := save(context.Background(), e); err == nil {
			t.Error("a write through a symlink out of the output folder succeeded")
		}
		if _, err := os.Stat(filepath.Join(outside, "evil.jpg")); err == nil {
			t.Error("a file was written outside the output folder")
		}
	}
	for _, name := range []string{"../escape.jpg", "/abs.jpg"} {
		e.Targets = []stages.Target{{Name: name}}
		if _, err := save(context.Background(), e); err == nil {
			t.Errorf("%s: written", name)
		}
	}
	entries, _ := os.ReadDir(out)
	for _, en := range entries {
		if atomicfile.IsTemp(en.Name()) {
			t.Errorf("temporary file left: %s", en.Name())
		}
	}
}
