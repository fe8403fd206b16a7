package pipeline

import (
	"context"
	"errors"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/stages"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// copyTree copies files of ../testdata into dir, keeping their paths.
func copyTree(t testing.TB, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("..", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// collect runs p over src and returns the results by input path.
func collect(t testing.TB, cfg Config, src func(dir string) Source, files ...string) (map[string]Result, Summary, error, string) {
	t.Helper()
	in, out := t.TempDir(), t.TempDir()
	copyTree(t, in, files...)
	if cfg.OutDir == "" {
		cfg.OutDir = out
	}
	var mu sync.Mutex
	results := map[string]Result{}
	p, err := New(cfg, OnResult(func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		rel, _ := filepath.Rel(in, r.Input)
		if _, dup := results[rel]; dup {
			t.Errorf("two results for %s", rel)
		}
		results[filepath.ToSlash(rel)] = r
	}))
	if err != nil {
		t.Fatal(err)
	}
	if src == nil {
		src = func(dir string) Source { return Dirs([]string{dir}, ScanOptions{}) }
	}
	sum, err := p.Run(context.Background(), src(in))
	return results, sum, err, cfg.OutDir
}

// decodeOutput opens an output and returns its size.
func decodeOutput(t *testing.T, path string) image.Point {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("output: %v", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("output %s does not decode: %v", path, err)
	}
	return img.Bounds().Size()
}

// noTemp fails if a temporary file is left below dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && atomicfile.IsTemp(p) {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

var mixed = []string{
	"photos/camera_Nikon_P6000_GPS.jpg", "photos/friends_by_Aitzol_Berasategi.jpg",
	"orientation/Landscape_6.jpg", "formats/alpha.png", "formats/video.gif", "formats/8bpp.bmp",
	"formats/paletted.tiff", "formats/lossless.webp", "edge/no_extension_jpeg", "edge/IMG_0001.JPG",
	"edge/1x1.png", "bad/empty.jpg", "bad/html_404_page.jpg", "bad/truncated_50pct_rgb8.png",
	"bad/png_50000x50000_1bit_zeros.png", "formats/unsupported.avif",
}

func TestRunMixedTree(t *testing.T) {
	results, sum, err, out := collect(t, Config{Output: stages.Output{Width: 100, Height: 100}}, nil, mixed...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := map[string]struct {
		status Status
		err    error
		size   image.Point // of the output
		out    string
	}{
		"photos/camera_Nikon_P6000_GPS.jpg":       {StatusOK, nil, image.Pt(100, 75), "photos/camera_Nikon_P6000_GPS.jpg"},
		"photos/friends_by_Aitzol_Berasategi.jpg": {StatusOK, nil, image.Pt(67, 100), "photos/friends_by_Aitzol_Berasategi.jpg"},
		"orientation/Landscape_6.jpg":             {StatusOK, nil, image.Pt(36, 24), "orientation/Landscape_6.jpg"},
		"formats/alpha.png":                       {StatusOK, nil, image.Point{}, "formats/alpha.png"},
		"formats/video.gif":                       {StatusOK, nil, image.Pt(100, 69), "formats/video.gif"},
		"formats/8bpp.bmp":                        {StatusOK, nil, image.Point{}, "formats/8bpp.bmp"},
		"formats/paletted.tiff":                   {StatusOK, nil, image.Point{}, "formats/paletted.tiff"},
		"formats/lossless.webp":                   {StatusOK, nil, image.Point{}, "formats/lossless.webp"},
		"edge/no_extension_jpeg":                  {StatusOK, nil, image.Pt(100, 63), "edge/no_extension_jpeg.jpg"},
		"edge/IMG_0001.JPG":                       {StatusOK, nil, image.Pt(100, 63), "edge/IMG_0001.JPG"},
		"edge/1x1.png":                            {StatusOK, nil, image.Pt(1, 1), "edge/1x1.png"},
		"bad/empty.jpg":                           {StatusFailed, ErrNotImage, image.Point{}, ""},
		"bad/html_404_page.jpg":                   {StatusFailed, ErrNotImage, image.Point{}, ""},
		"bad/truncated_50pct_rgb8.png":            {StatusFailed, ErrCorrupt, image.Point{}, ""},
		"bad/png_50000x50000_1bit_zeros.png":      {StatusFailed, ErrTooLarge, image.Point{}, ""},
		"formats/unsupported.avif":                {StatusFailed, ErrUnsupportedFormat, image.Point{}, ""},
	}
	if len(results) != len(want) {
		t.Errorf("%d results, want %d: %v", len(results), len(want), results)
	}
	for in, w := range want {
		r, ok := results[in]
		if !ok {
			t.Errorf("%s: no result", in)
			continue
		}
		if r.Status != w.status {
			t.Errorf("%s: status %s (%v), want %s", in, r.Status, r.Err, w.status)
			continue
		}
		if w.err != nil {
			var e *Error
			if !errors.As(r.Err, &e) || !errors.Is(r.Err, w.err) || e.Path != r.Input || e.Stage != "decode" {
				t.Errorf("%s: error %#v, want a decode *Error wrapping %v", in, r.Err, w.err)
			}
			if !strings.HasPrefix(r.Err.Error(), "decode "+r.Input+": ") {
				t.Errorf("%s: error text %q should start with the stage and path", in, r.Err)
			}
			continue
		}
		if len(r.Outputs) != 1 {
			t.Fatalf("%s: %d outputs", in, len(r.Outputs))
		}
		o := r.Outputs[0]
		if o.Path != filepath.Join(out, filepath.FromSlash(w.out)) {
			t.Errorf("%s: output %s, want %s", in, o.Path, w.out)
		}
		size := decodeOutput(t, o.Path)
		if size != image.Pt(o.Width, o.Height) {
			t.Errorf("%s: output is %v, result says %dx%d", in, size, o.Width, o.Height)
		}
		if w.size != (image.Point{}) && size != w.size {
			t.Errorf("%s: output is %v, want %v", in, size, w.size)
		}
		if size.X > 100 || size.Y > 100 {
			t.Errorf("%s: output %v is not inside 100x100", in, size)
		}
		if st, _ := os.Stat(o.Path); st == nil || st.Size() != o.Bytes || r.BytesOut != o.Bytes {
			t.Errorf("%s: bytes out %d, file has %v", in, o.Bytes, st)
		}
	}
	if sum.OK != 11 || sum.Failed != 5 || sum.Skipped != 0 {
		t.Errorf("summary %+v", sum)
	}
	noTemp(t, out)
}

// The engine must be correct with every buffer at 0 and one worker per
// stage, and with odd sizes: buffers tune speed, they never make code correct.
func TestRunStageSizes(t *testing.T) {
	files := []string{"photos/camera_Nikon_P6000_GPS.jpg", "edge/IMG_0001.JPG", "edge/3x3_420.jpg", "bad/empty.jpg", "formats/video.gif"}
	for _, sc := range []StageConfig{{1, 0}, {3, 0}, {1, 5}, {4, 1}} {
		cfg := Config{Output: stages.Output{Width: 50}, Decode: DecodeConfig{StageConfig: sc}, Resize: sc, Encode: sc, Save: SaveConfig{StageConfig: sc}}
		cfg.Scan.Buffer = sc.Buffer
		if sc.Buffer == 0 {
			cfg.Scan.Buffer = -1 // validate refuses it
			if err := cfg.Validate(); err == nil {
				t.Fatal("scan.buffer -1 accepted")
			}
			cfg.Scan.Buffer = 0
		}
		_, sum, err, _ := collect(t, cfg, nil, files...)
		if err != nil || sum.OK != 4 || sum.Failed != 1 {
			t.Errorf("stages %+v: summary %+v, err %v", sc, sum, err)
		}
	}
}

func TestRunSkipsUpToDateAndForce(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	copyTree(t, in, "photos/camera_Nikon_P6000_GPS.jpg", "edge/IMG_0001.JPG")
	run := func(cfg Config) Summary {
		cfg.OutDir, cfg.Output.Width = out, 64
		p, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.Run(context.Background(), Dirs([]string{in}, ScanOptions{}))
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	if s := run(Config{}); s.OK != 2 {
		t.Fatalf("first run: %+v", s)
	}
	if s := run(Config{}); s.Skipped != 2 || s.OK != 0 {
		t.Errorf("second run: %+v, want all skipped", s)
	}
	// A changed input is done again.
	later := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(in, "edge", "IMG_0001.JPG"), later, later)
	if s := run(Config{}); s.OK != 1 || s.Skipped != 1 {
		t.Errorf("after touching one input: %+v", s)
	}
	if s := run(Config{Force: true}); s.OK != 2 {
		t.Errorf("with force: %+v", s)
	}
	// A dry run writes nothing and reports what it would do.
	out2 := t.TempDir()
	p, _ := New(Config{OutDir: out2, DryRun: true})
	var reasons []string
	p.hook = func(r Result) { reasons = append(reasons, r.Reason) }
	if s, err := p.Run(context.Background(), Dirs([]string{in}, ScanOptions{})); err != nil || s.Planned != 2 {
		t.Errorf("dry run: %+v %v", s, err)
	}
	if entries, _ := os.ReadDir(out2); len(entries) != 0 {
		t.Errorf("dry run wrote %d entries", len(entries))
	}
	if len(reasons) != 2 || reasons[0] != "new" {
		t.Errorf("dry run reasons %q", reasons)
	}
}

// Same-named inputs in a folder, all converted to JPEG: the one already a
// JPEG keeps the name, the others are told apart by their extension, the
// same way whichever is planned first; nothing is lost.
func TestRunSameNameConversions(t *testing.T) {
	for range 3 { // the names must not depend on which decode worker wins
		results, sum, err, out := collect(t, Config{Output: stages.Output{Width: 64, Format: "jpeg"}}, nil,
			"edge/collide/IMG_0100.jpg", "edge/collide/IMG_0100.png", "edge/collide/IMG_0100.webp")
		if err != nil {
			t.Fatal(err)
		}
		if sum.OK != 3 {
			t.Fatalf("summary %+v, want 3 ok", sum)
		}
		want := map[string]string{"IMG_0100.jpg": "IMG_0100.jpg", "IMG_0100.png": "IMG_0100-png.jpg", "IMG_0100.webp": "IMG_0100-webp.jpg"}
		for in, r := range results {
			if got, _ := filepath.Rel(out, r.Outputs[0].Path); filepath.ToSlash(got) != "edge/collide/"+want[path.Base(in)] {
				t.Errorf("%s -> %s, want edge/collide/%s", in, got, want[path.Base(in)])
			}
		}
	}
}

// Inputs with no folder to look in (here in memory) that would write the
// same file: the second is refused with ErrCollision.
func TestRunCollision(t *testing.T) {
	data, err := os.ReadFile("../testdata/edge/collide/IMG_0100.png")
	if err != nil {
		t.Fatal(err)
	}
	var failed []Result
	p, err := New(Config{Output: stages.Output{Width: 16, Format: "jpeg"}},
		OnResult(func(r Result) {
			if r.Status == StatusFailed {
				failed = append(failed, r)
			}
		}), WithSink(func(context.Context, *stages.Encoded) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), Concat(Bytes("a/x.png", data), Bytes("a/x.gif", data))); err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || !errors.Is(failed[0].Err, ErrCollision) {
		t.Errorf("failures %v, want one ErrCollision", failed)
	}
}

func TestRunOrientationUpright(t *testing.T) {
	var files []string
	for _, kind := range []string{"Landscape", "Portrait"} {
		for i := range 9 {
			files = append(files, "orientation/"+kind+"_"+string(rune('0'+i))+".jpg")
		}
	}
	results, _, err, _ := collect(t, Config{Output: stages.Output{Format: "png"}}, nil, files...)
	if err != nil {
		t.Fatal(err)
	}
	load := func(p string) image.Image {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, _, err := image.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	for _, kind := range []string{"Landscape", "Portrait"} {
		ref := load(results["orientation/"+kind+"_1.jpg"].Outputs[0].Path)
		for i := range 9 {
			in := "orientation/" + kind + "_" + string(rune('0'+i)) + ".jpg"
			got := load(results[in].Outputs[0].Path)
			if got.Bounds().Size() != ref.Bounds().Size() {
				t.Errorf("%s: %v, want %v", in, got.Bounds().Size(), ref.Bounds().Size())
				continue
			}
			if d := meanAbsDiff(got, ref); d > 12 {
				t.Errorf("%s: mean difference %.1f from %s_1: not upright", in, d, kind)
			}
		}
	}
}

func meanAbsDiff(a, b image.Image) float64 {
	var sum float64
	ab := a.Bounds()
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			sum += abs(int(r1>>8)-int(r2>>8)) + abs(int(g1>>8)-int(g2>>8)) + abs(int(b1>>8)-int(b2>>8))
		}
	}
	return sum / float64(3*ab.Dx()*ab.Dy())
}

func abs(v int) float64 {
	if v < 0 {
		return float64(-v)
	}
	return float64(v)
}

func TestRunFailFast(t *testing.T) {
	cfg := Config{FailFast: true, Output: stages.Output{Width: 32}, Decode: DecodeConfig{StageConfig: StageConfig{Workers: 1}}}
	_, _, err, _ := collect(t, cfg, nil, "bad/empty.jpg", "edge/IMG_0001.JPG", "photos/camera_Nikon_P6000_GPS.jpg")
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrNotImage) {
		t.Fatalf("Run returned %v, want the first failure", err)
	}
}

// Cancelling mid-run returns promptly with context.Canceled, leaves no
// goroutine (TestMain checks) and no temporary or partial file.
func TestRunCancel(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	for i := range 20 {
		copyTree(t, in, "photos/camera_Nikon_P6000_GPS.jpg")
		os.Rename(filepath.Join(in, "photos", "camera_Nikon_P6000_GPS.jpg"), filepath.Join(in, "photos", "p"+string(rune('a'+i))+".jpg"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := New(Config{OutDir: out, Output: stages.Output{Width: 200}}, OnResult(func(Result) { cancel() }))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var sum Summary
	go func() {
		defer close(done)
		sum, err = p.Run(ctx, Dirs([]string{in}, ScanOptions{}))
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want context.Canceled", err)
	}
	if sum.OK >= 20 {
		t.Errorf("all %d inputs done despite cancel", sum.OK)
	}
	noTemp(t, out)
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != plan.StateName {
			decodeOutput(t, p)
		}
		return nil
	})
}

// A memory budget far below one image still lets every image through,
// one at a time, instead of deadlocking.
// An input that needs more memory than the whole budget fails at once with
// ErrTooLarge, naming the budget; the others go on. (It used to be charged
// the whole budget and run alone; waiting for more than the budget can
// never end.)
func TestRunTinyMemoryBudget(t *testing.T) {
	results, sum, err, _ := collect(t, Config{MaxMemory: 1 << 20, Output: stages.Output{Width: 64}}, nil,
		"photos/camera_Nikon_P6000_GPS.jpg", "photos/friends_by_Aitzol_Berasategi.jpg", "edge/1x1.png")
	if err != nil || sum.OK != 2 || sum.Failed != 1 {
		t.Fatalf("summary %+v, err %v", sum, err)
	}
	// The 6-megapixel photo (a 700 KB file, shrunk on load to 1/8) needs
	// more than 1 MiB; the 640x480 one at 1/8 and the 1x1 PNG do not.
	r := results["photos/friends_by_Aitzol_Berasategi.jpg"]
	if !errors.Is(r.Err, ErrTooLarge) || !strings.Contains(r.Err.Error(), "max-memory") {
		t.Errorf("friends: %v, want ErrTooLarge naming --max-memory", r.Err)
	}
}

func TestRunOutputNotWritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	p, err := New(Config{OutDir: filepath.Join(file, "out")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Run(context.Background(), Paths("../testdata/edge/1x1.png"))
	if !errors.Is(err, ErrOutput) {
		t.Fatalf("Run: %v, want ErrOutput", err)
	}
}

func TestSources(t *testing.T) {
	data, err := os.ReadFile("../testdata/edge/IMG_0001.JPG")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  Source
		want []string // output names
	}{
		{"Bytes", Bytes("upload.jpg", data), []string{"upload.jpg"}},
		{"Reader", Reader("dir/upload", strings.NewReader(string(data))), []string{"upload.jpg"}},
		{"Paths", Paths("../testdata/edge/IMG_0001.JPG", "../testdata/edge/1x1.png"), []string{"IMG_0001.JPG", "1x1.png"}},
		{"FS", FS(os.DirFS("../testdata/edge"), "."), []string{"1x1.png", "3x3_420.jpg", "IMG_0001.JPG", "collide/IMG_0100.jpg", "collide/IMG_0100.png", "collide/IMG_0100.webp", "no_extension_jpeg.jpg", "smaller_than_target_160x100.jpg"}},
		{"FS subfolder", FS(os.DirFS("../testdata"), "edge/collide"), []string{"IMG_0100.jpg", "IMG_0100.png", "IMG_0100.webp"}},
		{"Concat", Concat(Bytes("a.jpg", data), Bytes("b.jpg", data)), []string{"a.jpg", "b.jpg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			p, err := New(Config{Output: stages.Output{Width: 16, Format: "same"}}, OnResult(func(r Result) {
				if r.Status == StatusFailed && !errors.Is(r.Err, ErrCollision) {
					t.Errorf("%s: %v", r.Input, r.Err)
				}
			}), WithSink(func(ctx context.Context, e *stages.Encoded) error {
				mu.Lock()
				defer mu.Unlock()
				for i, tg := range e.Targets {
					if len(e.Files[i]) == 0 {
						t.Errorf("%s: empty output", tg.Name)
					}
					got = append(got, tg.Name)
				}
				return nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			sum, err := p.Run(context.Background(), tt.src)
			if err != nil {
				t.Fatalf("summary %+v, err %v", sum, err)
			}
			slices.Sort(got)
			slices.Sort(tt.want)
			if !slices.Equal(got, tt.want) {
				t.Errorf("outputs %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStepAndSinkErrors(t *testing.T) {
	data, _ := os.ReadFile("../testdata/edge/IMG_0001.JPG")
	boom := errors.New("boom")
	stepped := 0
	p, err := New(Config{Output: stages.Output{Width: 16}},
		WithStep(Step{Name: "watermark", Fn: func(ctx context.Context, r *stages.Resized) error {
			stepped++
			if r.File.Path == "bad.jpg" {
				return boom
			}
			return nil
		}}),
		WithSink(func(ctx context.Context, e *stages.Encoded) error {
			if e.File.Path == "sinkfail.jpg" {
				return boom
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	var failures []Result
	p.hook = func(r Result) {
		if r.Status == StatusFailed {
			failures = append(failures, r)
		}
	}
	sum, err := p.Run(context.Background(), Concat(Bytes("ok.jpg", data), Bytes("bad.jpg", data), Bytes("sinkfail.jpg", data)))
	if err != nil || sum.OK != 1 || sum.Failed != 2 || stepped != 3 {
		t.Fatalf("summary %+v err %v stepped %d", sum, err, stepped)
	}
	for _, f := range failures {
		want := map[string]string{"bad.jpg": "watermark", "sinkfail.jpg": "sink"}[f.Input]
		if f.Stage != want || !errors.Is(f.Err, boom) {
			t.Errorf("%s failed in %q with %v, want %q and boom", f.Input, f.Stage, f.Err, want)
		}
	}
}

// A panic in a step (or a decoder) fails that input only.
func TestPanicIsAResult(t *testing.T) {
	data, _ := os.ReadFile("../testdata/edge/IMG_0001.JPG")
	p, _ := New(Config{}, WithSink(func(context.Context, *stages.Encoded) error { return nil }),
		WithStep(Step{Name: "explode", Fn: func(ctx context.Context, r *stages.Resized) error {
			if r.File.Path == "a.jpg" {
				panic("kaboom")
			}
			return nil
		}}))
	var got []Result
	p.hook = func(r Result) { got = append(got, r) }
	sum, err := p.Run(context.Background(), Concat(Bytes("a.jpg", data), Bytes("b.jpg", data)))
	if err != nil || sum.OK != 1 || sum.Failed != 1 {
		t.Fatalf("summary %+v err %v", sum, err)
	}
	for _, r := range got {
		if r.Input == "a.jpg" && !errors.Is(r.Err, ErrPanic) {
			t.Errorf("a.jpg: %v, want ErrPanic", r.Err)
		}
	}
}

// Several pipelines in one process share nothing (run with -race).
func TestConcurrentPipelines(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, sum, err, _ := collect(t, Config{Output: stages.Output{Width: 20 + i}, MaxMemory: 64 << 20}, nil,
				"photos/camera_Nikon_P6000_GPS.jpg", "edge/IMG_0001.JPG", "formats/alpha.png", "bad/empty.jpg")
			if err != nil || sum.OK != 3 || sum.Failed != 1 {
				t.Errorf("pipeline %d: %+v %v", i, sum, err)
			}
		}()
	}
	wg.Wait()
}

func TestMetrics(t *testing.T) {
	_, sum, err, _ := collect(t, Config{Output: stages.Output{Width: 32}}, nil, "edge/IMG_0001.JPG", "bad/empty.jpg")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, m := range sum.Stages {
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "scan,decode,resize,encode,save" {
		t.Fatalf("stages %v", names)
	}
	dec := sum.Stages[1]
	if dec.In != 2 || dec.Out != 1 || dec.Failed != 1 || dec.Busy <= 0 {
		t.Errorf("decode metrics %+v", dec)
	}
	if sum.Stages[4].Out != 1 {
		t.Errorf("save metrics %+v", sum.Stages[4])
	}
}

// A cancelled run gives back all the memory it reserved, even for items it
// abandoned in channel buffers: the next run on the same pipeline has the
// whole budget.
func TestCancelReturnsMemory(t *testing.T) {
	in := t.TempDir()
	for i := range 12 {
		copyTree(t, in, "photos/camera_Nikon_P6000_GPS.jpg")
		os.Rename(filepath.Join(in, "photos", "camera_Nikon_P6000_GPS.jpg"), filepath.Join(in, "p"+string(rune('a'+i))+".jpg"))
	}
	buf := StageConfig{Workers: 1, Buffer: 8}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := New(Config{Output: stages.Output{Width: 32}, Decode: DecodeConfig{StageConfig: buf}, Resize: buf, Encode: buf},
		WithSink(func(ctx context.Context, e *stages.Encoded) error {
			cancel() // stop at the first output, with items waiting in every buffer
			<-ctx.Done()
			return ctx.Err()
		}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(ctx, Dirs([]string{in}, ScanOptions{})); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if !p.budget.TryAcquire(int64(p.cfg.MaxMemory)) {
		t.Fatal("the memory budget was not all given back after a cancelled run")
	}
	p.budget.Release(int64(p.cfg.MaxMemory))
}

// Outputs inside an input tree are never taken for inputs, even from a
// source that does not exclude the output folder.
func TestOutputsInsideInputsIgnored(t *testing.T) {
	in := t.TempDir()
	copyTree(t, in, "edge/IMG_0001.JPG", "photos/camera_Nikon_P6000_GPS.jpg")
	cfg := Config{OutDir: filepath.Join(in, "small"), Output: stages.Output{Width: 32}, Force: true}
	for run := range 2 {
		p, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.Run(context.Background(), Dirs([]string{in}, ScanOptions{}))
		if err != nil || sum.OK != 2 || sum.Total() != 2 {
			t.Fatalf("run %d: %+v %v: outputs were taken for inputs", run+1, sum, err)
		}
	}
}

// TestOutDirSwappedForSymlink swaps the output folder for a symlink to
// another folder once the first input has been resized (issue #18.5): the
// run opened the folder once, so every output still lands in it, and
// nothing in the symlink's target.
func TestOutDirSwappedForSymlink(t *testing.T) {
	parent, elsewhere := t.TempDir(), t.TempDir()
	out := filepath.Join(parent, "out")
	moved := filepath.Join(parent, "moved")
	var once sync.Once
	swap := Step{Name: "swap", Fn: func(context.Context, *stages.Resized) error {
		once.Do(func() {
			if err := os.Rename(out, moved); err != nil {
				t.Error(err)
			}
			if err := os.Symlink(elsewhere, out); err != nil {
				t.Error(err)
			}
		})
		return nil
	}}
	files := []string{"photos/camera_Nikon_P6000_GPS.jpg", "edge/IMG_0001.JPG", "edge/3x3_420.jpg", "orientation/Landscape_6.jpg"}
	in := t.TempDir()
	copyTree(t, in, files...)
	for _, noSync := range []bool{false, true} {
		os.Remove(out)
		os.RemoveAll(moved)
		once = sync.Once{}
		p, err := New(Config{OutDir: out, Output: stages.Output{Width: 40}, Save: SaveConfig{NoSync: noSync}},
			WithStep(swap))
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.Run(context.Background(), Dirs([]string{in}, ScanOptions{}))
		if err != nil || sum.OK != len(files) {
			t.Fatalf("no_sync %v: %+v %v", noSync, sum, err)
		}
		filepath.WalkDir(elsewhere, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				t.Errorf("no_sync %v: written through the swapped-in symlink: %s", noSync, p)
			}
			return nil
		})
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(moved, f)); err != nil {
				t.Errorf("no_sync %v: output missing from the folder the run opened: %v", noSync, err)
			}
		}
	}
}
