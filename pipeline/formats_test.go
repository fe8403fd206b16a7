package pipeline

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imgpipe/imgpipe/stages"
)

// --formats: every size in every format from one decode, each output in its
// format and size, every one in the report and the record (a re-run skips
// them all), and names that cannot differ by format refused at start.
func TestFormatsEverySizeEveryFormat(t *testing.T) {
	cfg := Config{
		Formats: []string{"jpeg", "webp"},
		Outputs: []stages.Output{
			{Width: 160, Name: "{name}-{w}w.{ext}", DropWider: true},
			{Width: 320, Name: "{name}-{w}w.{ext}", DropWider: true},
		},
	}
	files := []string{"photos/camera_Nikon_P6000_GPS.jpg", "photos/phone_Samsung_SM-G930F.jpg"}
	results, sum, err, out := collect(t, cfg, nil, files...)
	if err != nil || sum.OK != 2 {
		t.Fatalf("run: %v, %+v", err, sum)
	}
	for _, f := range files {
		r := results[f]
		stem := strings.TrimSuffix(filepath.Base(f), ".jpg")
		want := []string{stem + "-160w.jpg", stem + "-160w.webp", stem + "-320w.jpg", stem + "-320w.webp"}
		var got []string
		for i, o := range r.Outputs {
			got = append(got, filepath.Base(o.Path))
			wantFormat := []string{"jpeg", "webp"}[i%2]
			if o.Format != wantFormat || o.Width != []int{160, 320}[i/2] {
				t.Errorf("%s output %d: %+v, want %s %d px wide", f, i, o, wantFormat, []int{160, 320}[i/2])
			}
			data, err := os.ReadFile(o.Path)
			if err != nil {
				t.Fatal(err)
			}
			cfgImg, kind, err := image.DecodeConfig(strings.NewReader(string(data)))
			if err != nil || kind != wantFormat || cfgImg.Width != o.Width || cfgImg.Height != o.Height || int64(len(data)) != o.Bytes {
				t.Errorf("%s: %s %dx%d, %d bytes (%v); result says %+v", o.Path, kind, cfgImg.Width, cfgImg.Height, len(data), err, o)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: outputs %v, want %v", f, got, want)
		}
	}
	// The re-run finds every output up to date.
	cfg.OutDir = out
	in := filepath.Dir(filepath.Dir(results[files[0]].Input))
	sum, res := rerun(t, cfg, in)
	if sum.Skipped != 2 || sum.OK != 0 {
		t.Errorf("re-run: %+v, want both skipped", sum)
	}
	for _, r := range res {
		if len(r.Outputs) != 4 {
			t.Errorf("re-run %s lists %d outputs, want 4", r.Input, len(r.Outputs))
		}
	}
	// One format fewer: still up to date (the JPEGs are the same);
	// another quality redoes them.
	cfg.Formats = []string{"webp"}
	if sum, _ := rerun(t, cfg, in); sum.Skipped != 2 {
		t.Errorf("webp only: %+v, want both skipped", sum)
	}
	cfg.Output.Quality = 60
	if sum, _ := rerun(t, cfg, in); sum.OK != 2 {
		t.Errorf("webp at q60: %+v, want both redone", sum)
	}
}

func TestFormatsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // in the error; "" for none
	}{
		{"ok", Config{OutDir: "o", Formats: []string{"jpeg", "webp", "png"}}, ""},
		{"unknown", Config{OutDir: "o", Formats: []string{"jpeg", "jpg2000"}}, "formats[1]"},
		{"same", Config{OutDir: "o", Formats: []string{"same"}}, "formats[0]: must name a format"},
		{"twice", Config{OutDir: "o", Formats: []string{"webp", "webp"}}, "formats[1]: webp is listed twice"},
		{"and format", Config{OutDir: "o", Formats: []string{"webp"}, Output: stages.Output{Format: "png"}}, "output.format"},
		{"and outputs format", Config{OutDir: "o", Formats: []string{"webp"}, Outputs: []stages.Output{{Format: "png"}}}, "outputs[0].format"},
		{"names collide", Config{OutDir: "o", Formats: []string{"jpeg", "webp"}, Output: stages.Output{Name: "{name}-small.jpg"}}, "formats: the jpeg and webp outputs can be given the same file name"},
		{"names by format", Config{OutDir: "o", Formats: []string{"jpeg", "webp"}, Output: stages.Output{Name: "{format}/{name}.jpg"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

// Renditions that differ only in format are resized once; a custom step
// still gets an image of its own for each, so drawing in place marks each
// output once.
func TestFormatsShareResizeNotSteps(t *testing.T) {
	var seen [][]image.Image
	mark := Step{Name: "mark", Fn: func(ctx context.Context, r *stages.Resized) error {
		seen = append(seen, slices.Clone(r.Images))
		return nil
	}}
	cfg := Config{OutDir: t.TempDir(), Formats: []string{"jpeg", "webp"}, Output: stages.Output{Width: 200}}
	p, err := New(cfg, WithStep(mark))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), Paths("../testdata/photos/camera_Nikon_P6000_GPS.jpg")); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || len(seen[0]) != 2 {
		t.Fatalf("step saw %v", seen)
	}
	if samePointer(seen[0][0], seen[0][1]) {
		t.Error("the step got one image for both renditions")
	}
	if meanAbsDiff(seen[0][0], seen[0][1]) != 0 {
		t.Error("the copy differs from the image")
	}
}
