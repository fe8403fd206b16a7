// Package inflate decodes raw Deflate streams (RFC 1951), the compressed
// data of PNG images and Deflate TIFF strips and tiles, faster than
// compress/flate and github.com/klauspost/compress/flate: it reads the
// input from a byte buffer refilled in large reads, a 64-bit bit buffer
// at a time, decodes most symbols with one table lookup (the entry gives
// the literal, or the length or distance base with its extra bit count),
// and copies matches 8 bytes at a time, in a loop that checks the ends of
// the input and output once a symbol; near the ends a careful path takes
// over. The ideas are those of libdeflate's decompress_template.h and
// zlib's inffast.c.
//
// Decoder.Decode inflates one stream into a slice (a TIFF strip, whose
// size is known); Reader is an io.Reader over one stream (a PNG's image
// data), through a window of 32 KiB plus a chunk.
//
// Corrupt input gives a *CorruptError, input cut short
// io.ErrUnexpectedEOF; no input makes them panic, loop or allocate more
// than their fixed buffers. A stream is valid here exactly when
// compress/flate decodes it (FuzzInflate).
package inflate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// CorruptError reports invalid Deflate data, about Offset bytes into the
// stream.
type CorruptError struct {
	Offset int64
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("inflate: corrupt input before offset %d: %s", e.Offset, e.Reason)
}

// inBuf is the size of the input buffer, refilled from the reader in
// reads of up to its size.
const inBuf = 64 << 10

// DecoderHolds is about the memory a Decoder holds: its input buffer and
// its tables.
const DecoderHolds = inBuf + 24<<10

// fastOut is the output room the fast loop needs for one step: a match of
// 258 bytes, copied 8 bytes at a time, may write 7 bytes past its end.
const fastOut = 258 + 8

// decoder states, between calls of fill.
const (
	stHeader = iota // at a block header
	stStored        // in a stored block: stored bytes left
	stHuff          // in a Huffman block: copyLen bytes of a match left
	stDone          // after the final block
)

// Decoder inflates Deflate streams. Its zero value is ready; reusing one
// for many streams (Decode) reuses its 85 KiB of buffers and tables. It is
// not safe for concurrent use.
type Decoder struct {
	r    io.Reader
	rerr error  // what r returned last: the end of the input when not nil
	buf  []byte // input buffer: in is buf[:n]
	in   []byte
	ip   int   // next input byte
	base int64 // stream offset of in[0]

	bits  uint64 // bit buffer, next bit lowest; bits above nbits equal the input's next bits or are zero
	nbits uint
	pad   uint // zero bits past the input's end in bits: consuming them means the input was cut short

	state            int
	final            bool
	stored           int
	copyLen, copyDis int
	err              error

	lt   *[litSize]uint32
	dt   *[distSize]uint32
	lit  [litSize]uint32
	dist [distSize]uint32
	clen [clenSize]uint32
	lens [288 + 32]uint8
}

// Reset makes d read a new stream from r.
func (d *Decoder) Reset(r io.Reader) {
	if d.buf == nil {
		d.buf = make([]byte, inBuf)
	}
	d.r, d.rerr = r, nil
	d.in, d.ip, d.base = d.buf[:0], 0, 0
	d.bits, d.nbits, d.pad = 0, 0, 0
	d.state, d.final, d.stored, d.copyLen, d.copyDis, d.err = stHeader, false, 0, 0, 0, nil
}

// Decode inflates the stream r holds into dst, from the stream's start,
// and returns the bytes written. It stops once dst is full, whatever
// follows (the rows past a TIFF's last row); a stream that ends sooner
// gives io.ErrUnexpectedEOF. It reads r ahead of the data it decodes, in
// reads of up to 64 KiB.
func (d *Decoder) Decode(dst []byte, r io.Reader) (int, error) {
	d.Reset(r)
	n, err := d.fill(dst, 0)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// corrupt makes the error for invalid data met now.
func (d *Decoder) corrupt(reason string) error {
	return &CorruptError{Offset: d.base + int64(d.ip) - int64(d.nbits/8), Reason: reason}
}

// more reads more input into d.in, keeping its unread bytes. It reports
// false at the end of the input (d.rerr set).
func (d *Decoder) more() bool {
	if d.r == nil || d.rerr != nil {
		return false
	}
	if d.ip > 0 {
		n := copy(d.buf, d.in[d.ip:])
		d.base += int64(d.ip)
		d.in, d.ip = d.buf[:n], 0
	}
	got, empty := false, 0
	for len(d.in) < len(d.buf)/2 {
		k, err := d.r.Read(d.buf[len(d.in):])
		d.in = d.buf[:len(d.in)+k]
		got = got || k > 0
		if err != nil {
			d.rerr = err
			break
		}
		if k == 0 {
			if got {
				break
			}
			if empty++; empty == 100 {
				d.rerr = io.ErrNoProgress
				break
			}
		}
	}
	return got
}

// need makes d.bits hold at least n bits (n <= 56), padding with zeros
// past the input's end (see pad).
func (d *Decoder) need(n uint) {
	for d.nbits < n {
		if d.ip == len(d.in) && !d.more() {
			d.bits &= 1<<d.nbits - 1
			d.nbits += 8
			d.pad += 8
			continue
		}
		d.bits &= 1<<d.nbits - 1
		d.bits |= uint64(d.in[d.ip]) << d.nbits
		d.ip++
		d.nbits += 8
	}
}

// take consumes n bits, which need has made present, or reports the input
// cut short.
func (d *Decoder) take(n uint) (uint64, error) {
	if d.nbits-n < d.pad || n > d.nbits {
		return 0, d.truncated()
	}
	v := d.bits & (1<<n - 1)
	d.bits >>= n
	d.nbits -= n
	return v, nil
}

// invalid is the error of an invalid entry e: corrupt input if the bits
// that make it invalid (its low 5 bits count them) are in the input, else
// input cut short, as compress/flate tells them apart.
func (d *Decoder) invalid(e uint32, reason string) error {
	if uint(e&31) > d.nbits-d.pad {
		return d.truncated()
	}
	return d.corrupt(reason)
}

// truncated is the error of input cut short: r's error, if not io.EOF.
func (d *Decoder) truncated() error {
	if d.rerr != nil && d.rerr != io.EOF {
		return d.rerr
	}
	return io.ErrUnexpectedEOF
}

// fill inflates into out from op (out[:op] is the history matches copy
// from) until out is full, the stream ends (io.EOF) or an error, and
// returns the new op. The error stays: later calls return it.
func (d *Decoder) fill(out []byte, op int) (int, error) {
	if d.err != nil {
		return op, d.err
	}
	var err error
	for op < len(out) && err == nil {
		switch d.state {
		case stHeader:
			err = d.header()
		case stStored:
			op, err = d.storedBlock(out, op)
		case stHuff:
			op, err = d.huffman(out, op)
		case stDone:
			err = io.EOF
		}
	}
	if err == nil && d.state == stDone {
		err = io.EOF
	}
	d.err = err
	return op, err
}

// header reads a block header and, for a dynamic block, its code.
func (d *Decoder) header() error {
	if d.final {
		d.state = stDone
		return nil
	}
	d.need(3)
	v, err := d.take(3)
	if err != nil {
		return err
	}
	d.final = v&1 != 0
	switch v >> 1 {
	case 0:
		if _, err := d.take(d.nbits & 7); err != nil {
			return err
		}
		d.need(32)
		v, err := d.take(32)
		if err != nil {
			return err
		}
		if uint16(v) != ^uint16(v>>16) {
			return d.corrupt("stored block length")
		}
		d.stored, d.state = int(uint16(v)), stStored
	case 1:
		d.lt, d.dt, d.state = fixedLit, fixedDist, stHuff
	case 2:
		if err := d.dynamic(); err != nil {
			return err
		}
		d.lt, d.dt, d.state = &d.lit, &d.dist, stHuff
	default:
		return d.corrupt("block type 3")
	}
	return nil
}

// clenOrder is the order code length code lengths are sent in.
var clenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamic reads a dynamic block's codes and builds their tables.
func (d *Decoder) dynamic() error {
	d.need(14)
	v, err := d.take(14)
	if err != nil {
		return err
	}
	nlit, ndist, nclen := int(v&31)+257, int(v>>5&31)+1, int(v>>10)+4
	if nlit > 286 || ndist > 30 {
		return d.corrupt("too many length or distance symbols")
	}
	var cl [19]uint8
	for i := range nclen {
		d.need(3)
		v, err := d.take(3)
		if err != nil {
			return err
		}
		cl[clenOrder[i]] = uint8(v)
	}
	if !build(d.clen[:], cl[:], clenSyms[:], clenBits) {
		return d.corrupt("invalid code length code")
	}
	lens := d.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		d.need(clenBits + 7)
		e := d.clen[d.bits&(clenSize-1)]
		if e&fInvalid != 0 {
			return d.invalid(e, "invalid code length")
		}
		if _, err := d.take(uint(e & 31)); err != nil {
			return err
		}
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep uint64
		var fill uint8
		switch sym {
		case 16:
			if i == 0 {
				return d.corrupt("repeat with no previous length")
			}
			fill = lens[i-1]
			rep, err = d.take(2)
			rep += 3
		case 17:
			rep, err = d.take(3)
			rep += 3
		default:
			rep, err = d.take(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		if i+int(rep) > len(lens) {
			return d.corrupt("code lengths repeat past the end")
		}
		for range rep {
			lens[i] = fill
			i++
		}
	}
	if !build(d.lit[:], lens[:nlit], litSyms[:], litBits) || !build(d.dist[:], lens[nlit:], distSyms[:], distBits) {
		return d.corrupt("invalid literal/length or distance code")
	}
	return nil
}

// storedBlock copies a stored block's bytes.
func (d *Decoder) storedBlock(out []byte, op int) (int, error) {
	for d.stored > 0 && op < len(out) {
		if d.nbits >= 8 { // whole bytes left in the bit buffer come first
			if d.nbits-8 < d.pad {
				return op, d.truncated()
			}
			out[op] = byte(d.bits)
			d.bits >>= 8
			d.nbits -= 8
			op++
			d.stored--
			continue
		}
		d.bits = 0 // nbits is 0 here: the stored block is byte-aligned
		if d.ip == len(d.in) && !d.more() {
			return op, d.truncated()
		}
		n := copy(out[op:min(len(out), op+d.stored)], d.in[d.ip:])
		op += n
		d.ip += n
		d.stored -= n
	}
	if d.stored == 0 {
		d.state = stHeader
	}
	return op, nil
}

// huffman decodes a Huffman block's symbols into out from op until the
// block ends, out is full or an error.
func (d *Decoder) huffman(out []byte, op int) (int, error) {
	for {
		if d.copyLen > 0 {
			op = d.copyMatch(out, op)
			if d.copyLen > 0 {
				return op, nil // out is full
			}
		}
		if op == len(out) {
			return op, nil
		}
		if len(out)-op >= fastOut {
			if d.ip+8 > len(d.in) && d.r != nil && d.rerr == nil {
				d.more()
			}
			if d.ip+8 <= len(d.in) {
				var done bool
				var err error
				op, done, err = d.fast(out, op)
				if err != nil || done {
					return op, err
				}
				continue
			}
		}
		done, err := d.slowSymbol(out, &op)
		if err != nil || done {
			return op, err
		}
	}
}

// copyMatch copies what fits of the pending match (copyLen bytes from
// copyDis back), a byte at a time: near the output's end only.
func (d *Decoder) copyMatch(out []byte, op int) int {
	n := min(d.copyLen, len(out)-op)
	for i := op; i < op+n; i++ {
		out[i] = out[i-d.copyDis]
	}
	d.copyLen -= n
	return op + n
}

// slowSymbol decodes one symbol (and a match's distance) with the bit
// buffer filled a byte at a time, checking the input's end. done: the
// block ended.
func (d *Decoder) slowSymbol(out []byte, op *int) (done bool, err error) {
	e := d.slowEntry(d.lt[:], litBits)
	if e&fInvalid != 0 {
		return false, d.invalid(e, "invalid literal/length code")
	}
	d.need(uint(e >> 8 & 31))
	v, err := d.take(uint(e >> 8 & 31))
	if err != nil {
		return false, err
	}
	switch {
	case e&fLiteral != 0:
		out[*op] = byte(e >> 16)
		*op++
		return false, nil
	case e&fEOB != 0:
		d.state = stHeader
		return true, nil
	}
	length := int(e>>16) + int(v>>(e&31))
	e = d.slowEntry(d.dt[:], distBits)
	if e&fInvalid != 0 {
		return false, d.invalid(e, "invalid distance code")
	}
	d.need(uint(e >> 8 & 31))
	if v, err = d.take(uint(e >> 8 & 31)); err != nil {
		return false, err
	}
	dist := int(e>>16) + int(v>>(e&31))
	if dist > *op {
		return false, d.corrupt("distance too far back")
	}
	d.copyLen, d.copyDis = length, dist
	*op = d.copyMatch(out, *op)
	return false, nil
}

// slowEntry looks the next code up in t, a table whose root is indexed
// by rootBits bits (the literal/length or the distance table), following
// a link into its subtable; a subtable's entry is given the root's bits
// in its length, as the fast loop counts them.
func (d *Decoder) slowEntry(t []uint32, rootBits uint32) uint32 {
	d.need(15)
	e := t[d.bits&(1<<rootBits-1)]
	if e&fLink != 0 {
		e = t[(e>>16+uint32(d.bits>>rootBits)&(1<<(e>>8&15)-1))&uint32(len(t)-1)]
		if e&fInvalid == 0 {
			e += rootBits | rootBits<<8
		}
	}
	return e
}

// errDistance is fast's report of a distance beyond the output.
var errDistance = errors.New("distance too far back")

// fast decodes symbols while at least 8 input bytes and fastOut bytes of
// output are left: the bit buffer is refilled 8 bytes at a time, once a
// step, which then holds at least 56 bits, enough for a length and a
// distance with their extra bits (48). done: the block ended.
func (d *Decoder) fast(out []byte, op int) (int, bool, error) {
	in, ip := d.in, d.ip
	bits, nbits := d.bits, d.nbits
	lt, dt := d.lt, d.dt
	inEnd, outEnd := len(in)-8, len(out)-fastOut
	var err error
	done := false
	for ip <= inEnd && op <= outEnd {
		bits |= binary.LittleEndian.Uint64(in[ip:]) << (nbits & 63)
		ip += int(63-nbits) >> 3
		nbits |= 56

		e := lt[bits&(1<<litBits-1)]
		if int32(e) < 0 { // a literal, and perhaps another
			bits >>= e & 31
			nbits -= uint(e & 31)
			out[op] = byte(e >> 16)
			op++
			e = lt[bits&(1<<litBits-1)]
			if int32(e) < 0 {
				bits >>= e & 31
				nbits -= uint(e & 31)
				out[op] = byte(e >> 16)
				op++
			}
			continue
		}
		if e&fLink != 0 {
			bits >>= litBits
			nbits -= litBits
			e = lt[(e>>16+uint32(bits)&(1<<(e>>8&15)-1))&(litSize-1)]
			if int32(e) < 0 {
				bits >>= e & 31
				nbits -= uint(e & 31)
				out[op] = byte(e >> 16)
				op++
				continue
			}
		}
		if e&(fEOB|fInvalid) != 0 {
			if e&fInvalid != 0 {
				err = errors.New("invalid literal/length code")
			} else {
				bits >>= e & 31
				nbits -= uint(e & 31)
				done = true
			}
			break
		}
		total := e >> 8 & 31
		length := int(e>>16) + int((bits&(1<<total-1))>>(e&31))
		bits >>= total
		nbits -= uint(total)

		e = dt[bits&(1<<distBits-1)]
		if e&fLink != 0 {
			bits >>= distBits
			nbits -= distBits
			e = dt[(e>>16+uint32(bits)&(1<<(e>>8&15)-1))&(distSize-1)]
		}
		if e&fInvalid != 0 {
			err = errors.New("invalid distance code")
			break
		}
		total = e >> 8 & 31
		dist := int(e>>16) + int((bits&(1<<total-1))>>(e&31))
		bits >>= total
		nbits -= uint(total)
		if dist > op {
			err = errDistance
			break
		}
		src, end := op-dist, op+length
		switch {
		case dist >= 8: // each word read was written before: no overlap within a word
			for ; op < end; op, src = op+8, src+8 {
				binary.LittleEndian.PutUint64(out[op:], binary.LittleEndian.Uint64(out[src:]))
			}
		case dist == 1:
			v := uint64(out[src]) * 0x0101010101010101
			for ; op < end; op += 8 {
				binary.LittleEndian.PutUint64(out[op:], v)
			}
		default:
			for ; op < end; op, src = op+1, src+1 {
				out[op] = out[src]
			}
		}
		op = end
	}
	d.in, d.ip = in, ip
	d.bits, d.nbits = bits, nbits
	if done {
		d.state = stHeader
	}
	if err != nil {
		return op, false, d.corrupt(err.Error())
	}
	return op, done, nil
}
