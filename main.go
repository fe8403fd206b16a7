// Command imgpipe resizes photos in bulk: a folder tree at a time
// (imgpipe resize) or as they land in a folder (imgpipe watch).
//
// main.go wires flags and config.yaml to a pipeline.Config, picks the
// source, and turns the run's outcome into a summary and an exit code. The
// work itself is done by package pipeline, which other programs can use
// the same way.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/internal/objstore"
	"github.com/imgpipe/imgpipe/pipeline"
	"github.com/imgpipe/imgpipe/stages"
)

// Exit codes a script can rely on.
const (
	exitOK          = 0   // every input done (processed or skipped)
	exitFailed      = 1   // some inputs failed; the rest were done
	exitUsage       = 2   // bad flags or configuration, or nowhere to write
	exitInterrupted = 130 // stopped by Ctrl-C or SIGTERM
)

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError marks errors that are the caller's to fix (exit 2).
type usageError struct{ error }

func runMain(args []string, stdout, stderr io.Writer) int {
	code := exitOK
	root := &cobra.Command{
		Use:   "imgpipe",
		Short: "Resize photos in bulk, fast, without losing any",
		Long: `imgpipe resizes images in bulk: whole folder trees at once (imgpipe resize),
as they land in a folder (imgpipe watch), or across machines (imgpipe server,
worker and enqueue, on NATS JetStream). Photos come out upright, outputs
are written atomically, broken files are reported and skipped, and memory
stays bounded however large the photos are.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(args)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(resizeCommand(&code, stdout, stderr), watchCommand(&code, stderr), versionCommand(stdout))
	root.AddCommand(queueCommands(&code, stdout, stderr)...)
	if cmd, err := root.ExecuteC(); err != nil {
		fmt.Fprintf(stderr, "imgpipe: %v\n", err)
		var u usageError
		if errors.As(err, &u) || strings.Contains(err.Error(), "unknown command") {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return exitUsage
	}
	return code
}

// options are the flags that are not fields of pipeline.Config.
type options struct {
	configFile string
	report     string
	verbose    bool
	quiet      bool
	progress   string
	sizes      []int
	workers    int
	logFormat  string
}

func resizeCommand(code *int, stdout, stderr io.Writer) *cobra.Command {
	var cfg pipeline.Config
	var o options
	cmd := &cobra.Command{
		Use:   "resize [flags] INPUT... -o OUTDIR",
		Short: "Resize files and folder trees into an output folder",
		Long: `Resize every image in the INPUT files and folders into OUTDIR, mirroring the
folder tree. Images are found by their content, so IMG_1.JPG, photo.jpeg and
files without an extension all count; copies renamed away (photo.jpg.bak) and
camera RAW files do not. An output made from the same input with the same
settings is skipped, so running the same command again only does what is
left, and running it with other settings redoes what they change.

INPUT and OUTDIR may be s3://bucket/prefix URLs (object storage, in the store
--s3-endpoint names, with the AWS credentials): images in a bucket are chosen
by their extension, and outputs in a bucket are always written (no skip).`,
		Example: `  # fit every photo inside 1600x1600, keep formats
  imgpipe resize ~/Pictures/2024 -o ~/web/2024 --width 1600 --height 1600

  # square 400px thumbnails as JPEG, cropped around the centre
  imgpipe resize photos -o thumbs -w 400 -H 400 --fit fill --format jpeg -q 80

  # srcset widths from one decode of each photo, with a CSV report
  imgpipe resize photos -o web --sizes 320,640,1280 --report report.csv

  # settings from a file; flags override it
  imgpipe resize -c config.yaml testdata/photos`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyConfig(cmd.Flags(), &cfg, &o); err != nil {
				return usageError{err}
			}
			*code = resize(cmd.Context(), cfg, o, args, stdout, stderr)
			return nil
		},
	}
	addFlags(cmd.Flags(), &cfg, &o)
	cmd.Flags().StringVar(&o.report, "report", "", "write one row per input to this `file` (.csv or .jsonl)")
	cmd.Flags().StringVar(&o.progress, "progress", "auto", "progress bar: auto (on a terminal), always, never")
	cmd.Flags().StringVar(&cfg.S3Endpoint, "s3-endpoint", "", "S3-compatible store `URL` of s3://bucket/prefix inputs and -o (default $AWS_ENDPOINT_URL, then AWS)")
	return cmd
}

// addFlags defines the flags resize and watch share.
func addFlags(f *pflag.FlagSet, cfg *pipeline.Config, o *options) {
	def := stages.Output{}.WithDefaults()
	f.SortFlags = false
	f.StringVarP(&o.configFile, "config", "c", "", "read settings from this YAML `file`; flags override it")
	f.StringVarP(&cfg.OutDir, "out", "o", "", "output `folder` (required); the input tree is mirrored below it")
	f.IntVarP(&cfg.Output.Width, "width", "w", 0, "fit within this `width` in pixels; 0 keeps the aspect ratio")
	f.IntVarP(&cfg.Output.Height, "height", "H", 0, "fit within this `height` in pixels; 0 keeps the aspect ratio")
	f.StringVar(&cfg.Output.Fit, "fit", def.Fit, "fit (inside the box), fill (cover it and crop), pad (fit inside, exact box size) or stretch (exact size)")
	f.StringVar(&cfg.Output.Anchor, "anchor", def.Anchor, "part kept by --fit fill, place of the image for pad: center, top, bottom, left, right, top-left, ...; for fill also attention, entropy")
	f.Var(focalFlag{&cfg.Output.Focal}, "focal", "point `X,Y` (fractions of the image, 0-1) that --fit fill centres the crop on")
	f.StringVar(&cfg.Output.Placeholder, "placeholder", "", "also compute a placeholder for the report and manifest: blurhash, thumbhash or lqip (a tiny JPEG data: URI)")
	f.BoolVar(&cfg.Output.Trim, "trim", false, "remove uniform borders (within 10 levels of the corner colour) before resizing")
	f.BoolVar(&cfg.Output.Enlarge, "enlarge", false, "allow outputs larger than the input")
	f.StringVar(&cfg.Output.Filter, "filter", def.Filter, "resampling filter: lanczos, catmullrom, mitchell, linear, box, nearest")
	f.StringVarP(&cfg.Output.Format, "format", "f", def.Format, "output format: "+formatHelp())
	f.IntVarP(&cfg.Output.Quality, "quality", "q", def.Quality, "JPEG and WebP quality, 1-100")
	f.Var((*pipeline.ByteSize)(&cfg.Output.MaxBytes), "max-bytes", "largest output file `size` (e.g. 60KB): JPEG/WebP/AVIF quality is lowered as far as needed; 0 = no limit")
	f.BoolVar(&cfg.Output.Progressive, "progressive", false, "write progressive JPEG (shown blurred-to-sharp while loading; same pixels)")
	f.BoolVar(&cfg.Output.Lossless, "lossless", false, "write WebP losslessly")
	f.StringVar(&cfg.Output.Background, "background", "", "colour under transparent pixels for formats without alpha, and around --fit pad (#rrggbb, #rrggbbaa, transparent); default white (transparent for pad where the format has alpha)")
	f.StringVar(&cfg.Output.Name, "name", def.Name, "output name template: {name} {ext} {format} {width} {height} {w} {h} {hash} (of the output's bytes)")
	f.Float64Var(&cfg.Output.Sharpen, "sharpen", 0, "unsharp mask `sigma` after resizing (0.5-1 suits thumbnails); 0 = off")
	f.BoolVar(&cfg.Output.Linear, "linear", false, "resize in linear light (gamma-correct; about 3x slower resize)")
	f.StringVar(&cfg.Decode.Frames, "frames", "all", "animated GIF or WebP to GIF or WebP: all frames (durations and loop kept) or first")
	f.StringVar(&cfg.Output.Colorspace, "colorspace", "auto", "colour profiles: auto (convert to sRGB where the output format cannot carry the input's profile), srgb (always convert, no profile written) or keep")
	f.StringVar(&cfg.Output.KeepMetadata, "keep-metadata", "none", "metadata copied into outputs: none, copyright (author and rights only) or all (EXIF with orientation reset, XMP, IPTC); bare --keep-metadata is all")
	f.Lookup("keep-metadata").NoOptDefVal = "all"
	f.StringSliceVar(&cfg.Formats, "formats", nil, "make every output in each of these formats from one decode, e.g. jpeg,webp (for <picture>; with --sizes, every size in every format)")
	f.StringVar(&cfg.Manifest, "manifest", "", "write (and update) a JSON `file` listing every input's renditions, sizes, hashes, srcset and placeholder")
	f.IntSliceVar(&o.sizes, "sizes", nil, "make several widths from one decode, e.g. 320,640,1280 (named {name}-{w}w.{ext}; widths wider than an image are left out)")
	f.BoolVar(&cfg.Force, "force", false, "rewrite outputs even when they are up to date")
	f.BoolVarP(&cfg.DryRun, "dry-run", "n", false, "print what would be written and why, to stdout; write nothing")
	f.BoolVar(&cfg.FailFast, "fail-fast", false, "stop at the first input that fails")
	f.Int64Var(&cfg.Decode.MaxPixels, "max-pixels", 0, "refuse images with more pixels than this, from their header; 0 = 100000000, 4000000000 for images read in bands (see README)")
	f.Var(&cfg.Decode.MaxFileSize, "max-file-size", "refuse input files larger than this `size` (e.g. 200MB); 0 = 8 bytes a pixel of --max-pixels + 16MiB")
	f.BoolVar(&cfg.Decode.FullDecode, "full-decode", false, "decode JPEGs at full size even when the output is much smaller (slower)")
	f.Var(&cfg.MaxMemory, "max-memory", "memory budget for images in flight (e.g. 1GiB); default a quarter of RAM, at most 2GiB")
	f.IntVarP(&o.workers, "workers", "j", 0, "workers for each of decode, resize and encode; default the number of cores")
	f.BoolVar(&cfg.Scan.Hidden, "hidden", false, "include hidden files and folders")
	f.BoolVar(&cfg.Scan.FollowSymlinks, "follow-symlinks", false, "descend into symlinked folders (each is visited once)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print per-stage metrics at the end, and debug details (panic stacks)")
	f.BoolVar(&o.quiet, "quiet", false, "print only errors")
}

// applyConfig layers the settings: defaults, then the config file, then
// the flags the user set.
func applyConfig(flags *pflag.FlagSet, cfg *pipeline.Config, o *options) error {
	if o.configFile != "" {
		if err := loadUnderFlags(flags, cfg, o.configFile); err != nil {
			return err
		}
	}
	if flags.Changed("quality") && cfg.Output.Quality < 1 {
		return fmt.Errorf("--quality: must be 1-100, got %d", cfg.Output.Quality)
	}
	if o.workers < 0 {
		return fmt.Errorf("--workers: must be >= 1, got %d", o.workers)
	}
	if o.workers > 0 {
		cfg.Decode.Workers, cfg.Resize.Workers, cfg.Encode.Workers = o.workers, o.workers, o.workers
	}
	if len(o.sizes) > 0 {
		if flags.Changed("width") || flags.Changed("height") || len(cfg.Outputs) > 0 {
			return errors.New("--sizes: use either --sizes or --width/--height/outputs, not both")
		}
		cfg.Outputs = nil
		for _, w := range o.sizes {
			if w <= 0 {
				return fmt.Errorf("--sizes: widths must be > 0, got %d", w)
			}
			name := cfg.Output.Name
			if !flags.Changed("name") && name == (stages.Output{}).WithDefaults().Name {
				name = sizesName
			}
			cfg.Outputs = append(cfg.Outputs, stages.Output{Width: w, Name: name, DropWider: true})
		}
	}
	if cfg.OutDir == "" && !cfg.DryRun {
		return errors.New("-o/--out: an output folder is required")
	}
	switch o.progress {
	case "auto", "always", "never", "":
	default:
		return fmt.Errorf("--progress: must be auto, always or never, got %q", o.progress)
	}
	switch o.logFormat {
	case "text", "json", "":
	default:
		return fmt.Errorf("--log-format: must be text or json, got %q", o.logFormat)
	}
	return explain(cfg.Validate(), flags, o)
}

// sizesName names the outputs of --sizes: the width asked for, as srcset
// descriptors say it (photo-640w.jpg is 640 px wide).
const sizesName = "{name}-{w}w.{ext}"

// loadUnderFlags fills cfg from the config file, then sets again every
// flag the user gave, so flags override the file. Flags write straight into
// cfg, so there is no second list of them to keep in step.
func loadUnderFlags(flags *pflag.FlagSet, cfg *pipeline.Config, path string) error {
	type given struct {
		name  string
		value string
		slice []string
	}
	var set []given
	flags.Visit(func(f *pflag.Flag) {
		g := given{name: f.Name, value: f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			g.slice = sv.GetSlice()
		}
		set = append(set, g)
	})
	fileCfg, err := pipeline.LoadConfig(path)
	if err != nil {
		return err
	}
	*cfg = fileCfg
	for _, g := range set {
		f := flags.Lookup(g.name)
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			err = sv.Replace(g.slice)
		} else {
			err = f.Value.Set(g.value)
		}
		if err != nil {
			return fmt.Errorf("--%s: %w", g.name, err)
		}
	}
	return nil
}

// resize runs a batch and returns the exit code. A dry run's plan goes to
// stdout; everything else to stderr.
func resize(ctx context.Context, cfg pipeline.Config, o options, inputs []string, stdout, stderr io.Writer) int {
	ctx, stop := signalContext(ctx, cfg.OutDir, stderr)
	defer stop()

	if err := checkSameFolder(cfg, inputs); err != nil {
		fmt.Fprintf(stderr, "imgpipe: %v\n", err)
		return exitUsage
	}
	cfg.Scan.Exclude = []string{cfg.OutDir} // saves walking the outputs (the pipeline skips them anyway)
	ui := newConsole(stderr, stdout, o)
	var log slog.Handler = slog.DiscardHandler
	if o.verbose { // details such as the stack of a decoder that panicked
		log = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	opts := []pipeline.Option{pipeline.OnResult(ui.result), pipeline.WithLogger(slog.New(log))}
	add, closeReport, err := openReport(o.report, false, inputs, cfg.OutDir)
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: --report: %s\n", printable(err.Error()))
		return exitUsage
	}
	defer func() {
		if err := closeReport(); err != nil {
			fmt.Fprintf(stderr, "imgpipe: --report: %s\n", printable(err.Error()))
		}
	}()
	ui.report = add
	src, err := inputSource(inputs, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: %v\n", err)
		return exitUsage
	}
	if objstore.IsURL(cfg.OutDir) {
		sinkOpts, err := objectSink(cfg.OutDir, cfg.S3Endpoint)
		if err != nil {
			fmt.Fprintf(stderr, "imgpipe: -o: %v\n", err)
			return exitUsage
		}
		out := cfg.OutDir
		cfg.OutDir = "" // the sink writes the outputs
		opts = append(opts, sinkOpts...)
		opts = append(opts, pipeline.OnResult(func(r pipeline.Result) {
			ui.result(objstore.Outputs(out, r)) // in place of the first OnResult
		}))
	}
	p, err := pipeline.New(cfg, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: %s\n", printable(err.Error()))
		return exitUsage
	}
	limitMemory(p)
	ui.start(p)
	sum, err := p.Run(ctx, src)
	ui.stop()
	switch {
	case errors.Is(err, context.Canceled):
		ui.summary(sum, err)
		return exitInterrupted
	case err != nil && sum.Total() == 0: // nowhere to write: the error says it all
		fmt.Fprintf(stderr, "imgpipe: %s\n", printable(err.Error()))
		return exitUsage
	case err != nil:
		ui.summary(sum, err)
		fmt.Fprintf(stderr, "imgpipe: stopped: %s\n", printable(err.Error()))
		return exitFailed
	case sum.Total() == 0:
		if !o.quiet {
			fmt.Fprintf(stderr, "imgpipe: no images found in %s\n", printable(strings.Join(inputs, ", ")))
		}
		return exitOK
	}
	ui.summary(sum, err)
	if sum.Failed > 0 {
		return exitFailed
	}
	return exitOK
}

// checkSameFolder refuses to resize a folder into itself with a name
// template that gives outputs the names of the inputs. With one that
// cannot ("{name}-small.{ext}"), the outputs are written beside the
// inputs, and the next run knows them for outputs from the output
// folder's record.
func checkSameFolder(cfg pipeline.Config, inputs []string) error {
	out, err := os.Stat(cfg.OutDir)
	if err != nil || !out.IsDir() {
		return nil
	}
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil || !os.SameFile(st, out) {
			continue
		}
		outs := cfg.Outputs
		if len(outs) == 0 {
			outs = []stages.Output{cfg.Output}
		}
		for _, o := range outs {
			if name := o.WithDefaults().Name; canNameAnInput(name) {
				return fmt.Errorf("-o %s is the input folder %s, and the name template %q would overwrite the inputs; "+
					"write to another folder, or name the outputs apart, e.g. --name '{name}-small.{ext}'", cfg.OutDir, in, name)
			}
		}
	}
	return nil
}

// canNameAnInput reports whether a name template can give an output the
// name of an input beside it: "{name}.{ext}", "{name}.jpg".
func canNameAnInput(tmpl string) bool {
	rest, ok := strings.CutPrefix(tmpl, "{name}.")
	return ok && (rest == "{ext}" || rest == "{format}" || format.ByExt("."+rest) != nil)
}

// limitMemory tells the Go runtime to collect garbage harder as the heap
// nears the memory budget plus a fixed allowance for the program itself:
// without it the heap may grow to twice what is live before a collection,
// and the budget would bound only half the story. It is a process-wide
// setting, so the command sets it, not the pipeline package.
//
// It also keeps a heap floor (keepHeapFloor) of an eighth of the budget, at
// most 16 MiB: a batch of small photos, whose live heap is a few MB, then
// collects a quarter as often.
func limitMemory(p *pipeline.Pipeline) {
	debug.SetMemoryLimit(int64(p.Config().MaxMemory) + 64<<20)
	keepHeapFloor(min(16<<20, uint64(p.Config().MaxMemory)/8))
}

// openReport opens the --report file (truncated, or appended to with a
// header only when new) and returns the hook adding rows and the function
// that flushes and closes it. With no path, both do nothing. The path is
// checked before anything is opened: a .csv or .jsonl name, and not inside
// an input folder (unless inside the output folder, which the scan leaves
// alone) nor an input itself: a report must never overwrite an input
// (`--report rr/photo.jpg` truncated photo.jpg, issue #18.8).
func openReport(path string, appendTo bool, inputs []string, outDir string) (func(pipeline.Result), func() error, error) {
	if path == "" {
		return func(pipeline.Result) {}, func() error { return nil }, nil
	}
	if _, err := pipeline.NewReport(io.Discard, "", path, false); err != nil {
		return nil, nil, err
	}
	if in := inputHolding(path, inputs, outDir); in != "" {
		return nil, nil, fmt.Errorf("report %s is inside the input %s: write it elsewhere (the output folder will do)", path, in)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	rep, err := pipeline.NewReport(f, "", path, st.Size() == 0)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return rep.Add, func() error {
		return errors.Join(rep.Flush(), f.Close())
	}, nil
}

// signalContext is cancelled by the first SIGINT or SIGTERM, which lets
// in-flight files finish or be abandoned cleanly. A second signal exits at
// once, after removing this process's temporary files from outDir.
func signalContext(ctx context.Context, outDir string, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
		case <-done:
			return
		}
		fmt.Fprintln(stderr, "\nimgpipe: stopping: finishing files in flight (Ctrl-C again to quit now)")
		cancel()
		select {
		case <-sig:
			atomicfile.RemoveTemp(outDir, os.Getpid())
			fmt.Fprintln(stderr, "imgpipe: interrupted")
			os.Exit(exitInterrupted)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sig)
		close(done)
		cancel()
	}
}

// formatHelp names the output formats, from the format registry: "same,
// jpeg, png, gif, bmp, tiff, webp (avif: builds with -tags nodynamic)".
func formatHelp() string {
	s := "same, " + strings.Join(format.Writable(), ", ")
	var other []string
	for _, f := range format.WritableElsewhere() {
		other = append(other, f.Name)
	}
	if len(other) > 0 {
		s += " (" + strings.Join(other, ", ") + ": builds with -tags nodynamic)"
	}
	return s
}
