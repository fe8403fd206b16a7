package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/stages"
)

// BenchmarkRun runs the whole pipeline over the bundled photos (fit inside
// 800x800, JPEG q85) into a temporary folder. IMGPIPE_BENCH_DIR points it
// at another folder, e.g. the 36-photo set of bench/compare.sh, and
// IMGPIPE_BENCH_SIZE sets the box, e.g. 200 for the thumbnails of issue #17
// on bench/make-small.sh's set.
func BenchmarkRun(b *testing.B) {
	dir := os.Getenv("IMGPIPE_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join("..", "testdata", "photos")
	}
	size := 800
	if s := os.Getenv("IMGPIPE_BENCH_SIZE"); s != "" {
		var err error
		if size, err = strconv.Atoi(s); err != nil || size < 1 {
			b.Fatalf("IMGPIPE_BENCH_SIZE=%q: want a number of pixels", s)
		}
	}
	var mp float64
	for b.Loop() {
		p, err := New(Config{OutDir: b.TempDir(), Force: true, Output: stages.Output{Width: size, Height: size},
			Save: SaveConfig{NoSync: true}})
		if err != nil {
			b.Fatal(err)
		}
		sum, err := p.Run(context.Background(), Dirs([]string{dir}, ScanOptions{}))
		if err != nil || sum.Failed > 0 {
			b.Fatalf("%+v %v", sum, err)
		}
		mp += sum.Megapixels
	}
	b.ReportMetric(mp/b.Elapsed().Seconds(), "MP/s")
}

// BenchmarkEngine measures the engine's own cost per input: Run's shape
// (source, decode, resize, encode, a batched save, results) with stage
// functions that do nothing, over n in-memory inputs, at the default stage
// sizes. It reports wall and CPU (user+sys, all threads) time per input;
// on a shared machine, compare CPU. The target of issue #17 is under 20 µs.
func BenchmarkEngine(b *testing.B) {
	const n = 10000
	p, err := New(Config{OutDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	for b.Loop() {
		ctx, cancel := context.WithCancelCause(context.Background())
		r := &run{p: p, planner: &plan.Planner{}, cancel: cancel, results: make(chan Result, 16)}
		collected := make(chan Summary)
		go r.collect(collected)
		g, gctx := errgroup.WithContext(ctx)
		cfg := &p.cfg
		src := func(ctx context.Context, emit Emit) error {
			for i := range n {
				if err := emit(stages.File{Path: "in", Size: int64(i)}, nil); err != nil {
					return err
				}
			}
			return nil
		}
		files := source(gctx, g, r, cfg.Scan.Buffer, src)
		decoded := stage(gctx, g, r, "decode", cfg.Decode.StageConfig, files,
			func(_ context.Context, f stages.File) (*stages.Decoded, error) { return &stages.Decoded{File: f}, nil })
		resized := stage(gctx, g, r, "resize", cfg.Resize, decoded,
			func(_ context.Context, d *stages.Decoded) (*stages.Resized, error) {
				return &stages.Resized{Decoded: d}, nil
			})
		encoded := stage(gctx, g, r, "encode", cfg.Encode, resized,
			func(_ context.Context, r *stages.Resized) (*stages.Encoded, error) {
				return &stages.Encoded{Decoded: r.Decoded}, nil
			})
		saved := batchStage(gctx, g, r, "save", cfg.Save.StageConfig, encoded, nopBatcher{})
		g.Go(func() error { return r.finish(gctx, saved) })
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		close(r.results)
		if sum := <-collected; sum.OK != n {
			b.Fatalf("%d ok of %d", sum.OK, n)
		}
		cancel(nil)
	}
	items := float64(b.N * n)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/items, "µs/item")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/items, "cpu-µs/item")
	b.ReportMetric(0, "ns/op")
}

// nopBatcher is a save stage that writes nothing.
type nopBatcher struct{}

func (nopBatcher) Write(_ context.Context, e *stages.Encoded) (*stages.Encoded, error) { return e, nil }
func (nopBatcher) Flush([]*stages.Encoded) error                                       { return nil }
func (nopBatcher) Commit(e *stages.Encoded) (*stages.Saved, error) {
	return &stages.Saved{Encoded: e}, nil
}
func (nopBatcher) Abort(*stages.Encoded) {}
