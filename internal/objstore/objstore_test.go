package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/imgpipe/imgpipe/internal/objstore"
	"github.com/imgpipe/imgpipe/internal/objstore/s3test"
	"github.com/imgpipe/imgpipe/pipeline"
	"github.com/imgpipe/imgpipe/stages"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		url, bucket, prefix string
		ok                  bool
	}{
		{"s3://photos", "photos", "", true},
		{"s3://photos/", "photos", "", true},
		{"s3://photos/2024/web/", "photos", "2024/web", true},
		{"s3://photos/a.jpg", "photos", "a.jpg", true},
		{"s3:///x", "", "", false},
		{"/srv/photos", "", "", false},
		{"gs://photos", "", "", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			l, err := objstore.Parse(tc.url)
			if (err == nil) != tc.ok || l.Bucket != tc.bucket || l.Prefix != tc.prefix {
				t.Errorf("Parse = %+v, %v; want %s %q ok=%v", l, err, tc.bucket, tc.prefix, tc.ok)
			}
		})
	}
}

func ExampleParse() {
	l, _ := objstore.Parse("s3://photos/2024/web/")
	fmt.Println(l.Bucket, l.Prefix, l)
	// Output: photos 2024/web s3://photos/2024/web
}

func TestNewEndpoint(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		ok       bool
	}{
		{"http://127.0.0.1:9000", true},
		{"https://minio.example", true},
		{"minio.example:9000", true},
		{"ftp://minio.example", false},
		{"http://", false},
	} {
		_, err := objstore.New(objstore.Options{Endpoint: tc.endpoint})
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.endpoint, err, tc.ok)
		}
	}
}

// put stores the bytes of a test photo (or data) at key.
func put(t *testing.T, c *minio.Client, bucket, key string, data []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func photo(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "photos", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSource lists a prefix as a scan lists a folder, and reads objects.
func TestSource(t *testing.T) {
	srv := s3test.Start(t, "photos")
	st := srv.Store(t)
	c := st.Client()
	jpg := photo(t, "camera_Nikon_P6000_GPS.jpg")
	for _, key := range []string{"in/a.jpg", "in/sub/B.JPEG", "in/notes.txt", "in/.hidden.jpg",
		"in/.git/c.jpg", "in/d.jpg.part", "in/noext", "other/e.jpg", "in2/f.jpg"} {
		put(t, c, "photos", key, jpg)
	}
	for _, tc := range []struct {
		url  string
		want []string // Rel of each input
		err  error
	}{
		{"s3://photos/in", []string{"a.jpg", "sub/B.JPEG"}, nil},
		{"s3://photos/in/", []string{"a.jpg", "sub/B.JPEG"}, nil},
		{"s3://photos/in/sub/B.JPEG", []string{"B.JPEG"}, nil},
		{"s3://photos", []string{"in/a.jpg", "in/sub/B.JPEG", "in2/f.jpg", "other/e.jpg"}, nil},
		{"s3://photos/none", nil, nil},
		{"s3://nobucket/in", nil, fs.ErrNotExist},
	} {
		t.Run(tc.url, func(t *testing.T) {
			var got []string
			err := st.Source(tc.url, stages.InputRule{})(context.Background(), func(f stages.File, err error) error {
				if err != nil {
					return err
				}
				got = append(got, f.Rel)
				if f.Size != int64(len(jpg)) || f.ModTime.IsZero() {
					t.Errorf("%s: size %d, time %v", f.Path, f.Size, f.ModTime)
				}
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				data, err := io.ReadAll(rc)
				if err != nil || !bytes.Equal(data, jpg) {
					t.Errorf("%s: read %d bytes, %v", f.Path, len(data), err)
				}
				return nil
			})
			slices.Sort(got)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) || !slices.Equal(got, tc.want) {
				t.Errorf("inputs %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
	if _, err := st.Stat(context.Background(), "s3://photos/in/missing.jpg", "missing.jpg"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a missing object: %v, want fs.ErrNotExist", err)
	}
}

// failingReader gives n bytes, then fails: a worker whose input stream
// broke mid-upload.
type failingReader struct {
	r io.Reader
	n int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection lost")
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// TestPutWholeOrNothing: an output whose upload breaks off is not there at
// all; one that completes is there whole.
func TestPutWholeOrNothing(t *testing.T) {
	srv := s3test.Start(t, "out")
	st := srv.Store(t)
	jpg := photo(t, "camera_Nikon_P6000_GPS.jpg")
	ctx := context.Background()
	err := objstore.Put(st, ctx, "s3://out/web", "broken.jpg", &failingReader{bytes.NewReader(jpg), len(jpg) / 2}, int64(len(jpg)))
	if err == nil {
		t.Fatal("a broken upload succeeded")
	}
	if _, err := st.Client().StatObject(ctx, "out", "web/broken.jpg", minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		t.Errorf("after a broken upload: %v, want NoSuchKey", err)
	}
	if err := objstore.Put(st, ctx, "s3://out/web", "whole.jpg", bytes.NewReader(jpg), int64(len(jpg))); err != nil {
		t.Fatal(err)
	}
	info, err := st.Client().StatObject(ctx, "out", "web/whole.jpg", minio.StatObjectOptions{})
	if err != nil || info.Size != int64(len(jpg)) || info.ContentType != "image/jpeg" {
		t.Errorf("whole upload: %+v, %v", info, err)
	}
}

// TestPipelineThroughBucket runs a pipeline from a bucket to a bucket
// through the Source and Sink seams.
func TestPipelineThroughBucket(t *testing.T) {
	srv := s3test.Start(t, "photos")
	st := srv.Store(t)
	names := []string{"camera_Nikon_P6000_GPS.jpg", "phone_Samsung_SM-G930F.jpg"}
	for _, n := range names {
		put(t, st.Client(), "photos", "in/"+n, photo(t, n))
	}
	put(t, st.Client(), "photos", "in/broken.jpg", []byte("not a jpeg at all, but named like one"))
	sink, err := st.Sink("s3://photos/web")
	if err != nil {
		t.Fatal(err)
	}
	var cfg pipeline.Config
	cfg.Output.Width, cfg.Output.Height = 160, 160
	results := map[string]pipeline.Result{}
	p, err := pipeline.New(cfg, pipeline.WithSink(sink), pipeline.OnResult(func(r pipeline.Result) { results[filepath.Base(r.Input)] = r }))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.Run(context.Background(), st.Source("s3://photos/in", stages.InputRule{}))
	if err != nil || sum.OK != 2 || sum.Failed != 1 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
	if r := results["broken.jpg"]; !errors.Is(r.Err, pipeline.ErrCorrupt) && !errors.Is(r.Err, pipeline.ErrNotImage) {
		t.Errorf("broken.jpg: %v", r.Err)
	}
	for _, n := range names {
		obj, err := st.Client().GetObject(context.Background(), "photos", "web/"+n, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(obj)
		obj.Close()
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if s := img.Bounds().Size(); s.X > 160 || s.Y > 160 || s.X != results[n].Outputs[0].Width {
			t.Errorf("%s: %v, result %+v", n, s, results[n].Outputs)
		}
	}
}
