package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// runIn runs the command line in this process and returns its exit code,
// stdout and stderr.
func runIn(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runMain(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// resize s -o s: refused, saying what to do, when the outputs would take
// the inputs' names; done, and not redone nor fed back in, when they
// cannot.
func TestSameFolderCLI(t *testing.T) {
	s := tree(t, "edge/IMG_0001.JPG")
	before := hashTree(t, s)
	code, _, stderr := runIn(t, "resize", s, "-o", s, "-w", "100")
	if code != exitUsage || !strings.Contains(stderr, "would overwrite the inputs") || !strings.Contains(stderr, "--name '{name}-small.{ext}'") {
		t.Errorf("resize s -o s: exit %d\n%s", code, stderr)
	}
	sameTree(t, before, hashTree(t, s))

	args := []string{"resize", s, "-o", s, "-w", "100", "--name", "{name}-small.{ext}"}
	if code, _, stderr := runIn(t, args...); code != 0 || !strings.Contains(stderr, "1 processed") {
		t.Fatalf("with --name: exit %d\n%s", code, stderr)
	}
	if got := decodeSize(t, filepath.Join(s, "edge", "IMG_0001-small.JPG")); got.X != 100 {
		t.Errorf("output %v", got)
	}
	if code, _, stderr := runIn(t, args...); code != 0 || !strings.Contains(stderr, "0 processed, 1 skipped, 0 failed") {
		t.Errorf("again: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(s, "edge", "IMG_0001-small-small.JPG")); err == nil {
		t.Error("an output was taken for an input")
	}
}

// --dry-run without -o plans from the headers, prints the plan on stdout,
// and calls it "would write".
func TestDryRunPlanOnStdout(t *testing.T) {
	in := tree(t, "edge/IMG_0001.JPG", "photos/camera_Nikon_P6000_GPS.jpg")
	code, stdout, stderr := runIn(t, "resize", in, "-w", "100", "--dry-run", "--progress", "never")
	if code != 0 || !strings.Contains(stderr, "dry run: 2 would be written, 0 up to date, 0 failed") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	if strings.Count(stdout, "would write: ") != 2 || !strings.Contains(stdout, "-> edge/IMG_0001.JPG (new)") || strings.Contains(stdout, "skipped") {
		t.Errorf("plan on stdout:\n%s", stdout)
	}
}

// An empty input folder says so, exits 0 and creates no output folder.
func TestNoImagesFound(t *testing.T) {
	in := t.TempDir()
	os.WriteFile(filepath.Join(in, "notes.txt"), []byte("hello"), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runIn(t, "resize", in, "-o", out)
	if code != 0 || stderr != "imgpipe: no images found in "+in+"\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output folder created")
	}
}

// --sizes names outputs by the width asked for and leaves out the widths
// wider than the image, with a note.
func TestSizesWiderThanImage(t *testing.T) {
	in := tree(t, "edge/IMG_0001.JPG") // 320x200
	out := t.TempDir()
	code, _, stderr := runIn(t, "resize", in, "-o", out, "--sizes", "160,320,640")
	if code != 0 || !strings.Contains(stderr, "no 640 px wide output: the image is 320 px wide") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	for _, w := range []int{160, 320} {
		if got := decodeSize(t, filepath.Join(out, "edge", "IMG_0001-"+strconv.Itoa(w)+"w.JPG")); got.X != w {
			t.Errorf("%dw: %v", w, got)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "edge", "IMG_0001-640w.JPG")); err == nil {
		t.Error("a 640w file from a 320 px image")
	}
}

// version prints the module version and the VCS revision, never a bare
// "(devel)".
func TestVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/imgpipe/imgpipe", Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-02T13:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := version(bi, true), "devel 0123456789ab+modified (2026-12-02T13:00:00Z) go1.26.8"; got != want {
		t.Errorf("checkout build: %q, want %q", got, want)
	}
	bi = &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}
	if got := version(bi, true); got != "v1.4.0 go1.26.8" {
		t.Errorf("go install @v1.4.0: %q", got)
	}
	if got := version(nil, false); strings.Contains(got, "(devel)") || got == "" {
		t.Errorf("no build info: %q", got)
	}
	code, stdout, _ := runIn(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "imgpipe ") || strings.Contains(stdout, "(devel)") {
		t.Errorf("imgpipe version: %d %q", code, stdout)
	}
}
