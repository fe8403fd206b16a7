package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// Every row of a JSON Lines report gives each field one JSON type, ok or
// failed: numbers or null, arrays (empty when there is nothing), strings.
func TestReportJSONTypes(t *testing.T) {
	var buf bytes.Buffer
	rep, err := NewReport(&buf, "jsonl", "r.jsonl", true)
	if err != nil {
		t.Fatal(err)
	}
	rep.Add(Result{Input: "a.jpg", Status: StatusOK, Format: "jpeg", Width: 640, Height: 480, BytesIn: 10, BytesOut: 5,
		Outputs: []Rendition{{Path: "o/a.jpg", Width: 100, Height: 75}}, Notes: []string{"n"}})
	rep.Add(Result{Input: "b.jpg", Status: StatusFailed, Stage: "decode", Err: &Error{Stage: "decode", Path: "b.jpg", Err: errors.New("bad")}})
	rep.Add(Result{Input: "c.jpg", Status: StatusSkipped, Reason: "up to date", Outputs: []Rendition{{Path: "o/c.jpg"}}})
	if err := rep.Flush(); err != nil {
		t.Fatal(err)
	}
	types := map[string]map[string]bool{} // field -> JSON kinds seen
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var row map[string]any
		if err := json.Unmarshal(line, &row); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		for _, c := range ReportColumns {
			v, ok := row[c]
			if !ok {
				t.Errorf("%s: no %s", line, c)
			}
			kind := "string"
			switch v.(type) {
			case nil, float64:
				kind = "number or null"
			case []any:
				kind = "array"
			}
			if types[c] == nil {
				types[c] = map[string]bool{}
			}
			types[c][kind] = true
		}
	}
	for c, kinds := range types {
		if len(kinds) != 1 {
			t.Errorf("%s has several JSON types: %v", c, kinds)
		}
	}
	for _, c := range []string{"src_width", "width", "bytes_in", "ms"} {
		if !types[c]["number or null"] {
			t.Errorf("%s is %v, want numbers or null", c, types[c])
		}
	}
	for _, c := range []string{"outputs", "notes"} {
		if !types[c]["array"] {
			t.Errorf("%s is %v, want an array", c, types[c])
		}
	}
}
