package pipeline

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/imgpipe/imgpipe/stages"
)

// memSink is a Sink that keeps its outputs in memory with a record of
// each (the input it was made from and the settings hash), and the
// SinkCheck that reads those records back.
type memSink struct {
	mu   sync.Mutex
	outs map[string]memRecord
	puts int
}

type memRecord struct{ rel, settings string }

func (m *memSink) sink(_ context.Context, e *stages.Encoded) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range e.Targets {
		m.outs[t.Name] = memRecord{rel: e.File.Rel, settings: t.Settings}
		m.puts++
	}
	return nil
}

func (m *memSink) check(f stages.File, rel string, targets []stages.Target) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range targets {
		r, ok := m.outs[t.Name]
		switch {
		case t.Settings == "":
			return "", errors.New("target without a settings hash")
		case !ok:
			return "new", nil
		case r.rel != rel || r.settings != t.Settings:
			return "changed", nil
		}
	}
	return "", nil
}

// TestSinkCheck: a run into a sink with a check skips the inputs whose
// outputs the check finds up to date, and hands the others to the sink;
// Force and other settings write again.
func TestSinkCheck(t *testing.T) {
	m := &memSink{outs: map[string]memRecord{}}
	run := func(name string, quality int, force bool) Summary {
		t.Helper()
		cfg := Config{Force: force}
		cfg.Output.Width, cfg.Output.Height, cfg.Output.Quality = 64, 64, quality
		p, err := New(cfg, WithSink(m.sink), WithSinkCheck(m.check))
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.Run(context.Background(), Dirs([]string{"../testdata/photos"}, ScanOptions{}))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return sum
	}
	for _, c := range []struct {
		name          string
		quality       int
		force         bool
		ok, skipped   int
		putsAfterward int
	}{
		{"first", 80, false, 5, 0, 5},
		{"again", 80, false, 0, 5, 5},
		{"forced", 80, true, 5, 0, 10},
		{"other quality", 70, false, 5, 0, 15},
		{"other quality again", 70, false, 0, 5, 15},
	} {
		sum := run(c.name, c.quality, c.force)
		if sum.OK != c.ok || sum.Skipped != c.skipped || sum.Failed != 0 || m.puts != c.putsAfterward {
			t.Errorf("%s: summary %+v, %d puts in all; want %d ok, %d skipped, %d puts", c.name, sum, m.puts,
				c.ok, c.skipped, c.putsAfterward)
		}
	}
}
