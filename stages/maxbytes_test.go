package stages

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// --max-bytes finds the highest quality that fits, says which, keeps the
// smallest file with a note when nothing fits, and leaves formats without
// a quality alone.
func TestMaxBytes(t *testing.T) {
	const photo = "friends_by_Aitzol_Berasategi.jpg"
	sizeAt := func(t *testing.T, o Output) int {
		t.Helper()
		return len(runStages(t, filepath.Join("photos", photo), decodeOpts{Outputs: []Output{o}}).Files[0])
	}
	base := Output{Width: 400, Format: "jpeg"}
	full := sizeAt(t, base) // quality 85
	tests := []struct {
		name     string
		o        Output
		wantNote string // "" for none
	}{
		{"fits already", Output{MaxBytes: int64(full)}, ""},
		{"lowered", Output{MaxBytes: int64(full) * 2 / 3}, "max_bytes: quality "},
		{"progressive lowered", Output{MaxBytes: int64(full) / 2, Progressive: true}, "max_bytes: quality "},
		{"nothing fits", Output{MaxBytes: 500}, "even at quality 1"},
		{"png ignores it", Output{MaxBytes: 500, Format: "png"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.Width = base.Width
			if o.Format == "" {
				o.Format = base.Format
			}
			e := runStages(t, filepath.Join("photos", photo), decodeOpts{Outputs: []Output{o}})
			got, notes := len(e.Files[0]), strings.Join(e.Notes, "; ")
			if tt.wantNote == "" {
				if strings.Contains(notes, "max_bytes") {
					t.Errorf("note %q, want none", notes)
				}
				return
			}
			if !strings.Contains(notes, tt.wantNote) {
				t.Fatalf("notes %q, want %q", notes, tt.wantNote)
			}
			if tt.wantNote == "even at quality 1" {
				low := o
				low.Quality, low.MaxBytes = 1, 0
				if want := sizeAt(t, low); got != want {
					t.Errorf("kept %d bytes, want the quality 1 file, %d", got, want)
				}
				return
			}
			var q int
			fmt.Sscanf(notes[strings.Index(notes, "quality ")+len("quality "):], "%d", &q)
			if int64(got) > o.MaxBytes || q < 1 || q >= 85 {
				t.Fatalf("%d bytes at quality %d for a limit of %d", got, q, o.MaxBytes)
			}
			// The highest that fits: one more is over the limit.
			next := o
			next.Quality, next.MaxBytes = q+1, 0
			if n := sizeAt(t, next); int64(n) <= o.MaxBytes {
				t.Errorf("quality %d chosen, but %d gives %d bytes, within %d", q, q+1, n, o.MaxBytes)
			}
		})
	}
}
