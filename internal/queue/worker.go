package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/imgpipe/imgpipe/internal/objstore"
	"github.com/imgpipe/imgpipe/pipeline"
	"github.com/imgpipe/imgpipe/stages"
)

// Worker pulls jobs from the jobs stream and resizes them. The zero value
// of each setting means its default. A Worker runs once.
type Worker struct {
	JS jetstream.JetStream
	// Jobs is how many jobs the worker works on at once: the number of
	// workers of each pipeline stage. Default: the number of cores
	// (GOMAXPROCS).
	Jobs int
	// Ahead is how many jobs the worker holds beyond Jobs, waiting, so that
	// when a job ends the next is already in hand rather than a pull
	// request away: the pipeline does not idle between jobs, and worker and
	// server go through fewer sleep-and-wake cycles a job (README, "Many
	// machines", has the figures; 3 ahead did no better than 1). A job
	// held waits at most as long as a job in hand takes, is kept alive by
	// heartbeats, and is charged no memory of the budget until it is
	// decoded. The worker never holds more than Jobs+Ahead. Default 1;
	// negative: none.
	Ahead int
	// MaxMemory is the pipeline's budget for images in flight (see
	// pipeline.Config.MaxMemory): a big image waits for memory, kept alive
	// by heartbeats, instead of being refused.
	MaxMemory pipeline.ByteSize
	// AckWait is how long a job may go without a sign of life before
	// JetStream gives it to another worker (the worker was killed, or its
	// machine died). The worker sends a heartbeat every AckWait/3 while it
	// holds a job. Default 60 s.
	AckWait time.Duration
	// MaxDeliver is how many times a job is tried before a transient
	// failure is reported as final. Default 5.
	MaxDeliver int
	// RetryDelay is the wait before the first retry of a transient failure
	// (an output folder that cannot be written); it doubles with each
	// attempt, up to 5 minutes. Default 5 s.
	RetryDelay time.Duration
	// Store reads s3:// inputs and writes s3:// outputs. Default: the
	// store that AWS_ENDPOINT_URL and the AWS credentials name.
	Store *objstore.Store
	// Name says which worker did a job, in its result. Default host:pid.
	Name string
	// Log receives what the worker does. Default: nothing.
	Log *slog.Logger
	// OnResult is called with each job's result once published (and the
	// job acknowledged or terminated). Calls may be concurrent.
	OnResult func(Result)

	storeErr error              // from making the default Store: s3:// jobs fail with it
	attempts jetstream.KeyValue // AttemptsBucket

	beat     sync.Mutex // heartbeats, and task.settled
	mu       sync.Mutex
	lanes    map[string]*lane
	inflight map[*task]struct{}
	tasks    sync.WaitGroup // jobs in hand
	runs     sync.WaitGroup // lanes' pipeline runs
}

// laneJobs is how many jobs one pipeline run takes before the worker
// starts a fresh one for later jobs: a run remembers every output name it
// made (to catch two inputs writing one file), so it must not live forever.
const laneJobs = 10_000

// pollWait bounds each fetch, and so how long a stopping worker may take
// to notice.
const pollWait = time.Second

var (
	errNotExist  = fs.ErrNotExist
	errInsideOut = errors.New("input inside the output folder")
	errBadJob    = errors.New("malformed job")
	errLaneEnded = errors.New("the pipeline stopped before this job ended")
	errNoAnswer  = errors.New("no worker ended this job: each one holding it stopped answering (killed, out of memory, machine lost) within the ack wait")
)

func (w *Worker) defaults() {
	if w.Jobs <= 0 {
		w.Jobs = runtime.GOMAXPROCS(0)
	}
	switch {
	case w.Ahead == 0:
		w.Ahead = 1
	case w.Ahead < 0:
		w.Ahead = 0
	}
	if w.AckWait <= 0 {
		w.AckWait = 60 * time.Second
	}
	if w.MaxDeliver <= 0 {
		w.MaxDeliver = 5
	}
	if w.RetryDelay <= 0 {
		w.RetryDelay = 5 * time.Second
	}
	if w.Name == "" {
		host, _ := os.Hostname()
		w.Name = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if w.Store == nil {
		w.Store, w.storeErr = objstore.New(objstore.Options{})
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.OnResult == nil {
		w.OnResult = func(Result) {}
	}
	w.lanes = map[string]*lane{}
	w.inflight = map[*task]struct{}{}
}

// Consumer creates (or updates) the durable consumer the workers share.
func (w *Worker) consumer(ctx context.Context) (jetstream.Consumer, error) {
	return w.JS.CreateOrUpdateConsumer(ctx, JobsStream, jetstream.ConsumerConfig{
		Durable:     Consumer,
		Description: "imgpipe workers",
		AckPolicy:   jetstream.AckExplicitPolicy,
		AckWait:     w.AckWait,
		MaxDeliver:  w.MaxDeliver,
	})
}

// Run pulls and does jobs until ctx is done, then stops pulling, finishes
// the jobs in hand (their pipelines do not see ctx), and returns. It
// returns an error only when it cannot start (no streams, no server).
func (w *Worker) Run(ctx context.Context) error {
	w.defaults()
	if err := EnsureStreams(ctx, w.JS); err != nil {
		return err
	}
	var err error
	if w.attempts, err = w.JS.KeyValue(ctx, AttemptsBucket); err != nil {
		return fmt.Errorf("bucket %s: %w", AttemptsBucket, err)
	}
	cons, err := w.consumer(ctx)
	if err != nil {
		return fmt.Errorf("consumer %s: %w", Consumer, err)
	}
	stopDead, err := w.reportDead()
	if err != nil {
		return fmt.Errorf("consumer %s: %w", Consumer, err)
	}
	defer stopDead()
	hbDone := make(chan struct{})
	go w.heartbeats(hbDone)
	defer func() {
		w.tasks.Wait()
		close(hbDone)
		w.mu.Lock()
		for _, l := range w.lanes {
			l.close()
		}
		w.mu.Unlock()
		w.runs.Wait()
	}()

	hold := w.Jobs + w.Ahead
	slots := make(chan struct{}, hold)
	for range hold {
		slots <- struct{}{}
	}
	for {
		select {
		case <-slots:
		case <-ctx.Done():
			return nil
		}
		k := 1
	more:
		for k < hold {
			select {
			case <-slots:
				k++
			default:
				break more
			}
		}
		// Not ctx: a fetch cancelled on the client after the server has sent
		// a job would strand that job until its ack wait ends. Each fetch
		// expires on the server first, so a stop waits at most pollWait.
		fctx, cancel := context.WithTimeout(context.Background(), pollWait)
		batch, err := cons.Fetch(k, jetstream.FetchContext(fctx))
		got := 0
		if err == nil {
			for msg := range batch.Messages() {
				got++
				w.start(msg, slots)
			}
			err = batch.Error()
		}
		cancel()
		for range k - got {
			slots <- struct{}{}
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) &&
			!errors.Is(err, jetstream.ErrNoMessages) {
			w.Log.Warn("fetch failed; retrying", "err", err)
			select {
			case <-time.After(pollWait):
			case <-ctx.Done():
			}
		}
	}
}

// heartbeats tells JetStream, every AckWait/3, that each job in hand is
// still being worked on (waiting for memory, or a big image resizing).
func (w *Worker) heartbeats(done <-chan struct{}) {
	tick := time.NewTicker(max(w.AckWait/3, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-done:
			return
		}
		w.mu.Lock()
		ts := make([]*task, 0, len(w.inflight))
		for t := range w.inflight {
			ts = append(ts, t)
		}
		w.mu.Unlock()
		w.beat.Lock()
		for _, t := range ts {
			if !t.settled {
				t.msg.InProgress() // a lost heartbeat costs at worst a redelivery
			}
		}
		w.beat.Unlock()
	}
}

// settle stops t's heartbeats: call it before acking, naking or
// terminating its message. A heartbeat after a nak would make JetStream
// redeliver the job after the ack wait instead of after the nak's delay.
func (w *Worker) settle(t *task) {
	w.beat.Lock()
	t.settled = true
	w.beat.Unlock()
}

// task is one job in hand.
type task struct {
	msg      jetstream.Msg
	job      Job
	id       string
	attempt  uint64
	seq      uint64 // in the jobs stream
	settled  bool   // acked, naked or terminated: no more heartbeats (w.beat)
	file     stages.File
	fileErr  error
	released func()
}

// start takes one message: checks it, then hands it to the pipeline for its
// settings. It is called from Run's goroutine only.
func (w *Worker) start(msg jetstream.Msg, slots chan<- struct{}) {
	t := &task{msg: msg, id: msg.Headers().Get(jetstream.MsgIDHeader)}
	var once sync.Once
	t.released = func() { once.Do(func() { slots <- struct{}{} }) }
	if md, err := msg.Metadata(); err == nil {
		t.attempt, t.seq = md.NumDelivered, md.Sequence.Stream
	}
	w.mu.Lock()
	w.inflight[t] = struct{}{}
	w.mu.Unlock()
	w.tasks.Add(1)

	if err := json.Unmarshal(msg.Data(), &t.job); err != nil || t.job.Input == "" || t.job.Batch == "" {
		w.end(t, pipeline.Result{Status: pipeline.StatusFailed, Stage: "queue", Err: fmt.Errorf("%w: %v", errBadJob, err)})
		return
	}
	j := t.job
	w.Log.Debug("start", "batch", j.Batch, "input", j.Input, "attempt", t.attempt)
	if t.id == "" {
		t.id = j.ID()
	}
	if out := j.Settings.OutDir + string(filepath.Separator); strings.HasPrefix(j.Input, out) {
		w.end(t, pipeline.Result{Input: j.Input, Status: pipeline.StatusFailed, Stage: "queue",
			Err: &pipeline.Error{Stage: "queue", Path: j.Input, Err: errInsideOut}})
		return
	}
	// Size and time decide whether outputs are up to date; the decode stage
	// sniffs the file itself (enqueue's scan already chose it as an input).
	t.file = stages.File{Path: j.Input, Rel: j.Rel}
	if objstore.IsURL(j.Input) {
		t.file, t.fileErr = w.stat(j.Input, j.Rel)
	} else if info, err := os.Stat(j.Input); err != nil {
		t.fileErr = err
	} else {
		t.file.Size, t.file.ModTime = info.Size(), info.ModTime()
	}
	w.submit(t)
}

// statWait bounds a look at an object: a store that does not answer is a
// transient failure, and the job is retried later.
const statWait = 30 * time.Second

// stat looks at the object at u, the input of a job.
func (w *Worker) stat(u, rel string) (stages.File, error) {
	if w.storeErr != nil {
		return stages.File{Path: u, Rel: rel}, w.storeErr
	}
	ctx, cancel := context.WithTimeout(context.Background(), statWait)
	defer cancel()
	return w.Store.Stat(ctx, u, rel)
}

// submit hands t to the pipeline run for its settings, starting one when
// there is none.
func (w *Worker) submit(t *task) {
	for {
		l, err := w.lane(t.job.Settings, t.job.Hash)
		if err != nil {
			w.end(t, pipeline.Result{Input: t.job.Input, Status: pipeline.StatusFailed, Stage: "config",
				Err: &pipeline.Error{Stage: "config", Path: t.job.Input, Err: fmt.Errorf("%w: %w", errBadJob, err)}})
			return
		}
		if !l.add(t) {
			continue // it ended just now: w.lane starts another
		}
		select {
		case l.in <- t:
		case <-l.done: // l.stopped has dealt with t
		}
		return
	}
}

// lane returns the running pipeline for settings s, starting one if there
// is none, or if the last one ended or has taken its share of jobs.
func (w *Worker) lane(s Settings, hash string) (*lane, error) {
	if hash == "" {
		hash = s.Hash()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if l := w.lanes[hash]; l != nil {
		if l.open() && l.taken < laneJobs {
			l.taken++
			return l, nil
		}
		l.close()
		delete(w.lanes, hash)
	}
	cfg := s.Config()
	cfg.Decode.Workers, cfg.Resize.Workers, cfg.Encode.Workers = w.Jobs, w.Jobs, w.Jobs
	cfg.MaxMemory = w.MaxMemory
	l := &lane{w: w, in: make(chan *task), done: make(chan struct{}), pending: map[string][]*task{}, taken: 1}
	opts := []pipeline.Option{pipeline.OnResult(l.result), pipeline.WithLogger(w.Log)}
	if objstore.IsURL(s.OutDir) {
		if w.storeErr != nil {
			return nil, w.storeErr
		}
		sink, err := w.Store.Sink(s.OutDir)
		if err != nil {
			return nil, err
		}
		check, err := w.Store.Check(s.OutDir)
		if err != nil {
			return nil, err
		}
		cfg.OutDir = "" // the sink writes the outputs and keeps their records
		opts = append(opts, pipeline.WithSink(sink), pipeline.WithSinkCheck(check))
	}
	p, err := pipeline.New(cfg, opts...)
	if err != nil {
		return nil, err
	}
	w.lanes[hash] = l
	w.runs.Add(1)
	go func() {
		defer w.runs.Done()
		_, err := p.Run(context.Background(), l.source)
		l.stopped(err)
	}()
	return l, nil
}

// lane is one long-lived pipeline run that jobs of the same settings share,
// so that a job costs its image's work and not a run's setup (checking the
// output folder, sweeping it for stale temporary files).
type lane struct {
	w    *Worker
	in   chan *task    // jobs for the run's source; closed by close
	done chan struct{} // closed when the run has ended

	mu      sync.Mutex
	pending map[string][]*task // by input path: jobs submitted, no result yet
	ended   bool
	closed  bool
	taken   int // jobs given to it (w.mu)
}

// source is the run's Source: the files of the jobs sent on in.
func (l *lane) source(ctx context.Context, emit pipeline.Emit) error {
	for {
		select {
		case t, ok := <-l.in:
			if !ok {
				return nil
			}
			if err := emit(t.file, t.fileErr); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// add records t as waiting for its result; false if the run has ended.
func (l *lane) add(t *task) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return false
	}
	l.pending[t.job.Input] = append(l.pending[t.job.Input], t)
	return true
}

func (l *lane) open() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.ended && !l.closed
}

// close ends the run's source once it has taken what was sent (only Run's
// goroutine sends, and it holds w.mu here).
func (l *lane) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.in)
	}
}

// result is the run's OnResult hook.
func (l *lane) result(r pipeline.Result) {
	l.mu.Lock()
	ts := l.pending[r.Input]
	var t *task
	if len(ts) > 0 {
		t = ts[0]
		if len(ts) == 1 {
			delete(l.pending, r.Input)
		} else {
			l.pending[r.Input] = ts[1:]
		}
	}
	l.mu.Unlock()
	if t == nil {
		l.w.Log.Warn("a result for no job in hand", "input", r.Input)
		return
	}
	l.w.end(t, r)
}

// stopped runs when the pipeline run has ended: jobs that got no result
// are retried later (the run stopped because outputs cannot be written, say).
func (l *lane) stopped(err error) {
	l.mu.Lock()
	l.ended = true
	left := l.pending
	l.pending = nil
	l.mu.Unlock()
	close(l.done)
	if err == nil {
		err = errLaneEnded
	}
	for _, ts := range left {
		for _, t := range ts {
			l.w.end(t, pipeline.Result{Input: t.job.Input, Status: pipeline.StatusFailed, Stage: "queue", Err: err})
		}
	}
}

// end settles a job given its result: publish the result and ack it (done
// or skipped), publish and terminate it (a permanent failure, or the last
// attempt), or ask for it again later (a transient failure).
func (w *Worker) end(t *task, r pipeline.Result) {
	defer func() {
		w.mu.Lock()
		delete(w.inflight, t)
		w.mu.Unlock()
		t.released()
		w.tasks.Done()
	}()
	if t.job.Batch == "" { // not a job of ours: no batch to report it to
		w.Log.Warn("dropping a malformed job", "subject", t.msg.Subject(), "err", r.Err)
		w.settle(t)
		t.msg.TermWithReason("malformed job")
		return
	}
	final := r.Status != pipeline.StatusFailed || permanent(r.Err) || t.attempt >= uint64(w.MaxDeliver)
	if !final {
		delay := min(w.RetryDelay<<min(t.attempt-1, 16), 5*time.Minute)
		w.Log.Info("job failed; retrying later", "input", t.job.Input, "attempt", t.attempt, "in", delay, "err", r.Err)
		w.keepAttempt(t, r)
		w.settle(t)
		if err := t.msg.NakWithDelay(delay); err != nil {
			w.Log.Warn("nak failed; the job will come back after the ack wait", "input", t.job.Input, "err", err)
		}
		return
	}
	res := resultOf(t.job, t.id, r)
	res.Worker, res.Attempts = w.Name, t.attempt
	if r.Status == pipeline.StatusFailed && !permanent(r.Err) {
		res.Error = fmt.Sprintf("%s (after %d attempts)", res.Error, t.attempt)
	}
	data, _ := json.Marshal(res)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.JS.Publish(ctx, resultSubject(t.job.Batch), data, jetstream.WithMsgID(t.id)); err != nil {
		w.Log.Warn("publishing a result failed; the job will be retried", "input", t.job.Input, "err", err)
		w.settle(t)
		t.msg.NakWithDelay(w.RetryDelay)
		return
	}
	if t.attempt > 1 {
		w.forgetAttempt(t.seq)
	}
	w.settle(t)
	var err error
	if r.Status == pipeline.StatusFailed {
		err = t.msg.TermWithReason(res.Error)
	} else {
		// The outputs are on disk (fsynced, renamed) and the result is
		// stored: now the job may go. A plain ack, not one the server
		// confirms: an ack lost on the way costs a redelivery after the ack
		// wait, which finds the outputs up to date and whose result the
		// results stream drops as a duplicate (or Follow, after the window).
		// It saves a message and a round trip a job.
		err = t.msg.Ack()
	}
	if err != nil {
		w.Log.Warn("ack failed; the job may run again (its outputs will be up to date)", "input", t.job.Input, "err", err)
	}
	w.OnResult(res)
}

// keepAttempt records t's transient failure r in AttemptsBucket before the
// job is asked for again: if no later delivery ends (each worker holding it
// dies), the job's final result carries this error. A record that cannot
// be written costs only that detail.
func (w *Worker) keepAttempt(t *task, r pipeline.Result) {
	if w.attempts == nil || t.seq == 0 {
		return
	}
	a := attempt{Job: t.id, Attempt: t.attempt, Stage: r.Stage, Worker: w.Name}
	if r.Err != nil {
		a.Error = r.Err.Error()
	}
	data, _ := json.Marshal(a)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.attempts.Put(ctx, attemptKey(t.seq), data); err != nil {
		w.Log.Warn("cannot record a failed attempt", "input", t.job.Input, "err", err)
	}
}

// forgetAttempt removes the record of the job at seq once it has its
// result (the bucket's TTL removes those whose job went another way).
func (w *Worker) forgetAttempt(seq uint64) {
	if w.attempts == nil || seq == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.attempts.Purge(ctx, attemptKey(seq)); err != nil {
		w.Log.Debug("cannot remove a failed attempt's record", "seq", seq, "err", err)
	}
}

// lastAttempt returns the recorded failure of job id at seq, if any.
func (w *Worker) lastAttempt(ctx context.Context, seq uint64, id string) (attempt, bool) {
	var a attempt
	if w.attempts == nil {
		return a, false
	}
	e, err := w.attempts.Get(ctx, attemptKey(seq))
	if err != nil || json.Unmarshal(e.Value(), &a) != nil || a.Job != id || a.Error == "" {
		return a, false
	}
	return a, true
}

// maxDeliveriesSubject is where JetStream announces that a job of the
// workers' consumer has been delivered MaxDeliver times and will not be
// delivered again.
const maxDeliveriesSubject = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + JobsStream + "." + Consumer

// deadWorkers is the queue group of the workers' advisory subscriptions:
// one of them reports each dead job.
const deadWorkers = "imgpipe-workers"

// maxDeliveries is the part of JetStream's advisory that we read.
type maxDeliveries struct {
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// reportDead makes sure no job stays queued for ever without a result: a
// job whose every delivery ended with no word from its worker (killed, out
// of memory, its machine lost, each time) is not delivered again once it
// reaches MaxDeliver, and JetStream says so in an advisory; one worker of
// the group takes it from the stream and publishes its failed result. (A
// job that failed and was retried gets its result from the worker's own
// last attempt.) The advisory is a plain NATS message: with no worker
// connected when it is sent, nobody reports the job, which stays queued
// (imgpipe status counts it). stop ends the subscription and waits for the
// report in hand.
func (w *Worker) reportDead() (stop func(), err error) {
	ch := make(chan *nats.Msg, 64)
	sub, err := w.JS.Conn().ChanQueueSubscribe(maxDeliveriesSubject, deadWorkers, ch)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for {
			select {
			case m := <-ch:
				w.dead(m)
			case <-done:
				return
			}
		}
	}()
	return func() {
		sub.Unsubscribe()
		close(done)
		<-ended
	}, nil
}

// dead reports the job an advisory names as failed and removes it.
func (w *Worker) dead(m *nats.Msg) {
	var adv maxDeliveries
	if err := json.Unmarshal(m.Data, &adv); err != nil || adv.StreamSeq == 0 {
		w.Log.Warn("unreadable max-deliveries advisory", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := w.JS.Stream(ctx, JobsStream)
	if err != nil {
		w.Log.Warn("a job reached its delivery limit; cannot report it", "seq", adv.StreamSeq, "err", err)
		return
	}
	raw, err := st.GetMsg(ctx, adv.StreamSeq)
	if err != nil {
		// Gone already: ended at its last delivery after all.
		w.Log.Debug("a job reached its delivery limit and is gone", "seq", adv.StreamSeq, "err", err)
		return
	}
	var j Job
	if err := json.Unmarshal(raw.Data, &j); err != nil || j.Batch == "" {
		w.Log.Warn("dropping a malformed job at its delivery limit", "seq", adv.StreamSeq)
		st.DeleteMsg(ctx, adv.StreamSeq)
		return
	}
	id := raw.Header.Get(jetstream.MsgIDHeader)
	if id == "" {
		id = j.ID()
	}
	res := Result{Batch: j.Batch, Job: id, Input: j.Input, Status: pipeline.StatusFailed, Stage: "queue",
		Error:  fmt.Sprintf("%s: %v (after %d attempts)", j.Input, errNoAnswer, adv.Deliveries),
		Worker: w.Name, Attempts: adv.Deliveries}
	if a, ok := w.lastAttempt(ctx, adv.StreamSeq, id); ok {
		// An attempt failed with an error that may pass, then the ones after
		// it got no answer: the error is what the user can act on.
		res.Stage = a.Stage
		res.Error = fmt.Sprintf("%s (after %d attempts: attempt %d failed with it, on %s; no worker ended the later ones)",
			a.Error, adv.Deliveries, a.Attempt, a.Worker)
	}
	data, _ := json.Marshal(res)
	if _, err := w.JS.Publish(ctx, resultSubject(j.Batch), data, jetstream.WithMsgID(id)); err != nil {
		w.Log.Warn("a job reached its delivery limit; publishing its result failed", "input", j.Input, "err", err)
		return
	}
	if err := st.DeleteMsg(ctx, adv.StreamSeq); err != nil {
		w.Log.Debug("removing a dead job", "input", j.Input, "err", err)
	}
	w.forgetAttempt(adv.StreamSeq)
	w.OnResult(res)
}
