package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/imgpipe/imgpipe/stages"
)

// The web-build settings of Output reach every rendition, and a library
// run gets the placeholder in its Result and the layout in its Outputs.
func TestWebSettingsLibrary(t *testing.T) {
	focal := &[2]float64{0.25, 0.5}
	c := Config{
		OutDir: t.TempDir(),
		Output: stages.Output{Width: 120, Height: 120, Fit: "fill", Focal: focal, Trim: true, Placeholder: "blurhash", MaxBytes: 1 << 20},
		Outputs: []stages.Output{
			{Name: "a/{name}.{ext}"},
			{Fit: "pad", Name: "b/{name}.{ext}", Format: "png"},
		},
	}
	for i, o := range c.renditions() {
		if o.Focal != focal || !o.Trim || o.Placeholder != "blurhash" || o.MaxBytes != 1<<20 {
			t.Errorf("outputs[%d] = %+v: did not inherit focal, trim, placeholder and max_bytes", i, o)
		}
	}
	var results []Result
	p, err := New(c, OnResult(func(r Result) { results = append(results, r) }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), Paths("../testdata/photos/camera_Nikon_P6000_GPS.jpg")); err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Status != StatusOK {
		t.Fatalf("results %+v", results)
	}
	r := results[0]
	if len(r.Placeholder) != 28 || r.Outputs[0].Placeholder != r.Placeholder || r.Outputs[1].Placeholder != r.Placeholder {
		t.Errorf("placeholder %q, outputs %+v: want one BlurHash on the result and both renditions", r.Placeholder, r.Outputs)
	}
	for i, o := range r.Outputs {
		if o.Width != 120 || o.Height != 120 || !strings.Contains(o.Path, []string{"a/", "b/"}[i]) {
			t.Errorf("output %d: %+v, want 120x120", i, o)
		}
	}
}
