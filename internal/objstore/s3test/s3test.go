// Package s3test starts a real S3-compatible server for tests: versitygw
// (github.com/versity/versitygw, Apache-2.0), a pure Go S3 gateway, serving
// a temporary folder through its posix back end on 127.0.0.1. Its objects
// are files it writes to a temporary name and links into place, so a PUT
// that fails leaves nothing, as on S3.
//
// The versitygw binary is found on PATH or in $GOPATH/bin; install it with
//
//	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
//
// (.ci/run does). Without it the tests that need it skip, except under CI
// (CI=true), where they fail.
package s3test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgpipe/imgpipe/internal/objstore"
)

// Version is the versitygw release the tests are run against.
const Version = "v1.8.0"

// Access and Secret are the server's root credentials.
const (
	Access = "imgpipe-test"
	Secret = "imgpipe-test-secret"
)

// Server is a running versitygw.
type Server struct {
	// Endpoint is its URL, "http://127.0.0.1:PORT".
	Endpoint string
	// Dir is the folder it serves: a bucket is a folder in it.
	Dir string
}

// binary finds versitygw, or skips (fails under CI) the test.
func binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "versitygw not installed (go install github.com/versity/versitygw/cmd/versitygw@" + Version + ")"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Start starts versitygw on a free port of 127.0.0.1 with the given
// buckets, sets the AWS variables (credentials, AWS_ENDPOINT_URL) for the
// rest of the test so that objstore.New and child processes find it, and
// stops it when the test ends. Not for parallel tests (t.Setenv).
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	bin := binary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &Server{Endpoint: "http://" + addr, Dir: t.TempDir()}
	cmd := exec.Command(bin, "--access", Access, "--secret", Secret, "--port", addr, "posix", s.Dir)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("versitygw:\n%s", out.String())
		}
	})
	t.Setenv("AWS_ACCESS_KEY_ID", Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", Secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL", s.Endpoint)

	c := s.Store(t).Client()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, err := c.ListBuckets(ctx)
		if err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("versitygw exited: %v\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("versitygw on %s not ready after 15 s: %v\n%s", addr, err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, b := range buckets {
		if err := c.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
			t.Fatalf("make bucket %s: %v", b, err)
		}
	}
	return s
}

// Store is an objstore.Store for the server.
func (s *Server) Store(t testing.TB) *objstore.Store {
	t.Helper()
	st, err := objstore.New(objstore.Options{Endpoint: s.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// syncBuffer collects the server's log.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
