package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/stages"
)

// Config is everything a run needs to know, as read from config.yaml, set
// by the command-line flags, or filled in by a library user. Zero values
// mean the defaults, which suit a laptop: they are derived from the number
// of cores and the size of the memory.
type Config struct {
	// OutDir is the output folder. The input tree is mirrored below it.
	// Required unless the pipeline has a sink (WithSink).
	OutDir string `yaml:"out_dir"`
	// S3Endpoint is the S3-compatible store that s3://bucket/prefix inputs
	// and output folders name ("http://127.0.0.1:9000"), for imgpipe
	// enqueue and worker; the pipeline itself reads only files and sources.
	// Default: AWS_ENDPOINT_URL, then AWS S3.
	S3Endpoint string `yaml:"s3_endpoint"`
	// Force rewrites outputs that are up to date. By default an input is
	// skipped when its outputs were made from it, as it is now, with the
	// same settings (recorded in OutDir/.imgpipe-state; see plan.State), so
	// a re-run only does what is left and a run with other settings redoes
	// what they change.
	Force bool `yaml:"force"`
	// DryRun reports what would be written, and why, writing nothing.
	DryRun bool `yaml:"dry_run"`
	// FailFast stops the run at the first failed input. By default a bad
	// input is reported and the batch goes on.
	FailFast bool `yaml:"fail_fast"`
	// MaxMemory is the budget, in bytes, for images in flight. Each input is
	// charged its decoded size from its header before it is decoded, so many
	// small images run in parallel while a huge one waits its turn. Default:
	// a quarter of the machine's memory, at most 2 GiB.
	MaxMemory ByteSize `yaml:"max_memory"`

	// Output is the rendition made of every input. With Outputs, it holds
	// the defaults that each entry's unset fields take.
	Output stages.Output `yaml:"output"`
	// Outputs lists several renditions made from one decode of each input
	// (srcset sizes, a thumbnail and a preview, ...).
	Outputs []stages.Output `yaml:"outputs"`
	// Formats makes every rendition in each of these formats, from one
	// decode and, where only the format differs, one resize ("jpeg",
	// "webp": the sources of a <picture>). It replaces the renditions'
	// Format, which must then be unset (or same).
	Formats []string `yaml:"formats,flow"`
	// Manifest, if set, is a JSON file listing every input's renditions
	// (see the README's "Manifest"), updated at the end of a run and, in a
	// watch, whenever no input is in flight.
	Manifest string `yaml:"manifest"`

	Scan   ScanConfig   `yaml:"scan"`
	Decode DecodeConfig `yaml:"decode"`
	Resize StageConfig  `yaml:"resize"`
	Encode StageConfig  `yaml:"encode"`
	Save   SaveConfig   `yaml:"save"`
	Watch  WatchConfig  `yaml:"watch"`
}

// StageConfig sizes one stage.
type StageConfig struct {
	// Workers is how many inputs the stage works on at once. Default: the
	// number of cores (GOMAXPROCS), 2 for save (it waits on the disk).
	Workers int `yaml:"workers"`
	// Buffer is how many finished items may wait between this stage and the
	// next. Default 0: a direct hand-off; but 32 for encode, whose finished
	// items wait for save: save flushes what is waiting to disk in one batch
	// (on the 1,980-photo job with a slow disk, 5-6 outputs a flush on
	// average instead of 2; encoded files are small). Buffers can smooth out
	// uneven stages, but each waiting item holds its pixels in memory.
	Buffer int `yaml:"buffer"`
}

// ScanConfig sizes and configures the scan stage (one walker).
type ScanConfig struct {
	// Buffer is how many found files may wait for decode. Default 64:
	// paths are cheap, and a full queue lets decode start at once.
	Buffer      int `yaml:"buffer"`
	ScanOptions `yaml:",inline"`
}

// DecodeConfig sizes and configures the decode stage.
type DecodeConfig struct {
	StageConfig          `yaml:",inline"`
	stages.DecodeOptions `yaml:",inline"`
	// MaxFileSize refuses input files larger than this, before reading
	// them. Default 0: 8 bytes a pixel of max_pixels (of its default for
	// the format, when 0) plus 16 MiB, enough for any uncompressed image
	// within it.
	MaxFileSize ByteSize `yaml:"max_file_size"`
}

// options returns the decode stage's options.
func (c DecodeConfig) options() stages.DecodeOptions {
	o := c.DecodeOptions
	o.MaxFileSize = int64(c.MaxFileSize)
	return o
}

// SaveConfig sizes and configures the save stage.
type SaveConfig struct {
	StageConfig `yaml:",inline"`
	// NoSync skips flushing outputs to disk before they take their names.
	// By default they are flushed (in batches), so a power cut leaves each
	// output absent, old or complete, never empty or half-written.
	NoSync bool `yaml:"no_sync"`
}

// LoadConfig reads a YAML configuration file strictly: an unknown key is an
// error naming the key, its line and the closest valid key
// ("config.yaml line 3: unknown key output.qualty; did you mean quality?").
func LoadConfig(path string) (Config, error) {
	var c Config
	data, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	err = c.UnmarshalYAMLStrict(data)
	if err != nil {
		if msg, ok := strings.CutPrefix(err.Error(), "line "); ok {
			return c, fmt.Errorf("%s line %s", path, msg)
		}
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// UnmarshalYAMLStrict fills c from YAML, refusing unknown keys.
func (c *Config) UnmarshalYAMLStrict(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return explainYAML(data, err)
	}
	return nil
}

// Limits on stage sizes: far beyond any use, they keep a typo from asking
// for a million goroutines or a channel that cannot be allocated.
const (
	maxWorkers = 4096
	maxBuffer  = 1 << 20
)

// Validate reports the first invalid setting, naming its key
// ("resize.workers: must be >= 0").
func (c *Config) Validate() error {
	stage := func(key string, s StageConfig) error {
		if s.Workers < 0 || s.Workers > maxWorkers {
			return fmt.Errorf("%s.workers: must be 1-%d (or 0 for the default), got %d", key, maxWorkers, s.Workers)
		}
		if s.Buffer < 0 || s.Buffer > maxBuffer {
			return fmt.Errorf("%s.buffer: must be 0-%d, got %d", key, maxBuffer, s.Buffer)
		}
		return nil
	}
	for _, err := range []error{
		stage("decode", c.Decode.StageConfig), stage("resize", c.Resize), stage("encode", c.Encode),
		stage("save", c.Save.StageConfig), stage("scan", StageConfig{Buffer: c.Scan.Buffer}),
	} {
		if err != nil {
			return err
		}
	}
	switch {
	case c.MaxMemory < 0:
		return fmt.Errorf("max_memory: must be >= 0, got %d", c.MaxMemory)
	case c.Decode.MaxPixels < 0:
		return fmt.Errorf("decode.max_pixels: must be >= 0, got %d", c.Decode.MaxPixels)
	case c.Decode.Frames != "" && c.Decode.Frames != "all" && c.Decode.Frames != "first":
		return fmt.Errorf("decode.frames: must be all or first, got %q", c.Decode.Frames)
	case c.Watch.Settle < 0:
		return fmt.Errorf("watch.settle: must be >= 0, got %s", c.Watch.Settle)
	case c.Decode.MaxFileSize < 0:
		return fmt.Errorf("decode.max_file_size: must be >= 0, got %d", c.Decode.MaxFileSize)
	}
	if err := c.Output.Validate("output"); err != nil {
		return err
	}
	if err := c.validateFormats(); err != nil {
		return err
	}
	outs := c.renditions()
	for i, o := range outs {
		if err := o.Validate(fmt.Sprintf("outputs[%d]", i)); err != nil {
			return err
		}
	}
	for i, o := range outs {
		for j := range i {
			if plan.CanCollide(outs[j], o) && len(c.Formats) > 0 && o.Format != outs[j].Format {
				return fmt.Errorf("formats: the %s and %s outputs can be given the same file name (%q); put {ext} or {format} in the name",
					outs[j].Format, o.Format, o.WithDefaults().Name)
			}
			if plan.CanCollide(outs[j], o) {
				return fmt.Errorf("outputs[%d].name: outputs[%d] and outputs[%d] can be given the same file name (%q and %q); vary {w}, {h}, {format} or the text, e.g. %q",
					i, j, i, outs[j].WithDefaults().Name, o.WithDefaults().Name, "{name}-{w}w.{ext}")
			}
		}
	}
	return nil
}

// validateFormats checks Formats: known writable formats, each once, and
// no rendition that sets its own format.
func (c *Config) validateFormats() error {
	if len(c.Formats) == 0 {
		return nil
	}
	for i, f := range c.Formats {
		o := stages.Output{Format: f}
		if f == "same" {
			return fmt.Errorf("formats[%d]: must name a format, one of %s; got %q", i, strings.Join(format.Writable(), ", "), f)
		}
		if err := o.Validate(fmt.Sprintf("formats[%d]", i)); err != nil {
			return errors.New(strings.Replace(err.Error(), ".format:", ":", 1))
		}
		for j := range i {
			if c.Formats[j] == f {
				return fmt.Errorf("formats[%d]: %s is listed twice", i, f)
			}
		}
	}
	if f := c.Output.Format; f != "" && f != "same" {
		return fmt.Errorf("formats: use either formats or output.format (%s), not both", f)
	}
	for i, o := range c.Outputs {
		if o.Format != "" && o.Format != "same" {
			return fmt.Errorf("formats: use either formats or outputs[%d].format (%s), not both", i, o.Format)
		}
	}
	return nil
}

// renditions returns the outputs to make: Outputs with unset fields taken
// from Output, or just Output; with Formats, each of them in every format
// (all the formats of the first, then of the second...).
func (c *Config) renditions() []stages.Output {
	outs := c.baseRenditions()
	if len(c.Formats) == 0 {
		return outs
	}
	out := make([]stages.Output, 0, len(outs)*len(c.Formats))
	for _, o := range outs {
		for _, f := range c.Formats {
			o.Format = f
			out = append(out, o)
		}
	}
	return out
}

// baseRenditions is renditions without Formats.
func (c *Config) baseRenditions() []stages.Output {
	if len(c.Outputs) == 0 {
		return []stages.Output{c.Output}
	}
	out := make([]stages.Output, len(c.Outputs))
	for i, o := range c.Outputs {
		d := c.Output
		inherit(&o.Width, d.Width)
		inherit(&o.Height, d.Height)
		inherit(&o.Quality, d.Quality)
		inherit(&o.Fit, d.Fit)
		inherit(&o.Anchor, d.Anchor)
		inherit(&o.Filter, d.Filter)
		inherit(&o.Format, d.Format)
		inherit(&o.Background, d.Background)
		inherit(&o.Name, d.Name)
		inherit(&o.Sharpen, d.Sharpen)
		inherit(&o.Focal, d.Focal)
		inherit(&o.Placeholder, d.Placeholder)
		inherit(&o.MaxBytes, d.MaxBytes)
		inherit(&o.Colorspace, d.Colorspace)
		o.Trim = o.Trim || d.Trim
		o.Linear = o.Linear || d.Linear
		o.Lossless = o.Lossless || d.Lossless
		o.Enlarge = o.Enlarge || d.Enlarge
		inherit(&o.KeepMetadata, d.KeepMetadata)
		o.Progressive = o.Progressive || d.Progressive
		o.DropWider = o.DropWider || d.DropWider
		out[i] = o
	}
	return out
}

func inherit[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// withDefaults returns c with every zero sizing set to its default.
func (c Config) withDefaults() Config {
	n := runtime.GOMAXPROCS(0)
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Scan.Buffer, 64)
	def(&c.Decode.Workers, n)
	def(&c.Resize.Workers, n)
	def(&c.Encode.Workers, n)
	def(&c.Encode.Buffer, 32)
	def(&c.Save.Workers, 2)
	if c.MaxMemory == 0 {
		c.MaxMemory = defaultMaxMemory()
	}
	return c
}

// defaultMaxMemory is a quarter of physical memory, between 256 MiB and 2 GiB.
func defaultMaxMemory() ByteSize {
	const lo, hi = 256 << 20, 2 << 30
	total := physicalMemory()
	if total <= 0 {
		return 1 << 30
	}
	return ByteSize(min(max(total/4, lo), hi))
}

// physicalMemory reads MemTotal from /proc/meminfo; 0 where there is none.
func physicalMemory() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
