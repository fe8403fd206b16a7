package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestRemoveStale(t *testing.T) {
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "sub"), 0o755)
	dead := filepath.Join(out, "sub", fmt.Sprintf("%s%d-1.tmp", TempPrefix, 1<<22+12345)) // no such process
	mine := filepath.Join(out, fmt.Sprintf("%s%d-2.tmp", TempPrefix, os.Getpid()))
	other := filepath.Join(out, "photo.jpg")
	for _, p := range []string{dead, mine, other} {
		os.WriteFile(p, []byte("x"), 0o644)
	}
	if n := RemoveStale(out); n != 1 {
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
	if n := RemoveTemp(out, os.Getpid()); n != 1 {
		t.Errorf("RemoveTemp removed %d of this process's files, want 1", n)
	}
}
