package jpeg

import "io"

// A decoder made by NewBands reads its file as a stream through a window:
// data is the unread part of buf, and ensure slides it along, so that the
// file is never held whole. Positions into data (d.pos, d.br.pos) are moved
// back by what ensure returns.
var (
	// windowSize is the window's size: it must hold a marker segment (at
	// most 64 KiB) and an MCU's entropy-coded data (unitAhead); 256 KiB
	// holds many MCUs, and is small beside any image read in bands. A
	// variable, so that tests can slide a small window over small files.
	windowSize = 256 << 10
	// unitAhead is what is asked ahead of each MCU (or block, in a scan
	// of one component): more than its entropy-coded data can take. A
	// block is at most 63 AC codes of 16 bits plus 15 value bits and a DC
	// code, about 250 bytes, twice that with 0xFF00 stuffing; an MCU has
	// at most 10 blocks.
	unitAhead = 16 << 10
)

// ensure makes at least n bytes from data[pos:] available, if the stream
// has them, by dropping the bytes before pos and reading more: while the
// header is read (openOnly), no more than it needs, a few KiB at a time,
// so that a file refused from its header costs a few reads; then as much
// as the window holds. It returns how far data moved back (what to
// subtract from positions into it), 0 for a decoder of a whole file. A
// read error ends the data like the end of the file; it is kept in srcErr
// for the caller to report.
func (d *decoder) ensure(pos, n int) int {
	if d.src == nil || d.srcDone || len(d.data)-pos >= n {
		return 0
	}
	k := copy(d.buf, d.data[pos:])
	want := len(d.buf)
	if d.openOnly {
		want = min(n, want)
	}
	for empty := 0; k < want && !d.srcDone; {
		p := d.buf[k:]
		if d.openOnly {
			p = p[:min(len(p), max(n-k, headerRead))]
		}
		m, err := d.src.Read(p)
		k += m
		if m == 0 && err == nil {
			if empty++; empty == 100 {
				err = io.ErrNoProgress
			}
		}
		if err != nil {
			d.srcDone = true
			if err != io.EOF {
				d.srcErr = err
			}
		}
	}
	d.data = d.buf[:k]
	d.br.data = d.data
	return pos
}

// headerRead is the most a read of the header asks for at once.
const headerRead = 4 << 10
