package pipeline

import (
	"sync/atomic"
	"time"
)

// StageMetrics describes one stage of a run: how much it did, how long its
// workers were busy, and how long they waited. A stage whose workers wait
// for input is starved by the one before it; one whose workers wait for
// output is held up by the one after it; the busy one in between is the
// bottleneck.
type StageMetrics struct {
	Name    string
	Workers int
	Buffer  int
	In      int64         // items taken
	Out     int64         // items passed on
	Failed  int64         // items that failed here
	Busy    time.Duration // summed over workers
	WaitIn  time.Duration // blocked waiting for input, summed over workers
	WaitOut time.Duration // blocked waiting for the next stage, summed over workers
	Queue   int           // items waiting in front of this stage now
}

// stats are a stage's live counters, updated by its workers.
type stats struct {
	name            string
	workers, buffer int
	queue           func() int
	in, out, failed atomic.Int64
	busy, waitIn    atomic.Int64 // nanoseconds
	waitOut         atomic.Int64
}

func (s *stats) snapshot() StageMetrics {
	m := StageMetrics{
		Name: s.name, Workers: s.workers, Buffer: s.buffer,
		In: s.in.Load(), Out: s.out.Load(), Failed: s.failed.Load(),
		Busy: time.Duration(s.busy.Load()), WaitIn: time.Duration(s.waitIn.Load()),
		WaitOut: time.Duration(s.waitOut.Load()),
	}
	if s.queue != nil {
		m.Queue = s.queue()
	}
	return m
}

func since(t time.Time, into *atomic.Int64) { into.Add(int64(time.Since(t))) }
