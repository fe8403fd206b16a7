package pipeline

import (
	"container/heap"
	"time"
)

// settler decides when files that are changing are ready to be looked at.
// Nothing portable says "closed for writing", so a file counts as complete
// once it has been left alone for a while: settler holds each waiting file's
// last seen size and time with its deadline, and answers which files are due
// at a given time and when the next deadline is.
//
// It does no I/O and reads no clock: every call that needs the time is given
// it, and the caller (the watcher's event loop) looks at the files on disk
// and tells it what it saw. It is not safe for concurrent use; the event
// loop owns it. Memory: one entry per waiting file.
type settler struct {
	settle time.Duration // wait after a change
	short  time.Duration // wait for a file that appeared whole
	byPath map[string]*pendingFile
	queue  pendingQueue // the same files, earliest deadline first
}

// newSettler returns a settler that waits settle after each change, and
// min(settle/10, 50ms) for a file that appears whole.
func newSettler(settle time.Duration) *settler {
	return &settler{
		settle: settle,
		short:  min(settle/10, 50*time.Millisecond),
		byPath: map[string]*pendingFile{},
	}
}

// fileState is what a look at a file found: its size and modification
// time, or, with size -1, that it was not there.
type fileState struct {
	size int64
	mod  time.Time
}

// absent is the state of a file that is not there.
var absent = fileState{size: -1}

// verdict is what check decides for a file whose deadline has passed.
type verdict int

const (
	settled   verdict = iota // unchanged since its last change: ready to be read
	waitAgain                // changed without an event: waits another Settle
	removed                  // not there: gone, unless it comes back with an event later
)

func (v verdict) String() string {
	return [...]string{"settled", "wait again", "removed"}[v]
}

// pendingFile is a file waiting for its deadline.
type pendingFile struct {
	path, rel string
	state     fileState // at the last change, to notice changes that sent no event
	due       time.Time
	index     int // in queue
}

// changed (re)starts the full wait of the file at p, whose state is now st:
// it was written to, or found recently modified (at catch-up, or in a
// folder that just appeared), or it appeared empty and its content is yet to
// come. A file written slowly is never due while the writes go on.
func (s *settler) changed(now time.Time, p, rel string, st fileState) {
	s.wait(now, p, rel, st, s.settle)
}

// appeared starts the wait of a file that was just created or renamed in.
// One that arrives with content is taken to be whole (the atomic write
// pattern: write "x.tmp", rename to "x.jpg") and waits only the short time;
// a write soon after means it was not, and changed switches it back to the
// full wait.
func (s *settler) appeared(now time.Time, p, rel string, st fileState) {
	wait := s.settle
	if st.size > 0 {
		wait = s.short
	}
	s.wait(now, p, rel, st, wait)
}

// went starts the wait of a file that was deleted or renamed away: a Settle
// later, check tells whether it is gone or came back, so an editor's
// save-by-rename is not a removal.
func (s *settler) went(now time.Time, p, rel string) {
	s.wait(now, p, rel, absent, s.settle)
}

// wait (re)schedules p at now+d, in place if it was waiting already.
func (s *settler) wait(now time.Time, p, rel string, st fileState, d time.Duration) {
	f, ok := s.byPath[p]
	if !ok {
		f = &pendingFile{path: p}
		s.byPath[p] = f
	}
	f.rel, f.state, f.due = rel, st, now.Add(d)
	if ok {
		heap.Fix(&s.queue, f.index)
	} else {
		heap.Push(&s.queue, f)
	}
}

// waiting reports whether p is waiting, and its Rel.
func (s *settler) waiting(p string) (rel string, ok bool) {
	f, ok := s.byPath[p]
	if !ok {
		return "", false
	}
	return f.rel, true
}

// next returns the earliest deadline; ok is false when nothing waits.
func (s *settler) next() (due time.Time, ok bool) {
	if len(s.queue) == 0 {
		return time.Time{}, false
	}
	return s.queue[0].due, true
}

// due returns the file whose deadline came first, if that deadline is not
// after now. The file keeps waiting until check (or drop) decides on it.
func (s *settler) due(now time.Time) (p, rel string, ok bool) {
	if len(s.queue) == 0 || s.queue[0].due.After(now) {
		return "", "", false
	}
	return s.queue[0].path, s.queue[0].rel, true
}

// check decides on a due file (see due) from st, its state on disk now
// (absent if it is not there). A file that is there and differs from its
// last change changed without an event (an overflow, a network share): it
// waits another Settle (waitAgain). Otherwise it stops waiting, and is
// settled if it is there or removed if not.
func (s *settler) check(now time.Time, p string, st fileState) verdict {
	f, ok := s.byPath[p]
	if ok && st.size >= 0 && (st.size != f.state.size || !st.mod.Equal(f.state.mod)) {
		s.wait(now, p, f.rel, st, s.settle)
		return waitAgain
	}
	s.drop(p)
	if st.size < 0 {
		return removed
	}
	return settled
}

// drop stops waiting on p, if it waits.
func (s *settler) drop(p string) {
	f, ok := s.byPath[p]
	if !ok {
		return
	}
	heap.Remove(&s.queue, f.index)
	delete(s.byPath, p)
}

// dropBelow stops waiting on every file in dir or below it.
func (s *settler) dropBelow(dir string) {
	for p := range s.byPath {
		if within(p, dir) {
			s.drop(p)
		}
	}
}

// pendingQueue is a min-heap of pending files by deadline.
type pendingQueue []*pendingFile

func (q pendingQueue) Len() int           { return len(q) }
func (q pendingQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q pendingQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *pendingQueue) Push(x any) {
	f := x.(*pendingFile)
	f.index = len(*q)
	*q = append(*q, f)
}
func (q *pendingQueue) Pop() any {
	old := *q
	f := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return f
}
