package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgpipe/imgpipe/internal/objstore"
	"github.com/imgpipe/imgpipe/pipeline"
)

func watchCommand(code *int, stderr io.Writer) *cobra.Command {
	var cfg pipeline.Config
	var o options
	var n natsOptions
	cmd := &cobra.Command{
		Use:   "watch [flags] DIR... -o OUTDIR [--nats URL]",
		Short: "Resize images as they land in folders",
		Long: `Watch folders (and every folder below them, including new ones) and resize
each image that lands there into OUTDIR, once it has stopped changing. What is
already there and not up to date in OUTDIR is done first. Temporary and
partial names (.part, .crdownload, .tmp, ~, .swp, dotfiles) are ignored, and
OUTDIR is never watched, even inside a watched folder. Runs until Ctrl-C or
SIGTERM, finishing the files in flight; logs one line per file.

Exits 2 at once if a folder is missing or is not a folder. A watched folder
that goes away later (deleted, moved, its disk unmounted) is logged as a
failure and no longer watched; when none is left, the watch exits 1.

With --nats, each file that lands is not resized here but put on the queue
as a job for 'imgpipe worker's (see 'imgpipe enqueue'): one batch per day,
named in the log. DIR and OUTDIR must then be on a file system the workers
share, at the same paths.`,
		Example: `  # resize a camera import folder into a web folder as photos arrive
  imgpipe watch ~/Import -o ~/web -w 1600 -H 1600

  # JSON logs for a service, a CSV row per file, remove outputs of deleted inputs
  imgpipe watch /srv/drop -o /srv/thumbs -w 400 --log-format json --report /var/log/thumbs.csv --delete-outputs

  # let the workers of a farm resize what lands in a shared folder
  imgpipe watch /srv/drop -o /srv/web -w 1600 --nats nats://queue:4222`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyConfig(cmd.Flags(), &cfg, &o); err != nil {
				return usageError{err}
			}
			if objstore.IsURL(cfg.OutDir) && n.url == "" {
				return usageError{errors.New("-o: a watch writes to a folder; outputs in object storage need --nats (the workers write them)")}
			}
			if n.url != "" {
				if o.report != "" || cfg.Watch.DeleteOutputs {
					return usageError{errors.New("--report and --delete-outputs are for a watch that resizes: with --nats, the workers write the outputs (imgpipe status BATCH shows the results)")}
				}
				*code = watchQueue(cmd.Context(), cfg, o, n, args, stderr)
				return nil
			}
			*code = watch(cmd.Context(), cfg, o, args, stderr)
			return nil
		},
	}
	f := cmd.Flags()
	addFlags(f, &cfg, &o)
	f.StringVar(&o.report, "report", "", "append one row per file to this `file` (.csv or .jsonl)")
	f.DurationVar(&cfg.Watch.Settle, "settle", 0, "how long a file must stay unchanged before it is processed (default 1s)")
	f.StringSliceVar(&cfg.Watch.Ignore, "ignore", nil, "more base-name `patterns` to ignore (glob, e.g. '*.xmp,IMG_*.dng')")
	f.BoolVar(&cfg.Watch.DeleteOutputs, "delete-outputs", false, "remove an input's outputs when the input is deleted")
	f.StringVar(&o.logFormat, "log-format", "text", "log lines as text or json")
	f.StringVar(&n.url, "nats", "", "put landed files on the queue of the NATS server at `URL`s for workers, instead of resizing them here")
	f.StringVar(&n.creds, "creds", "", "with --nats, NATS credentials `file` (JWT and seed)")
	f.StringVar(&n.ca, "tls-ca", "", "with --nats, CA certificate `file` to verify the NATS server's TLS certificate")
	return cmd
}

// watch runs until interrupted and returns the exit code.
func watch(ctx context.Context, cfg pipeline.Config, o options, dirs []string, stderr io.Writer) int {
	ctx, stop := signalContext(ctx, cfg.OutDir, stderr)
	defer stop()

	log := watchLogger(o, stderr)
	report, closeReport, err := openReport(o.report, true, dirs, cfg.OutDir)
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: --report: %v\n", err)
		return exitUsage
	}
	defer closeReport()
	onResult := func(r pipeline.Result) {
		report(r)
		switch r.Status {
		case pipeline.StatusOK:
			outs := make([]string, len(r.Outputs))
			for i, out := range r.Outputs {
				outs[i] = out.Path
			}
			log.Info("processed", "input", r.Input, "outputs", outs, "ms", r.Duration.Milliseconds())
		case pipeline.StatusFailed:
			log.Error("failed", "input", r.Input, "stage", r.Stage, "error", r.Err)
		case pipeline.StatusSkipped:
			log.Debug("skipped", "input", r.Input, "reason", r.Reason)
		}
		for _, n := range r.Notes {
			log.Warn("note", "input", r.Input, "note", n)
		}
	}
	p, err := pipeline.New(cfg, pipeline.OnResult(onResult), pipeline.WithLogger(log))
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: %v\n", err)
		return exitUsage
	}
	limitMemory(p)
	log.Info("watching", "folders", dirs, "out", cfg.OutDir)
	sum, err := p.Run(ctx, p.Watch(dirs))
	if errors.Is(err, pipeline.ErrNoFolder) { // at start: nothing was watched
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "imgpipe: %s\n", line)
		}
		fmt.Fprintln(stderr, "imgpipe: watch needs existing folders: check the path (to resize files once, use imgpipe resize)")
		return exitUsage
	}
	log.Info("stopped", "processed", sum.OK, "skipped", sum.Skipped, "failed", sum.Failed)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return exitOK // SIGINT/SIGTERM is how a watch ends
	case sum.Total() == 0:
		fmt.Fprintf(stderr, "imgpipe: %v\n", err)
		return exitUsage
	}
	// Later failures, such as every watched folder gone: each was reported
	// as a failed input, so the total is not 0.
	fmt.Fprintf(stderr, "imgpipe: stopped: %v\n", err)
	return exitFailed
}

// watchLogger is the log of a watch: text or json, debug lines (skips,
// panic stacks) with -v.
func watchLogger(o options, stderr io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	if o.logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	}
	return slog.New(handler)
}
