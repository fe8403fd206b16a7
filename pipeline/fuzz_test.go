package pipeline

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/imgpipe/imgpipe/stages"
)

// validateMsg is the shape of every Validate error: it starts with the key
// at fault ("output.fit: ...", "outputs[2].name: ...", "max_memory: ...").
var validateMsg = regexp.MustCompile(`^[a-z_]+(\[\d+\])?(\.[a-z_]+)*: `)

// FuzzConfig feeds arbitrary YAML to Config.UnmarshalYAMLStrict and
// Validate. Neither may panic; a Validate error names its key; a config
// that validates must make a pipeline (with a sink, so out_dir is not
// needed), and, when its sizes are small enough to run here, that pipeline
// must process a small image: one result, outputs of the planned size.
func FuzzConfig(f *testing.F) {
	if data, err := os.ReadFile("../config.yaml"); err == nil {
		f.Add(data)
	} else {
		f.Fatal(err)
	}
	for _, s := range []string{
		"",
		"output:\n  width: 10\n  widht: 20\n",
		"out_dir: x\nmax_memory: 512MiB\noutput: {width: 64, height: 64, fit: fill, anchor: top-left, format: png}\n",
		"outputs:\n  - {width: 320, name: \"{name}-320w.{ext}\"}\n  - {width: 1280, name: \"{name}-1280w.{ext}\", quality: 80}\n",
		"outputs:\n  - {width: 3}\n  - {height: 3}\n",
		"output:\n  name: \"small/{name}-{width}x{height}.{format}\"\n  background: \"#abc\"\n  fit: stretch\n  width: 5\n  height: 7\n  enlarge: true\n",
		"decode:\n  max_pixels: 1\n  max_file_size: 1kB\n  ignore_orientation: true\n  workers: 1\n  buffer: 2\n",
		"scan: {buffer: 0, hidden: true, follow_symlinks: true}\nsave: {workers: 1, no_sync: true}\nresize: {workers: 3, buffer: 1}\n",
		"fail_fast: true\nforce: true\ndry_run: true\nwatch: {delete_outputs: true}\n",
		"max_memory: 1.5G\ndecode: {max_file_size: 2GB}\n",
		"output: {quality: 101}\n",
		"output: {name: \"../{name}\"}\n",
		"max_memory: -1\n",
		"output: &a {width: 1}\noutputs: [*a, *a]\n",
	} {
		f.Add([]byte(s))
	}
	var pngOnce sync.Once
	var img []byte
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Config
		if err := c.UnmarshalYAMLStrict(data); err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			if !validateMsg.MatchString(err.Error()) {
				t.Fatalf("Validate error does not start with the key at fault: %q", err)
			}
			return
		}
		var mu sync.Mutex
		var sunk []*stages.Encoded
		var results []Result
		p, err := New(c, OnResult(func(r Result) { results = append(results, r) }), WithSink(func(ctx context.Context, e *stages.Encoded) error {
			mu.Lock()
			defer mu.Unlock()
			sunk = append(sunk, e)
			return nil
		}))
		if err != nil {
			t.Fatalf("config passes Validate but New fails: %v", err)
		}
		if !runnable(p.Config()) {
			return
		}
		pngOnce.Do(func() { img = tinyPNG(t) })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err = p.Run(ctx, Bytes("in/tiny.png", img))
		if len(results) != 1 {
			t.Fatalf("%d results for one input (run error %v)", len(results), err)
		}
		r := results[0]
		switch {
		case r.Status == StatusFailed && (errors.Is(r.Err, stages.ErrTooLarge) || errors.Is(r.Err, stages.ErrCollision)):
			return // max_pixels, max_file_size, or two renditions named alike
		case p.Config().DryRun && r.Status == StatusPlanned && err == nil && len(sunk) == 0:
			return // a dry run plans, and hands nothing to the sink
		case r.Status != StatusOK || err != nil:
			t.Fatalf("status %s, result error %v, run error %v", r.Status, r.Err, err)
		}
		dropping := slices.ContainsFunc(p.outputs, func(o stages.Output) bool { return o.DropWider })
		if len(sunk) != 1 || len(sunk[0].Files) != len(p.outputs) && !dropping || len(sunk[0].Files) == 0 {
			t.Fatalf("sink got %d inputs, want 1 with %d files", len(sunk), len(p.outputs))
		}
		for i, file := range sunk[0].Files {
			tg := sunk[0].Targets[i]
			cfg, format, err := image.DecodeConfig(bytes.NewReader(file))
			if err != nil || format != tg.Format || cfg.Width != tg.Width || cfg.Height != tg.Height {
				t.Fatalf("output %d: %s %dx%d (%v), planned %s %dx%d", i, format, cfg.Width, cfg.Height, err, tg.Format, tg.Width, tg.Height)
			}
		}
	})
}

// runnable reports whether a validated config is cheap enough to run
// inside a fuzz iteration: few goroutines, small buffers, small outputs.
func runnable(c Config) bool {
	for _, s := range []StageConfig{c.Decode.StageConfig, c.Resize, c.Encode, c.Save.StageConfig, {Buffer: c.Scan.Buffer}} {
		if s.Workers > 8 || s.Buffer > 64 {
			return false
		}
	}
	for _, o := range c.renditions() {
		if o.Width > 512 || o.Height > 512 {
			return false
		}
	}
	return len(c.renditions()) <= 8
}

// tinyPNG is a 3x2 opaque image.
func tinyPNG(t *testing.T) []byte {
	m := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range m.Pix {
		m.Pix[i] = byte(40 * i)
	}
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 255
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Sizes that pass Validate must be sizes Run can use: a buffer too large to
// allocate makes Run panic ("makechan: size out of range", in source() and
// stage()), taking the whole process down, so Validate must refuse it and
// name the key.
func TestValidateRefusesAbsurdBuffers(t *testing.T) {
	for _, y := range []string{
		"scan: {buffer: 100000000000000}\n",
		"decode: {buffer: 100000000000000}\n",
		"encode: {buffer: 100000000000000}\n",
	} {
		var c Config
		if err := c.UnmarshalYAMLStrict([]byte(y)); err != nil {
			t.Fatalf("%q: %v", y, err)
		}
		if err := c.Validate(); err == nil || !validateMsg.MatchString(err.Error()) {
			t.Errorf("%q: Validate = %v; Run would panic with makechan: size out of range", y, err)
		}
	}
}

// A size that is not a finite number of bytes that fits in an int64 is an
// error, not a negative (amd64) or saturated/zero (arm64) ByteSize: on
// amd64 "max_file_size: nan" is refused as "must be >= 0, got
// -9223372036854775808", on arm64 it silently means no limit.
func TestParseByteSizeRejectsNonFinite(t *testing.T) {
	for _, s := range []string{"inf", "+Inf", "NaN", "nanMiB", "1e19", "9223372036854775808", "1e30GiB", "8589934592GiB"} {
		if b, err := ParseByteSize(s); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", s, b)
		}
	}
	if b, err := ParseByteSize("7.5GB"); err != nil || b != 7.5e9 {
		t.Errorf("ParseByteSize(7.5GB) = %d, %v", b, err)
	}
}
