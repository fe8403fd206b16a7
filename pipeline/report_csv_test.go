package pipeline

import (
	"bytes"
	"encoding/csv"
	"errors"
	"testing"
)

// Cells a spreadsheet would run as formulas get a leading quote in the CSV
// report (issue #18.7): an input named =cmd|' -C calc'!A0.jpg, given
// relative to the current folder, started a cell unquoted.
func TestReportCSVFormulaInjection(t *testing.T) {
	var buf bytes.Buffer
	r, err := NewReport(&buf, "csv", "r.csv", false)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"=cmd|' -C calc'!A0.jpg", "+1.jpg", "-2.jpg", "@SUM(A1).jpg", "\tx.jpg", "\rx.jpg", "photo.jpg"}
	for _, n := range names {
		r.Add(Result{Input: n, Status: StatusFailed, Stage: "decode", Err: &Error{Stage: "decode", Path: n, Err: errors.New("x")}})
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		want := "'" + n
		if n == "photo.jpg" {
			want = n
		}
		if rows[i][0] != want {
			t.Errorf("cell %q, want %q", rows[i][0], want)
		}
	}
}
