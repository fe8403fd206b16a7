package pipeline

import (
	"time"

	"github.com/imgpipe/imgpipe/stages"
)

// Status is how an input ended.
type Status string

// The statuses of a Result.
const (
	StatusOK      Status = "ok"      // every output written (or handed to the sink)
	StatusSkipped Status = "skipped" // nothing to do: outputs up to date, or a dry run
	StatusFailed  Status = "failed"  // see Err
	StatusPlanned Status = "planned" // a dry run's: a real run would write it (Reason says why)
)

// Result is the outcome for one input. The pipeline delivers one per
// input, in the order inputs finish, to the OnResult hook.
type Result struct {
	Input  string // the input's path (or name, for in-memory inputs)
	Status Status
	// Stage is where the input failed ("" unless Status is failed).
	Stage string
	// Err is the failure, an *Error (nil unless failed).
	Err error
	// Reason says why an input was skipped.
	Reason string
	// Format, Width and Height describe the source, upright (0 when the
	// input failed before its header was read).
	Format        string
	Width, Height int
	// Outputs are the renditions made, in the configured order. On a skip
	// they hold the paths the outputs have (or would have on a dry run).
	Outputs []Rendition
	// BytesIn is the input's size; BytesOut sums the outputs' sizes.
	BytesIn, BytesOut int64
	// Duration is the time the input spent in the stages, waits excluded.
	Duration time.Duration
	// Notes are warnings that did not fail the input, e.g. a colour profile
	// the output format cannot carry.
	Notes []string
	// Placeholder is the first of the Outputs' placeholders (--placeholder).
	Placeholder string

	// The input's entry for Config.Manifest, under key; nil without one.
	manifestKey string
	manifest    *manifestEntry
}

// Rendition is one output of one input.
type Rendition struct {
	Path          string // the file written, or the target name when a sink took it
	Format        string
	Width, Height int
	Bytes         int64
	// Placeholder is the rendition's Output.Placeholder (a BlurHash, or an
	// LQIP data: URI), "" when none was asked for or the input was skipped.
	Placeholder string
	// SHA256 is the hex SHA-256 of the file's bytes, "" when skipped.
	SHA256 string
}

// Summary totals a run.
type Summary struct {
	OK, Skipped, Failed int
	Planned             int // inputs a dry run would write
	BytesIn, BytesOut   int64
	Megapixels          float64 // source megapixels of the inputs processed
	Elapsed             time.Duration
	Stages              []StageMetrics
}

// Total is the number of inputs that ended, whatever their status.
func (s Summary) Total() int { return s.OK + s.Skipped + s.Failed + s.Planned }

func (s *Summary) add(r Result) {
	switch r.Status {
	case StatusOK:
		s.OK++
		s.Megapixels += float64(r.Width) * float64(r.Height) / 1e6
	case StatusSkipped:
		s.Skipped++
	case StatusFailed:
		s.Failed++
	case StatusPlanned:
		s.Planned++
	}
	s.BytesIn += r.BytesIn
	s.BytesOut += r.BytesOut
}

// renditions lists the targets of d as results, with the paths given.
func renditions(d *stages.Decoded, paths []string, files [][]byte) []Rendition {
	out := make([]Rendition, len(d.Targets))
	for i, t := range d.Targets {
		out[i] = Rendition{Path: t.Name, Format: t.Format, Width: t.Width, Height: t.Height, Placeholder: t.Placeholder}
		if i < len(paths) {
			out[i].Path = paths[i]
		}
		if i < len(files) {
			out[i].Bytes, out[i].SHA256 = int64(len(files[i])), sha256Hex(files[i])
		}
	}
	return out
}
