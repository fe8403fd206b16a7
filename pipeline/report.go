package pipeline

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// ReportColumns are the columns of a report, one row per input.
var ReportColumns = []string{
	"input", "output", "status", "stage", "error", "format", "src_width", "src_height",
	"width", "height", "bytes_in", "bytes_out", "ms", "outputs", "notes", "placeholder",
}

// Report writes one row per Result to w as CSV (with a header) or JSON
// Lines: use it as an OnResult hook. output, width and height describe the
// first output; outputs lists every output path, separated by "|";
// placeholder is Result.Placeholder (--placeholder). Not safe
// for concurrent use, which OnResult never needs.
type Report struct {
	csv  *csv.Writer
	json *json.Encoder
	err  error
}

// NewReport returns a report writing format "csv" or "jsonl" to w; with
// format "", the extension of name picks it. header writes the CSV header
// row (leave it out when appending to an existing report).
func NewReport(w io.Writer, format, name string, header bool) (*Report, error) {
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), ".")
	}
	switch format {
	case "csv":
		r := &Report{csv: csv.NewWriter(w)}
		if header {
			r.err = r.csv.Write(ReportColumns)
		}
		return r, nil
	case "jsonl", "json", "ndjson":
		return &Report{json: json.NewEncoder(w)}, nil
	}
	return nil, fmt.Errorf("report %s: format must be .csv or .jsonl", name)
}

// Add writes res's row. The first write error is kept and returned by Flush.
func (r *Report) Add(res Result) {
	if r.err != nil {
		return
	}
	row := r.row(res)
	if r.csv != nil {
		for i, cell := range row {
			row[i] = csvCell(cell)
		}
		r.err = r.csv.Write(row)
		r.csv.Flush() // a row per input as it ends: a killed run keeps its report
		if r.err == nil {
			r.err = r.csv.Error()
		}
		return
	}
	// One JSON type per field, whatever the status: numbers or null,
	// arrays (empty when there is nothing), strings.
	m := make(map[string]any, len(row))
	for i, c := range ReportColumns {
		m[c] = row[i]
		if i >= 6 && i <= 12 {
			m[c] = nil
			if n, err := strconv.ParseInt(row[i], 10, 64); err == nil {
				m[c] = n
			}
		}
	}
	outs := make([]string, len(res.Outputs))
	for i, o := range res.Outputs {
		outs[i] = o.Path
	}
	m["outputs"] = outs
	m["notes"] = append([]string{}, res.Notes...)
	r.err = r.json.Encode(m)
}

// Flush writes anything buffered and returns the first error met.
func (r *Report) Flush() error {
	if r.csv != nil && r.err == nil {
		r.csv.Flush()
		r.err = r.csv.Error()
	}
	return r.err
}

func (r *Report) row(res Result) []string {
	var out, w, h, errText string
	var outs []string
	for i, o := range res.Outputs {
		if i == 0 {
			out, w, h = o.Path, itoa(o.Width), itoa(o.Height)
		}
		outs = append(outs, o.Path)
	}
	if res.Err != nil {
		errText = res.Err.Error()
	} else if res.Reason != "" {
		errText = res.Reason
	}
	return []string{
		res.Input, out, string(res.Status), res.Stage, errText, res.Format, itoa(res.Width), itoa(res.Height),
		w, h, strconv.FormatInt(res.BytesIn, 10), strconv.FormatInt(res.BytesOut, 10),
		strconv.FormatInt(res.Duration.Milliseconds(), 10), strings.Join(outs, "|"), strings.Join(res.Notes, "; "),
		res.Placeholder,
	}
}

// csvCell defuses a cell that a spreadsheet would take for a formula: one
// starting with = + - @, a tab or a carriage return gets a leading single
// quote, as OWASP advises for CSV injection. An input named
// "=cmd|' -C calc'!A0.jpg" is then text, not a command. (The JSON Lines
// report keeps cells as they are: no spreadsheet reads it.)
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
