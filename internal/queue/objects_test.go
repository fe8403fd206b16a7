package queue

import (
	"bytes"
	"context"
	"image"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/imgpipe/imgpipe/internal/objstore"
	"github.com/imgpipe/imgpipe/internal/objstore/s3test"
	"github.com/imgpipe/imgpipe/pipeline"
	"github.com/imgpipe/imgpipe/stages"
)

// TestObjectStorage: inputs in a bucket, outputs to a bucket, through a
// real S3 server (versitygw) and a real NATS server.
func TestObjectStorage(t *testing.T) {
	s3 := s3test.Start(t, "photos")
	store := s3.Store(t)
	ctx := context.Background()
	photos, err := os.ReadDir("../../testdata/photos")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range photos {
		data, err := os.ReadFile(filepath.Join("../../testdata/photos", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Client().PutObject(ctx, "photos", "in/"+e.Name(), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServer(t, t.TempDir())
	js := connect(t, srv.ClientURL())
	var cfg pipeline.Config
	cfg.OutDir = "s3://photos/web/"
	cfg.Output.Width, cfg.Output.Height = 200, 200
	s, err := SettingsOf(cfg)
	if err != nil || s.OutDir != "s3://photos/web" {
		t.Fatalf("settings %+v, %v", s, err)
	}
	inputs := []string{"s3://photos/in"}
	batch := BatchID(s, inputs)
	n, err := Enqueue(ctx, js, batch, s, store.Source(inputs[0], stages.InputRule{}), func(r pipeline.Result) { t.Errorf("scan: %v", r.Err) })
	if err != nil || n != len(photos) {
		t.Fatalf("enqueued %d jobs, %v; want %d", n, err, len(photos))
	}
	startWorker(t, js, nil)
	p, got := follow(t, js, batch)
	if p.OK != len(photos) || p.Failed != 0 {
		t.Fatalf("progress %+v", p)
	}
	for name, r := range got {
		if !strings.HasPrefix(r.Input, "s3://photos/in/") || len(r.Outputs) != 1 || r.Outputs[0].Path != "s3://photos/web/"+name {
			t.Errorf("%s: result %+v", name, r)
			continue
		}
		obj, err := store.Client().GetObject(ctx, "photos", "web/"+name, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(obj)
		obj.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if size := img.Bounds().Size(); size.X > 200 || size.Y > 200 || size.X != r.Outputs[0].Width {
			t.Errorf("%s: output %v, result %+v", name, size, r.Outputs[0])
		}
	}

	// The same inputs enqueued again (a new batch) are skipped as up to
	// date: each output's record, in its metadata, names its input and
	// settings; nothing is put again.
	etags := map[string]string{}
	for name := range got {
		info, err := store.Client().StatObject(ctx, "photos", "web/"+name, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		etags[name] = info.ETag + info.LastModified.String()
	}
	if _, err := Enqueue(ctx, js, "again", s, store.Source(inputs[0], stages.InputRule{}), nil); err != nil {
		t.Fatal(err)
	}
	p, got = follow(t, js, "again")
	if p.Skipped != len(photos) {
		t.Errorf("enqueued again: progress %+v, want %d skipped", p, len(photos))
	}
	for name, r := range got {
		if r.Status != pipeline.StatusSkipped || len(r.Outputs) != 1 || r.Outputs[0].Path != "s3://photos/web/"+name {
			t.Errorf("enqueued again: %s: result %+v", name, r)
		}
		info, err := store.Client().StatObject(ctx, "photos", "web/"+name, minio.StatObjectOptions{})
		if err != nil || info.ETag+info.LastModified.String() != etags[name] {
			t.Errorf("enqueued again: %s put again (%v)", name, err)
		}
	}
	// Other settings are not up to date: the outputs are made again.
	s2 := s
	s2.Output.Quality = 60
	if _, err := Enqueue(ctx, js, "quality", s2, store.Source(inputs[0], stages.InputRule{}), nil); err != nil {
		t.Fatal(err)
	}
	if p, _ = follow(t, js, "quality"); p.OK != len(photos) {
		t.Errorf("other settings: progress %+v, want %d made again", p, len(photos))
	}

	// An object deleted after enqueue is failed once, not retried.
	gone := pipeline.Source(func(ctx context.Context, emit pipeline.Emit) error {
		return emit(stages.File{Path: "s3://photos/in/gone.jpg", Rel: "gone.jpg"}, nil)
	})
	if _, err := Enqueue(ctx, js, "gone", s, gone, nil); err != nil {
		t.Fatal(err)
	}
	p, got = follow(t, js, "gone")
	if r := got["gone.jpg"]; p.Failed != 1 || r.Attempts != 1 || !strings.Contains(r.Error, "not exist") {
		t.Errorf("a missing object: progress %+v, result %+v", p, r)
	}
}

// TestObjectStoreUnreachable: a store that does not answer is a transient
// failure, retried up to MaxDeliver, then reported with its last error; a
// missing object is a permanent one, reported at once.
func TestObjectStoreUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	store, err := objstore.New(objstore.Options{Endpoint: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, t.TempDir())
	js := connect(t, srv.ClientURL())
	s := settings(t, t.TempDir())
	batch := "unreachable"
	src := pipeline.Source(func(ctx context.Context, emit pipeline.Emit) error {
		return emit(stages.File{Path: "s3://photos/in/a.jpg", Rel: "a.jpg"}, nil)
	})
	if _, err := Enqueue(context.Background(), js, batch, s, src, nil); err != nil {
		t.Fatal(err)
	}
	startWorkerWith(t, js, func(w *Worker) { w.Store = store })
	p, got := follow(t, js, batch)
	r := got["a.jpg"]
	if p.Failed != 1 || r.Attempts != 3 || !strings.Contains(r.Error, "after 3 attempts") {
		t.Fatalf("progress %+v, result %+v: want failed after 3 attempts", p, r)
	}
	t.Logf("last error: %s", r.Error)
}
