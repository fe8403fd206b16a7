package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imgpipe/imgpipe/internal/atomicfile"
	"github.com/imgpipe/imgpipe/stages"
)

// StateName is the file, in the output folder, where runs record what
// each output was made from and with which settings. It is a dotfile, so
// no scan takes it for an input.
const StateName = ".imgpipe-state"

// CodecVersion names the encoders' output: bump it whenever a change to
// an encoder, a resampling filter or the metadata writer changes the bytes
// written for the same input and settings, so that re-runs redo every
// output made before.
//
// 2: animated GIF and WebP inputs written as WebP are animated WebP, not
// their first frame.
// 3: PNG outputs are written by internal/pngenc (same pixels, other bytes).
const CodecVersion = "3"

// stateHeader is the first line of the state file.
const stateHeader = "imgpipe-state\t1"

// clockSlack is taken off a run's start time: file systems that keep
// modification times to the second (or two, FAT) must not date an output
// of the run before the run.
const clockSlack = 2 * time.Second

// Flushing: appended records are written and synced once this many are
// waiting, or when one arrives this long after the last flush. A killed run
// loses at most one batch of records; the run's R line, synced before its
// first output, still says which settings made the outputs they described,
// so the next run keeps (and records) them when its settings are the same,
// and redoes them when not.
const (
	flushRecords  = 256
	flushInterval = time.Second
)

// keepRuns is how many runs' lines a rewrite keeps: only outputs whose
// records were lost need them, and the runs after such a loss adopt
// (record) the outputs they find up to date.
const keepRuns = 100

// record is what the state knows of one output.
type record struct {
	set               string // settings hash
	in                string // input's path below its root, slashes
	inSize, inMtime   int64
	outSize, outMtime int64 // the output as it was written: a record describes that file only
}

// State is the record of the outputs in one output folder: for each, the
// input it was made from (path below its root, size, modification time),
// the settings it was made with, and the output's own size and
// modification time when written. It is loaded once, at the start of a
// run (one line per output, about 100 bytes each), kept in a map, and
// appended to as outputs are written (O_APPEND, synced in batches); Close
// rewrites it compactly, atomically, when it has grown.
//
// A State is safe for concurrent use.
type State struct {
	dir string

	mu       sync.Mutex
	runs     []runRec            // the runs that wrote here, oldest first
	outs     map[string]record   // by output name, slash-separated, below dir
	byIn     map[string][]string // output names by input, made on first use (hashed); may hold names since recorded for another input
	settings map[string]map[string]string
	lines    int  // record lines in the file
	clean    bool // the file ends with a newline and has a valid header
	exists   bool
	pending  bytes.Buffer
	npending int
	flushed  time.Time
	saved    map[string]bool // settings hashes whose S line is in the file or pending
	f        *os.File
	err      error
}

// LoadState reads the state of the output folder dir. A missing file is an
// empty state; unreadable or torn lines (a run killed mid-write) are left
// out, never an error.
func LoadState(dir string) (*State, error) {
	s := &State{dir: dir, outs: map[string]record{},
		settings: map[string]map[string]string{}, saved: map[string]bool{}}
	data, err := os.ReadFile(filepath.Join(dir, StateName))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	s.exists = true
	s.parse(data)
	return s, nil
}

func (s *State) parse(b []byte) {
	// One string for the whole file: records keep substrings of it, so a
	// 20,000-line file costs a few allocations a line, not a dozen.
	data := string(b)
	s.clean = strings.HasSuffix(data, "\n")
	s.outs = make(map[string]record, strings.Count(data, "\n"))
	header, data, _ := strings.Cut(data, "\n")
	if header != stateHeader {
		s.clean = false // another version, or not ours: start again
		return
	}
	for data != "" {
		line, rest, ok := strings.Cut(data, "\n")
		if !ok {
			break // a torn last line: left out
		}
		data = rest
		s.lines++
		s.parseLine(line)
	}
}

func (s *State) parseLine(line string) {
	kind, line, _ := strings.Cut(line, "\t")
	switch kind {
	case "R":
		start, sets, _ := strings.Cut(line, "\t")
		ns, err := strconv.ParseInt(start, 10, 64)
		if err != nil {
			return
		}
		r := runRec{start: ns, sets: map[string]bool{}}
		for _, h := range strings.Split(sets, ",") {
			r.sets[h] = true
		}
		s.runs = append(s.runs, r)
	case "S":
		hash, js, ok := strings.Cut(line, "\t")
		var m map[string]string
		if ok && json.Unmarshal([]byte(js), &m) == nil {
			s.settings[hash] = m
			s.saved[hash] = true
		}
	case "O":
		var f [7]string
		for i := range f {
			var ok bool
			if f[i], line, ok = strings.Cut(line, "\t"); !ok && i < len(f)-1 {
				return
			}
		}
		if line != "" {
			return // more fields than a record has
		}
		var n [4]int64
		for i := range n {
			v, err := strconv.ParseInt(f[1+i], 10, 64)
			if err != nil {
				return
			}
			n[i] = v
		}
		in, err1 := unquote(f[5])
		out, err2 := unquote(f[6])
		if err1 != nil || err2 != nil {
			return
		}
		s.outs[out] = record{set: f[0], in: in, inSize: n[0], inMtime: n[1], outSize: n[2], outMtime: n[3]}
	}
}

// quote writes a path so that it holds no tab or newline.
func quote(p string) string {
	if strings.ContainsAny(p, "\t\n\r\"\\") || !strconv.CanBackquote(p) {
		return strconv.Quote(p)
	}
	return p
}

func unquote(p string) (string, error) {
	if strings.HasPrefix(p, `"`) {
		return strconv.Unquote(p)
	}
	return p, nil
}

// verdict is the state's judgement of one existing output.
type verdict int

const (
	unknown  verdict = iota // no record of this file: made before the record, by hand, or its record was lost
	upToDate                // made from this input with these settings
	stale                   // made from another input, or with other settings
)

// check judges the output named out (st its file info) for the input f
// (rel its path below its root) and settings. An output the record does not
// describe (none, or the file changed since) was made before the folder
// had a record, or by a run whose last records were lost (killed), or by
// hand: it is judged by modification times, as before imgpipe kept a
// record, when no run wrote here since it was made, or the run that did
// used these settings; it is then adopted (recorded). Otherwise it is
// redone. Adopting is left to the caller's adopt (not on a dry run).
func (s *State) check(out string, st fs.FileInfo, f stages.File, rel string, set Settings, adopt bool) (verdict, string) {
	s.mu.Lock()
	r, ok := s.outs[out]
	var old map[string]string
	if ok {
		old = s.settings[r.set]
	}
	madeBy := s.runAt(st.ModTime().UnixNano())
	s.mu.Unlock()
	if !ok || r.outSize != st.Size() || r.outMtime != st.ModTime().UnixNano() {
		if madeBy != nil && !madeBy.sets[set.Hash] {
			return stale, "made by a run with other settings"
		}
		if f.ModTime.IsZero() || st.ModTime().Before(f.ModTime) {
			return stale, "the input is newer than its output"
		}
		if madeBy != nil && adopt {
			s.add(out, st, f, rel, set)
		}
		return upToDate, ""
	}
	switch {
	case r.in != rel:
		return stale, "made from another input (" + r.in + ")"
	case f.ModTime.IsZero() || r.inSize != f.Size || r.inMtime != f.ModTime.UnixNano():
		return stale, "the input changed"
	case r.set != set.Hash:
		return stale, "settings changed: " + set.diff(old)
	}
	return upToDate, ""
}

// runRec is a run that wrote outputs: when it started and the settings of
// its renditions.
type runRec struct {
	start int64
	sets  map[string]bool
}

// runAt returns the last run started at or before the time ns, nil if none.
func (s *State) runAt(ns int64) *runRec {
	for i := len(s.runs) - 1; i >= 0; i-- {
		if s.runs[i].start <= ns {
			return &s.runs[i]
		}
	}
	return nil
}

// Begin records, durably, that a run with these settings starts writing
// outputs here. Call it once a run, before its first output is written: an
// output whose own record the run then loses (killed) is known to have
// been made with one of these settings.
func (s *State) Begin(sets []Settings) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := runRec{start: time.Now().Add(-clockSlack).UnixNano(), sets: map[string]bool{}}
	hashes := make([]string, 0, len(sets))
	for _, set := range sets {
		if r.sets[set.Hash] {
			continue
		}
		r.sets[set.Hash] = true
		hashes = append(hashes, set.Hash)
		s.saveSettingsLocked(set)
	}
	s.runs = append(s.runs, r)
	fmt.Fprintf(&s.pending, "R\t%d\t%s\n", r.start, strings.Join(hashes, ","))
	s.npending++
	s.flushLocked()
	return s.err
}

func (s *State) saveSettingsLocked(set Settings) {
	if !s.saved[set.Hash] {
		s.saved[set.Hash] = true
		s.settings[set.Hash] = set.m
		fmt.Fprintf(&s.pending, "S\t%s\t%s\n", set.Hash, set.js)
	}
}

// hashDigits is how many hex digits {hash} stands for in an output's name
// (stages' shortHash).
const hashDigits = 10

// hashed returns the recorded output made from the input rel whose name is
// the template name with each {hash} a hash: the one made with the
// settings hash set if there is one, else the latest written; "" if none.
// An output named by its bytes can only be found again this way: its name
// is known once it is encoded. Cost: a pass over the records, once a run,
// to index them by input; then a few names an input.
func (s *State) hashed(name, rel, set string) string {
	parts := strings.Split(name, "{hash}")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re, err := regexp.Compile("^" + strings.Join(parts, "[0-9a-f]{"+strconv.Itoa(hashDigits)+"}") + "$")
	if err != nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byIn == nil {
		s.byIn = map[string][]string{}
		for out, r := range s.outs {
			s.byIn[r.in] = append(s.byIn[r.in], out)
		}
	}
	best := ""
	var bestRec record
	for _, out := range s.byIn[rel] {
		r, ok := s.outs[out]
		if !ok || r.in != rel || !re.MatchString(out) {
			continue
		}
		better := best == "" || (r.set == set) != (bestRec.set == set) && r.set == set ||
			(r.set == set) == (bestRec.set == set) && r.outMtime > bestRec.outMtime
		if better {
			best, bestRec = out, r
		}
	}
	return best
}

// isOutput reports whether out (slash-separated, below the output folder)
// is recorded as an output.
func (s *State) isOutput(out string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.outs[out]
	return ok
}

// add records that out was made from f (rel below its root) with set, and
// is now the file st describes. The record reaches the disk with the next
// flush.
func (s *State) add(out string, st fs.FileInfo, f stages.File, rel string, set Settings) {
	r := record{set: set.Hash, in: rel, inSize: f.Size, inMtime: f.ModTime.UnixNano(),
		outSize: st.Size(), outMtime: st.ModTime().UnixNano()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byIn != nil {
		if old, ok := s.outs[out]; !ok || old.in != rel {
			s.byIn[rel] = append(s.byIn[rel], out)
		}
	}
	s.outs[out] = r
	s.saveSettingsLocked(set)
	fmt.Fprintf(&s.pending, "O\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", r.set, r.inSize, r.inMtime, r.outSize, r.outMtime, quote(rel), quote(out))
	s.npending++
	if s.npending >= flushRecords || time.Since(s.flushed) >= flushInterval {
		s.flushLocked()
	}
}

// flushLocked appends what is pending to the file and syncs it. The first
// error is kept for Close; records that could not be written are only
// lost, and their outputs redone by the next run.
func (s *State) flushLocked() {
	s.flushed = time.Now()
	if s.npending == 0 || s.err != nil {
		return
	}
	if s.f == nil && (!s.exists || !s.clean) {
		// A new file, another version, or a torn last line: write the file
		// afresh, atomically, with everything known (pending included).
		s.pending.Reset()
		s.npending = 0
		s.err = s.rewriteLocked()
		return
	}
	if s.f == nil {
		if s.f, s.err = os.OpenFile(filepath.Join(s.dir, StateName), os.O_WRONLY|os.O_APPEND, 0); s.err != nil {
			return
		}
	}
	if _, s.err = s.f.Write(s.pending.Bytes()); s.err == nil {
		s.err = s.f.Sync()
	}
	s.lines += s.npending
	s.pending.Reset()
	s.npending = 0
}

// Flush writes the records not yet on disk.
func (s *State) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
}

// rewriteLocked writes the whole state as it is known, atomically: the
// settings in use, then one line per output.
func (s *State) rewriteLocked() error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n", stateHeader)
	used := map[string]bool{}
	s.runs = s.runs[max(0, len(s.runs)-keepRuns):]
	for _, r := range s.runs {
		for h := range r.sets {
			if m, ok := s.settings[h]; ok && !used[h] {
				used[h] = true
				js, _ := json.Marshal(m)
				fmt.Fprintf(&b, "S\t%s\t%s\n", h, js)
			}
		}
	}
	for _, r := range s.outs {
		if m, ok := s.settings[r.set]; ok && !used[r.set] {
			used[r.set] = true
			js, _ := json.Marshal(m)
			fmt.Fprintf(&b, "S\t%s\t%s\n", r.set, js)
		}
	}
	for _, r := range s.runs {
		hashes := make([]string, 0, len(r.sets))
		for h := range r.sets {
			hashes = append(hashes, h)
		}
		fmt.Fprintf(&b, "R\t%d\t%s\n", r.start, strings.Join(hashes, ","))
	}
	for out, r := range s.outs {
		fmt.Fprintf(&b, "O\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", r.set, r.inSize, r.inMtime, r.outSize, r.outMtime, quote(r.in), quote(out))
	}
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := atomicfile.Write(root, StateName, b.Bytes(), true); err != nil {
		return err
	}
	s.exists, s.clean, s.lines = true, true, len(used)+len(s.runs)+len(s.outs)
	return nil
}

// Close writes what is pending and, when the file has grown to more than
// twice the records it needs, rewrites it compactly. It returns the first
// error met writing the state (the outputs themselves are not affected:
// a lost record only makes the next run redo its output).
func (s *State) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.npending > 0 && s.exists && s.clean && s.lines+s.npending > 2*len(s.outs)+64 {
		// Compact instead of appending: the pending records are in s.outs.
		s.pending.Reset()
		s.npending = 0
		s.closeFile()
		if s.err == nil {
			s.err = s.rewriteLocked()
		}
		return s.err
	}
	s.flushLocked()
	s.closeFile()
	return s.err
}

func (s *State) closeFile() {
	if s.f != nil {
		if err := s.f.Close(); s.err == nil {
			s.err = err
		}
		s.f = nil
	}
}

// Settings are the options of one rendition that change its bytes, as
// key/value pairs in a fixed order, with their hash.
type Settings struct {
	Hash string
	keys []string
	m    map[string]string
	js   []byte
}

// SettingsOf returns the settings behind the bytes of o's outputs: the
// rendition's own, the decode options that change pixels, and
// CodecVersion.
func SettingsOf(o stages.Output, d stages.DecodeOptions) Settings {
	raw := o
	o = o.WithDefaults()
	frames := d.Frames
	if frames == "" {
		frames = "all"
	}
	kv := []string{
		"width", strconv.Itoa(o.Width), "height", strconv.Itoa(o.Height), "fit", o.Fit, "anchor", o.Anchor,
		"enlarge", strconv.FormatBool(o.Enlarge), "format", o.Format, "quality", strconv.Itoa(o.Quality),
		"progressive", strconv.FormatBool(o.Progressive), "lossless", strconv.FormatBool(o.Lossless),
		"filter", o.Filter, "sharpen", strconv.FormatFloat(o.Sharpen, 'g', -1, 64),
		"linear", strconv.FormatBool(o.Linear), "keep_metadata", keepMetadata(o.KeepMetadata),
		"background", o.Background, "name", o.Name, "frames", frames,
		"full_decode", strconv.FormatBool(d.FullDecode), "ignore_orientation", strconv.FormatBool(d.IgnoreOrientation),
		"codec", CodecVersion,
	}
	// Settings added later are recorded only when set, so outputs made
	// before they existed stay up to date.
	if o.Focal != nil {
		kv = append(kv, "focal", strconv.FormatFloat(o.Focal[0], 'g', -1, 64)+","+strconv.FormatFloat(o.Focal[1], 'g', -1, 64))
	}
	if o.Trim {
		kv = append(kv, "trim", "true")
	}
	if o.Colorspace != "auto" { // auto, the default, came with it: recorded when not
		kv = append(kv, "colorspace", o.Colorspace)
	}
	if o.MaxBytes > 0 {
		kv = append(kv, "max_bytes", strconv.FormatInt(o.MaxBytes, 10))
	}
	if raw.Fit == "pad" && raw.Background == "" { // transparent or white, by format
		kv[slices.Index(kv, "background")+1] = "auto"
	}
	s := Settings{m: make(map[string]string, len(kv)/2)}
	for i := 0; i < len(kv); i += 2 {
		s.keys = append(s.keys, kv[i])
		s.m[kv[i]] = kv[i+1]
	}
	s.js, _ = json.Marshal(s.m) // sorted keys: the same settings give the same bytes
	sum := sha256.Sum256(s.js)
	s.Hash = hex.EncodeToString(sum[:8])
	return s
}

// keepMetadata records KeepMetadata as the boolean it was (none: false,
// all: true), so outputs made before it took words stay up to date.
func keepMetadata(policy string) string {
	switch policy {
	case "none":
		return "false"
	case "all":
		return "true"
	}
	return policy
}

// diff says what changed from old to s: "width 300 -> 800, quality 85 -> 70".
func (s Settings) diff(old map[string]string) string {
	if old == nil {
		return "unknown before"
	}
	var d []string
	for _, k := range s.keys {
		if o, n := old[k], s.m[k]; o != n {
			if o == "" {
				o = "(none)"
			}
			d = append(d, k+" "+o+" -> "+n)
		}
	}
	if len(d) == 0 {
		return "unknown before"
	}
	return strings.Join(d, ", ")
}
