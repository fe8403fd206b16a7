// Package objstore reads inputs from, and writes outputs to, S3-compatible
// object storage addressed as s3://bucket/prefix URLs, through the MinIO
// client (github.com/minio/minio-go/v7): AWS S3, MinIO, Ceph RGW,
// SeaweedFS, Garage, versitygw and the other S3-compatible stores.
//
// It gives the pipeline's seams what they need: a Source that lists the
// images below a prefix, a File for one object (Stat), and a Sink that puts
// each output with a single PUT, so that an output appears whole or not at
// all, as a file renamed into place does.
package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/imgpipe/imgpipe/internal/format"
	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/pipeline"
	"github.com/imgpipe/imgpipe/stages"
)

// Scheme starts every object URL.
const Scheme = "s3://"

// IsURL reports whether s names objects (s3://bucket/prefix) rather than
// a path.
func IsURL(s string) bool { return strings.HasPrefix(s, Scheme) }

// Location is a parsed s3://bucket/prefix URL. Prefix has no leading or
// trailing slash; it may be empty (the whole bucket).
type Location struct {
	Bucket, Prefix string
}

// Parse reads an s3://bucket/prefix URL.
func Parse(u string) (Location, error) {
	if !IsURL(u) {
		return Location{}, fmt.Errorf("%s: not an %sbucket/prefix URL", u, Scheme)
	}
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(u, Scheme), "/")
	if bucket == "" {
		return Location{}, fmt.Errorf("%s: no bucket", u)
	}
	return Location{Bucket: bucket, Prefix: strings.Trim(prefix, "/")}, nil
}

// String is the URL of l.
func (l Location) String() string {
	if l.Prefix == "" {
		return Scheme + l.Bucket
	}
	return Scheme + l.Bucket + "/" + l.Prefix
}

// key is the object key of name below l.
func (l Location) key(name string) string {
	if l.Prefix == "" {
		return name
	}
	return l.Prefix + "/" + name
}

// Options says where the store is. The zero value means AWS S3, or the
// endpoint in AWS_ENDPOINT_URL.
type Options struct {
	// Endpoint is the store's URL ("http://127.0.0.1:9000",
	// "https://minio.example"); a bare host:port means https. Default:
	// AWS_ENDPOINT_URL, then AWS S3.
	Endpoint string
	// Region is the bucket's region; default AWS_REGION, then
	// AWS_DEFAULT_REGION, then what the store says.
	Region string
}

// Store is a connection to one S3-compatible store. Credentials come from
// the usual AWS places: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN, then ~/.aws/credentials (AWS_PROFILE), then the
// instance's IAM role. It is safe for concurrent use. New connects to
// nothing: the first request does.
type Store struct {
	c *minio.Client
}

// requestRetries is how often a request is tried before it fails: a few
// quick tries (the client's backoff: 200 ms, 400 ms, ...) ride out a blip;
// beyond that the queue retries the whole job later, with its own backoff,
// where the client's default, 10, would hold a job for half a minute.
const requestRetries = 3

// New returns a Store for the endpoint o names.
func New(o Options) (*Store, error) {
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if endpoint == "" {
		endpoint = "https://s3.amazonaws.com"
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("s3 endpoint %q: want http(s)://host[:port]", endpoint)
	}
	region := o.Region
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if region == "" {
			region = os.Getenv(v)
		}
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{},
	})
	c, err := minio.New(u.Host, &minio.Options{Creds: creds, Secure: u.Scheme == "https", Region: region,
		MaxRetries: requestRetries})
	if err != nil {
		return nil, fmt.Errorf("s3 endpoint %s: %w", endpoint, err)
	}
	return &Store{c: c}, nil
}

// Client is the MinIO client the store uses, for what this package does
// not wrap (making buckets in tests and tools).
func (s *Store) Client() *minio.Client { return s.c }

// notExist turns the store's "no such object/bucket" into fs.ErrNotExist,
// which the worker takes for a permanent failure; other errors (the store
// unreachable, access denied) pass as they are.
func notExist(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, minio.NoSuchBucket:
		return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	return err
}

// Stat returns the input File for the object at u, which the decode stage
// reads with a GET, and rel as its path below the root it was listed under.
func (s *Store) Stat(ctx context.Context, u, rel string) (stages.File, error) {
	f := stages.File{Path: u, Rel: rel}
	l, err := Parse(u)
	if err != nil {
		return f, err
	}
	info, err := s.c.StatObject(ctx, l.Bucket, l.Prefix, minio.StatObjectOptions{})
	if err != nil {
		return f, fmt.Errorf("stat %s: %w", u, notExist(err))
	}
	return s.file(l.Bucket, info, rel), nil
}

// file is the input File of an object. Open gets the object as it was
// listed (If-Match its ETag): an object replaced since fails rather than
// mixing one version's size with another's bytes.
func (s *Store) file(bucket string, info minio.ObjectInfo, rel string) stages.File {
	u := Location{Bucket: bucket, Prefix: info.Key}.String()
	return stages.File{Path: u, Rel: rel, Size: info.Size, ModTime: info.LastModified,
		Open: func() (io.ReadCloser, error) {
			opts := minio.GetObjectOptions{}
			if info.ETag != "" {
				opts.SetMatchETag(info.ETag)
			}
			obj, err := s.c.GetObject(context.Background(), bucket, info.Key, opts)
			if err != nil {
				return nil, fmt.Errorf("get %s: %w", u, notExist(err))
			}
			// A stream, read once from the start: the decode stage buffers
			// it, where the object's ReadAt would cost a ranged GET a call.
			return struct{ io.ReadCloser }{obj}, nil
		}}
}

// Source lists the images below the prefix u names, as pipeline.Dirs does
// a folder: the objects that rule keeps whose extension names a format
// imgpipe reads (an object's bytes are not sniffed while listing: that
// would cost a GET each). A URL that names one object is that input,
// whatever its name. Outputs mirror the keys below the prefix.
func (s *Store) Source(u string, rule stages.InputRule) pipeline.Source {
	return func(ctx context.Context, emit pipeline.Emit) error {
		l, err := Parse(u)
		if err != nil {
			return emit(stages.File{Path: u}, err)
		}
		if l.Prefix != "" && path.Ext(l.Prefix) != "" {
			if f, err := s.Stat(ctx, u, path.Base(l.Prefix)); err == nil {
				return emit(f, nil)
			}
		}
		prefix := l.Prefix
		if prefix != "" {
			prefix += "/"
		}
		lctx, cancel := context.WithCancel(ctx)
		defer cancel() // ends the listing's goroutine if emit stops early
		found := false
		for info := range s.c.ListObjects(lctx, l.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if info.Err != nil {
				return fmt.Errorf("list %s: %w", u, notExist(info.Err))
			}
			found = true
			rel := strings.TrimPrefix(info.Key, prefix)
			if skipKey(rel, rule) {
				continue
			}
			if err := emit(s.file(l.Bucket, info, rel), nil); err != nil {
				return err
			}
		}
		if !found {
			if _, err := s.c.BucketExists(ctx, l.Bucket); err != nil {
				return fmt.Errorf("list %s: %w", u, notExist(err))
			}
		}
		return ctx.Err()
	}
}

// skipKey reports whether the object at rel (below the listed prefix) is
// left alone: a folder marker, anything below a folder the rule skips
// (".git/", "x.tmp/"), or a name that is skipped or names no image format.
func skipKey(rel string, rule stages.InputRule) bool {
	if rel == "" || strings.HasSuffix(rel, "/") {
		return true
	}
	parts := strings.Split(rel, "/")
	for _, dir := range parts[:len(parts)-1] {
		if rule.Skip(dir, true) {
			return true
		}
	}
	name := parts[len(parts)-1]
	ext := strings.TrimPrefix(path.Ext(name), ".")
	return rule.Skip(name, false) || ext == "" || format.ByExt(ext) == nil
}

// Sink returns a pipeline.Sink that puts each output below the prefix u
// names, at the output's name (Target.Name), each with a single PUT, which
// S3 stores whole or not at all: no reader ever sees part of an output, and
// a worker killed mid-PUT leaves nothing. Outputs over 5 GiB, the most one
// PUT takes, fail. Each output carries its record in its metadata (see
// Check).
func (s *Store) Sink(u string) (pipeline.Sink, error) {
	l, err := Parse(u)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, e *stages.Encoded) error {
		for i, t := range e.Targets {
			if i >= len(e.Files) {
				break
			}
			rec := recordOf(e.File, plan.Rel(e.File), t.Settings)
			if err := s.put(ctx, l, t.Name, bytes.NewReader(e.Files[i]), int64(len(e.Files[i])), rec); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// The record of an output, in its metadata (x-amz-meta-imgpipe-*): what it
// was made from (the input's path below its root, size and modification
// time, to the second: S3 gives no finer) and with which settings.
const (
	metaInput    = "Imgpipe-Input"
	metaSize     = "Imgpipe-Input-Size"
	metaModTime  = "Imgpipe-Input-Mtime"
	metaSettings = "Imgpipe-Settings"
)

func recordOf(f stages.File, rel, settings string) map[string]string {
	return map[string]string{metaInput: url.PathEscape(rel), metaSize: strconv.FormatInt(f.Size, 10),
		metaModTime: strconv.FormatInt(f.ModTime.Unix(), 10), metaSettings: settings}
}

// checkWait bounds the look at one output: a store that does not answer
// fails the input (a transient failure: the queue retries it).
const checkWait = 30 * time.Second

// Check returns the pipeline.SinkCheck of Sink(u)'s outputs: an input is
// up to date when each of its outputs exists with the record Sink put on
// it, for this input (path below its root, size, modification time) and
// these settings. It costs a HEAD an output. An output named by its bytes
// ({hash}) cannot be found before it is encoded, so it is always made
// again; so is an object with no record (put by hand, or before imgpipe
// kept one).
func (s *Store) Check(u string) (pipeline.SinkCheck, error) {
	l, err := Parse(u)
	if err != nil {
		return nil, err
	}
	return func(f stages.File, rel string, targets []stages.Target) (string, error) {
		want := recordOf(f, rel, "")
		for _, t := range targets {
			if strings.Contains(t.Name, "{hash}") {
				return "new", nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), checkWait)
			info, err := s.c.StatObject(ctx, l.Bucket, l.key(t.Name), minio.StatObjectOptions{})
			cancel()
			if errors.Is(notExist(err), fs.ErrNotExist) {
				return "new", nil
			}
			if err != nil {
				return "", fmt.Errorf("stat %s: %w", URL(u, t.Name), err)
			}
			m := info.Metadata
			switch {
			case m.Get("X-Amz-Meta-"+metaSettings) == "":
				return "no record of how the output was made", nil
			case m.Get("X-Amz-Meta-"+metaInput) != want[metaInput]:
				return "made from another input", nil
			case f.ModTime.IsZero() || m.Get("X-Amz-Meta-"+metaSize) != want[metaSize] ||
				m.Get("X-Amz-Meta-"+metaModTime) != want[metaModTime]:
				return "the input changed", nil
			case m.Get("X-Amz-Meta-"+metaSettings) != t.Settings:
				return "settings changed", nil
			}
		}
		return "", nil
	}, nil
}

// put stores size bytes from r as name below l in one PUT, with meta as its
// user metadata.
func (s *Store) put(ctx context.Context, l Location, name string, r io.Reader, size int64, meta map[string]string) error {
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	_, err := s.c.PutObject(ctx, l.Bucket, l.key(name), r, size, minio.PutObjectOptions{
		ContentType:      ctype,
		UserMetadata:     meta,
		DisableMultipart: true, // one PUT: atomic
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", l.key(name), err)
	}
	return nil
}

// URL is the URL of the output name below the prefix u, for results.
func URL(u, name string) string { return strings.TrimSuffix(u, "/") + "/" + name }

// Outputs returns r with the paths of its outputs, which a Sink's results
// give below the output prefix ("a.jpg"), as URLs below u
// ("s3://photos/web/a.jpg"). r's own Outputs are left as they are.
func Outputs(u string, r pipeline.Result) pipeline.Result {
	if r.Status != pipeline.StatusOK && r.Status != pipeline.StatusSkipped {
		return r
	}
	outs := make([]pipeline.Rendition, len(r.Outputs))
	for i, o := range r.Outputs {
		o.Path = URL(u, o.Path)
		outs[i] = o
	}
	r.Outputs = outs
	return r
}
