package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgpipe/imgpipe/stages"
)

// writeState makes the record of n outputs in dir.
func writeState(t testing.TB, dir string, n int) Settings {
	t.Helper()
	set := SettingsOf(stages.Output{Width: 160}, stages.DecodeOptions{})
	s, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Begin([]Settings{set})
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		rel := fmt.Sprintf("%d/%d/img_%d.jpg", i/1000, i/100%10, i)
		s.add(rel, st, stages.File{Size: 15136, ModTime: time.Now()}, rel, set)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return set
}

// Loading the record of a 20,000-file folder is what a re-run adds.
func BenchmarkLoadState20000(b *testing.B) {
	dir := b.TempDir()
	writeState(b, dir, 20000)
	st, _ := os.Stat(filepath.Join(dir, StateName))
	b.ReportMetric(float64(st.Size()), "file-bytes")
	for b.Loop() {
		s, err := LoadState(dir)
		if err != nil || len(s.outs) != 20000 {
			b.Fatal(err, len(s.outs))
		}
	}
}

// The record survives a load and append cycle, and paths with tabs,
// newlines and quotes in them.
func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	set := writeState(t, dir, 10)
	s, err := LoadState(dir)
	if err != nil || len(s.outs) != 10 || len(s.runs) != 1 {
		t.Fatalf("%v: %d records, %d runs", err, len(s.outs), len(s.runs))
	}
	st, _ := os.Stat(dir)
	odd := "a\tb/c\nd \"e\" \\f.jpg"
	s.add(odd, st, stages.File{Size: 1, ModTime: time.Unix(5, 6)}, odd, set)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, _ = LoadState(dir)
	if r, ok := s.outs[odd]; !ok || r.in != odd || r.inMtime != time.Unix(5, 6).UnixNano() {
		t.Errorf("odd path: %+v %v", r, ok)
	}
	data, _ := os.ReadFile(filepath.Join(dir, StateName))
	if strings.Count(string(data), "\n") != 1+1+1+11 {
		t.Errorf("record:\n%s", data)
	}
}
