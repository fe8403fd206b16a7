package main

// Robustness of the command as a whole, run as a user would run it: broken
// inputs, a full or read-only output disk, inputs that vanish mid-run,
// awkward file names, symlink loops, names that try to leave the output
// folder, and SIGKILL at any moment. Every test also checks that the inputs
// are never modified.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"image"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "golang.org/x/image/webp"

	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"github.com/imgpipe/imgpipe/internal/plan"
)

// run runs the binary in dir (the current folder if ""), killing it after
// timeout, and returns its exit code and output.
func run(t *testing.T, dir string, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("imgpipe %q did not finish in %v; output:\n%s", args, timeout, stderr.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// copies writes n copies of testdata/src into dir as p00.jpg, p01.jpg, ...
func copies(t *testing.T, dir, src string, n int) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", src))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("p%02d.jpg", i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// readReport reads a CSV report into rows keyed by column name.
func readReport(t *testing.T, path string) []map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("report %s: %v\n%s", path, err, data)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, col := range rows[0] {
			m[col] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// outputs lists the files below dir that are not temporary files, and the
// temporary files, as paths; the output folder's record (plan.StateName)
// is neither.
func outputs(t *testing.T, dir string) (files, temps []string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != plan.StateName {
			if atomicfile.IsTemp(p) {
				temps = append(temps, p)
			} else {
				files = append(files, p)
			}
		}
		return nil
	})
	slices.Sort(files)
	slices.Sort(temps)
	return files, temps
}

// decodes reports whether the file at p is a complete image: every pixel
// decodes.
func decodes(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, _, err = image.Decode(f)
	return err
}

// mountTmpfs mounts a tmpfs of size bytes on a new folder and unmounts it
// when the test ends. It skips the test where mounting is impossible (not
// root, no mount(8), a container that forbids it).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			exec.Command("umount", "-l", dir).Run()
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// Every broken input becomes one failed row naming its stage, path and
// class of error; no output is written for it; the rest of the batch is done.
func TestBrokenInputsReported(t *testing.T) {
	t.Parallel()
	bad, err := os.ReadDir("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range bad {
		files = append(files, "bad/"+e.Name())
	}
	files = append(files, "formats/unsupported.avif", "formats/arithmetic.jpg")
	good := []string{"edge/IMG_0001.JPG", "formats/alpha.png", "edge/1x1.png", "formats/lossless.webp"}
	in := tree(t, append(files, good...)...)
	before := hashTree(t, in)
	out := filepath.Join(t.TempDir(), "out")
	report := filepath.Join(t.TempDir(), "r.csv")

	code, stderr := run(t, "", 2*time.Minute, "resize", in, "-o", out, "-w", "64", "--report", report)
	if code != 1 {
		t.Fatalf("exit %d, want 1; output:\n%s", code, stderr)
	}
	rows := readReport(t, report)
	if len(rows) != len(files)+len(good) {
		t.Errorf("%d report rows for %d inputs", len(rows), len(files)+len(good))
	}
	classes := regexp.MustCompile(`not an image|corrupt image|unsupported image format|image too large`)
	var written []string
	seen := map[string]bool{}
	for _, r := range rows {
		rel, _ := filepath.Rel(in, r["input"])
		rel = filepath.ToSlash(rel)
		if seen[rel] {
			t.Errorf("%s: two rows", rel)
		}
		seen[rel] = true
		switch {
		case slices.Contains(files, rel):
			if r["status"] != "failed" || r["stage"] == "" || r["output"] != "" || r["outputs"] != "" {
				t.Errorf("%s: want a failed row with a stage and no output, got %v", rel, r)
			}
			if !strings.Contains(r["error"], r["stage"]+" "+r["input"]+": ") {
				t.Errorf("%s: error %q does not name the stage and path", rel, r["error"])
			}
			if !classes.MatchString(r["error"]) {
				t.Errorf("%s: error %q names no error class", rel, r["error"])
			}
			if !strings.Contains(stderr, "failed: "+r["error"]) {
				t.Errorf("%s: failure not printed", rel)
			}
		case slices.Contains(good, rel):
			if r["status"] != "ok" {
				t.Errorf("%s: %v, want ok", rel, r)
			}
			written = append(written, r["output"])
		default:
			t.Errorf("row for an unknown input %q", r["input"])
		}
	}
	files2, _ := outputs(t, out)
	slices.Sort(written)
	if !slices.Equal(files2, written) {
		t.Errorf("outputs on disk %q, want exactly the ok rows' %q", files2, written)
	}
	for _, p := range files2 {
		if err := decodes(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	noTemp(t, out)
	sameTree(t, before, hashTree(t, in))
}

// A disk that fills up mid-run stops the run with a clear error and exit
// 1, leaves no temporary file and no partial output, and the report lists
// exactly the outputs that were written.
func TestFullDisk(t *testing.T) {
	out := mountTmpfs(t, "300k")
	in := t.TempDir()
	// 640x480 JPEG outputs of ~130 KB each: the third does not fit.
	copies(t, in, "photos/camera_Nikon_P6000_GPS.jpg", 12)
	before := hashTree(t, in)
	report := filepath.Join(t.TempDir(), "r.csv")

	code, stderr := run(t, "", 2*time.Minute, "resize", in, "-o", out, "-w", "640", "-j", "1", "--report", report)
	if code != 1 {
		t.Fatalf("exit %d, want 1; output:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, "stopped") {
		t.Errorf("no clear 'no space left on device' error:\n%s", stderr)
	}
	noTemp(t, out)
	files, _ := outputs(t, out)
	for _, p := range files {
		if err := decodes(p); err != nil {
			t.Errorf("%s is on disk but incomplete: %v", p, err)
		}
	}
	var ok []string
	failed := 0
	for _, r := range readReport(t, report) {
		switch r["status"] {
		case "ok":
			ok = append(ok, r["output"])
		case "failed":
			failed++
			if r["stage"] != "save" || !strings.Contains(r["error"], "no space left on device") {
				t.Errorf("failed row %v, want stage save, no space left on device", r)
			}
		default:
			t.Errorf("row %v", r)
		}
	}
	slices.Sort(ok)
	if !slices.Equal(ok, files) || failed == 0 {
		t.Errorf("report: ok outputs %q and %d failures; on disk %q", ok, failed, files)
	}
	if len(files) == 0 || len(files) >= 12 {
		t.Errorf("%d outputs on a 300 KB disk, want some but not all", len(files))
	}
	sameTree(t, before, hashTree(t, in))
}

// A read-only output folder is refused before any work, with exit 2.
func TestReadOnlyOutput(t *testing.T) {
	mnt := mountTmpfs(t, "1m")
	if err := os.Mkdir(filepath.Join(mnt, "existing"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v: %s", err, out)
	}
	in := tree(t, "edge/IMG_0001.JPG", "bad/empty.jpg")
	before := hashTree(t, in)
	for _, out := range []string{mnt, filepath.Join(mnt, "existing"), filepath.Join(mnt, "new", "sub")} {
		t.Run(filepath.Base(out), func(t *testing.T) {
			report := filepath.Join(t.TempDir(), "r.csv")
			start := time.Now()
			code, stderr := run(t, "", time.Minute, "resize", in, "-o", out, "--report", report)
			if code != 2 {
				t.Fatalf("exit %d, want 2; output:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, "output folder not writable") || !strings.Contains(stderr, "read-only file system") {
				t.Errorf("unclear message:\n%s", stderr)
			}
			if strings.Contains(stderr, "failed:") {
				t.Errorf("inputs were processed before the output was checked:\n%s", stderr)
			}
			if rows := readReport(t, report); len(rows) != 0 {
				t.Errorf("report has %d rows", len(rows))
			}
			t.Logf("refused after %v", time.Since(start).Round(time.Millisecond))
		})
	}
	sameTree(t, before, hashTree(t, in))
}

// Inputs deleted while the batch runs: no crash; each is either done or a
// failed row; exit 0 or 1.
func TestInputsDeletedMidRun(t *testing.T) {
	t.Parallel()
	in, out := t.TempDir(), t.TempDir()
	paths := copies(t, in, "photos/phone_Samsung_SM-G930F.jpg", 10)
	report := filepath.Join(t.TempDir(), "r.csv")
	cmd := exec.Command(binary, "resize", in, "-o", out, "-w", "100", "-j", "1", "--report", report)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Once the first output is there, delete the second half of the inputs.
	deleted := paths[len(paths)/2:]
	deadline := time.Now().Add(2 * time.Minute)
	var err error
wait:
	for {
		select {
		case err = <-exited:
			t.Logf("the run ended before the first output was seen")
			break wait
		default:
		}
		if files, _ := outputs(t, out); len(files) > 0 {
			for _, p := range deleted {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case err = <-exited:
			case <-time.After(2 * time.Minute):
				cmd.Process.Kill()
				t.Fatalf("the run did not end:\n%s", stderr.String())
			}
			break wait
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no output after 2 minutes:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != 0 && code != 1 {
		t.Fatalf("exit %d, want 0 or 1:\n%s", code, stderr.String())
	}
	rows := readReport(t, report)
	status := map[string]string{}
	for _, r := range rows {
		if _, dup := status[r["input"]]; dup {
			t.Errorf("%s: two rows", r["input"])
		}
		status[r["input"]] = r["status"]
		if r["status"] == "failed" && !strings.Contains(r["error"], "no such file") {
			t.Errorf("%s failed for another reason: %s", r["input"], r["error"])
		}
	}
	nFailed := 0
	for _, p := range paths {
		st := status[p]
		switch {
		case st == "failed" && slices.Contains(deleted, p):
			nFailed++
		case st == "ok":
			if err := decodes(filepath.Join(out, filepath.Base(p))); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		default:
			t.Errorf("%s (deleted: %v): status %q", p, slices.Contains(deleted, p), st)
		}
	}
	if (nFailed > 0) != (code == 1) {
		t.Errorf("exit %d with %d failed rows", code, nFailed)
	}
	t.Logf("%d of %d deleted inputs failed, the others were done first", nFailed, len(deleted))
	noTemp(t, out)
}

// Names with spaces, non-ASCII and invalid UTF-8, shell metacharacters, a
// leading dash, and a 60-level tree are all processed and mirrored under
// the same names.
func TestAwkwardNames(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/edge/IMG_0001.JPG")
	if err != nil {
		t.Fatal(err)
	}
	deep := ""
	for i := range 60 {
		deep = filepath.Join(deep, fmt.Sprintf("d%02d", i))
	}
	names := []string{
		"holiday photo 01.jpg", "café_NFC.jpg", "cafe\u0301_NFD.jpg", "사진_서울_2023.jpg", "Фото.jpg", "📷 sunset 🌅.jpg",
		"bad\xffname.jpg", "\xfe\xfedir/in \xc3(.jpg", "-x.jpg", "--y.jpg", "100% #1 ?.jpg", "it's [draft] (1) & more;.jpg",
		"tab\there.jpg", "new\nline.jpg", "back\\slash.jpg", strings.Repeat("x", 200) + ".jpg",
		filepath.Join(deep, "deep.jpg"),
	}
	in := t.TempDir()
	for _, n := range names {
		p := filepath.Join(in, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := hashTree(t, in)
	out := t.TempDir()
	code, stderr := run(t, "", 2*time.Minute, "resize", in, "-o", out, "-w", "32")
	if code != 0 || !strings.Contains(stderr, strconv.Itoa(len(names))+" processed") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, n := range names {
		if got := decodeSize(t, filepath.Join(out, n)); got.X != 32 {
			t.Errorf("%q: output %v", n, got)
		}
	}
	if files, _ := outputs(t, out); len(files) != len(names) {
		t.Errorf("%d outputs for %d inputs", len(files), len(names))
	}

	// A file named like a flag, given on the command line after "--".
	out2 := t.TempDir()
	code, stderr = run(t, in, time.Minute, "resize", "-o", out2, "-w", "32", "--", "-x.jpg", "--y.jpg")
	if code != 0 {
		t.Fatalf("-- -x.jpg: exit %d:\n%s", code, stderr)
	}
	for _, n := range []string{"-x.jpg", "--y.jpg"} {
		decodeSize(t, filepath.Join(out2, n))
	}
	// Without "--" it is a flag, and an unknown one.
	if code, stderr = run(t, in, time.Minute, "resize", "-o", out2, "-x.jpg"); code != 2 {
		t.Errorf("-x.jpg without --: exit %d:\n%s", code, stderr)
	}
	sameTree(t, before, hashTree(t, in))
}

// Symlink loops end, with or without --follow-symlinks, and each real
// folder is visited once.
func TestSymlinkLoop(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	in := filepath.Join(base, "in")
	data, err := os.ReadFile("testdata/edge/IMG_0001.JPG")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"in/a/b/photo.jpg", "other/o.jpg"} {
		os.MkdirAll(filepath.Join(base, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(base, p), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"in/self":        ".",
		"in/a/up":        "..",
		"in/a/b/top":     "../..",
		"in/a/b/abs":     in,
		"in/x1":          "x2", // a loop of links to links: never resolves
		"in/x2":          "x1",
		"in/other":       "../other",
		"other/back":     "../in",
		"in/a/b/to-file": "photo.jpg",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
	}
	before := hashTree(t, base)
	for _, tt := range []struct {
		follow bool
		want   []string
	}{
		{false, []string{"a/b/photo.jpg", "a/b/to-file.jpg"}},
		{true, []string{"a/b/photo.jpg", "a/b/to-file.jpg", "other/o.jpg"}},
	} {
		t.Run("follow="+strconv.FormatBool(tt.follow), func(t *testing.T) {
			out := t.TempDir()
			args := []string{"resize", in, "-o", out, "-w", "16"}
			if tt.follow {
				args = append(args, "--follow-symlinks")
			}
			code, stderr := run(t, "", time.Minute, args...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			files, _ := outputs(t, out)
			var got []string
			for _, f := range files {
				rel, _ := filepath.Rel(out, f)
				got = append(got, filepath.ToSlash(rel))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("outputs %q, want %q", got, tt.want)
			}
		})
	}
	sameTree(t, before, hashTree(t, base))
}

// No input path, name template or symlink makes imgpipe write outside the
// output folder.
func TestOutputStaysInOutDir(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	data, err := os.ReadFile("testdata/edge/IMG_0001.JPG")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"in/x.jpg", "in/sub/y.jpg", "in/...jpg", "in/link/z.jpg"} {
		os.MkdirAll(filepath.Join(base, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(base, p), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(base, "elsewhere"), 0o755)
	os.MkdirAll(filepath.Join(base, "cwd"), 0o755)
	cfgDotDot := filepath.Join(base, "c.yaml")
	os.WriteFile(cfgDotDot, []byte("outputs:\n  - {width: 8, name: \"{name}-a.{ext}\"}\n  - {width: 9, name: \"x/../../{name}.{ext}\"}\n"), 0o644)
	list := func() []string {
		var all []string
		filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			rel, _ := filepath.Rel(base, p)
			if err == nil && !d.IsDir() && !strings.HasPrefix(rel, "out") && !strings.HasPrefix(rel, filepath.Join("cwd", "out")) {
				all = append(all, p)
			}
			return nil
		})
		return all
	}
	before, files := hashTree(t, filepath.Join(base, "in")), list()
	cwd := filepath.Join(base, "cwd")

	// Relative inputs above the current folder are named by their base name.
	code, stderr := run(t, cwd, time.Minute, "resize", "../in/x.jpg", "../in/sub/../sub/y.jpg", "-o", "out", "-w", "16")
	if code != 0 {
		t.Fatalf("../in/x.jpg: exit %d:\n%s", code, stderr)
	}
	got, _ := outputs(t, filepath.Join(cwd, "out"))
	if want := []string{filepath.Join(cwd, "out", "x.jpg"), filepath.Join(cwd, "out", "y.jpg")}; !slices.Equal(got, want) {
		t.Errorf("outputs %q, want %q", got, want)
	}

	// Templates that climb out are refused before anything runs.
	for _, args := range [][]string{
		{"--name", "../{name}.{ext}"},
		{"--name", "a/../../{name}.{ext}"},
		{"--name", "/tmp/{name}.{ext}"},
		{"--name", "..\\{name}.{ext}"},
		{"--name", "{name}/../../x.{ext}"},
		{"--sizes", "8,16", "--name", "../{name}-{width}.{ext}"},
		{"-c", cfgDotDot},
	} {
		out := filepath.Join(base, "out-"+strconv.Itoa(len(args))+"-"+fmt.Sprintf("%x", sha256.Sum256([]byte(strings.Join(args, " "))))[:8])
		code, stderr := run(t, cwd, time.Minute, append([]string{"resize", filepath.Join(base, "in"), "-o", out}, args...)...)
		if code != 2 || !strings.Contains(stderr, "name") {
			t.Errorf("%q: exit %d, want 2 naming the setting:\n%s", args, code, stderr)
		}
		if files, _ := outputs(t, out); len(files) != 0 {
			t.Errorf("%q: wrote %q", args, files)
		}
	}

	// An input whose {name} is ".." and a symlink in the output folder that
	// points outside: those inputs fail, nothing is written outside.
	out := filepath.Join(base, "out")
	os.MkdirAll(out, 0o755)
	if err := os.Symlink(filepath.Join(base, "elsewhere"), filepath.Join(out, "link")); err != nil {
		t.Fatal(err)
	}
	code, stderr = run(t, "", time.Minute, "resize", filepath.Join(base, "in"), "-o", out, "-w", "16", "--hidden", "--name", "{name}/t.{ext}")
	if code != 1 {
		t.Errorf("exit %d, want 1 (two inputs cannot be written):\n%s", code, stderr)
	}
	if !slices.Equal(list(), files) {
		t.Errorf("files outside the output folder changed:\nbefore %q\nafter  %q", files, list())
	}
	for _, want := range []string{"...jpg", filepath.Join("link", "z.jpg")} {
		if !strings.Contains(stderr, "failed: save "+filepath.Join(base, "in", want)) {
			t.Errorf("%s: no save failure reported:\n%s", want, stderr)
		}
	}
	sameTree(t, before, hashTree(t, filepath.Join(base, "in")))
}

// A run removes the temporary files that dead processes left in the
// output folder (kill -9, a power cut), including the probe file of the
// writability check, and leaves files that are not its own alone.
func TestStaleTempRemoved(t *testing.T) {
	t.Parallel()
	in, out := tree(t, "edge/IMG_0001.JPG"), t.TempDir()
	const deadPID = 2147483646 // above any pid_max: no such process
	stale := []string{
		fmt.Sprintf(".imgpipe-%d-1.tmp", deadPID),
		fmt.Sprintf("edge/.imgpipe-%d-7.tmp", deadPID),
	}
	kept := []string{".imgpipe-notes.txt", "edge/.hidden.jpg", fmt.Sprintf(".imgpipe-%d-1.tmp.bak", deadPID)}
	for _, name := range append(stale, kept...) {
		p := filepath.Join(out, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, stderr := run(t, "", time.Minute, "resize", in, "-o", out, "-w", "16"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(out, name)); err == nil {
			t.Errorf("%s: a dead process's temporary file was not removed", name)
		}
	}
	for _, name := range kept {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s: not a temporary file of imgpipe, but removed: %v", name, err)
		}
	}

	// The probe file of the writability check, when the run is killed
	// before it removes it: strace kills imgpipe at its first unlinkat,
	// which is that probe's removal.
	t.Run("probe", func(t *testing.T) {
		strace, err := exec.LookPath("strace")
		if err != nil {
			t.Skip("strace is not installed")
		}
		out := t.TempDir()
		cmd := exec.Command(strace, "-f", "-qq", "-o", "/dev/null", "-e", "trace=unlinkat",
			"-e", "inject=unlinkat:error=EIO:signal=SIGKILL:when=1", binary, "resize", in, "-o", out, "-w", "16")
		if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Skipf("strace could not kill imgpipe at its first unlinkat (%v): %s", err, b)
		}
		if _, tmp := outputs(t, out); len(tmp) == 0 {
			t.Skip("the killed run left no temporary file")
		}
		if code, stderr := run(t, "", time.Minute, "resize", in, "-o", out, "-w", "16"); code != 0 {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		if _, tmp := outputs(t, out); len(tmp) != 0 {
			t.Errorf("the next run left the killed run's temporary files: %q", tmp)
		}
	})
}

// SIGKILL at any moment leaves only complete outputs under their final
// names (temporary files may remain, under hidden temporary names), and a
// re-run finishes the batch, skipping and keeping every complete output
// and removing the killed run's temporary files.
func TestKillAnyMoment(t *testing.T) {
	iterations := 9
	if testing.Short() {
		iterations = 3
	}
	killAnyMoment(t, 40, iterations)
}

// TestKillBatchedSave is TestKillAnyMoment over enough small inputs that
// the save stage falls behind and flushes its outputs in batches (one
// syncfs for several temporary files, then their renames), so that kills
// land between a batch's writes, its flush and its renames.
func TestKillBatchedSave(t *testing.T) {
	iterations := 5
	if testing.Short() {
		iterations = 2
	}
	killAnyMoment(t, 300, iterations)
}

// killAnyMoment runs a batch of n small JPEGs iterations times, killing it
// at moments spread over a whole run, and checks each time what is left and
// what a re-run does.
func killAnyMoment(t *testing.T, n, iterations int) {
	in := t.TempDir()
	copies(t, in, "edge/IMG_0001.JPG", n)
	before := hashTree(t, in)
	args := func(out string) []string { return []string{"resize", in, "-o", out, "-w", "100", "-j", "2"} }

	// How long a whole run takes here, to spread the kills over it.
	start := time.Now()
	if code, stderr := run(t, "", 2*time.Minute, args(t.TempDir())...); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	full := time.Since(start)

	rng := rand.New(rand.NewSource(20240611))
	kills, checked, temps, finished := 0, 0, 0, 0
	for i := range iterations {
		// Delays spread over [0, full): iteration i falls in slice i.
		delay := time.Duration((float64(i) + rng.Float64()) / float64(iterations) * float64(full))
		out := t.TempDir()
		cmd := exec.Command(binary, args(out)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
		err := cmd.Wait()
		timer.Stop()
		if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
			kills++
		} else if err == nil {
			finished++ // the run ended before the kill
		} else {
			t.Fatalf("kill %d after %v: %v", i, delay, err)
		}

		files, tmp := outputs(t, out)
		left := len(tmp)
		temps += left
		complete := map[string][32]byte{}
		for _, p := range files {
			if strings.HasPrefix(filepath.Base(p), ".") {
				t.Errorf("kill %d: hidden file %s that is not a temporary file", i, p)
			}
			if err := decodes(p); err != nil {
				t.Errorf("kill %d after %v: %s has its final name but is incomplete: %v", i, delay, p, err)
				continue
			}
			b, _ := os.ReadFile(p)
			complete[p] = sha256.Sum256(b)
			checked++
		}
		for _, p := range tmp {
			if !strings.HasPrefix(filepath.Base(p), atomicfile.TempPrefix) {
				t.Errorf("kill %d: temporary file %s is not hidden", i, p)
			}
		}

		// The re-run does the rest and keeps what was complete.
		code, stderr := run(t, "", 2*time.Minute, args(out)...)
		if code != 0 {
			t.Fatalf("re-run after kill %d: exit %d:\n%s", i, code, stderr)
		}
		m := regexp.MustCompile(`(\d+) processed, (\d+) skipped, 0 failed`).FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("re-run after kill %d: no summary:\n%s", i, stderr)
		}
		processed, _ := strconv.Atoi(m[1])
		skipped, _ := strconv.Atoi(m[2])
		if processed+skipped != n || skipped != len(complete) {
			t.Errorf("re-run after kill %d: %d processed + %d skipped, want %d in all with %d skipped", i, processed, skipped, n, len(complete))
		}
		for p, sum := range complete {
			b, err := os.ReadFile(p)
			if err != nil || sha256.Sum256(b) != sum {
				t.Errorf("re-run after kill %d changed or removed the complete output %s (%v)", i, p, err)
			}
		}
		files, tmp = outputs(t, out)
		if len(files) != n {
			t.Errorf("after the re-run: %d outputs, want %d", len(files), n)
		}
		if len(tmp) != 0 {
			t.Errorf("after the re-run: temporary files of the killed run remain: %q", tmp)
		}
		for _, p := range files {
			if err := decodes(p); err != nil {
				t.Errorf("after the re-run: %s: %v", p, err)
			}
		}
		checked += len(files)
		t.Logf("kill %d at %v: %d complete outputs, %d temporary files left", i, delay.Round(time.Millisecond), len(complete), left)
	}
	t.Logf("a full run takes %v; %d kills, %d runs ended first; %d output files checked; %d temporary files left by kills",
		full.Round(time.Millisecond), kills, finished, checked, temps)
	if kills == 0 {
		t.Errorf("none of the %d runs was killed mid-run", iterations)
	}
	sameTree(t, before, hashTree(t, in))
}
