package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The web-build layout settings work from the flags and from config.yaml,
// and a change to them redoes the outputs.
func TestWebLayoutFlagsAndConfig(t *testing.T) {
	in := tree(t, "photos/camera_Nikon_P6000_GPS.jpg") // 640x480
	photo := filepath.Join("photos", "camera_Nikon_P6000_GPS")
	corner := func(t *testing.T, path string) [4]uint32 {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Size(); got != image.Pt(200, 200) {
			t.Fatalf("%s is %v, want 200x200", path, got)
		}
		r, g, b, a := img.At(1, 1).RGBA()
		return [4]uint32{r >> 8, g >> 8, b >> 8, a >> 8}
	}
	t.Run("pad flags", func(t *testing.T) {
		out := t.TempDir()
		if code, _, stderr := imgpipe(t, "resize", in, "-o", out, "-w", "200", "-H", "200", "--fit", "pad", "-f", "png"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if c := corner(t, filepath.Join(out, photo+".png")); c[3] != 0 {
			t.Errorf("pad to PNG without --background: corner %v, want transparent", c)
		}
		if code, _, stderr := imgpipe(t, "resize", in, "-o", out, "-w", "200", "-H", "200", "--fit", "pad", "-f", "png", "--background", "#00ff00"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if c := corner(t, filepath.Join(out, photo+".png")); c != [4]uint32{0, 255, 0, 255} {
			t.Errorf("pad with --background #00ff00: corner %v, want opaque green (and the output redone)", c)
		}
		if code, _, stderr := imgpipe(t, "resize", in, "-o", out, "-w", "200", "-H", "200", "--fit", "pad"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if got := decodeSize(t, filepath.Join(out, photo+".jpg")); got != image.Pt(200, 200) {
			t.Errorf("pad to JPEG: %v, want 200x200", got)
		}
	})
	t.Run("config keys", func(t *testing.T) {
		out := t.TempDir()
		cfg := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(cfg, []byte("out_dir: "+out+"\noutput:\n  width: 100\n  height: 100\n  fit: fill\n  focal: [0.1, 0.9]\n  trim: true\n"), 0o644)
		if code, _, stderr := imgpipe(t, "resize", "-c", cfg, in); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if got := decodeSize(t, filepath.Join(out, photo+".jpg")); got != image.Pt(100, 100) {
			t.Errorf("fill with focal and trim: %v, want 100x100", got)
		}
		// Up to date with the same settings; a new focal point redoes it.
		if _, stdout, _ := imgpipe(t, "resize", "-c", cfg, in, "-n"); !strings.Contains(stdout, "up to date") {
			t.Errorf("rerun with the same focal: %q, want up to date", stdout)
		}
		if _, stdout, _ := imgpipe(t, "resize", "-c", cfg, in, "-n", "--focal", "0.9,0.1"); !strings.Contains(stdout, "focal 0.1,0.9 -> 0.9,0.1") {
			t.Errorf("rerun with another focal: %q, want it redone, saying why", stdout)
		}
	})
	t.Run("bad values name the flag", func(t *testing.T) {
		for _, args := range [][]string{{"--focal", "0.5"}, {"--focal", "1.2,0.5"}, {"--anchor", "face"}} {
			code, _, stderr := imgpipe(t, append([]string{"resize", in, "-o", t.TempDir()}, args...)...)
			if code != exitUsage || !strings.Contains(stderr, args[0]) {
				t.Errorf("%v: exit %d, stderr %q; want %d naming %s", args, code, stderr, exitUsage, args[0])
			}
		}
	})
}

// --placeholder puts the placeholder in the JSON Lines and CSV reports.
func TestPlaceholderInReport(t *testing.T) {
	in := tree(t, "photos/camera_Nikon_P6000_GPS.jpg")
	for _, tt := range []struct{ kind, report, want string }{
		{"blurhash", "r.jsonl", `"placeholder":"L`},
		{"lqip", "r.csv", "\"data:image/jpeg;base64,/9j/"},
	} {
		out := t.TempDir()
		report := filepath.Join(out, tt.report)
		if code, _, stderr := imgpipe(t, "resize", in, "-o", filepath.Join(out, "o"), "-w", "100", "--placeholder", tt.kind, "--report", report); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if data, _ := os.ReadFile(report); !strings.Contains(string(data), tt.want) {
			t.Errorf("--placeholder %s: report %q, want it to hold %q", tt.kind, data, tt.want)
		}
	}
	if code, _, stderr := imgpipe(t, "resize", in, "-o", t.TempDir(), "--placeholder", "thumbnail"); code != exitUsage || !strings.Contains(stderr, "--placeholder") {
		t.Errorf("bad kind: exit %d, %q", code, stderr)
	}
}

// --max-bytes from the flag: the output fits and the report says the quality.
func TestMaxBytesFlag(t *testing.T) {
	in := tree(t, "photos/friends_by_Aitzol_Berasategi.jpg")
	out := t.TempDir()
	report := filepath.Join(t.TempDir(), "r.csv")
	if code, _, stderr := imgpipe(t, "resize", in, "-o", out, "-w", "600", "--max-bytes", "30KB", "--report", report); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	info, err := os.Stat(filepath.Join(out, "photos", "friends_by_Aitzol_Berasategi.jpg"))
	if err != nil || info.Size() > 30000 {
		t.Fatalf("output %v, %v: want at most 30000 bytes", info, err)
	}
	if data, _ := os.ReadFile(report); !strings.Contains(string(data), "max_bytes: quality ") {
		t.Errorf("report %q does not give the quality chosen", data)
	}
}
