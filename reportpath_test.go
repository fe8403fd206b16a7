package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --report is checked before it is opened (issue #18.8): a name that is
// not .csv or .jsonl, or a path inside an input folder, is refused and the
// file it names is left as it was; a report in the output folder inside
// the input folder is fine.
func TestReportPathCheckedBeforeOpening(t *testing.T) {
	in := t.TempDir()
	photo := filepath.Join(in, "photo.jpg")
	data, err := os.ReadFile(filepath.Join("testdata", "photos", "camera_Nikon_P6000_GPS.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(photo, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(in, "small")
	for _, tc := range []struct {
		report string
		want   string // in the error; "" for none
	}{
		{photo, ".csv or .jsonl"},
		{filepath.Join(in, "report.csv"), "inside the input"},
		{filepath.Join(in, "sub", "..", "r.jsonl"), "inside the input"},
		{filepath.Join(out, "report.csv"), ""},
		{filepath.Join(t.TempDir(), "report.csv"), ""},
	} {
		os.MkdirAll(out, 0o755)
		_, closeReport, err := openReport(tc.report, false, []string{in}, out)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.report, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one saying %q", tc.report, err, tc.want)
		}
		if err == nil {
			closeReport()
		}
	}
	if got, _ := os.ReadFile(photo); len(got) != len(data) {
		t.Errorf("photo.jpg is %d bytes after the refused reports, want %d", len(got), len(data))
	}
	// From the command line, as the issue found it.
	code, _, stderr := imgpipe(t, "resize", in, "-o", t.TempDir(), "-w", "50", "--report", photo)
	if code != exitUsage || !strings.Contains(stderr, "--report") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if got, _ := os.ReadFile(photo); len(got) != len(data) {
		t.Errorf("photo.jpg is %d bytes after imgpipe --report photo.jpg, want %d", len(got), len(data))
	}
}
