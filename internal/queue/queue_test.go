package queue

import (
	"context"
	"encoding/json"
	"errors"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/imgpipe/imgpipe/pipeline"
)

// Every test here runs a real NATS server in process, on 127.0.0.1 and a
// free port, storing its streams in a temporary folder.

func startServer(t *testing.T, store string) *server.Server {
	t.Helper()
	s, err := StartServer("127.0.0.1:0", store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

func connect(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, js, err := Connect(url, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return js
}

// settings returns the settings of a 200x200 thumbnail job into out.
func settings(t *testing.T, out string) Settings {
	t.Helper()
	var cfg pipeline.Config
	cfg.OutDir = out
	cfg.Output.Width, cfg.Output.Height = 200, 200
	s, err := SettingsOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startWorker runs a worker until the test ends, with short waits so that
// retries happen within the test.
func startWorker(t *testing.T, js jetstream.JetStream, results chan<- Result) *Worker {
	t.Helper()
	return startWorkerWith(t, js, func(w *Worker) {
		w.OnResult = func(r Result) {
			if results != nil {
				results <- r
			}
		}
	})
}

// startWorkerWith is startWorker with set changing the worker's settings.
func startWorkerWith(t *testing.T, js jetstream.JetStream, set func(*Worker)) *Worker {
	t.Helper()
	w := &Worker{JS: js, Jobs: 2, AckWait: 2 * time.Second, MaxDeliver: 3, RetryDelay: 50 * time.Millisecond}
	set(w)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := w.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return w
}

// follow waits (at most 15 s) for batch to complete.
func follow(t *testing.T, js jetstream.JetStream, batch string) (Progress, map[string]Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	got := map[string]Result{}
	p, err := Follow(ctx, js, batch, func(r Result, _ Progress) { got[filepath.Base(r.Input)] = r })
	if err != nil {
		t.Fatalf("follow %s: %v (progress %+v)", batch, err, p)
	}
	return p, got
}

func enqueue(t *testing.T, js jetstream.JetStream, s Settings, inputs ...string) (string, int) {
	t.Helper()
	batch := BatchID(s, inputs)
	n, err := Enqueue(context.Background(), js, batch, s, pipeline.Dirs(inputs, pipeline.ScanOptions{}),
		func(r pipeline.Result) { t.Errorf("scan failed: %v", r.Err) })
	if err != nil {
		t.Fatal(err)
	}
	return batch, n
}

func decodes(t *testing.T, path string) image.Point {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img.Bounds().Size()
}

func TestRoundTrip(t *testing.T) {
	s := startServer(t, t.TempDir())
	js := connect(t, s.ClientURL())
	out := t.TempDir()
	batch, n := enqueue(t, js, settings(t, out), "../../testdata/photos")
	if n != 5 {
		t.Fatalf("enqueued %d jobs, want the 5 photos", n)
	}
	startWorker(t, js, nil)
	p, got := follow(t, js, batch)
	if p.OK != 5 || p.Failed != 0 || len(got) != 5 {
		t.Fatalf("progress %+v, %d results", p, len(got))
	}
	for name, r := range got {
		if len(r.Outputs) != 1 {
			t.Fatalf("%s: outputs %v", name, r.Outputs)
		}
		size := decodes(t, r.Outputs[0].Path)
		if size.X > 200 || size.Y > 200 || size.X != r.Outputs[0].Width {
			t.Errorf("%s: output %v, result says %dx%d", name, size, r.Outputs[0].Width, r.Outputs[0].Height)
		}
		if filepath.Dir(r.Outputs[0].Path) != out {
			t.Errorf("%s: output %s not in %s", name, r.Outputs[0].Path, out)
		}
	}
	st, err := Status(context.Background(), js, batch)
	if err != nil || !st.Complete() || st.Queued != 0 || st.OK != 5 {
		t.Errorf("status %+v, %v", st, err)
	}
}

// TestDuplicateBatch enqueues one batch twice: the stream keeps one job
// per input, and each input gets one result.
func TestDuplicateBatch(t *testing.T) {
	s := startServer(t, t.TempDir())
	js := connect(t, s.ClientURL())
	set := settings(t, t.TempDir())
	b1, _ := enqueue(t, js, set, "../../testdata/photos")
	b2, _ := enqueue(t, js, set, "../../testdata/photos")
	if b1 != b2 {
		t.Fatalf("batch ids %s and %s differ for one command", b1, b2)
	}
	st, err := js.Stream(context.Background(), JobsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 5 {
		t.Fatalf("jobs stream holds %d messages, want 5", info.State.Msgs)
	}
	startWorker(t, js, nil)
	p, _ := follow(t, js, b1)
	if p.OK != 5 {
		t.Fatalf("progress %+v", p)
	}
}

// TestCorruptTerminated: a broken input is failed once, terminated, and
// never delivered again.
func TestCorruptTerminated(t *testing.T) {
	s := startServer(t, t.TempDir())
	js := connect(t, s.ClientURL())
	in := t.TempDir()
	for _, name := range []string{"truncated_header_only.jpg", "html_404_page.jpg"} {
		data, err := os.ReadFile(filepath.Join("../../testdata/bad", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(in, name), data, 0o644)
	}
	// and a photo deleted between enqueue and work: gone is gone.
	data, err := os.ReadFile("../../testdata/photos/camera_Nikon_P6000_GPS.jpg")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(in, "deleted.jpg"), data, 0o644)
	batch, _ := enqueue(t, js, settings(t, t.TempDir()), in)
	os.Remove(filepath.Join(in, "deleted.jpg"))
	results := make(chan Result, 10)
	startWorker(t, js, results)
	p, got := follow(t, js, batch)
	if p.Failed != 3 {
		t.Fatalf("progress %+v", p)
	}
	for name, r := range got {
		stage := "decode"
		if name == "deleted.jpg" {
			stage = "scan"
		}
		if r.Attempts != 1 || r.Error == "" || r.Stage != stage {
			t.Errorf("%s: %+v, want failed in %s on the first attempt", name, r, stage)
		}
	}
	time.Sleep(300 * time.Millisecond) // a retry would come after RetryDelay (50 ms)
	if len(results) != 3 {
		t.Errorf("worker ended %d jobs, want 3 (no retries)", len(results))
	}
	cons, _ := js.Consumer(context.Background(), JobsStream, Consumer)
	ci, err := cons.Info(context.Background())
	if err != nil || ci.NumPending != 0 || ci.NumAckPending != 0 {
		t.Errorf("consumer %+v, %v: want nothing pending", ci, err)
	}
}

// TestTransientRetried: an output folder that cannot be written is
// retried MaxDeliver times, then reported failed with its last error.
func TestTransientRetried(t *testing.T) {
	if os.Getuid() == 0 {
		t.Log("running as root: a file stands in for the output folder")
	}
	s := startServer(t, t.TempDir())
	js := connect(t, s.ClientURL())
	blocker := filepath.Join(t.TempDir(), "out")
	os.WriteFile(blocker, []byte("a file, not a folder"), 0o644)
	batch, _ := enqueue(t, js, settings(t, blocker), "../../testdata/photos/camera_Nikon_P6000_GPS.jpg")
	startWorker(t, js, nil)
	p, got := follow(t, js, batch)
	r := got["camera_Nikon_P6000_GPS.jpg"]
	if p.Failed != 1 || r.Attempts != 3 || r.Error == "" {
		t.Fatalf("progress %+v, result %+v: want failed after 3 attempts", p, r)
	}
	t.Logf("last error: %s", r.Error)
}

// TestSurvivesRestart: jobs enqueued before the server stops are there
// when it starts again on the same store, and get done.
func TestSurvivesRestart(t *testing.T) {
	store := t.TempDir()
	s, err := StartServer("127.0.0.1:0", store)
	if err != nil {
		t.Fatal(err)
	}
	nc, js, err := Connect(s.ClientURL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	batch, _ := enqueue(t, js, settings(t, t.TempDir()), "../../testdata/photos")
	nc.Close()
	s.Shutdown()
	s.WaitForShutdown()

	s2 := startServer(t, store)
	js2 := connect(t, s2.ClientURL())
	st, err := Status(context.Background(), js2, batch)
	if err != nil || st.Queued != 5 || st.Total != 5 {
		t.Fatalf("after restart: %+v, %v; want 5 queued", st, err)
	}
	startWorker(t, js2, nil)
	if p, _ := follow(t, js2, batch); p.OK != 5 {
		t.Fatalf("progress %+v", p)
	}
}

// TestAbandonedJobRedelivered: a worker that takes a job and dies (here a
// consumer that fetches and never acks) loses nothing: the job comes back
// after the ack wait and is done once, on its second delivery.
func TestAbandonedJobRedelivered(t *testing.T) {
	s := startServer(t, t.TempDir())
	js := connect(t, s.ClientURL())
	batch, _ := enqueue(t, js, settings(t, t.TempDir()), "../../testdata/photos/camera_Nikon_P6000_GPS.jpg")

	dead := &Worker{JS: js, AckWait: 2 * time.Second, MaxDeliver: 3}
	dead.defaults()
	cons, err := dead.consumer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	taken, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range taken.Messages() {
		// taken, never acked: the worker "died" holding it
	}
	if err := taken.Error(); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	startWorker(t, js, nil)
	p, got := follow(t, js, batch)
	r := got["camera_Nikon_P6000_GPS.jpg"]
	if p.OK != 1 || r.Attempts != 2 {
		t.Fatalf("progress %+v, result %+v: want ok on the second delivery", p, r)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("redelivered after %v, before the ack wait", waited)
	}
}

// TestHeartbeatKeepsSlowJob: a job that takes longer than the ack wait is
// kept by the worker's heartbeats, not given to another worker.
func TestHeartbeatKeepsSlowJob(t *testing.T) {
	s := startServer(t, t.TempDir())
	js := connect(t, s.ClientURL())
	set := settings(t, t.TempDir())
	set.Output.Width, set.Output.Height = 2000, 2000 // slower than the ack wait
	batch, _ := enqueue(t, js, set, "../../testdata/photos/plasma_FallenLeaf_2560x1600.jpg")
	w := &Worker{JS: js, Jobs: 1, AckWait: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	_, got := follow(t, js, batch)
	r := got["plasma_FallenLeaf_2560x1600.jpg"]
	if r.Status != pipeline.StatusOK || r.Attempts != 1 {
		t.Fatalf("result %+v: want ok on the first delivery", r)
	}
	if r.Duration < w.AckWait {
		t.Logf("the job took %v, less than the ack wait: the heartbeat was not needed", r.Duration)
	} else {
		t.Logf("the job took %v, the ack wait is %v", r.Duration, w.AckWait)
	}
}

// TestMalformedJob: a message that is not a job is terminated, and the
// worker goes on with the next.
func TestMalformedJob(t *testing.T) {
	s := startServer(t, t.TempDir())
	js := connect(t, s.ClientURL())
	if _, err := js.Publish(context.Background(), JobSubject("junk"), []byte("not json")); err != nil {
		t.Fatal(err)
	}
	batch, _ := enqueue(t, js, settings(t, t.TempDir()), "../../testdata/photos/camera_Nikon_P6000_GPS.jpg")
	startWorker(t, js, nil)
	if p, _ := follow(t, js, batch); p.OK != 1 {
		t.Fatalf("progress %+v", p)
	}
	cons, _ := js.Consumer(context.Background(), JobsStream, Consumer)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ci, err := cons.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumPending == 0 && ci.NumAckPending == 0 && ci.NumRedelivered == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer %+v: the malformed job is still around", ci)
		}
	}
}

// TestMaxDeliveriesReported: a job whose every delivery was abandoned (its
// worker killed each time) is reported failed, with the number of
// attempts, once it reaches the delivery limit, and leaves the queue.
func TestMaxDeliveriesReported(t *testing.T) {
	s := startServer(t, t.TempDir())
	js := connect(t, s.ClientURL())
	batch, _ := enqueue(t, js, settings(t, t.TempDir()), "../../testdata/photos/camera_Nikon_P6000_GPS.jpg")

	results := make(chan Result, 1)
	w := &Worker{JS: js, AckWait: 300 * time.Millisecond, MaxDeliver: 2, OnResult: func(r Result) { results <- r }}
	w.defaults()
	stop, err := w.reportDead()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	cons, err := w.consumer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Two "workers" take the job and die holding it; the third fetch finds
	// nothing to deliver, and JetStream gives up on the job.
	for i := range 3 {
		taken, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for range taken.Messages() {
			n++
		}
		if want := min(1, 2-i); n != want {
			t.Fatalf("fetch %d: %d jobs, want %d", i+1, n, want)
		}
	}
	p, got := follow(t, js, batch)
	r := got["camera_Nikon_P6000_GPS.jpg"]
	if p.Failed != 1 || r.Attempts != 2 || r.Stage != "queue" || !strings.Contains(r.Error, "no worker ended this job") {
		t.Fatalf("progress %+v, result %+v", p, r)
	}
	select {
	case <-results:
	case <-time.After(5 * time.Second):
		t.Error("OnResult not called for the dead job")
	}
	status, err := Status(context.Background(), js, batch)
	if err != nil || status.Queued != 0 || !status.Complete() {
		t.Errorf("status %+v, %v: want complete, nothing queued", status, err)
	}
}

// TestMaxDeliveriesLastError: a job that failed with an error that may
// pass (an output folder that cannot be written), and whose later
// deliveries were all abandoned (workers killed), reaches its delivery
// limit and is reported failed with that last error, not only with "no
// worker ended it".
func TestMaxDeliveriesLastError(t *testing.T) {
	s := startServer(t, t.TempDir())
	js := connect(t, s.ClientURL())
	blocker := filepath.Join(t.TempDir(), "out")
	os.WriteFile(blocker, []byte("a file, not a folder"), 0o644)
	batch, _ := enqueue(t, js, settings(t, blocker), "../../testdata/photos/camera_Nikon_P6000_GPS.jpg")
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, AttemptsBucket)
	if err != nil {
		t.Fatal(err)
	}

	// A real worker takes the first delivery, fails it, records the error
	// and asks for the job again in 3 s; it stops before then. (Its ack
	// wait is long, so that a slow machine does not see the job come back
	// to it; the dying "worker" below shortens it, which makes the job due
	// at once.)
	const ackWait = 300 * time.Millisecond
	w1 := &Worker{JS: js, Jobs: 1, AckWait: 10 * time.Second, MaxDeliver: 2, RetryDelay: 3 * time.Second}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- w1.Run(wctx) }()
	var rec attempt
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if e, err := kv.Get(ctx, attemptKey(1)); err == nil {
			if err := json.Unmarshal(e.Value(), &rec); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("no failed attempt recorded")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rec.Attempt != 1 || rec.Stage == "" || !strings.Contains(rec.Error, blocker) {
		t.Fatalf("recorded %+v: want attempt 1, its stage, an error naming %s", rec, blocker)
	}

	// The second delivery goes to a "worker" that dies holding it; the
	// next fetch finds nothing to deliver and JetStream gives up on the job.
	w2 := &Worker{JS: js, AckWait: ackWait, MaxDeliver: 2, attempts: kv}
	w2.defaults()
	stop, err := w2.reportDead()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	cons, err := w2.consumer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, wait := range []time.Duration{10 * time.Second, time.Second} {
		taken, err := cons.Fetch(1, jetstream.FetchMaxWait(wait))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for range taken.Messages() {
			n++
		}
		if want := 1 - i; n != want {
			t.Fatalf("fetch %d: %d jobs, want %d", i+1, n, want)
		}
	}
	p, got := follow(t, js, batch)
	r := got["camera_Nikon_P6000_GPS.jpg"]
	if p.Failed != 1 || r.Attempts != 2 || r.Stage != rec.Stage || !strings.Contains(r.Error, rec.Error) ||
		!strings.Contains(r.Error, "after 2 attempts") {
		t.Fatalf("progress %+v, result %+v: want failed after 2 attempts with the error of attempt 1, %q", p, r, rec.Error)
	}
	t.Logf("reported: %s", r.Error)
	if _, err := kv.Get(ctx, attemptKey(1)); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("the attempt's record is still there once the job has its result: %v", err)
	}
}

// TestReenqueueSkipsUpToDate: the inputs of a finished batch enqueued
// again (as a new batch: the same one within the duplicate window adds
// nothing) are skipped as up to date, as resize skips them, by the worker
// that made the outputs and by a worker started since; their outputs are
// not rewritten.
func TestReenqueueSkipsUpToDate(t *testing.T) {
	s := startServer(t, t.TempDir())
	js := connect(t, s.ClientURL())
	out := t.TempDir()
	set := settings(t, out)
	ctx := context.Background()
	run := func(batch string) (Progress, map[string]Result) {
		t.Helper()
		n, err := Enqueue(ctx, js, batch, set, pipeline.Dirs([]string{"../../testdata/photos"}, pipeline.ScanOptions{}), nil)
		if err != nil || n != 5 {
			t.Fatalf("enqueue %s: %d jobs, %v", batch, n, err)
		}
		return follow(t, js, batch)
	}
	w1 := &Worker{JS: js, Jobs: 2}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- w1.Run(wctx) }()
	if p, _ := run("first"); p.OK != 5 {
		cancel()
		<-done
		t.Fatalf("first: %+v", p)
	}
	mtimes := map[string]time.Time{}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && !strings.HasPrefix(e.Name(), ".") {
			mtimes[e.Name()] = info.ModTime()
		}
	}
	p, got := run("again")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	startWorker(t, js, nil)
	p2, got2 := run("again-later")
	for _, c := range []struct {
		name string
		p    Progress
		got  map[string]Result
	}{{"the same worker", p, got}, {"a new worker", p2, got2}} {
		if c.p.Skipped != 5 {
			t.Errorf("%s: progress %+v, want 5 skipped", c.name, c.p)
		}
		for name, r := range c.got {
			if r.Status != pipeline.StatusSkipped || len(r.Outputs) != 1 {
				t.Errorf("%s: %s: %+v", c.name, name, r)
				continue
			}
			if _, ok := mtimes[filepath.Base(r.Outputs[0].Path)]; !ok {
				t.Errorf("%s: %s: output %s not one the first batch made", c.name, name, r.Outputs[0].Path)
			}
		}
	}
	for name, m := range mtimes {
		info, err := os.Stat(filepath.Join(out, name))
		if err != nil || !info.ModTime().Equal(m) {
			t.Errorf("%s rewritten: %v, %v", name, info.ModTime(), err)
		}
	}
}

// TestPullBounded: a worker never holds more than Jobs+Ahead jobs, however
// many are queued: no unbounded prefetch.
func TestPullBounded(t *testing.T) {
	s := startServer(t, t.TempDir())
	js := connect(t, s.ClientURL())
	set := settings(t, t.TempDir())
	set.Output.Width, set.Output.Height = 1600, 1600 // jobs slow enough to be seen in hand
	batch, n := enqueue(t, js, set, "../../testdata/photos")
	startWorkerWith(t, js, func(w *Worker) { w.Jobs, w.Ahead = 1, 1 })
	ctx := context.Background()
	cons, err := js.Consumer(ctx, JobsStream, Consumer)
	for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		cons, err = js.Consumer(ctx, JobsStream, Consumer)
	}
	if err != nil {
		t.Fatal(err)
	}
	most := 0
	for {
		ci, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		most = max(most, ci.NumAckPending)
		if ci.NumPending == 0 && ci.NumAckPending == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if most > 2 {
		t.Errorf("the worker held %d jobs at once, want at most Jobs+Ahead = 2", most)
	}
	t.Logf("%d jobs, at most %d held at once", n, most)
	if p, _ := follow(t, js, batch); p.OK != n {
		t.Fatalf("progress %+v", p)
	}
}
