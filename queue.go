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
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/imgpipe/imgpipe/internal/objstore"
	"github.com/imgpipe/imgpipe/internal/queue"
	"github.com/imgpipe/imgpipe/pipeline"
	"github.com/imgpipe/imgpipe/stages"
)

// exitNoServer: the NATS server cannot be reached (enqueue, status, worker).
const exitNoServer = 3

// queueCommands are the verbs that spread work over machines through NATS
// JetStream: server, enqueue, status and worker.
func queueCommands(code *int, stdout, stderr io.Writer) []*cobra.Command {
	return []*cobra.Command{serverCommand(code, stderr), enqueueCommand(code, stdout, stderr),
		statusCommand(code, stdout, stderr), workerCommand(code, stderr)}
}

// natsOptions are the flags naming the NATS server and how to log in.
type natsOptions struct {
	url   string
	creds string
	ca    string
}

func (n *natsOptions) addFlags(f *pflag.FlagSet) {
	def := os.Getenv("NATS_URL")
	if def == "" {
		def = nats.DefaultURL
	}
	f.StringVar(&n.url, "nats", def, "NATS server `URL`s, comma-separated (default from NATS_URL)")
	f.StringVar(&n.creds, "creds", "", "NATS credentials `file` (JWT and seed)")
	f.StringVar(&n.ca, "tls-ca", "", "CA certificate `file` to verify the NATS server's TLS certificate")
}

func (n *natsOptions) connect(name string) (*nats.Conn, jetstream.JetStream, error) {
	var opts []nats.Option
	if n.creds != "" {
		opts = append(opts, nats.UserCredentials(n.creds))
	}
	if n.ca != "" {
		opts = append(opts, nats.RootCAs(n.ca))
	}
	return queue.Connect(n.url, name, opts...)
}

// publisher connects as connect does and makes sure imgpipe's streams
// exist, for the commands that publish jobs (enqueue, watch --nats).
func (n *natsOptions) publisher(ctx context.Context, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, js, err := n.connect(name)
	if err != nil {
		return nil, nil, err
	}
	if err := queue.EnsureStreams(ctx, js); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

func serverCommand(code *int, stderr io.Writer) *cobra.Command {
	var store, listen string
	cmd := &cobra.Command{
		Use:   "server [--store DIR] [--listen HOST:PORT]",
		Short: "Run a NATS server with JetStream for workers and enqueue",
		Long: `Run the NATS server, with JetStream, inside imgpipe: the queue that
'imgpipe worker's pull jobs from and 'imgpipe enqueue' puts them on. Jobs and
results are kept in files below --store, so they survive a restart. Creates
imgpipe's streams if they are missing. Runs until Ctrl-C or SIGTERM.
Production sites with a NATS cluster of their own point --nats at it instead.`,
		Example: `  imgpipe server --store /var/lib/imgpipe --listen 0.0.0.0:4222`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			s, err := queue.StartServer(listen, store)
			if err != nil {
				fmt.Fprintf(stderr, "imgpipe: server: %v\n", err)
				*code = exitUsage
				return nil
			}
			fmt.Fprintf(stderr, "imgpipe: NATS server with JetStream on %s, store %s\n", s.ClientURL(), store)
			<-ctx.Done()
			fmt.Fprintln(stderr, "imgpipe: server stopping")
			s.Shutdown()
			s.WaitForShutdown()
			return nil
		},
	}
	cmd.Flags().StringVar(&store, "store", "imgpipe-store", "`folder` for JetStream's files")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:4222", "`address` to listen on (port 0: any free port)")
	return cmd
}

func enqueueCommand(code *int, stdout, stderr io.Writer) *cobra.Command {
	var cfg pipeline.Config
	var o options
	var n natsOptions
	var batch string
	var wait bool
	cmd := &cobra.Command{
		Use:   "enqueue [flags] INPUT... -o OUTDIR --nats URL",
		Short: "Put a resize job per input on the queue for workers",
		Long: `Scan INPUT files and folders as 'imgpipe resize' does and publish one job per
input (its absolute path, OUTDIR and every setting) for 'imgpipe worker's to
do. Inputs and OUTDIR must be on a file system the workers share, at the same
paths, or in object storage: s3://bucket/prefix (images are then chosen by
their extension), in the store --s3-endpoint names, with the credentials of
the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY variables. Prints the batch
id. The batch id is derived from the inputs, OUTDIR and settings, so the
same command run twice makes one batch: the queue keeps one job per input.
--workers and --max-memory are the workers' to choose.

With --wait, shows progress as results arrive, then the summary; writes the
report and exits as resize does (0 all done, 1 some failed).`,
		Example: `  imgpipe enqueue /srv/photos -o /srv/web -w 1600 -H 1600 --nats nats://queue:4222 --wait --report web.csv`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyConfig(cmd.Flags(), &cfg, &o); err != nil {
				return usageError{err}
			}
			if cfg.Manifest != "" {
				return usageError{errors.New("--manifest: not with enqueue: the workers write outputs apart; run imgpipe resize --manifest over the output folder's inputs once the batch is done (it skips what is up to date)")}
			}
			*code = enqueue(cmd.Context(), cfg, o, n, batch, wait, args, stdout, stderr)
			return nil
		},
	}
	f := cmd.Flags()
	addFlags(f, &cfg, &o)
	n.addFlags(f)
	f.StringVar(&cfg.S3Endpoint, "s3-endpoint", "", "S3-compatible store `URL` of s3://bucket/prefix inputs and -o (default $AWS_ENDPOINT_URL, then AWS)")
	f.StringVar(&batch, "batch", "", "batch `id` (default: derived from the inputs, OUTDIR and settings)")
	f.BoolVar(&wait, "wait", false, "wait for every job's result, show progress, then the summary")
	f.StringVar(&o.report, "report", "", "with --wait, write one row per input to this `file` (.csv or .jsonl)")
	f.StringVar(&o.progress, "progress", "auto", "progress line with --wait: auto (on a terminal), always, never")
	return cmd
}

// enqueue publishes a batch, and with wait follows it; returns the exit code.
func enqueue(ctx context.Context, cfg pipeline.Config, o options, n natsOptions, batch string, wait bool,
	inputs []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	s, err := queue.SettingsOf(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: -o: %v\n", err)
		return exitUsage
	}
	if batch == "" {
		batch = queue.BatchID(s, inputs)
	}
	cfg.Scan.Exclude = []string{cfg.OutDir}
	src, err := inputSource(inputs, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: %v\n", err)
		return exitUsage
	}
	ui := newConsole(stderr, stdout, o)
	add, closeReport, err := openReport(o.report, false, inputs, cfg.OutDir)
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: --report: %v\n", err)
		return exitUsage
	}
	defer func() {
		if err := closeReport(); err != nil {
			fmt.Fprintf(stderr, "imgpipe: --report: %v\n", err)
		}
	}()
	ui.report = add
	var sum pipeline.Summary
	count := func(r pipeline.Result) {
		switch r.Status {
		case pipeline.StatusOK:
			sum.OK++
			sum.Megapixels += float64(r.Width) * float64(r.Height) / 1e6
		case pipeline.StatusSkipped:
			sum.Skipped++
		default:
			sum.Failed++
		}
		sum.BytesIn += r.BytesIn
		sum.BytesOut += r.BytesOut
		ui.result(r)
	}
	if cfg.DryRun {
		jobs := 0
		err := src(ctx, func(f stages.File, err error) error {
			if err != nil {
				count(pipeline.Result{Input: f.Path, Status: pipeline.StatusFailed, Stage: "scan", Err: &pipeline.Error{Stage: "scan", Path: f.Path, Err: err}})
				return nil
			}
			jobs++
			fmt.Fprintf(stderr, "would enqueue %s\n", f.Path)
			return nil
		})
		fmt.Fprintf(stderr, "batch %s: %d jobs (dry run: nothing published)\n", batch, jobs)
		if err != nil || sum.Failed > 0 {
			return exitFailed
		}
		return exitOK
	}

	nc, js, err := n.publisher(ctx, "imgpipe enqueue")
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: %v\n", err)
		return exitNoServer
	}
	defer nc.Close()
	jobs, err := queue.Enqueue(ctx, js, batch, s, src, count)
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: enqueue: %v (%d jobs published)\n", err, jobs)
		if errors.Is(err, context.Canceled) {
			return exitInterrupted
		}
		return exitFailed
	}
	fmt.Fprintln(stdout, batch)
	if !o.quiet {
		fmt.Fprintf(stderr, "batch %s: %d jobs enqueued\n", batch, jobs)
	}
	if !wait {
		if sum.Failed > 0 {
			return exitFailed
		}
		return exitOK
	}
	p, err := queue.Follow(ctx, js, batch, func(r queue.Result, p queue.Progress) {
		count(r.Pipeline())
		if ui.progress {
			ui.mu.Lock()
			fmt.Fprintf(ui.w, "\r\033[K%s", progressLine(p))
			ui.shown = true
			ui.mu.Unlock()
		}
	})
	ui.mu.Lock()
	ui.clear()
	ui.mu.Unlock()
	sum.Elapsed = time.Since(start)
	ui.summary(sum, err)
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "imgpipe: stopped waiting; the batch goes on (imgpipe status %s)\n", batch)
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "imgpipe: results: %v\n", err)
		return exitFailed
	case sum.Failed > 0 || p.Failed > 0:
		return exitFailed
	}
	return exitOK
}

// inputSource finds the inputs of resize and enqueue: folders and files,
// and the images below s3://bucket/prefix URLs in the store that
// cfg.S3Endpoint names.
func inputSource(inputs []string, cfg pipeline.Config) (pipeline.Source, error) {
	var paths []string
	var srcs []pipeline.Source
	var store *objstore.Store
	for _, in := range inputs {
		if !objstore.IsURL(in) {
			paths = append(paths, in)
			continue
		}
		if _, err := objstore.Parse(in); err != nil {
			return nil, err
		}
		if store == nil {
			var err error
			if store, err = objstore.New(objstore.Options{Endpoint: cfg.S3Endpoint}); err != nil {
				return nil, fmt.Errorf("--s3-endpoint: %w", err)
			}
		}
		srcs = append(srcs, store.Source(in, stages.InputRule{Hidden: cfg.Scan.Hidden}))
	}
	if len(paths) > 0 {
		srcs = append([]pipeline.Source{pipeline.Dirs(paths, cfg.Scan.ScanOptions)}, srcs...)
	}
	return pipeline.Concat(srcs...), nil
}

// objectSink writes outputs below the s3://bucket/prefix out, in the store
// at endpoint, and skips inputs whose outputs there are up to date.
func objectSink(out, endpoint string) ([]pipeline.Option, error) {
	store, err := objstore.New(objstore.Options{Endpoint: endpoint})
	if err != nil {
		return nil, fmt.Errorf("--s3-endpoint: %w", err)
	}
	sink, err := store.Sink(out)
	if err != nil {
		return nil, err
	}
	check, err := store.Check(out)
	if err != nil {
		return nil, err
	}
	return []pipeline.Option{pipeline.WithSink(sink), pipeline.WithSinkCheck(check)}, nil
}

// progressLine draws where a batch stands: "[=====     ] 120/400  3 failed".
func progressLine(p queue.Progress) string {
	const width = 30
	bar := strings.Repeat(" ", width)
	if p.Total > 0 {
		k := min(width, p.Done()*width/p.Total)
		bar = strings.Repeat("=", k) + strings.Repeat(" ", width-k)
	}
	total := "?"
	if p.Total >= 0 {
		total = fmt.Sprint(p.Total)
	}
	return fmt.Sprintf("[%s] %d/%s  %d failed", bar, p.Done(), total, p.Failed)
}

func statusCommand(code *int, stdout, stderr io.Writer) *cobra.Command {
	var n natsOptions
	cmd := &cobra.Command{
		Use:   "status BATCH",
		Short: "Show where a batch stands",
		Long: `Show how many of a batch's jobs are done, skipped, failed and still queued.
Exits 0 when the batch is complete with no failures, 1 when some failed, 4
while it is not complete.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			nc, js, err := n.connect("imgpipe status")
			if err != nil {
				fmt.Fprintf(stderr, "imgpipe: %v\n", err)
				*code = exitNoServer
				return nil
			}
			defer nc.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			p, err := queue.Status(ctx, js, args[0])
			if err != nil {
				fmt.Fprintf(stderr, "imgpipe: %v\n", err)
				*code = exitUsage
				return nil
			}
			total := "unknown (enqueue not finished, or a watch's batch: never complete)"
			if p.Total >= 0 {
				total = fmt.Sprint(p.Total)
			}
			fmt.Fprintf(stdout, "batch %s: %d of %s done: %d ok, %d skipped, %d failed; %d queued\n",
				p.Batch, p.Done(), total, p.OK, p.Skipped, p.Failed, p.Queued)
			switch {
			case p.Failed > 0:
				*code = exitFailed
			case !p.Complete():
				*code = 4
			}
			return nil
		},
	}
	n.addFlags(cmd.Flags())
	return cmd
}

func workerCommand(code *int, stderr io.Writer) *cobra.Command {
	var n natsOptions
	w := &queue.Worker{}
	var verbose, quiet bool
	var s3Endpoint string
	var ahead int
	cmd := &cobra.Command{
		Use:   "worker --nats URL [-j N] [--max-memory SIZE]",
		Short: "Do queued resize jobs",
		Long: `Pull jobs from the queue and do them with the same pipeline as 'imgpipe resize',
at most -j at a time, with --ahead more in hand, waiting. A job is
acknowledged only once its outputs are on disk (fsynced and renamed into
place); a worker that dies leaves no partial file,
and its jobs go to another worker after --ack-wait. A broken input is reported
failed at once; a failure that may pass (an output folder that cannot be
written) is retried, with a doubling delay, up to --max-deliver times.
SIGTERM or Ctrl-C finishes the jobs in hand and stops; a second one quits now.`,
		Example: `  imgpipe worker --nats nats://queue:4222 -j 4 --max-memory 2GiB`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if w.Jobs < 0 || w.MaxMemory < 0 || w.MaxDeliver < 0 || ahead < 0 {
				return usageError{errors.New("-j, --ahead, --max-memory and --max-deliver must be >= 0")}
			}
			w.Ahead = ahead
			if ahead == 0 {
				w.Ahead = -1 // Worker's zero is its default
			}
			store, err := objstore.New(objstore.Options{Endpoint: s3Endpoint})
			if err != nil {
				return usageError{fmt.Errorf("--s3-endpoint: %w", err)}
			}
			w.Store = store
			*code = worker(cmd.Context(), w, n, verbose, quiet, stderr)
			return nil
		},
	}
	f := cmd.Flags()
	n.addFlags(f)
	f.IntVarP(&w.Jobs, "jobs", "j", 0, "jobs at once, and workers per stage; default the number of cores")
	f.IntVar(&ahead, "ahead", 1, "jobs held beyond -j, waiting, so the next is in hand when one ends (0: none)")
	f.Var(&w.MaxMemory, "max-memory", "memory budget for images in flight (e.g. 1GiB); default a quarter of RAM, at most 2GiB")
	f.StringVar(&s3Endpoint, "s3-endpoint", "", "S3-compatible store `URL` of s3:// inputs and outputs (default $AWS_ENDPOINT_URL, then AWS)")
	f.DurationVar(&w.AckWait, "ack-wait", 60*time.Second, "a job held this long without a heartbeat goes to another worker")
	f.IntVar(&w.MaxDeliver, "max-deliver", 5, "attempts at a job before a transient failure is final")
	f.BoolVarP(&verbose, "verbose", "v", false, "log every job, and retries")
	f.BoolVar(&quiet, "quiet", false, "log only failures")
	return cmd
}

// worker runs a worker until signalled; returns the exit code.
func worker(ctx context.Context, w *queue.Worker, n natsOptions, verbose, quiet bool, stderr io.Writer) int {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	if quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	w.Log = log
	w.OnResult = func(r queue.Result) {
		switch r.Status {
		case pipeline.StatusFailed:
			log.Warn("failed", "batch", r.Batch, "input", r.Input, "err", r.Error, "attempts", r.Attempts)
		default:
			out := ""
			if len(r.Outputs) > 0 {
				out = r.Outputs[0].Path
			}
			log.Info(string(r.Status), "batch", r.Batch, "input", r.Input, "output", out, "ms", r.Duration.Milliseconds())
		}
	}
	nc, js, err := n.connect("imgpipe worker")
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: %v\n", err)
		return exitNoServer
	}
	defer nc.Close()
	w.JS = js
	if w.MaxMemory > 0 { // as resize does (limitMemory): the budget bounds the heap, not half of it
		debug.SetMemoryLimit(int64(w.MaxMemory) + 64<<20)
	}
	ctx, stop := signalContext(ctx, "", stderr)
	defer stop()
	if err := w.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "imgpipe: worker: %v\n", err)
		return exitNoServer
	}
	return exitOK
}
