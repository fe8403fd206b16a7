package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/stages"
)

// rerun runs cfg (OutDir set) over in and returns the summary and the
// results by input base name.
func rerun(t *testing.T, cfg Config, in string) (Summary, map[string]Result) {
	t.Helper()
	var mu sync.Mutex
	res := map[string]Result{}
	p, err := New(cfg, OnResult(func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		res[filepath.Base(r.Input)] = r
	}))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.Run(context.Background(), Dirs([]string{in}, ScanOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	return sum, res
}

// A re-run follows the settings, not only the clock: outputs made with
// other settings are redone, outputs made with these are kept, and a dry
// run says what changed.
func TestRerunFollowsSettings(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	copyTree(t, in, "photos/camera_Nikon_P6000_GPS.jpg", "edge/IMG_0001.JPG")
	cfg := func(w int) Config { return Config{OutDir: out, Output: stages.Output{Width: w}} }
	gps := filepath.Join(out, "photos", "camera_Nikon_P6000_GPS.jpg")

	if s, _ := rerun(t, cfg(64), in); s.OK != 2 {
		t.Fatalf("first run: %+v", s)
	}
	if s, _ := rerun(t, cfg(64), in); s.OK != 0 || s.Skipped != 2 {
		t.Errorf("same settings again: %+v, want 2 skipped", s)
	}
	dry := cfg(100)
	dry.DryRun = true
	s, res := rerun(t, dry, in)
	if s.Planned != 2 || res["camera_Nikon_P6000_GPS.jpg"].Reason != "settings changed: width 64 -> 100" {
		t.Errorf("dry run with -w 100: %+v, reason %q", s, res["camera_Nikon_P6000_GPS.jpg"].Reason)
	}
	if got := decodeOutput(t, gps); got.X != 64 {
		t.Errorf("the dry run changed an output: %v", got)
	}
	if s, _ := rerun(t, cfg(100), in); s.OK != 2 {
		t.Errorf("-w 100 after -w 64: %+v, want both redone", s)
	}
	if got := decodeOutput(t, gps); got.X != 100 {
		t.Errorf("output %v after -w 100, want 100 wide", got)
	}
	if s, _ := rerun(t, cfg(100), in); s.Skipped != 2 {
		t.Errorf("-w 100 again: %+v, want 2 skipped", s)
	}
	// Another quality is another output.
	q := cfg(100)
	q.Output.Quality = 60
	if s, _ := rerun(t, q, in); s.OK != 2 {
		t.Errorf("-q 60: %+v, want both redone", s)
	}

	// Outputs deleted or replaced by hand are redone; the others are kept.
	os.Remove(gps)
	if s, res := rerun(t, q, in); s.OK != 1 || s.Skipped != 1 || res["camera_Nikon_P6000_GPS.jpg"].Status != StatusOK {
		t.Errorf("after deleting one output: %+v", s)
	}
	os.Rename(gps, gps+".bak.jpg")
	if s, _ := rerun(t, q, in); s.OK != 1 || s.Skipped != 1 {
		t.Errorf("after renaming one output away: %+v", s)
	}
	// --force redoes all.
	q.Force = true
	if s, _ := rerun(t, q, in); s.OK != 2 {
		t.Errorf("force: %+v", s)
	}
}

// Outputs made before the folder had a record (an older imgpipe) are kept
// while they are newer than their input, as they always were; an input
// touched since is redone.
func TestRerunWithoutRecordUsesTimes(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	copyTree(t, in, "photos/camera_Nikon_P6000_GPS.jpg", "edge/IMG_0001.JPG")
	cfg := Config{OutDir: out, Output: stages.Output{Width: 64}}
	if s, _ := rerun(t, cfg, in); s.OK != 2 {
		t.Fatalf("first run: %+v", s)
	}
	os.Remove(filepath.Join(out, plan.StateName))
	// Outputs older than the record's first run, inputs older still.
	old := time.Now().Add(-time.Hour)
	for _, f := range []string{"photos/camera_Nikon_P6000_GPS.jpg", "edge/IMG_0001.JPG"} {
		os.Chtimes(filepath.Join(in, f), old.Add(-time.Hour), old.Add(-time.Hour))
		os.Chtimes(filepath.Join(out, f), old, old)
	}
	if s, _ := rerun(t, cfg, in); s.Skipped != 2 {
		t.Errorf("outputs newer than inputs, no record: %+v, want 2 skipped", s)
	}
	os.Chtimes(filepath.Join(in, "edge/IMG_0001.JPG"), time.Now(), time.Now())
	if s, _ := rerun(t, cfg, in); s.OK != 1 || s.Skipped != 1 {
		t.Errorf("one input touched: %+v", s)
	}
}

// A torn last line (a run killed while appending) and garbage lines are
// left out; the records before them still count.
func TestRerunTornState(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	copyTree(t, in, "photos/camera_Nikon_P6000_GPS.jpg", "edge/IMG_0001.JPG")
	cfg := Config{OutDir: out, Output: stages.Output{Width: 64}}
	rerun(t, cfg, in)
	state := filepath.Join(out, plan.StateName)
	f, err := os.OpenFile(state, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("O\tnonsense\n\x00\x01\nO\tabc\t12\t3") // garbage, then a torn line
	f.Close()
	if s, _ := rerun(t, cfg, in); s.Skipped != 2 {
		t.Errorf("after a torn record: %+v, want 2 skipped", s)
	}
	cfg.Output.Width = 32
	if s, _ := rerun(t, cfg, in); s.OK != 2 {
		t.Errorf("-w 32: %+v", s)
	}
	if s, _ := rerun(t, cfg, in); s.Skipped != 2 {
		t.Errorf("-w 32 again, after the record was rewritten: %+v", s)
	}
	data, _ := os.ReadFile(state)
	if !strings.HasSuffix(string(data), "\n") || strings.Contains(string(data), "nonsense") {
		t.Errorf("record not rewritten clean:\n%s", data)
	}
}

// The record is never an input, even with hidden files included and the
// output folder inside the input tree.
func TestStateNeverAnInput(t *testing.T) {
	in := t.TempDir()
	copyTree(t, in, "edge/IMG_0001.JPG")
	out := filepath.Join(in, "small")
	cfg := Config{OutDir: out, Output: stages.Output{Width: 32}, Scan: ScanConfig{ScanOptions: ScanOptions{Hidden: true}}}
	for range 2 {
		_, res := rerun(t, cfg, in)
		for name, r := range res {
			if name != "IMG_0001.JPG" {
				t.Errorf("%s taken for an input: %+v", name, r)
			}
		}
	}
}

// A folder resized into itself, with names that cannot be an input's:
// the outputs are written beside the inputs and known for outputs on the
// next run; a template that would overwrite an input fails that input.
func TestSameFolderInAndOut(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir, "edge/IMG_0001.JPG", "photos/camera_Nikon_P6000_GPS.jpg")
	cfg := Config{OutDir: dir, Output: stages.Output{Width: 32, Name: "{name}-small.{ext}"}}
	if s, _ := rerun(t, cfg, dir); s.OK != 2 {
		t.Fatalf("first run: %+v", s)
	}
	decodeOutput(t, filepath.Join(dir, "edge", "IMG_0001-small.JPG"))
	s, res := rerun(t, cfg, dir)
	if s.Skipped != 2 || s.Total() != 2 {
		t.Errorf("second run: %+v %v, want the 2 inputs skipped and the outputs left alone", s, res)
	}
	cfg.Output.Name = ""
	s, res = rerun(t, cfg, dir)
	if s.Failed != 2 || !errors.Is(res["IMG_0001.JPG"].Err, stages.ErrCollision) {
		t.Errorf("{name}.{ext} into the input folder: %+v %v, want both to fail as collisions", s, res)
	}
}

// Two renditions that can get one name are refused by New, naming them;
// {w} tells them apart even for an image narrower than both.
func TestRenditionNamesMustDiffer(t *testing.T) {
	_, err := New(Config{OutDir: t.TempDir(), Outputs: []stages.Output{{Width: 100}, {Width: 200}}})
	if err == nil || !strings.Contains(err.Error(), "outputs[0] and outputs[1]") {
		t.Errorf("two unnamed renditions: %v", err)
	}
	_, err = New(Config{OutDir: t.TempDir(), Outputs: []stages.Output{{Width: 100, Name: "{name}-{width}.{ext}"}, {Width: 200, Name: "{name}-{width}.{ext}"}}})
	if err == nil {
		t.Error("{width} accepted as telling renditions apart")
	}
	for _, tt := range []struct {
		outs    []stages.Output
		collide bool
	}{
		{[]stages.Output{{Width: 100, Name: "{name}-{w}w.{ext}"}, {Width: 200, Name: "{name}-{w}w.{ext}"}}, false},
		{[]stages.Output{{Width: 100, Format: "png"}, {Width: 100, Format: "jpeg"}}, false},
		{[]stages.Output{{Width: 100, Height: 50, Name: "{name}-{h}.{ext}"}, {Width: 100, Height: 60, Name: "{name}-{h}.{ext}"}}, false},
		// "same" writes PNG for a PNG input: both are x-png.png then.
		{[]stages.Output{{Width: 100, Name: "{name}-{format}.{ext}"}, {Width: 90, Format: "png", Name: "{name}-{format}.{ext}"}}, true},
		{[]stages.Output{{Width: 100, Name: "{name}-A.{ext}"}, {Width: 90, Name: "{name}-a.{ext}"}}, true}, // one file where case folds
	} {
		_, err := New(Config{OutDir: t.TempDir(), Outputs: tt.outs})
		if (err != nil) != tt.collide {
			t.Errorf("%+v: error %v, want a collision: %v", tt.outs, err, tt.collide)
		}
	}

	// 320x200, narrower than both: each output still has its own name.
	results, sum, err, out := collect(t, Config{Outputs: []stages.Output{{Width: 400, Name: "{name}-{w}w.{ext}"}, {Width: 800, Name: "{name}-{w}w.{ext}"}}}, nil, "edge/IMG_0001.JPG")
	if err != nil || sum.OK != 1 {
		t.Fatalf("%+v %v %v", sum, err, results)
	}
	for _, n := range []string{"IMG_0001-400w.JPG", "IMG_0001-800w.JPG"} {
		decodeOutput(t, filepath.Join(out, "edge", n))
	}
}

// Renditions that drop widths wider than the image (--sizes) leave them
// out and say so; an image narrower than all gets one, at its own width.
func TestDropWider(t *testing.T) {
	sizes := []stages.Output{
		{Width: 160, Name: "{name}-{w}w.{ext}", DropWider: true},
		{Width: 640, Name: "{name}-{w}w.{ext}", DropWider: true},
		{Width: 1280, Name: "{name}-{w}w.{ext}", DropWider: true},
	}
	results, sum, err, out := collect(t, Config{Outputs: sizes}, nil, "edge/IMG_0001.JPG", "photos/camera_Nikon_P6000_GPS.jpg")
	if err != nil || sum.OK != 2 {
		t.Fatalf("%+v %v", sum, err)
	}
	small := results["edge/IMG_0001.JPG"] // 320 wide
	if len(small.Outputs) != 1 || decodeOutput(t, filepath.Join(out, "edge", "IMG_0001-160w.JPG")).X != 160 {
		t.Errorf("320 px image: outputs %+v", small.Outputs)
	}
	if len(small.Notes) != 2 || !strings.Contains(small.Notes[0], "no 640 px wide output") {
		t.Errorf("320 px image: notes %q", small.Notes)
	}
	gps := results["photos/camera_Nikon_P6000_GPS.jpg"] // 640 wide
	if len(gps.Outputs) != 2 || decodeOutput(t, filepath.Join(out, "photos", "camera_Nikon_P6000_GPS-640w.jpg")).X != 640 {
		t.Errorf("640 px image: outputs %+v", gps.Outputs)
	}
	if _, err := os.Stat(filepath.Join(out, "photos", "camera_Nikon_P6000_GPS-1280w.jpg")); err == nil {
		t.Error("a 1280w file from a 640 px image")
	}

	// Narrower than every size: the narrowest, at the image's own width.
	sizes[0].Width = 400
	results, _, _, out = collect(t, Config{Outputs: sizes}, nil, "edge/IMG_0001.JPG")
	r := results["edge/IMG_0001.JPG"]
	if len(r.Outputs) != 1 || decodeOutput(t, filepath.Join(out, "edge", "IMG_0001-320w.JPG")).X != 320 {
		t.Errorf("narrower than all: outputs %+v notes %q", r.Outputs, r.Notes)
	}
}

// A dry run without an output folder plans from the headers: nothing is
// decoded, resized or encoded, and every input is planned, not failed.
func TestDryRunWithoutOutDirPlansOnly(t *testing.T) {
	in := t.TempDir()
	copyTree(t, in, "photos/camera_Nikon_P6000_GPS.jpg", "edge/IMG_0001.JPG")
	p, err := New(Config{DryRun: true, Output: stages.Output{Width: 64}})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.Run(context.Background(), Dirs([]string{in}, ScanOptions{}))
	if err != nil || sum.Planned != 2 || sum.Failed != 0 {
		t.Fatalf("%+v %v", sum, err)
	}
	for _, m := range sum.Stages {
		if m.Name != "scan" && m.Name != "decode" && m.In > 0 {
			t.Errorf("stage %s worked on %d inputs in a dry run", m.Name, m.In)
		}
	}
}

// IMG_1.jpg and IMG_1.JPG in one folder: both are written where the
// output file system tells case apart, and one fails as a collision where
// it does not.
func TestCaseTwinsFollowOutputDisk(t *testing.T) {
	in := t.TempDir()
	copyTree(t, in, "edge/IMG_0001.JPG")
	data, _ := os.ReadFile(filepath.Join(in, "edge", "IMG_0001.JPG"))
	if err := os.WriteFile(filepath.Join(in, "edge", "IMG_0001.jpg"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(in, "edge")); len(entries) != 2 {
		t.Skip("this file system folds case: the twins cannot exist here")
	}
	cfg := Config{OutDir: t.TempDir(), Output: stages.Output{Width: 32}}
	if s, _ := rerun(t, cfg, in); s.OK != 2 {
		t.Errorf("case-sensitive output folder: %+v, want both written", s)
	}

	caseInsensitive = func(string) bool { return true }
	defer func() { caseInsensitive = plan.CaseInsensitive }()
	cfg.OutDir = t.TempDir()
	s, res := rerun(t, cfg, in)
	if s.OK != 1 || s.Failed != 1 {
		t.Fatalf("case-insensitive output folder: %+v, want one collision", s)
	}
	for _, r := range res {
		if r.Status == StatusFailed && (!errors.Is(r.Err, stages.ErrCollision) || !strings.Contains(r.Err.Error(), "ignores case")) {
			t.Errorf("failure %v, want a collision that says the disk ignores case", r.Err)
		}
	}
}

// A run that finds no input leaves no output folder behind.
func TestEmptyRunMakesNoOutDir(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	p, err := New(Config{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := p.Run(context.Background(), Dirs([]string{t.TempDir()}, ScanOptions{})); err != nil || sum.Total() != 0 {
		t.Fatalf("%+v %v", sum, err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output folder created for nothing")
	}
}
