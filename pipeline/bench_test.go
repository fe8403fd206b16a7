package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgpipe/imgpipe/stages"
)

// BenchmarkRun runs the whole pipeline over the bundled photos (fit inside
// 800x800, JPEG q85) into a temporary folder. IMGPIPE_BENCH_DIR points it
// at another folder, e.g. the 36-photo set of bench/compare.sh.
func BenchmarkRun(b *testing.B) {
	dir := os.Getenv("IMGPIPE_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join("..", "testdata", "photos")
	}
	var mp float64
	for b.Loop() {
		p, err := New(Config{OutDir: b.TempDir(), Force: true, Output: stages.Output{Width: 800, Height: 800},
			Save: SaveConfig{SaveOptions: stages.SaveOptions{NoSync: true}}})
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
