// Package queue runs imgpipe on many machines over NATS JetStream: jobs
// (one input each) go on a work-queue stream, workers pull them, run each
// through the same pipeline as `imgpipe resize`, and publish every job's
// result on a results stream that `enqueue --wait` and `status` read.
//
// The queue, its durability, acknowledgements, redelivery and
// deduplication are JetStream's; this package only names the streams,
// defines the messages and decides, for each result, whether to ack, retry
// or terminate a job.
//
// Subjects:
//
//	imgpipe.jobs.BATCH             one message per input (stream IMGPIPE_JOBS, work queue)
//	imgpipe.results.BATCH.done     one message per finished job (stream IMGPIPE_RESULTS)
//	imgpipe.results.BATCH.total    the batch record: how many jobs it holds
//
// and one key-value bucket, IMGPIPE_ATTEMPTS: the last transient error of
// each job being retried, by the job's sequence in the jobs stream, so
// that a job that reaches its delivery limit is reported with it.
package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/imgpipe/imgpipe/internal/objstore"
	"github.com/imgpipe/imgpipe/pipeline"
	"github.com/imgpipe/imgpipe/stages"
)

// Stream and subject names.
const (
	JobsStream    = "IMGPIPE_JOBS"
	ResultsStream = "IMGPIPE_RESULTS"
	jobsPrefix    = "imgpipe.jobs."
	resultsPrefix = "imgpipe.results."
	// Consumer is the durable pull consumer every worker shares: a work
	// queue hands each job to one of them.
	Consumer = "workers"
	// AttemptsBucket is the key-value bucket of retried jobs' last errors.
	AttemptsBucket = "IMGPIPE_ATTEMPTS"
)

// DuplicateWindow is how long the jobs stream remembers message IDs: a
// batch enqueued again within it adds nothing. JetStream's default is 2
// minutes; a large batch takes longer than that to enqueue from a slow
// machine, and the window costs only memory for the IDs.
const DuplicateWindow = 30 * time.Minute

// ResultsMaxAge is how long results are kept for `status` and `--wait`.
const ResultsMaxAge = 7 * 24 * time.Hour

// JobSubject is the subject of batch's jobs.
func JobSubject(batch string) string { return jobsPrefix + batch }

func resultSubject(batch string) string { return resultsPrefix + batch + ".done" }
func totalSubject(batch string) string  { return resultsPrefix + batch + ".total" }

// EnsureStreams creates the jobs and results streams, and the attempts
// bucket, when they are missing, on file storage, and leaves existing ones
// as they are (an operator may have tuned them).
func EnsureStreams(ctx context.Context, js jetstream.JetStream) error {
	for _, cfg := range []jetstream.StreamConfig{{
		Name:        JobsStream,
		Description: "imgpipe jobs: one message per input, removed once a worker acks it",
		Subjects:    []string{jobsPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  DuplicateWindow,
	}, {
		Name:        ResultsStream,
		Description: "imgpipe results: one message per finished job, and one record per batch",
		Subjects:    []string{resultsPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      ResultsMaxAge,
		Duplicates:  DuplicateWindow,
	}} {
		if _, err := js.Stream(ctx, cfg.Name); err == nil {
			continue
		} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("stream %s: %w", cfg.Name, err)
		}
		if _, err := js.CreateStream(ctx, cfg); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("create stream %s: %w", cfg.Name, err)
		}
	}
	if _, err := js.KeyValue(ctx, AttemptsBucket); err == nil {
		return nil
	} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return fmt.Errorf("bucket %s: %w", AttemptsBucket, err)
	}
	_, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      AttemptsBucket,
		Description: "imgpipe: the last transient error of each job being retried, by its sequence in " + JobsStream,
		TTL:         ResultsMaxAge, // a job waits at most this long between deliveries that matter to anyone
		Storage:     jetstream.FileStorage,
	})
	if err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
		return fmt.Errorf("create bucket %s: %w", AttemptsBucket, err)
	}
	return nil
}

// attempt is a job's last transient failure, kept in AttemptsBucket while
// the job waits for its next delivery.
type attempt struct {
	Job     string `json:"job"` // Job.ID(): a sequence reused by a new stream is not this job
	Attempt uint64 `json:"attempt"`
	Stage   string `json:"stage,omitempty"`
	Error   string `json:"error"`
	Worker  string `json:"worker,omitempty"`
}

// attemptKey is the bucket key of the job at seq in the jobs stream.
func attemptKey(seq uint64) string { return strconv.FormatUint(seq, 10) }

// Settings are the parts of a pipeline.Config a job carries: what to make
// of the input and where. How many workers and how much memory are the
// worker's to decide, so they are not here.
type Settings struct {
	OutDir      string               `json:"out_dir"` // absolute, on a file system the workers share; or s3://bucket/prefix
	Force       bool                 `json:"force,omitempty"`
	Output      stages.Output        `json:"output"`
	Outputs     []stages.Output      `json:"outputs,omitempty"`
	Formats     []string             `json:"formats,omitempty"`
	Decode      stages.DecodeOptions `json:"decode"`
	MaxFileSize pipeline.ByteSize    `json:"max_file_size,omitempty"`
	NoSync      bool                 `json:"no_sync,omitempty"`
}

// SettingsOf takes a job's settings from cfg, making OutDir absolute.
func SettingsOf(cfg pipeline.Config) (Settings, error) {
	out, err := absolute(cfg.OutDir)
	if err != nil {
		return Settings{}, err
	}
	s := Settings{OutDir: out, Force: cfg.Force, Output: cfg.Output, Outputs: cfg.Outputs, Formats: cfg.Formats,
		Decode: cfg.Decode.DecodeOptions, MaxFileSize: cfg.Decode.MaxFileSize, NoSync: cfg.Save.NoSync}
	return s, nil
}

// Config returns the pipeline configuration for s, to which the worker
// adds its own sizing.
func (s Settings) Config() pipeline.Config {
	var c pipeline.Config
	c.OutDir, c.Force, c.Output, c.Outputs, c.Formats = s.OutDir, s.Force, s.Output, s.Outputs, s.Formats
	c.Decode.DecodeOptions, c.Decode.MaxFileSize, c.Save.NoSync = s.Decode, s.MaxFileSize, s.NoSync
	return c
}

// Hash names the settings: jobs with the same hash can share one pipeline
// in a worker, and the hash is part of each job's deduplication ID, so the
// same input enqueued with other settings is a new job.
func (s Settings) Hash() string {
	data, _ := json.Marshal(s) // plain data: cannot fail
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// Job is one input to resize: the message on the jobs stream, as JSON.
type Job struct {
	Batch    string   `json:"batch"`
	Input    string   `json:"input"` // absolute path on a shared file system, or s3://bucket/key
	Rel      string   `json:"rel"`   // its path below the scanned root: the output mirrors it
	Settings Settings `json:"settings"`
	Hash     string   `json:"hash"` // Settings.Hash()
	// Version is the input's size and modification time when a watch
	// enqueued it (empty from enqueue): part of the ID, so a file
	// rewritten is a new job while the same file seen twice is one.
	Version string `json:"version,omitempty"`
}

// ID is the job's deduplication ID (the Nats-Msg-Id header): batch, input,
// settings and version, so a batch enqueued twice within DuplicateWindow
// is stored once.
func (j Job) ID() string {
	key := j.Input + "\x00" + j.Hash
	if j.Version != "" {
		key += "\x00" + j.Version
	}
	sum := sha256.Sum256([]byte(key))
	return j.Batch + "-" + hex.EncodeToString(sum[:12])
}

// Result is a finished job as published on the results stream: the
// fields of a report row.
type Result struct {
	Batch    string               `json:"batch"`
	Job      string               `json:"job"` // Job.ID()
	Input    string               `json:"input"`
	Status   pipeline.Status      `json:"status"`
	Stage    string               `json:"stage,omitempty"`
	Error    string               `json:"error,omitempty"`
	Reason   string               `json:"reason,omitempty"`
	Format   string               `json:"format,omitempty"`
	Width    int                  `json:"width,omitempty"`
	Height   int                  `json:"height,omitempty"`
	Outputs  []pipeline.Rendition `json:"outputs,omitempty"`
	BytesIn  int64                `json:"bytes_in"`
	BytesOut int64                `json:"bytes_out"`
	Duration time.Duration        `json:"duration_ns"`
	Notes    []string             `json:"notes,omitempty"`
	Worker   string               `json:"worker,omitempty"`   // host and pid of the worker
	Attempts uint64               `json:"attempts,omitempty"` // deliveries it took
}

// resultOf converts a pipeline result.
func resultOf(j Job, id string, r pipeline.Result) Result {
	out := Result{Batch: j.Batch, Job: id, Input: j.Input, Status: r.Status, Stage: r.Stage,
		Reason: r.Reason, Format: r.Format, Width: r.Width, Height: r.Height, Outputs: r.Outputs,
		BytesIn: r.BytesIn, BytesOut: r.BytesOut, Duration: r.Duration, Notes: r.Notes}
	if r.Err != nil {
		out.Error = r.Err.Error()
	}
	if objstore.IsURL(j.Settings.OutDir) {
		out.Outputs = objstore.Outputs(j.Settings.OutDir, r).Outputs
	}
	return out
}

// Pipeline returns r as a pipeline.Result, for pipeline.Report.
func (r Result) Pipeline() pipeline.Result {
	p := pipeline.Result{Input: r.Input, Status: r.Status, Stage: r.Stage, Reason: r.Reason,
		Format: r.Format, Width: r.Width, Height: r.Height, Outputs: r.Outputs,
		BytesIn: r.BytesIn, BytesOut: r.BytesOut, Duration: r.Duration, Notes: r.Notes}
	if r.Error != "" {
		p.Err = errors.New(r.Error)
	}
	return p
}

// permanent reports whether a failure will fail again however often it is
// retried: the input itself is bad or gone.
func permanent(err error) bool {
	for _, e := range []error{pipeline.ErrCorrupt, pipeline.ErrNotImage, pipeline.ErrUnsupportedFormat,
		pipeline.ErrTooLarge, pipeline.ErrCollision, pipeline.ErrPanic, errNotExist, errInsideOut, errBadJob} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// absolute makes a path absolute; an object URL (s3://bucket/prefix) is
// absolute already.
func absolute(p string) (string, error) {
	if objstore.IsURL(p) {
		return strings.TrimSuffix(p, "/"), nil
	}
	return filepath.Abs(p)
}
