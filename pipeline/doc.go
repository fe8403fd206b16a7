// Package pipeline resizes images in bulk: the engine behind the imgpipe
// command, for Go programs to embed.
//
// A Pipeline is built from a Config (the same struct config.yaml and the
// command-line flags fill in) and run on a Source:
//
//	p, err := pipeline.New(pipeline.Config{OutDir: "web", Output: stages.Output{Width: 1600}})
//	...
//	summary, err := p.Run(ctx, pipeline.Dirs([]string{"photos"}, pipeline.ScanOptions{}))
//
// Run passes each input through the stages of package stages:
//
//	source (scan, watch, paths, fs.FS, bytes) → decode → resize → [your steps] → encode → save (or your sink)
//
// Each stage has its own fixed number of workers and its own channel
// buffer (Config.Decode, Config.Resize, ...). The goroutine that sends on a
// channel closes it, every worker returns when the context is cancelled,
// and Run returns only after all of them have: nothing outlives it. Several
// pipelines can run at once; none changes process-wide settings, prints, or
// exits.
//
// Sources: Dirs (folder trees), Paths, FS (any fs.FS), Bytes and Reader
// (in-memory uploads), Pipeline.Watch (folders, as images land), Concat, or
// any function of type Source.
//
// Outputs go below Config.OutDir, written atomically (temporary file and
// rename), or to a Sink given with WithSink. Config.Outputs makes several
// renditions from one decode. WithStep adds a per-image step of your own
// between resize and encode.
//
// Results: each input ends as one Result, handed to the OnResult hook as it
// finishes (ok, skipped as up to date, or failed with an *Error naming the
// stage and the path). A bad input never stops the batch unless
// Config.FailFast is set. Errors match ErrNotImage, ErrUnsupportedFormat,
// ErrCorrupt, ErrTooLarge, ErrCollision and ErrPanic with errors.Is.
// Metrics gives live per-stage figures for a progress display, and the
// Summary the totals.
//
// Memory: each input is charged its decoded size, from its header, against
// Config.MaxMemory before it is decoded, and images over
// Config.Decode.MaxPixels are refused before any allocation, so memory
// stays bounded whatever the inputs.
package pipeline
