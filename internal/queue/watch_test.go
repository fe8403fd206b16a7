package queue

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/imgpipe/imgpipe/stages"
)

func TestWatchBatch(t *testing.T) {
	s := settings(t, t.TempDir())
	dirs := []string{"/srv/drop"}
	day := time.Date(2026, 12, 2, 23, 59, 59, 0, time.UTC)
	paris := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name string
		a, b time.Time
		same bool
	}{
		{"same day", day, day.Add(-23 * time.Hour), true},
		{"next day", day, day.Add(time.Second), false},
		{"days are UTC days", day, day.In(paris), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := WatchBatch(s, dirs, tc.a), WatchBatch(s, dirs, tc.b)
			if (a == b) != tc.same {
				t.Errorf("%s and %s: batches %s and %s", tc.a, tc.b, a, b)
			}
		})
	}
	if got, want := WatchBatch(s, dirs, day), BatchID(s, dirs)+"-20261202"; got != want {
		t.Errorf("batch %s, want %s", got, want)
	}
}

// TestPublishDedup: the same file seen twice is one job; rewritten, it is
// a new one.
func TestPublishDedup(t *testing.T) {
	srv := startServer(t, t.TempDir())
	js := connect(t, srv.ClientURL())
	ctx := context.Background()
	if err := EnsureStreams(ctx, js); err != nil {
		t.Fatal(err)
	}
	s := settings(t, t.TempDir())
	mod := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	f := stages.File{Path: "/srv/drop/a.jpg", Rel: "a.jpg", Size: 1000, ModTime: mod}
	rewritten := f
	rewritten.ModTime = mod.Add(time.Millisecond)
	resized := f
	resized.Size = 999
	for _, tc := range []struct {
		name string
		f    stages.File
		dup  bool
	}{
		{"first event", f, false},
		{"second event, file unchanged", f, true},
		{"rewritten", rewritten, false},
		{"rewritten, event again", rewritten, true},
		{"same time, other size", resized, false},
	} {
		dup, err := Publish(ctx, js, "b1", s, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if dup != tc.dup {
			t.Errorf("%s: duplicate %v, want %v", tc.name, dup, tc.dup)
		}
	}
	st, err := js.Stream(ctx, JobsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(JobSubject("b1")))
	if err != nil {
		t.Fatal(err)
	}
	if n := info.State.Subjects[JobSubject("b1")]; n != 3 {
		t.Errorf("%d jobs stored, want 3", n)
	}
}
