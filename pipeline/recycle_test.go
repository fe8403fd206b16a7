package pipeline

import (
	"bytes"
	"context"
	"image"
	"os"
	"testing"

	"github.com/imgpipe/imgpipe/stages"
)

// TestStepKeepsItsImages: a custom step may keep a reference to an image
// past the run; the engine must then not give its memory to the next
// input's resize. The step keeps each image and a copy of its pixels;
// after the run each must still hold its own.
func TestStepKeepsItsImages(t *testing.T) {
	data, err := os.ReadFile("../testdata/photos/camera_Nikon_P6000_GPS.jpg")
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.ReadFile("../testdata/formats/progressive.jpeg")
	if err != nil {
		t.Fatal(err)
	}
	type kept struct {
		img  *image.YCbCr
		copy []byte
	}
	var keep []kept
	p, err := New(Config{OutDir: t.TempDir(), Output: stages.Output{Width: 120, Height: 120},
		Resize: StageConfig{Workers: 1}, Encode: StageConfig{Workers: 1}},
		WithStep(Step{Name: "keep", Fn: func(_ context.Context, r *stages.Resized) error {
			m, ok := r.Images[0].(*image.YCbCr)
			if !ok {
				t.Errorf("%s: %T, want YCbCr", r.File.Path, r.Images[0])
				return nil
			}
			keep = append(keep, kept{m, bytes.Clone(m.Y)})
			return nil
		}}))
	if err != nil {
		t.Fatal(err)
	}
	var srcs []Source
	for i := range 12 {
		b := data
		if i%2 == 1 {
			b = other
		}
		srcs = append(srcs, Bytes("in"+string(rune('a'+i))+".jpg", b))
	}
	sum, err := p.Run(context.Background(), Concat(srcs...))
	if err != nil || sum.OK != 12 || len(keep) != 12 {
		t.Fatalf("%+v %v, %d kept", sum, err, len(keep))
	}
	for i, k := range keep {
		if !bytes.Equal(k.img.Y, k.copy) {
			t.Fatalf("image %d kept by the step was overwritten after the step", i)
		}
	}
}
