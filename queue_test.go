package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"github.com/imgpipe/imgpipe/internal/objstore/s3test"
	"github.com/imgpipe/imgpipe/internal/plan"
)

// syncBuffer is a bytes.Buffer a child process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// child is an imgpipe process started by a test, killed at its end.
type child struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(binary, args...), stderr: &syncBuffer{}, done: make(chan error, 1)}
	c.cmd.Stderr = c.stderr
	c.cmd.Stdout = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.done
		if t.Failed() {
			t.Logf("imgpipe %s:\n%s", strings.Join(args, " "), c.stderr.String())
		}
	})
	return c
}

// waitFor waits (at most 10 s) until the child's output holds text.
func (c *child) waitFor(t *testing.T, text string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(c.stderr.String(), text) {
			return
		}
	}
	t.Fatalf("no %q from imgpipe %v after 10 s:\n%s", text, c.cmd.Args[1:], c.stderr.String())
}

// waitForAny waits (at most 10 s) until one of texts is in the child's output.
func (c *child) waitForAny(t *testing.T, texts ...string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, text := range texts {
			if strings.Contains(c.stderr.String(), text) {
				return
			}
		}
	}
	t.Fatalf("none of %q from imgpipe %v after 10 s:\n%s", texts, c.cmd.Args[1:], c.stderr.String())
}

// waitForCount waits (at most 10 s) until text is in the child's output n times.
func (c *child) waitForCount(t *testing.T, text string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if strings.Count(c.stderr.String(), text) >= n {
			return
		}
	}
	t.Fatalf("%q not %d times from imgpipe %v after 10 s:\n%s", text, n, c.cmd.Args[1:], c.stderr.String())
}

// stop sends SIGTERM and waits (at most 10 s) for the child to exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		c.done <- nil // for Cleanup
	case <-time.After(10 * time.Second):
		t.Fatalf("imgpipe %v: still running 10 s after SIGTERM", c.cmd.Args[1:])
	}
}

// freePort returns a port on 127.0.0.1 that was free a moment ago: the
// server must come back on the same one after its restart.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestQueueEndToEnd runs the built binary as a farm would: a server, two
// workers and enqueue --wait over copies of the test photos. One worker is
// killed with SIGKILL mid-batch and the server is restarted once; every
// input must still end with one report row and a whole output.
func TestQueueEndToEnd(t *testing.T) {
	addr := freePort(t)
	url := "nats://" + addr
	store := t.TempDir()
	srv := startChild(t, "server", "--store", store, "--listen", addr)
	srv.waitFor(t, "JetStream on")

	// 3 copies of the 5 photos in subfolders: 15 jobs, enough that both
	// workers are busy when one dies.
	photos := []string{"Painting-Colors_by__herobrine7gamer.jpg", "camera_Nikon_P6000_GPS.jpg",
		"friends_by_Aitzol_Berasategi.jpg", "phone_Samsung_SM-G930F.jpg", "plasma_FallenLeaf_2560x1600.jpg"}
	var rels []string
	in := t.TempDir()
	for i := range 3 {
		for _, name := range photos {
			data, err := os.ReadFile(filepath.Join("testdata", "photos", name))
			if err != nil {
				t.Fatal(err)
			}
			rel := filepath.Join(fmt.Sprintf("set%d", i), name)
			os.MkdirAll(filepath.Join(in, filepath.Dir(rel)), 0o755)
			os.WriteFile(filepath.Join(in, rel), data, 0o644)
			rels = append(rels, rel)
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	report := filepath.Join(t.TempDir(), "report.csv")

	workerArgs := []string{"worker", "--nats", url, "-j", "1", "--ack-wait", "2s", "--max-memory", "256MiB", "-v"}
	victim := startChild(t, workerArgs...)
	other := startChild(t, workerArgs...)
	enq := startChild(t, "enqueue", in, "-o", out, "-w", "400", "-H", "400", "--nats", url, "--wait",
		"--report", report, "--progress", "never")

	// Killed once it has taken its second job (logged after the fetch,
	// before any ack): that job must go to the other worker.
	victim.waitForCount(t, "msg=start", 2)
	victim.cmd.Process.Signal(syscall.SIGKILL)

	other.waitFor(t, "msg=ok")
	srv.stop(t)
	srv = startChild(t, "server", "--store", store, "--listen", addr)
	srv.waitFor(t, "JetStream on")

	var err error
	select {
	case err = <-enq.done:
		enq.done <- err
	case <-time.After(20 * time.Second):
		t.Fatal("enqueue --wait: not done after 20 s")
	}
	if err != nil {
		t.Fatalf("enqueue --wait: %v", err)
	}

	m := regexp.MustCompile(`batch ([0-9a-f]+): 15 jobs enqueued`).FindStringSubmatch(enq.stderr.String())
	if m == nil {
		t.Fatalf("no batch id from enqueue:\n%s", enq.stderr.String())
	}
	// A job whose outputs were written but whose result could not be
	// published (the server down) or acked (the worker killed) is done
	// again and finds its outputs up to date: each job ok or skipped. Such
	// a job has its result but stays queued until its redelivery (after the
	// 2 s ack wait) is acked, which may come after enqueue --wait returns.
	var code int
	var stdout, stderr string
	want := regexp.MustCompile(`15 of 15 done: \d+ ok, \d+ skipped, 0 failed; 0 queued`)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, stdout, stderr = imgpipe(t, "status", m[1], "--nats", url)
		if code == 0 && want.MatchString(stdout) || time.Now().After(deadline) {
			break
		}
	}
	if code != 0 || !want.MatchString(stdout) {
		t.Errorf("status, 15 s after enqueue --wait: exit %d, %q %q", code, stdout, stderr)
	}

	if strings.Contains(other.stderr.String(), "attempt=2") {
		t.Log("the killed worker's job was redelivered to the other")
	} else {
		t.Log("the killed worker had finished its job before the kill") // rare: TestAbandonedJobRedelivered covers it
	}

	f, err := os.Open(report)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		input, output, status := row[0], row[1], row[2]
		if seen[input] {
			t.Errorf("%s: two report rows", input)
		}
		seen[input] = true
		if status != "ok" && status != "skipped" {
			t.Errorf("%s: %s: %s", input, status, row[4])
		}
		if status == "ok" {
			decodeWhole(t, output, 400)
		}
	}
	if len(seen) != 15 {
		t.Errorf("report has %d inputs, want 15", len(seen))
	}
	// Every output is whole: the killed worker left at most temporary files
	// (and the output folder's record, plan.StateName, is not an image).
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !atomicfile.IsTemp(p) && d.Name() != plan.StateName {
			decodeWhole(t, p, 400)
		}
		return nil
	})
	for _, rel := range rels {
		if _, err := os.Stat(filepath.Join(out, rel)); err != nil {
			t.Error(err)
		}
	}
}

// decodeWhole checks that path holds a complete image no bigger than box.
func decodeWhole(t *testing.T, path string, box int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if s := img.Bounds().Size(); s.X > box || s.Y > box {
		t.Errorf("%s: %v, want within %dx%d", path, s, box, box)
	}
}

// TestEnqueueNoServer: no server at the URL is exit 3, said plainly.
func TestEnqueueNoServer(t *testing.T) {
	code, _, stderr := imgpipe(t, "enqueue", "testdata/photos", "-o", t.TempDir(), "--nats", "nats://"+freePort(t))
	if code != exitNoServer || !strings.Contains(stderr, "nats") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestWatchQueue runs the built binary as a drop folder on a farm: a
// server, a worker and watch --nats. A photo renamed into the folder comes
// out in OUTDIR, done by the worker; the same photo rewritten is a new job.
func TestWatchQueue(t *testing.T) {
	addr := freePort(t)
	url := "nats://" + addr
	srv := startChild(t, "server", "--store", t.TempDir(), "--listen", addr)
	srv.waitFor(t, "JetStream on")
	wk := startChild(t, "worker", "--nats", url, "-j", "1", "-v")
	drop, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	watch := startChild(t, "watch", drop, "-o", out, "-w", "300", "-H", "300", "--nats", url, "--settle", "200ms")
	watch.waitFor(t, "msg=watching")

	data, err := os.ReadFile(filepath.Join("testdata", "photos", "camera_Nikon_P6000_GPS.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	land := func() {
		tmp := filepath.Join(drop, "upload.jpg.part")
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(drop, "upload.jpg")); err != nil {
			t.Fatal(err)
		}
	}
	land()
	wk.waitForCount(t, "msg=ok", 1)
	decodeWhole(t, filepath.Join(out, "upload.jpg"), 300)

	time.Sleep(20 * time.Millisecond) // a later modification time on coarse clocks
	land()
	wk.waitForCount(t, "msg=ok", 2) // done again, not skipped: the input changed
	watch.waitForCount(t, "msg=enqueued", 2)
	decodeWhole(t, filepath.Join(out, "upload.jpg"), 300)
	if strings.Contains(wk.stderr.String(), "msg=failed") {
		t.Errorf("a job failed:\n%s", wk.stderr.String())
	}
	m := regexp.MustCompile(`batch=([0-9a-f]+-[0-9]{8})`).FindStringSubmatch(watch.stderr.String())
	if m == nil {
		t.Fatalf("no batch in the watch's log:\n%s", watch.stderr.String())
	}
	code, stdout, _ := imgpipe(t, "status", m[1], "--nats", url)
	if code != 4 || !strings.Contains(stdout, "1 of unknown") || !strings.Contains(stdout, "1 ok") {
		t.Errorf("status of the watch's batch: exit %d, %q", code, stdout)
	}
	watch.stop(t)
	if !strings.Contains(watch.stderr.String(), "enqueued=2") {
		t.Errorf("watch's last line:\n%s", watch.stderr.String())
	}

	// Restarted the same day, the watch's catch-up finds the file as it was
	// enqueued: the same job, which JetStream drops as a duplicate. A watch's
	// batch is named by its UTC day, so a restart after midnight is a new
	// batch, which enqueues the file once.
	again := startChild(t, "watch", drop, "-o", out, "-w", "300", "-H", "300", "--nats", url, "--settle", "200ms", "-v")
	again.waitForAny(t, "msg=\"already queued\"", "msg=enqueued")
	again.stop(t)
	log := again.stderr.String()
	if !strings.Contains(log, "msg=enqueued") {
		if !strings.Contains(log, "enqueued=0") {
			t.Errorf("the restarted watch's last line:\n%s", log)
		}
		return
	}
	if strings.Contains(log, "batch="+m[1]) || !strings.Contains(log, "enqueued=1") {
		t.Errorf("the restarted watch enqueued the file again on the same day, or more than once:\n%s", log)
	}
}

// TestQueueObjectStorage runs the built binary with inputs and outputs in
// a bucket of a real S3 server: enqueue --s3-endpoint lists the inputs, the
// worker (endpoint from AWS_ENDPOINT_URL) reads them and puts the outputs.
func TestQueueObjectStorage(t *testing.T) {
	s3 := s3test.Start(t, "photos")
	c := s3.Store(t).Client()
	ctx := context.Background()
	names := []string{"camera_Nikon_P6000_GPS.jpg", "phone_Samsung_SM-G930F.jpg"}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("testdata", "photos", n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutObject(ctx, "photos", "in/"+n, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	addr := freePort(t)
	url := "nats://" + addr
	srv := startChild(t, "server", "--store", t.TempDir(), "--listen", addr)
	srv.waitFor(t, "JetStream on")
	startChild(t, "worker", "--nats", url, "-j", "1")
	report := filepath.Join(t.TempDir(), "report.csv")
	code, _, stderr := imgpipe(t, "enqueue", "s3://photos/in", "-o", "s3://photos/web", "-w", "240", "-H", "240",
		"--s3-endpoint", s3.Endpoint, "--nats", url, "--wait", "--report", report, "--progress", "never")
	if code != 0 {
		t.Fatalf("enqueue --wait: exit %d\n%s", code, stderr)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(string(data), "s3://photos/web/"+n) {
			t.Errorf("report has no row for s3://photos/web/%s:\n%s", n, data)
		}
		obj, err := c.GetObject(ctx, "photos", "web/"+n, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(obj)
		obj.Close()
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if s := img.Bounds().Size(); s.X > 240 || s.Y > 240 {
			t.Errorf("%s: %v", n, s)
		}
	}
}

// TestResizeObjectStorage: resize reads from and writes to a bucket
// through the pipeline's Source and Sink seams, no queue involved.
func TestResizeObjectStorage(t *testing.T) {
	s3 := s3test.Start(t, "photos")
	c := s3.Store(t).Client()
	ctx := context.Background()
	names := []string{"camera_Nikon_P6000_GPS.jpg", "phone_Samsung_SM-G930F.jpg"}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("testdata", "photos", n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutObject(ctx, "photos", "in/sub/"+n, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	report := filepath.Join(t.TempDir(), "report.csv")
	code, _, stderr := imgpipe(t, "resize", "s3://photos/in", "-o", "s3://photos/web", "-w", "120", "-H", "120",
		"--report", report, "--progress", "never") // endpoint from AWS_ENDPOINT_URL
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		row := "s3://photos/in/sub/" + n + ",s3://photos/web/sub/" + n + ",ok"
		if !strings.Contains(string(data), row) {
			t.Errorf("report has no row %q:\n%s", row, data)
		}
		obj, err := c.GetObject(ctx, "photos", "web/sub/"+n, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(obj)
		obj.Close()
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if s := img.Bounds().Size(); s.X > 120 || s.Y > 120 {
			t.Errorf("%s: %v", n, s)
		}
	}
	// Run again: every output is up to date (its record, in its metadata,
	// names its input and settings), as files are.
	code, _, stderr = imgpipe(t, "resize", "s3://photos/in", "-o", "s3://photos/web", "-w", "120", "-H", "120",
		"--report", report, "--progress", "never")
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	if data, err = os.ReadFile(report); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		row := "s3://photos/in/sub/" + n + ",s3://photos/web/sub/" + n + ",skipped"
		if !strings.Contains(string(data), row) {
			t.Errorf("second run: report has no row %q:\n%s", row, data)
		}
	}
}

// TestWatchFlagsWithNats: what a watch that does not resize cannot do is
// refused at once, naming the flags.
func TestWatchFlagsWithNats(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"outputs in a bucket need the farm", []string{"-o", "s3://photos/web"}, "need --nats"},
		{"report with --nats", []string{"-o", t.TempDir(), "--nats", "nats://127.0.0.1:1", "--report", "r.csv"}, "--report"},
		{"delete-outputs with --nats", []string{"-o", t.TempDir(), "--nats", "nats://127.0.0.1:1", "--delete-outputs"}, "--delete-outputs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := imgpipe(t, append([]string{"watch", dir}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, tc.want)
			}
		})
	}
}
