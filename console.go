package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/imgpipe/imgpipe/pipeline"
)

// console shows a run to a person: failures as they happen, a progress
// line when stderr is a terminal, and a summary at the end.
type console struct {
	w        io.Writer
	plan     io.Writer // where a dry run's plan goes: stdout, so "> plan.txt" keeps it
	o        options
	report   func(pipeline.Result)
	progress bool

	mu      sync.Mutex
	p       *pipeline.Pipeline
	started time.Time
	ok      int
	skipped int
	failed  int
	planned int
	shown   bool // a progress line is on screen
	done    chan struct{}
	wg      sync.WaitGroup
}

func newConsole(w, plan io.Writer, o options) *console {
	c := &console{w: w, plan: plan, o: o, report: func(pipeline.Result) {}, done: make(chan struct{})}
	switch o.progress {
	case "always":
		c.progress = true
	case "auto":
		f, ok := w.(*os.File)
		c.progress = ok && term.IsTerminal(int(f.Fd())) && !o.quiet
	}
	return c
}

// result is the OnResult hook.
func (c *console) result(r pipeline.Result) {
	c.report(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.Status {
	case pipeline.StatusOK:
		c.ok++
	case pipeline.StatusSkipped:
		c.skipped++
		if c.p != nil && c.p.Config().DryRun {
			for _, o := range r.Outputs {
				fmt.Fprintf(c.plan, "up to date: %s -> %s\n", quoteName(r.Input), quoteName(o.Path))
			}
		}
	case pipeline.StatusPlanned:
		c.planned++
		for _, o := range r.Outputs {
			fmt.Fprintf(c.plan, "would write: %s -> %s (%s)\n", quoteName(r.Input), quoteName(o.Path), printable(r.Reason))
		}
	case pipeline.StatusFailed:
		c.failed++
		c.clear()
		fmt.Fprintf(c.w, "failed: %s\n", printable(fmt.Sprint(r.Err)))
	}
	for _, n := range r.Notes {
		if !c.o.quiet {
			c.clear()
			fmt.Fprintf(c.w, "note: %s: %s\n", quoteName(r.Input), printable(n))
		}
	}
}

// start begins drawing the progress line, if there is one.
func (c *console) start(p *pipeline.Pipeline) {
	c.mu.Lock()
	c.p, c.started = p, time.Now()
	c.mu.Unlock()
	if !c.progress {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-c.done:
				return
			case <-t.C:
				c.draw()
			}
		}
	}()
}

func (c *console) stop() {
	close(c.done)
	c.wg.Wait()
	c.mu.Lock()
	c.clear()
	c.mu.Unlock()
}

func (c *console) draw() {
	c.mu.Lock()
	defer c.mu.Unlock()
	found := int64(0)
	if m := c.p.Metrics(); len(m) > 0 {
		found = m[0].Out + m[0].Failed
	}
	doneN := c.ok + c.skipped + c.failed + c.planned
	const width = 30
	bar := strings.Repeat(" ", width)
	if found > 0 {
		n := min(width, int(int64(doneN)*width/found))
		bar = strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	}
	rate := float64(c.ok) / time.Since(c.started).Seconds()
	fmt.Fprintf(c.w, "\r\033[K[%s] %d/%d  %.1f img/s  %d failed", bar, doneN, found, rate, c.failed)
	c.shown = true
}

// clear erases the progress line so other text starts on a clean line.
func (c *console) clear() {
	if c.shown {
		fmt.Fprint(c.w, "\r\033[K")
		c.shown = false
	}
}

func (c *console) summary(s pipeline.Summary, err error) {
	if c.o.quiet && s.Failed == 0 && err == nil {
		return
	}
	secs := s.Elapsed.Seconds()
	line := fmt.Sprintf("%d processed, %d skipped, %d failed in %.1fs", s.OK, s.Skipped, s.Failed, secs)
	if c.p != nil && c.p.Config().DryRun {
		line = fmt.Sprintf("dry run: %d would be written, %d up to date, %d failed in %.1fs", s.Planned, s.Skipped, s.Failed, secs)
	}
	if s.OK > 0 && secs > 0 {
		line += fmt.Sprintf(" (%.1f images/s, %.1f MP/s)", float64(s.OK)/secs, s.Megapixels/secs)
	}
	fmt.Fprintln(c.w, line)
	if c.o.verbose {
		fmt.Fprintf(c.w, "%-10s %7s %7s %7s %7s %9s %9s %9s\n", "stage", "workers", "in", "out", "failed", "busy", "wait-in", "wait-out")
		for _, m := range s.Stages {
			fmt.Fprintf(c.w, "%-10s %7d %7d %7d %7d %8.2fs %8.2fs %8.2fs\n", m.Name, m.Workers, m.In, m.Out, m.Failed,
				m.Busy.Seconds(), m.WaitIn.Seconds(), m.WaitOut.Seconds())
		}
	}
}

// quoteName returns a file name as it is, or quoted with Go's escapes
// (strconv.Quote) when it holds a character a terminal would act on: a
// name is anyone's to choose, and "\x1b]0;...\a.jpg" must not retitle the
// window or move the cursor (issue #18.9).
func quoteName(s string) string {
	if strings.IndexFunc(s, unprintable) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// printable returns a message with each character a terminal would act
// on (in a file name inside it) written as a Go escape, unquoted.
func printable(s string) string {
	if strings.IndexFunc(s, unprintable) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unprintable(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unprintable: control characters (C0, DEL, C1: ESC starts the terminal's
// escape sequences), the bidirectional overrides that reorder what is
// shown, and bytes that are not UTF-8.
func unprintable(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError
}
