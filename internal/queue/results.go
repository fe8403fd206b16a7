package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/imgpipe/imgpipe/pipeline"
)

// Progress is where a batch stands.
type Progress struct {
	Batch string
	// Total is the number of jobs in the batch; -1 while its record has
	// not been published (enqueue has not finished, or no such batch).
	Total int
	// Queued is how many of its jobs are still on the jobs stream: waiting,
	// or being worked on.
	Queued int
	// OK, Skipped, Failed count the jobs with a result, one each however
	// often the job ran.
	OK, Skipped, Failed int
}

// Done is how many jobs have a result.
func (p Progress) Done() int { return p.OK + p.Skipped + p.Failed }

// Complete reports whether every job has a result.
func (p Progress) Complete() bool { return p.Total >= 0 && p.Done() >= p.Total }

// Follow calls fn with each job's result of batch as it arrives, once per
// input (a job that ran twice, say after its worker died between publishing
// and acking, counts once), starting from the oldest, and with the progress
// after it. It returns when the batch is complete, or with ctx's error.
func Follow(ctx context.Context, js jetstream.JetStream, batch string, fn func(Result, Progress)) (Progress, error) {
	p := Progress{Batch: batch, Total: -1}
	cons, err := js.OrderedConsumer(ctx, ResultsStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{resultsPrefix + batch + ".>"},
	})
	if err != nil {
		return p, fmt.Errorf("results of %s: %w", batch, err)
	}
	seen := map[string]bool{}
	it, err := cons.Messages()
	if err != nil {
		return p, err
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for !p.Complete() {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return p, ctx.Err()
			}
			return p, err
		}
		if err := p.add(msg, seen, fn); err != nil {
			return p, err
		}
	}
	return p, nil
}

// add counts one message of the results stream.
func (p *Progress) add(msg jetstream.Msg, seen map[string]bool, fn func(Result, Progress)) error {
	if strings.HasSuffix(msg.Subject(), ".total") {
		var rec batchRecord
		if err := json.Unmarshal(msg.Data(), &rec); err != nil {
			return fmt.Errorf("batch record %s: %w", msg.Subject(), err)
		}
		p.Total = rec.Total
		return nil
	}
	var r Result
	if err := json.Unmarshal(msg.Data(), &r); err != nil {
		return fmt.Errorf("result %s: %w", msg.Subject(), err)
	}
	if seen[r.Input] {
		return nil
	}
	seen[r.Input] = true
	switch r.Status {
	case pipeline.StatusOK:
		p.OK++
	case pipeline.StatusSkipped:
		p.Skipped++
	default:
		p.Failed++
	}
	if fn != nil {
		fn(r, *p)
	}
	return nil
}

// Status reads where batch stands now: its results so far and how many of
// its jobs are still queued.
func Status(ctx context.Context, js jetstream.JetStream, batch string) (Progress, error) {
	p := Progress{Batch: batch, Total: -1}
	filter := resultsPrefix + batch + ".>"
	st, err := js.Stream(ctx, ResultsStream)
	if err != nil {
		return p, err
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return p, err
	}
	stored := 0
	for _, n := range info.State.Subjects {
		stored += int(n)
	}
	if stored > 0 {
		cons, err := js.OrderedConsumer(ctx, ResultsStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
		if err != nil {
			return p, err
		}
		seen := map[string]bool{}
		for range stored {
			msg, err := cons.Next(jetstream.FetchContext(ctx))
			if err != nil {
				return p, fmt.Errorf("results of %s: %w", batch, err)
			}
			if err := p.add(msg, seen, nil); err != nil {
				return p, err
			}
		}
	}
	jobs, err := js.Stream(ctx, JobsStream)
	if err != nil {
		return p, err
	}
	info, err = jobs.Info(ctx, jetstream.WithSubjectFilter(JobSubject(batch)))
	if err != nil {
		return p, err
	}
	p.Queued = int(info.State.Subjects[JobSubject(batch)])
	if p.Total < 0 && p.Queued == 0 && p.Done() == 0 {
		return p, fmt.Errorf("batch %s: %w", batch, ErrNoBatch)
	}
	return p, nil
}

// ErrNoBatch: nothing is known of the batch (never enqueued, or its results
// have expired).
var ErrNoBatch = errors.New("no such batch")
