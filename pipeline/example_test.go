package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/imgpipe/imgpipe/pipeline"
	"github.com/imgpipe/imgpipe/stages"
)

// Resize a folder tree into another, as `imgpipe resize` does.
func Example() {
	out, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(out)

	p, err := pipeline.New(pipeline.Config{
		OutDir: out,
		Output: stages.Output{Width: 400, Height: 400}, // fit inside 400x400
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sum, err := p.Run(context.Background(), pipeline.Dirs([]string{"../testdata/edge"}, pipeline.ScanOptions{}))
	fmt.Println(sum.OK, "processed,", sum.Failed, "failed,", err)
	// Output: 8 processed, 0 failed, <nil>
}

// An HTTP upload handler that returns three thumbnail sizes of the uploaded
// image, made in memory from one decode: a Bytes source and a Sink.
func Example_uploadHandler() {
	sizes := []stages.Output{
		{Width: 64, Name: "{name}-small.{ext}"},
		{Width: 160, Name: "{name}-medium.{ext}"},
		{Width: 320, Name: "{name}-large.{ext}"},
	}
	handler := func(w http.ResponseWriter, r *http.Request) {
		upload, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var mu sync.Mutex
		thumbs := map[string][]byte{}
		var failure error
		p, err := pipeline.New(pipeline.Config{
			Output:  stages.Output{Format: "jpeg", Quality: 80},
			Outputs: sizes,
		}, pipeline.WithSink(func(ctx context.Context, e *stages.Encoded) error {
			mu.Lock()
			defer mu.Unlock()
			for i, t := range e.Targets {
				thumbs[fmt.Sprintf("%s %dx%d", t.Name, t.Width, t.Height)] = e.Files[i]
			}
			return nil
		}), pipeline.OnResult(func(res pipeline.Result) { failure = res.Err }))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if _, err := p.Run(r.Context(), pipeline.Bytes("upload.jpg", upload)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if failure != nil {
			http.Error(w, failure.Error(), http.StatusUnprocessableEntity)
			return
		}
		names := make([]string, 0, len(thumbs))
		for n := range thumbs {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintln(w, strings.Join(names, "\n"))
	}

	photo, _ := os.ReadFile("../testdata/photos/camera_Nikon_P6000_GPS.jpg")
	rec := httptest.NewRecorder()
	handler(rec, httptest.NewRequest("POST", "/upload", bytes.NewReader(photo)))
	fmt.Print(rec.Code, "\n", rec.Body.String())

	rec = httptest.NewRecorder()
	handler(rec, httptest.NewRequest("POST", "/upload", strings.NewReader("<html>not a photo</html>")))
	fmt.Print(rec.Code, "\n", rec.Body.String())
	// Output:
	// 200
	// upload-large.jpg 320x240
	// upload-medium.jpg 160x120
	// upload-small.jpg 64x48
	// 422
	// decode upload.jpg: not an image: its bytes are not JPEG, PNG, GIF, BMP, TIFF or WebP
}

// A custom step: stamp a watermark on every output, between resize and
// encode, on two workers of its own.
func Example_watermark() {
	out, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(out)

	watermark := pipeline.Step{
		Name:    "watermark",
		Workers: 2,
		Fn: func(ctx context.Context, r *stages.Resized) error {
			for i, img := range r.Images {
				b := img.Bounds()
				dst := image.NewRGBA(b)
				draw.Draw(dst, b, img, b.Min, draw.Src)
				mark := image.Rect(b.Max.X-16, b.Max.Y-16, b.Max.X-4, b.Max.Y-4)
				draw.Draw(dst, mark, image.NewUniform(color.RGBA{255, 0, 0, 255}), image.Point{}, draw.Over)
				r.Images[i] = dst
			}
			return nil
		},
	}
	p, _ := pipeline.New(pipeline.Config{OutDir: out, Output: stages.Output{Width: 200, Format: "png"}},
		pipeline.WithStep(watermark))
	sum, err := p.Run(context.Background(), pipeline.Paths("../testdata/photos/camera_Nikon_P6000_GPS.jpg"))
	fmt.Println(sum.OK, err)

	f, _ := os.Open(filepath.Join(out, "camera_Nikon_P6000_GPS.png"))
	defer f.Close()
	img, _, _ := image.Decode(f)
	fmt.Println(img.Bounds().Size(), color.RGBAModel.Convert(img.At(190, 140)))
	// Output:
	// 1 <nil>
	// (200,150) {255 0 0 255}
}

// Stop at the first bad file instead of going on, and tell the classes of
// failure apart with errors.Is.
func Example_failFast() {
	p, _ := pipeline.New(pipeline.Config{FailFast: true, Decode: pipeline.DecodeConfig{StageConfig: pipeline.StageConfig{Workers: 1}}},
		pipeline.WithSink(func(context.Context, *stages.Encoded) error { return nil }))
	_, err := p.Run(context.Background(), pipeline.Paths("../testdata/bad/png_50000x50000_1bit_zeros.png", "../testdata/edge/1x1.png"))

	var perr *pipeline.Error
	if errors.As(err, &perr) {
		fmt.Println("stage:", perr.Stage)
		fmt.Println("too large:", errors.Is(err, pipeline.ErrTooLarge))
	}
	// Output:
	// stage: decode
	// too large: true
}

// srcset images: several widths from one decode of each photo.
func Example_srcset() {
	out, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(out)

	var outputs []stages.Output
	for _, w := range []int{320, 640, 1280} {
		outputs = append(outputs, stages.Output{Width: w, Name: fmt.Sprintf("{name}-%dw.{ext}", w)})
	}
	p, _ := pipeline.New(pipeline.Config{OutDir: out, Outputs: outputs, Output: stages.Output{Quality: 80}},
		pipeline.OnResult(func(r pipeline.Result) {
			for _, o := range r.Outputs {
				fmt.Println(filepath.Base(o.Path), o.Width, o.Height)
			}
		}))
	p.Run(context.Background(), pipeline.Paths("../testdata/photos/plasma_FallenLeaf_2560x1600.jpg"))
	// Output:
	// plasma_FallenLeaf_2560x1600-320w.jpg 320 200
	// plasma_FallenLeaf_2560x1600-640w.jpg 640 400
	// plasma_FallenLeaf_2560x1600-1280w.jpg 1280 800
}

// Renditions for a <picture> element: two widths in WebP and JPEG from one
// decode of each photo, and a manifest that a site build reads to write
// the srcset attributes.
func Example_manifest() {
	out, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(out)
	manifest := filepath.Join(out, "images.json")
	p, err := pipeline.New(pipeline.Config{
		OutDir:   out,
		Manifest: manifest,
		Formats:  []string{"webp", "jpeg"},
		Outputs: []stages.Output{
			{Width: 160, Name: "{name}-{w}w.{ext}", DropWider: true},
			{Width: 320, Name: "{name}-{w}w.{ext}", DropWider: true},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := p.Run(context.Background(), pipeline.Paths("../testdata/photos/camera_Nikon_P6000_GPS.jpg")); err != nil {
		fmt.Println(err)
		return
	}
	data, _ := os.ReadFile(manifest)
	var m struct {
		Images map[string]struct {
			Source struct{ Width, Height int }
			Srcset map[string]string
		}
	}
	if err := json.Unmarshal(data, &m); err != nil {
		fmt.Println(err)
		return
	}
	e := m.Images["camera_Nikon_P6000_GPS.jpg"]
	fmt.Printf("<source type=\"image/webp\" srcset=\"%s\">\n", e.Srcset["webp"])
	fmt.Printf("<img srcset=\"%s\" width=\"%d\" height=\"%d\">\n", e.Srcset["jpeg"], e.Source.Width, e.Source.Height)
	// Output:
	// <source type="image/webp" srcset="camera_Nikon_P6000_GPS-160w.webp 160w, camera_Nikon_P6000_GPS-320w.webp 320w">
	// <img srcset="camera_Nikon_P6000_GPS-160w.jpg 160w, camera_Nikon_P6000_GPS-320w.jpg 320w" width="640" height="480">
}
