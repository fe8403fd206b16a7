package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"
	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"

	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"github.com/imgpipe/imgpipe/internal/plan"
	"github.com/imgpipe/imgpipe/pipeline"
)

var binary string

// TestMain builds the imgpipe binary once: the end-to-end tests run it as a
// user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imgpipe-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "imgpipe")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic("go build: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// imgpipe runs the binary and returns its exit code and output.
func imgpipe(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// tree copies files of testdata into a new temp folder.
func tree(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// hashTree records every file's bytes below dir, to prove inputs are never
// modified.
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			data, _ := os.ReadFile(p)
			m[p] = string(data)
		}
		return nil
	})
	return m
}

func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("input tree changed: %d files before, %d after", len(before), len(after))
	}
	for p, b := range before {
		if after[p] != b {
			t.Errorf("input %s was modified", p)
		}
	}
}

func noTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && atomicfile.IsTemp(p) {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

func decodeSize(t *testing.T, path string) image.Point {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s does not decode: %v", path, err)
	}
	return img.Bounds().Size()
}

func TestResizeEndToEnd(t *testing.T) {
	in := tree(t, "photos/camera_Nikon_P6000_GPS.jpg", "photos/friends_by_Aitzol_Berasategi.jpg",
		"orientation/Landscape_6.jpg", "formats/alpha.png", "formats/video.gif", "formats/8bpp.bmp",
		"formats/paletted.tiff", "formats/lossless.webp", "edge/no_extension_jpeg", "edge/IMG_0001.JPG",
		"bad/empty.jpg", "bad/html_404_page.jpg", "bad/truncated_50pct_rgb8.png", "bad/png_50000x50000_1bit_zeros.png",
		"formats/unsupported.avif")
	// Things a real tree has that are not photos.
	os.WriteFile(filepath.Join(in, "notes.txt"), []byte("not a photo"), 0o644)
	os.WriteFile(filepath.Join(in, ".DS_Store"), []byte("junk"), 0o644)
	os.Mkdir(filepath.Join(in, ".hidden"), 0o755)
	os.WriteFile(filepath.Join(in, ".hidden", "x.jpg"), []byte("junk"), 0o644)
	before := hashTree(t, in)
	out := filepath.Join(t.TempDir(), "out")
	report := filepath.Join(t.TempDir(), "report.csv")

	// Flags after the inputs, GNU style.
	code, _, stderr := imgpipe(t, "resize", in, "-o", out, "--width", "120", "--height", "120", "--report", report)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (some inputs failed); stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "10 processed, 0 skipped, 5 failed") {
		t.Errorf("summary missing or wrong:\n%s", stderr)
	}
	if !strings.Contains(stderr, "failed: decode "+filepath.Join(in, "bad", "empty.jpg")+": not an image") {
		t.Errorf("failure line should name stage, path and reason:\n%s", stderr)
	}
	f, err := os.Open(report)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 16 || strings.Join(rows[0], ",") != "input,output,status,stage,error,format,src_width,src_height,width,height,bytes_in,bytes_out,ms,outputs,notes,placeholder" {
		t.Fatalf("report has %d rows, header %v", len(rows), rows[0])
	}
	statuses := map[string]int{}
	for _, row := range rows[1:] {
		statuses[row[2]]++
		switch row[2] {
		case "ok":
			size := decodeSize(t, row[1])
			if size.X > 120 || size.Y > 120 || row[8] == "" || row[9] == "" {
				t.Errorf("%s: output %v, report %sx%s", row[0], size, row[8], row[9])
			}
			if st, err := os.Stat(row[1]); err != nil || row[11] != strconv.FormatInt(st.Size(), 10) {
				t.Errorf("%s: bytes_out %s, file %v", row[0], row[11], err)
			}
		case "failed":
			if row[3] != "decode" || row[4] == "" {
				t.Errorf("%s: failed row without stage or error: %v", row[0], row)
			}
			if _, err := os.Stat(filepath.Join(out, "bad", filepath.Base(row[0]))); err == nil {
				t.Errorf("%s: an output was written for a failed input", row[0])
			}
		}
	}
	if statuses["ok"] != 10 || statuses["failed"] != 5 {
		t.Errorf("statuses %v", statuses)
	}
	if _, err := os.Stat(filepath.Join(out, "notes.txt")); err == nil {
		t.Error("notes.txt was treated as an image")
	}
	if _, err := os.Stat(filepath.Join(out, ".hidden")); err == nil {
		t.Error("hidden folder was scanned")
	}
	noTemp(t, out)
	sameTree(t, before, hashTree(t, in))

	// Again: everything done is skipped; the failures fail again.
	code, _, stderr = imgpipe(t, "resize", in, "-o", out, "-w", "120", "-H", "120")
	if code != 1 || !strings.Contains(stderr, "0 processed, 10 skipped, 5 failed") {
		t.Errorf("re-run: exit %d:\n%s", code, stderr)
	}
}

func TestExitCodes(t *testing.T) {
	in := tree(t, "edge/IMG_0001.JPG")
	out := t.TempDir()
	badCfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(badCfg, []byte("output:\n  width: 10\n  widht: 20\n"), 0o644)
	badValue := filepath.Join(t.TempDir(), "value.yaml")
	os.WriteFile(badValue, []byte("# thumbnails\noutput:\n  width: -5\n"), 0o644)
	typo := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(typo, []byte("output:\n  width: 10\n  qualty: 20\n"), 0o644)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"ok", []string{"resize", in, "-o", out, "-w", "50"}, 0, "1 processed"},
		{"no inputs", []string{"resize", "-o", out}, 2, "requires at least 1 arg"},
		{"no output", []string{"resize", in}, 2, "output folder is required"},
		{"unknown flag", []string{"resize", in, "-o", out, "--colour", "red"}, 2, "unknown flag: --colour"},
		{"bad fit", []string{"resize", in, "-o", out, "--fit", "cover"}, 2, "imgpipe: --fit: must be fit, fill, pad or stretch"},
		{"bad quality", []string{"resize", in, "-o", out, "-q", "0"}, 2, "--quality: must be 1-100"},
		{"quality over 100", []string{"resize", in, "-o", out, "-q", "101"}, 2, "imgpipe: --quality: must be 1-100"},
		{"negative width", []string{"resize", in, "-o", out, "--width", "-5"}, 2, "imgpipe: --width: must be >= 0, got -5\nRun 'imgpipe resize --help' for usage."},
		{"bad value in config", []string{"resize", in, "-o", out, "-c", badValue}, 2, badValue + " line 3: output.width: must be >= 0, got -5"},
		{"unknown config key", []string{"resize", in, "-o", out, "-c", badCfg}, 2, badCfg + " line 3: unknown key output.widht; did you mean width?"},
		{"config typo", []string{"resize", in, "-o", out, "-c", typo}, 2, typo + " line 3: unknown key output.qualty; did you mean quality?"},
		{"sizes share a name", []string{"resize", in, "-o", out, "--sizes", "10,20", "--name", "{name}-small.{ext}"}, 2, "--name: outputs[0] and outputs[1] can be given the same file name"},
		{"missing config", []string{"resize", in, "-o", out, "-c", "nope.yaml"}, 2, "nope.yaml"},
		{"unwritable output", []string{"resize", in, "-o", filepath.Join(file, "out")}, 2, "output folder not writable"},
		{"missing input", []string{"resize", filepath.Join(in, "nope.jpg"), "-o", out}, 1, "scan " + filepath.Join(in, "nope.jpg") + ": no such file"},
		{"unknown command", []string{"shrink"}, 2, "unknown command"},
		{"negative ahead", []string{"worker", "--ahead", "-1"}, 2, "-j, --ahead, --max-memory and --max-deliver must be >= 0"},
		{"version", []string{"version"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := imgpipe(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, want %d; stderr %q should contain %q", code, tt.code, stderr, tt.stderr)
			}
			if code == exitUsage && strings.Contains(stderr, "processed") {
				t.Errorf("a run that could not start printed a summary: %q", stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, stdout, _ := imgpipe(t, "resize", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Usage:", "imgpipe resize [flags] INPUT... -o OUTDIR", "Examples:", "--width", "--fit", "--report", "--dry-run"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

func TestConfigFileAndFlagsOverride(t *testing.T) {
	in := tree(t, "photos/camera_Nikon_P6000_GPS.jpg")
	out := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("out_dir: "+out+"\noutput:\n  width: 64\n  format: png\n  name: \"{name}-{width}.{ext}\"\n"), 0o644)
	if code, _, stderr := imgpipe(t, "resize", "-c", cfg, in); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := decodeSize(t, filepath.Join(out, "photos", "camera_Nikon_P6000_GPS-64.png")); got != image.Pt(64, 48) {
		t.Errorf("config file: output %v", got)
	}
	// A flag overrides the file; the rest of the file still applies.
	if code, _, stderr := imgpipe(t, "resize", "-c", cfg, in, "--width", "32"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := decodeSize(t, filepath.Join(out, "photos", "camera_Nikon_P6000_GPS-32.png")); got != image.Pt(32, 24) {
		t.Errorf("flag override: output %v", got)
	}
}

// The documented example config runs as is on the bundled photos.
func TestExampleConfig(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := imgpipe(t, "resize", "-c", "config.yaml", "testdata/photos", "-o", out, "--workers", "1", "--dry-run")
	if code != 0 || !strings.Contains(stderr, "dry run: 5 would be written, 0 up to date, 0 failed") || !strings.Contains(stdout, "would write: testdata/photos/") {
		t.Fatalf("exit %d:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("dry run wrote %d files", len(entries))
	}
}

func TestSizesAndJSONReport(t *testing.T) {
	in := tree(t, "photos/camera_Nikon_P6000_GPS.jpg")
	out := t.TempDir()
	report := filepath.Join(t.TempDir(), "r.jsonl")
	if code, _, stderr := imgpipe(t, "resize", in, "-o", out, "--sizes", "100,200", "--report", report); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for w, h := range map[int]int{100: 75, 200: 150} {
		p := filepath.Join(out, "photos", "camera_Nikon_P6000_GPS-"+strconv.Itoa(w)+"w.jpg")
		if got := decodeSize(t, p); got != image.Pt(w, h) {
			t.Errorf("%s: %v", p, got)
		}
	}
	data, _ := os.ReadFile(report)
	var row map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(data), &row); err != nil {
		t.Fatalf("report %q: %v", data, err)
	}
	if row["status"] != "ok" || len(row["outputs"].([]any)) != 2 || row["width"] != float64(100) {
		t.Errorf("report row %v", row)
	}
}

// startBatch starts imgpipe on 30 copies of a 6 MP photo and returns once
// the first output is complete, so a signal lands mid-run.
func startBatch(t *testing.T, args ...string) (in, out string, cmd *exec.Cmd, stderr *bytes.Buffer) {
	t.Helper()
	in, out = t.TempDir(), t.TempDir()
	data, _ := os.ReadFile("testdata/photos/friends_by_Aitzol_Berasategi.jpg")
	for i := range 30 {
		os.WriteFile(filepath.Join(in, "p"+strconv.Itoa(i)+".jpg"), data, 0o644)
	}
	cmd = exec.Command(binary, append([]string{"resize", in, "-o", out, "-w", "300"}, args...)...)
	stderr = &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		entries, _ := os.ReadDir(out)
		if slices.ContainsFunc(entries, func(e os.DirEntry) bool { return !atomicfile.IsTemp(e.Name()) && e.Name() != plan.StateName }) {
			break
		}
	}
	return in, out, cmd, stderr
}

// waitInterrupted checks that cmd exits 130 leaving no temporary file and
// only complete outputs, and returns how many outputs there are.
func waitInterrupted(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer, out string) int {
	t.Helper()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130; stderr:\n%s", err, stderr.String())
	}
	noTemp(t, out)
	entries, _ := os.ReadDir(out)
	entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return e.Name() == plan.StateName })
	for _, e := range entries {
		decodeSize(t, filepath.Join(out, e.Name()))
	}
	return len(entries)
}

// SIGINT mid-run: exit 130, no temporary files, every output complete; a
// re-run finishes the rest and skips what is done.
func TestInterrupt(t *testing.T) {
	in, out, cmd, stderr := startBatch(t, "-j", "1")
	cmd.Process.Signal(syscall.SIGINT)
	n := waitInterrupted(t, cmd, stderr, out)
	if n == 0 || n >= 30 {
		t.Errorf("%d outputs after an interrupt mid-run", n)
	}
	code, _, errOut := imgpipe(t, "resize", in, "-o", out, "-w", "300")
	if code != 0 || !strings.Contains(errOut, strconv.Itoa(n)+" skipped") {
		t.Errorf("re-run: exit %d:\n%s", code, errOut)
	}
}

// A second Ctrl-C exits at once, still leaving no temporary file and no
// partial output.
func TestDoubleInterrupt(t *testing.T) {
	_, out, cmd, stderr := startBatch(t)
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(20 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	waitInterrupted(t, cmd, stderr, out)
}

// Flags given on the command line win over the config file, whatever
// their type (sizes, lists, booleans, durations); the file fills the rest.
func TestFlagsOverrideConfigFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(file, []byte(`out_dir: from-file
max_memory: 1GiB
output: {width: 64, quality: 70, enlarge: false}
watch: {settle: 5s, ignore: ["x"]}
`), 0o644)
	args := []string{"-c", file, "--max-memory", "1500000", "--ignore", "*.xmp,*.dng", "--enlarge", "-w", "32", "--settle", "250ms", "dir"}
	var cfg pipeline.Config
	var o options
	f := pflag.NewFlagSet("t", pflag.ContinueOnError) // the flags watch defines
	addFlags(f, &cfg, &o)
	f.DurationVar(&cfg.Watch.Settle, "settle", 0, "")
	f.StringSliceVar(&cfg.Watch.Ignore, "ignore", nil, "")
	if err := f.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := applyConfig(f, &cfg, &o); err != nil {
		t.Fatal(err)
	}
	if cfg.OutDir != "from-file" || cfg.Output.Quality != 70 {
		t.Errorf("file values lost: out %q quality %d", cfg.OutDir, cfg.Output.Quality)
	}
	if cfg.Output.Width != 32 || !cfg.Output.Enlarge || cfg.MaxMemory != 1500000 ||
		cfg.Watch.Settle != 250*time.Millisecond || strings.Join(cfg.Watch.Ignore, ",") != "*.xmp,*.dng" {
		t.Errorf("flags did not win: width %d enlarge %v max_memory %d settle %s ignore %v",
			cfg.Output.Width, cfg.Output.Enlarge, cfg.MaxMemory, cfg.Watch.Settle, cfg.Watch.Ignore)
	}
}

// --keep-metadata: bare means all (old scripts), =word picks, the config
// file takes the words and the old booleans, and a flag wins over it.
func TestKeepMetadataFlag(t *testing.T) {
	for _, tc := range []struct {
		file string
		args []string
		want string
	}{
		{"", []string{"dir"}, "none"},
		{"", []string{"--keep-metadata", "dir"}, "all"},
		{"", []string{"--keep-metadata=copyright", "dir"}, "copyright"},
		{"output: {keep_metadata: true}", []string{"dir"}, "all"},
		{"output: {keep_metadata: false}", []string{"dir"}, "none"},
		{"output: {keep_metadata: copyright}", []string{"dir"}, "copyright"},
		{"output: {keep_metadata: copyright}", []string{"--keep-metadata", "dir"}, "all"},
		{"output: {colorspace: srgb}", []string{"dir"}, "none"},
	} {
		var cfg pipeline.Config
		var o options
		f := pflag.NewFlagSet("t", pflag.ContinueOnError)
		addFlags(f, &cfg, &o)
		args := append([]string{"-o", "out"}, tc.args...)
		if tc.file != "" {
			file := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(file, []byte(tc.file+"\n"), 0o644)
			args = append([]string{"-c", file}, args...)
		}
		if err := f.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := applyConfig(f, &cfg, &o); err != nil {
			t.Fatal(err)
		}
		if got := cfg.Output.WithDefaults().KeepMetadata; got != tc.want || f.Arg(0) != "dir" {
			t.Errorf("%q %v: keep_metadata %q (args %v), want %q", tc.file, tc.args, got, f.Args(), tc.want)
		}
		if strings.Contains(tc.file, "srgb") && cfg.Output.Colorspace != "srgb" {
			t.Errorf("%q: colorspace %q", tc.file, cfg.Output.Colorspace)
		}
	}
}

// A watch that cannot start exits 2 at once, saying which folder and what
// to do: a typo in a service's unit must not watch nothing forever.
func TestWatchNoFolder(t *testing.T) {
	tmp := t.TempDir()
	missing, file, out := filepath.Join(tmp, "nope"), filepath.Join(tmp, "photo.jpg"), filepath.Join(tmp, "out")
	os.WriteFile(file, nil, 0o644)
	for _, tt := range []struct {
		name  string
		dirs  []string
		lines []string
	}{
		{"missing", []string{missing}, []string{"imgpipe: watch " + missing + ": no folder to watch: no such file or directory"}},
		{"a file", []string{file}, []string{"imgpipe: watch " + file + ": no folder to watch: it is a file"}},
		{"one of two", []string{tmp, missing}, []string{"imgpipe: watch " + missing + ": no folder to watch: no such file or directory"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := run(t, "", 30*time.Second, append(append([]string{"watch"}, tt.dirs...), "-o", out)...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, want := range append(tt.lines, "imgpipe: watch needs existing folders: check the path") {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
}

// watchCmd is `imgpipe watch` running in the background of a test.
type watchCmd struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string // stderr, line by line; closed at its end
	seen  []string    // the lines taken from lines so far
	mu    sync.Mutex
	all   strings.Builder
}

func startWatchCmd(t *testing.T, args ...string) *watchCmd {
	t.Helper()
	w := &watchCmd{t: t, cmd: exec.Command(binary, append([]string{"watch"}, args...)...), lines: make(chan string, 1000)}
	pipe, err := w.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(w.lines)
		s := bufio.NewScanner(pipe)
		for s.Scan() {
			w.mu.Lock()
			w.all.WriteString(s.Text() + "\n")
			w.mu.Unlock()
			w.lines <- s.Text()
		}
	}()
	t.Cleanup(func() { w.cmd.Process.Kill() })
	return w
}

func (w *watchCmd) stderr() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// waitLine waits for a stderr line, logged so far or later, holding each
// of parts.
func (w *watchCmd) waitLine(parts ...string) {
	w.t.Helper()
	match := func(line string) bool {
		return !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) })
	}
	if slices.ContainsFunc(w.seen, match) {
		return
	}
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-w.lines:
			if !ok {
				w.t.Fatalf("imgpipe exited before logging %q:\n%s", parts, w.stderr())
			}
			w.seen = append(w.seen, line)
			if match(line) {
				return
			}
		case <-timeout:
			w.t.Fatalf("no line with %q in 30s:\n%s", parts, w.stderr())
		}
	}
}

// wait waits for imgpipe to exit and returns its exit code.
func (w *watchCmd) wait() int {
	w.t.Helper()
	timeout := time.After(30 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-w.lines:
		case <-timeout:
			w.t.Fatalf("imgpipe did not exit in 30s:\n%s", w.stderr())
		}
	}
	err := w.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		w.t.Fatal(err)
	}
	return 0
}

// A watched folder that goes away is reported; the watch exits 1 when no
// folder is left, and goes on while another one is watched.
func TestWatchFolderGone(t *testing.T) {
	photo, err := os.ReadFile("testdata/edge/IMG_0001.JPG")
	if err != nil {
		t.Fatal(err)
	}
	folder := func(name string) string { // holding <name>.jpg
		dir := filepath.Join(t.TempDir(), name)
		os.Mkdir(dir, 0o755)
		os.WriteFile(filepath.Join(dir, name+".jpg"), photo, 0o644)
		return dir
	}
	const goneMsg = "no folder to watch: gone (deleted, moved away or unmounted), no longer watched"
	t.Run("the only one", func(t *testing.T) {
		dir := folder("drop")
		w := startWatchCmd(t, dir, "-o", t.TempDir(), "-w", "32", "--settle", "50ms")
		w.waitLine("processed", "drop.jpg") // watching, past catch-up
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if code := w.wait(); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		for _, want := range []string{"level=ERROR", dir, goneMsg, "imgpipe: stopped: watch: no folder left to watch: " + dir + " is gone"} {
			if !strings.Contains(w.stderr(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, w.stderr())
			}
		}
	})
	t.Run("one of two", func(t *testing.T) {
		dir, other := folder("drop"), folder("other")
		w := startWatchCmd(t, dir, other, "-o", t.TempDir(), "-w", "32", "--settle", "50ms")
		w.waitLine("processed", filepath.Join(other, "other.jpg"))
		w.waitLine("processed", filepath.Join(dir, "drop.jpg"))
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		w.waitLine("level=ERROR", goneMsg)
		os.WriteFile(filepath.Join(other, "b.jpg"), photo, 0o644)
		w.waitLine("processed", filepath.Join(other, "b.jpg")) // still watched
		w.cmd.Process.Signal(syscall.SIGTERM)
		if code := w.wait(); code != 0 {
			t.Errorf("exit %d after SIGTERM, want 0:\n%s", code, w.stderr())
		}
	})
}
