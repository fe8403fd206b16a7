package pipeline

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// settleStep is one thing that happens to a file in a settler test, at a
// time counted from the start.
type settleStep struct {
	at   time.Duration
	op   string // "create", "write", "remove": an event; "touch", "delete": a change nobody hears of
	path string
	size int64 // after a create, write or touch
}

// settleSim plays steps against a settler as the event loop does: a disk of
// file states, events handed to the settler, and deadlines handled (each due
// file checked against the disk) up to each step's time and then up to the
// end. An event and a deadline at the same instant: the event goes first, as
// the loop takes delivered events before firing. It returns the decisions,
// "<time> <path> <verdict>".
func settleSim(s *settler, steps []settleStep, end time.Duration) []string {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	disk := map[string]fileState{}
	var got []string
	fire := func(until time.Duration) {
		for {
			next, ok := s.next()
			if !ok || next.After(t0.Add(until)) {
				return
			}
			now := next // the timer fires on time
			p, _, ok := s.due(now)
			if !ok {
				panic("next deadline passed, yet nothing due")
			}
			st, ok := disk[p]
			if !ok {
				st = absent
			}
			v := s.check(now, p, st)
			got = append(got, fmt.Sprintf("%v %s %v", now.Sub(t0), p, v))
		}
	}
	for _, st := range steps {
		fire(st.at - 1)
		now := t0.Add(st.at)
		state := fileState{size: st.size, mod: now}
		switch st.op {
		case "create":
			disk[st.path] = state
			s.appeared(now, st.path, st.path, state)
		case "write":
			disk[st.path] = state
			s.changed(now, st.path, st.path, state)
		case "remove":
			delete(disk, st.path)
			s.went(now, st.path, st.path)
		case "touch":
			disk[st.path] = state
		case "delete":
			delete(disk, st.path)
		default:
			panic("unknown op " + st.op)
		}
	}
	fire(end)
	return got
}

// With Settle 1s, the short wait of a file that appears whole is 50ms.
func TestSettler(t *testing.T) {
	const ms = time.Millisecond
	for _, c := range []struct {
		name  string
		steps []settleStep
		want  []string
	}{
		{
			name: "slow write: each write restarts the wait",
			steps: []settleStep{
				{0, "create", "a.jpg", 0}, // empty: its content is yet to come
				{300 * ms, "write", "a.jpg", 100},
				{900 * ms, "write", "a.jpg", 200},
				{1800 * ms, "write", "a.jpg", 300},
			},
			want: []string{"2.8s a.jpg settled"},
		},
		{
			name:  "appears whole: the short wait",
			steps: []settleStep{{0, "create", "a.jpg", 100}},
			want:  []string{"50ms a.jpg settled"},
		},
		{
			name: "appears whole, then a write: the full wait",
			steps: []settleStep{
				{0, "create", "a.jpg", 100},
				{20 * ms, "write", "a.jpg", 200},
			},
			want: []string{"1.02s a.jpg settled"},
		},
		{
			name: "write at the short deadline: the event goes first",
			steps: []settleStep{
				{0, "create", "a.jpg", 100},
				{50 * ms, "write", "a.jpg", 200},
			},
			want: []string{"1.05s a.jpg settled"},
		},
		{
			name: "changed without an event: wait again",
			steps: []settleStep{
				{0, "write", "a.jpg", 100},
				{400 * ms, "touch", "a.jpg", 200},
			},
			want: []string{"1s a.jpg wait again", "2s a.jpg settled"},
		},
		{
			name: "same size, newer time, without an event: wait again",
			steps: []settleStep{
				{0, "write", "a.jpg", 100},
				{400 * ms, "touch", "a.jpg", 100},
			},
			want: []string{"1s a.jpg wait again", "2s a.jpg settled"},
		},
		{
			name: "removed, back within the Settle: not a removal",
			steps: []settleStep{
				{0, "remove", "a.jpg", 0},
				{300 * ms, "create", "a.jpg", 100}, // an editor's save-by-rename
			},
			want: []string{"350ms a.jpg settled"},
		},
		{
			name: "removed, back without an event: wait again, then settled",
			steps: []settleStep{
				{0, "remove", "a.jpg", 0},
				{300 * ms, "touch", "a.jpg", 100},
			},
			want: []string{"1s a.jpg wait again", "2s a.jpg settled"},
		},
		{
			name:  "removal confirmed",
			steps: []settleStep{{0, "remove", "a.jpg", 0}},
			want:  []string{"1s a.jpg removed"},
		},
		{
			name: "written, then deleted unheard of: removed at its deadline",
			steps: []settleStep{
				{0, "write", "a.jpg", 100},
				{200 * ms, "delete", "a.jpg", 0},
			},
			want: []string{"1s a.jpg removed"},
		},
		{
			name: "many files, each at its own deadline",
			steps: []settleStep{
				{0, "write", "c.jpg", 100},
				{10 * ms, "create", "b.jpg", 100},
				{20 * ms, "remove", "d.jpg", 0},
				{30 * ms, "write", "a.jpg", 100},
				{40 * ms, "create", "e.jpg", 0},
				{500 * ms, "write", "c.jpg", 200},
			},
			want: []string{
				"60ms b.jpg settled",
				"1.02s d.jpg removed",
				"1.03s a.jpg settled",
				"1.04s e.jpg settled",
				"1.5s c.jpg settled",
			},
		},
		{
			name: "rescheduled: one entry, at its latest deadline",
			steps: []settleStep{
				{0, "write", "a.jpg", 100},
				{100 * ms, "write", "a.jpg", 100},
				{200 * ms, "remove", "a.jpg", 0},
				{300 * ms, "create", "a.jpg", 0},
				{400 * ms, "write", "a.jpg", 300},
			},
			want: []string{"1.4s a.jpg settled"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSettler(time.Second)
			got := settleSim(s, c.steps, time.Hour)
			if !slices.Equal(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
			if _, ok := s.next(); ok {
				t.Errorf("%d files still waiting", len(s.queue))
			}
		})
	}
}

func TestSettlerQueue(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	s := newSettler(time.Second)
	if _, ok := s.next(); ok {
		t.Fatal("next: a deadline with nothing waiting")
	}
	if _, _, ok := s.due(t0.Add(time.Hour)); ok {
		t.Fatal("due: a file with nothing waiting")
	}
	st := fileState{size: 1, mod: t0}
	s.changed(t0, "/r/a.jpg", "a.jpg", st)
	s.appeared(t0.Add(100*time.Millisecond), "/r/b.jpg", "sub/b.jpg", st)
	if next, _ := s.next(); !next.Equal(t0.Add(150 * time.Millisecond)) {
		t.Errorf("next = %v, want b's short deadline", next.Sub(t0))
	}
	if rel, ok := s.waiting("/r/b.jpg"); !ok || rel != "sub/b.jpg" {
		t.Errorf("waiting(b) = %q, %v", rel, ok)
	}
	if _, _, ok := s.due(t0.Add(149 * time.Millisecond)); ok {
		t.Error("due before the deadline")
	}
	if p, rel, ok := s.due(t0.Add(150 * time.Millisecond)); !ok || p != "/r/b.jpg" || rel != "sub/b.jpg" {
		t.Errorf("due = %q %q %v, want b", p, rel, ok)
	}
	// Due stays waiting until decided on.
	if p, _, _ := s.due(t0.Add(150 * time.Millisecond)); p != "/r/b.jpg" {
		t.Errorf("due again = %q, want b still", p)
	}
	s.drop("/r/b.jpg")
	s.drop("/r/b.jpg") // twice: no-op
	if _, ok := s.waiting("/r/b.jpg"); ok {
		t.Error("b still waiting after drop")
	}
	if next, _ := s.next(); !next.Equal(t0.Add(time.Second)) {
		t.Errorf("next = %v, want a's deadline", next.Sub(t0))
	}
	// Rescheduled later, a moves back in the queue.
	s.changed(t0.Add(2*time.Second), "/r/a.jpg", "a.jpg", st)
	s.went(t0.Add(500*time.Millisecond), "/r/c.jpg", "c.jpg")
	if p, _, _ := s.due(t0.Add(10 * time.Second)); p != "/r/c.jpg" {
		t.Errorf("due = %q, want c first", p)
	}
	if len(s.queue) != 2 || len(s.byPath) != 2 {
		t.Errorf("%d queued, %d by path, want 2 and 2", len(s.queue), len(s.byPath))
	}
	// A folder that goes takes its files with it, and no others.
	s.changed(t0, "/r/sub/d.jpg", "sub/d.jpg", st)
	s.changed(t0, "/r/sub/deeper/e.jpg", "sub/deeper/e.jpg", st)
	s.changed(t0, "/r/subway.jpg", "subway.jpg", st)
	s.dropBelow("/r/sub")
	for p, want := range map[string]bool{"/r/a.jpg": true, "/r/c.jpg": true, "/r/subway.jpg": true, "/r/sub/d.jpg": false, "/r/sub/deeper/e.jpg": false} {
		if _, ok := s.waiting(p); ok != want {
			t.Errorf("after dropBelow(/r/sub): waiting(%s) = %v, want %v", p, ok, want)
		}
	}
	if len(s.queue) != 3 {
		t.Errorf("%d queued, want 3", len(s.queue))
	}
}
