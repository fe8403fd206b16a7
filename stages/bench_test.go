package stages_test

// Benchmarks of each stage on real photos, for `go test -bench` and
// benchstat (see bench/README.md):
//
//	go test -run XXX -bench . -count 10 ./stages/ > old.txt
//
// Each reports MP/s (the photo's full-resolution megapixels per second for
// decode and resize, as bench/compare.sh counts them even when the decoder
// shrinks on load; the output image's megapixels for encode and save), MB/s
// (bytes read, resampled or written) and allocations. The job is the yardstick's: fit inside 800x800,
// JPEG quality 85. (BenchmarkResize in resize_test.go times the resampler
// alone; BenchmarkResizeStage here times the whole stage.)

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/imgpipe/imgpipe/internal/save"
	"github.com/imgpipe/imgpipe/stages"
)

// stageBenchPhotos are the photos of ../testdata/photos the stages are timed on.
var stageBenchPhotos = []struct {
	name, file string
}{
	{"FallenLeaf_4MP", "plasma_FallenLeaf_2560x1600.jpg"},        // 2560x1600 -> 800x500
	{"Painting_24MP", "Painting-Colors_by__herobrine7gamer.jpg"}, // 6000x4000 -> 800x533
}

// stageBenchOutput is the one output made of each photo.
var stageBenchOutput = stages.Output{Width: 800, Height: 800, Format: "jpeg", Quality: 85}

func stageBenchFile(b *testing.B, file string) stages.File {
	b.Helper()
	path := filepath.Join("..", "testdata", "photos", file)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return stages.File{Path: path, Rel: file, Size: info.Size(), ModTime: info.ModTime(), Format: "jpeg"}
}

// stageBenchPlan gives every input the benchmark's one output.
func stageBenchPlan(f stages.File, format string, w, h int) ([]stages.Target, error) {
	return []stages.Target{stageBenchOutput.Target(f.Rel, format, w, h)}, nil
}

// stageBenchCache keeps each photo's decoded, resized and encoded forms,
// made once per test binary, as the inputs of the later stages.
var stageBenchCache struct {
	sync.Mutex
	m map[string]*stageBenchItem
}

type stageBenchItem struct {
	decoded *stages.Decoded // Image dropped (Resize drops it); see src
	src     image.Image     // the decoded pixels
	resized []image.Image   // the 800x800-fit output
	encoded [][]byte        // the JPEG q85 bytes
}

func stageBenchPrepare(b *testing.B, file string) *stageBenchItem {
	b.Helper()
	stageBenchCache.Lock()
	defer stageBenchCache.Unlock()
	if it, ok := stageBenchCache.m[file]; ok {
		return it
	}
	ctx := context.Background()
	d, err := stages.Decode(stages.DecodeOptions{}, stageBenchPlan, nil)(ctx, stageBenchFile(b, file))
	if err != nil {
		b.Fatal(err)
	}
	src := d.Image
	r, err := stages.Resize()(ctx, d)
	if err != nil {
		b.Fatal(err)
	}
	resized := r.Images
	e, err := stages.Encode()(ctx, r)
	if err != nil {
		b.Fatal(err)
	}
	it := &stageBenchItem{decoded: d, src: src, resized: resized, encoded: e.Files}
	if stageBenchCache.m == nil {
		stageBenchCache.m = map[string]*stageBenchItem{}
	}
	stageBenchCache.m[file] = it
	return it
}

// decodedCopy returns a fresh Decoded for it with its source pixels back,
// as the decode stage hands it on (Resize sets Image to nil).
func (it *stageBenchItem) decodedCopy() *stages.Decoded {
	d := it.decoded
	return &stages.Decoded{File: d.File, Format: d.Format, Width: d.Width, Height: d.Height,
		Image: it.src, Meta: d.Meta, Gray: d.Gray, Targets: d.Targets}
}

func reportMPs(b *testing.B, pixels int) {
	b.ReportMetric(float64(b.N)*float64(pixels)/1e6/b.Elapsed().Seconds(), "MP/s")
}

func outputPixels(imgs []image.Image) int {
	n := 0
	for _, img := range imgs {
		n += img.Bounds().Dx() * img.Bounds().Dy()
	}
	return n
}

// BenchmarkDecode times the decode stage (read, header checks, plan, decode,
// orientation) of a photo for an 800x800 box: as configured by default
// (shrink-on-load) and, as NAME_full, with FullDecode.
func BenchmarkDecode(b *testing.B) {
	for _, p := range stageBenchPhotos {
		for _, full := range []bool{false, true} {
			name := p.name
			if full {
				name += "_full"
			}
			b.Run(name, func(b *testing.B) {
				f := stageBenchFile(b, p.file)
				var opts stages.DecodeOptions
				opts.FullDecode = full
				decode := stages.Decode(opts, stageBenchPlan, nil)
				ctx := context.Background()
				var w, h int
				b.SetBytes(f.Size)
				b.ReportAllocs()
				for b.Loop() {
					d, err := decode(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					w, h = d.Width, d.Height
				}
				reportMPs(b, w*h)
			})
		}
	}
}

// BenchmarkResizeStage times the resize stage (Lanczos, fit inside 800x800)
// from a photo decoded beforehand as the decode stage does by default (so
// from a shrunk-on-load image when the decoder shrinks).
func BenchmarkResizeStage(b *testing.B) {
	for _, p := range stageBenchPhotos {
		b.Run(p.name, func(b *testing.B) {
			it := stageBenchPrepare(b, p.file)
			resize := stages.Resize()
			ctx := context.Background()
			sb := it.src.Bounds()
			b.SetBytes(4 * int64(sb.Dx()) * int64(sb.Dy())) // the pixels actually resampled
			b.ReportAllocs()
			for b.Loop() {
				if _, err := resize(ctx, it.decodedCopy()); err != nil {
					b.Fatal(err)
				}
			}
			reportMPs(b, it.decoded.Width*it.decoded.Height)
		})
	}
}

// BenchmarkEncode times the encode stage: JPEG quality 85 of the resized
// photo (800x500 and 800x533), colour profile included.
func BenchmarkEncode(b *testing.B) {
	for _, p := range stageBenchPhotos {
		b.Run(fmt.Sprintf("%s_to_%s", p.name, stageBenchSize(b, p.file)), func(b *testing.B) {
			it := stageBenchPrepare(b, p.file)
			encode := stages.Encode()
			ctx := context.Background()
			b.SetBytes(int64(len(it.encoded[0])))
			b.ReportAllocs()
			for b.Loop() {
				// a new Resized each time: Encode sets its Images to nil
				r := &stages.Resized{Decoded: it.decoded, Images: it.resized}
				if _, err := encode(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
			reportMPs(b, outputPixels(it.resized))
		})
	}
}

// BenchmarkSave times the save stage for one input at a time (temporary
// file, a flush unless nosync, rename) of the encoded output into a folder of b.TempDir().
func BenchmarkSave(b *testing.B) {
	for _, p := range stageBenchPhotos {
		for _, noSync := range []bool{false, true} {
			name := p.name + "/sync"
			if noSync {
				name = p.name + "/nosync"
			}
			b.Run(name, func(b *testing.B) {
				it := stageBenchPrepare(b, p.file)
				saver, err := save.New(save.Options{OutDir: b.TempDir(), NoSync: noSync})
				if err != nil {
					b.Fatal(err)
				}
				defer saver.Close()
				save := saver.Save
				ctx := context.Background()
				e := &stages.Encoded{Decoded: it.decoded, Files: it.encoded}
				b.SetBytes(int64(len(it.encoded[0])))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := save(ctx, e); err != nil {
						b.Fatal(err)
					}
				}
				reportMPs(b, outputPixels(it.resized))
			})
		}
	}
}

// stageBenchSize names the output size of a photo, e.g. "800x500".
func stageBenchSize(b *testing.B, file string) string {
	it := stageBenchPrepare(b, file)
	s := it.resized[0].Bounds().Size()
	return fmt.Sprintf("%dx%d", s.X, s.Y)
}
