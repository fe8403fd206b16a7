package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imgpipe/imgpipe/internal/queue"
	"github.com/imgpipe/imgpipe/pipeline"
	"github.com/imgpipe/imgpipe/stages"
)

// watchQueue is `imgpipe watch --nats`: the watch source of resize's
// watch (catch-up, settle, ignore rules, new folders), but each settled
// file becomes a job on the queue instead of going through a pipeline
// here. It runs until interrupted and returns the exit code.
func watchQueue(ctx context.Context, cfg pipeline.Config, o options, n natsOptions, dirs []string, stderr io.Writer) int {
	ctx, stop := signalContext(ctx, "", stderr)
	defer stop()
	log := watchLogger(o, stderr)
	s, err := queue.SettingsOf(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: -o: %v\n", err)
		return exitUsage
	}
	// The pipeline is only the watch's owner (its settings, its output
	// folder to leave out): it is never run here.
	p, err := pipeline.New(cfg, pipeline.WithLogger(log))
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: %v\n", err)
		return exitUsage
	}
	nc, js, err := n.publisher(ctx, "imgpipe watch")
	if err != nil {
		fmt.Fprintf(stderr, "imgpipe: %v\n", err)
		return exitNoServer
	}
	defer nc.Close()
	log.Info("watching", "folders", dirs, "out", cfg.OutDir, "nats", n.url, "batch", queue.WatchBatch(s, dirs, time.Now()))
	var jobs, failed int
	err = p.Watch(dirs)(ctx, func(f stages.File, err error) error {
		if err != nil {
			failed++
			log.Error("failed", "input", f.Path, "stage", "scan", "error", err)
			return nil
		}
		batch := queue.WatchBatch(s, dirs, time.Now())
		dup, err := queue.Publish(ctx, js, batch, s, f)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			// The next watch's catch-up enqueues it again.
			failed++
			log.Error("failed", "input", f.Path, "stage", "queue", "error", err)
		case dup:
			log.Debug("already queued", "input", f.Path, "batch", batch)
		default:
			jobs++
			log.Info("enqueued", "input", f.Path, "batch", batch)
		}
		return nil
	})
	if errors.Is(err, pipeline.ErrNoFolder) && jobs+failed == 0 {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "imgpipe: %s\n", line)
		}
		fmt.Fprintln(stderr, "imgpipe: watch needs existing folders: check the path")
		return exitUsage
	}
	log.Info("stopped", "enqueued", jobs, "failed", failed)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return exitOK
	}
	fmt.Fprintf(stderr, "imgpipe: stopped: %v\n", err)
	return exitFailed
}
