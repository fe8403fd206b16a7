package meta

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
)

// TIFF tags used here.
const (
	tagOrientation = 0x0112
	tagICC         = 34675 // InterColorProfile
)

// source gives random access to a TIFF structure. at returns up to n bytes
// at offset off; fewer (possibly none) when the data ends before off+n.
type source interface {
	at(off, n int64) []byte
}

type byteSource []byte

func (b byteSource) at(off, n int64) []byte {
	if off < 0 || n < 0 || off >= int64(len(b)) {
		return nil
	}
	return b[off:min(int64(len(b)), off+n)]
}

// tiffReader walks the IFDs of a classic TIFF or BigTIFF structure.
type tiffReader struct {
	src  source
	bo   binary.ByteOrder
	big  bool  // BigTIFF: 8-byte counts and offsets, 20-byte entries
	ifd0 int64 // offset of the first IFD
}

type ifdEntry struct {
	tag, typ uint16
	count    uint64
	valPos   int64 // position of the first value byte (inline or pointed to)
	inline   bool  // the value sits in the entry's own value field
}

func newTIFFReader(src source) (*tiffReader, bool) {
	h := src.at(0, 16)
	if len(h) < 8 {
		return nil, false
	}
	t := &tiffReader{src: src}
	switch string(h[:2]) {
	case "II":
		t.bo = binary.LittleEndian
	case "MM":
		t.bo = binary.BigEndian
	default:
		return nil, false
	}
	switch t.bo.Uint16(h[2:]) {
	case 42:
		t.ifd0 = int64(t.bo.Uint32(h[4:]))
	case 43:
		if len(h) < 16 || t.bo.Uint16(h[4:]) != 8 {
			return nil, false
		}
		t.big = true
		off := t.bo.Uint64(h[8:])
		if off > 1<<62 {
			return nil, false
		}
		t.ifd0 = int64(off)
	default:
		return nil, false
	}
	return t, true
}

func typeSize(typ uint16) uint64 {
	switch typ {
	case 1, 2, 6, 7:
		return 1
	case 3, 8:
		return 2
	case 4, 9, 11, 13:
		return 4
	case 5, 10, 12, 16, 17, 18:
		return 8
	}
	return 0
}

// maxIFDEntries bounds the entries read from one IFD (a classic TIFF IFD
// cannot have more; this also bounds BigTIFF).
const maxIFDEntries = 65535

// ifd returns the entries of the IFD at off and the position of its
// next-IFD offset field (-1 when the IFD is truncated). A truncated IFD
// yields the entries that are complete.
func (t *tiffReader) ifd(off int64) (entries []ifdEntry, nextPos int64) {
	cntSize, entSize, valSize := int64(2), int64(12), int64(4)
	if t.big {
		cntSize, entSize, valSize = 8, 20, 8
	}
	c := t.src.at(off, cntSize)
	if int64(len(c)) < cntSize {
		return nil, -1
	}
	var n uint64
	if t.big {
		n = t.bo.Uint64(c)
	} else {
		n = uint64(t.bo.Uint16(c))
	}
	n = min(n, maxIFDEntries)
	start := off + cntSize
	b := t.src.at(start, int64(n)*entSize)
	nextPos = start + int64(n)*entSize
	if have := uint64(int64(len(b)) / entSize); have < n {
		n, nextPos = have, -1
	}
	entries = make([]ifdEntry, 0, n)
	for i := uint64(0); i < n; i++ {
		e := b[int64(i)*entSize:]
		en := ifdEntry{tag: t.bo.Uint16(e), typ: t.bo.Uint16(e[2:])}
		if t.big {
			en.count = t.bo.Uint64(e[4:])
		} else {
			en.count = uint64(t.bo.Uint32(e[4:]))
		}
		pos := start + int64(i)*entSize + 8
		if t.big {
			pos = start + int64(i)*entSize + 12
		}
		size := typeSize(en.typ)
		if size == 0 || en.count == 0 || en.count > 1<<40 {
			en.valPos = -1 // unknown type or no value: unusable
		} else if size*en.count <= uint64(valSize) {
			en.valPos, en.inline = pos, true
		} else {
			var p uint64
			if t.big {
				p = t.bo.Uint64(e[12:])
			} else {
				p = uint64(t.bo.Uint32(e[8:]))
			}
			if p > 1<<62 {
				en.valPos = -1
			} else {
				en.valPos = int64(p)
			}
		}
		entries = append(entries, en)
	}
	return entries, nextPos
}

// uint returns the first value of an integer-typed entry.
func (t *tiffReader) uint(e ifdEntry) (uint64, bool) {
	if e.valPos < 0 {
		return 0, false
	}
	size := typeSize(e.typ)
	b := t.src.at(e.valPos, int64(size))
	if uint64(len(b)) < size {
		return 0, false
	}
	switch e.typ {
	case 1, 6, 7:
		return uint64(b[0]), true
	case 3, 8:
		return uint64(t.bo.Uint16(b)), true
	case 4, 9:
		return uint64(t.bo.Uint32(b)), true
	case 16, 17:
		return t.bo.Uint64(b), true
	}
	return 0, false
}

// orientationEntry returns the first Orientation entry of IFD0 if its value
// can be used: inside the data and, when stored out of line, not
// overlapping the header or the IFD0 structure (which only hostile blocks
// do, and which ResetOrientation could not rewrite without changing the
// structure).
func (t *tiffReader) orientationEntry(entries []ifdEntry, nextPos int64) (ifdEntry, bool) {
	for _, e := range entries {
		if e.tag == tagOrientation {
			return e, t.usable(e, nextPos)
		}
	}
	return ifdEntry{}, false
}

// usable reports whether the first value of e lies inside the data and may
// be rewritten without touching the header or IFD0 structure.
func (t *tiffReader) usable(e ifdEntry, nextPos int64) bool {
	if e.valPos < 0 {
		return false
	}
	n := int64(typeSize(e.typ))
	hdrEnd, linkSize := int64(8), int64(4)
	if t.big {
		hdrEnd, linkSize = 16, 8
	}
	if e.valPos < hdrEnd || int64(len(t.src.at(e.valPos, n))) < n {
		return false
	}
	if e.inline {
		return true
	}
	ifdEnd := nextPos + linkSize
	if nextPos < 0 {
		ifdEnd = 1 << 62 // truncated IFD: it runs to the end of the data
	}
	return e.valPos >= ifdEnd || e.valPos+n <= t.ifd0
}

// orientation returns the Orientation tag of IFD0 (1..8), or 0.
func (t *tiffReader) orientation(entries []ifdEntry, nextPos int64) int {
	e, ok := t.orientationEntry(entries, nextPos)
	if !ok {
		return 0
	}
	if v, ok := t.uint(e); ok && v >= 1 && v <= 8 {
		return int(v)
	}
	return 0
}

// Orientation parses a raw EXIF block (the TIFF structure, either byte
// order; a leading "Exif\0\0" is tolerated) and returns the Orientation tag
// of IFD0 (1..8), or 0 when the tag is absent, out of range or the block is
// malformed (including a value stored out of line inside the header or the
// IFD itself). The tag is accepted as SHORT (the standard) or LONG/BYTE.
// Only IFD0 is read, so looping IFD chains cannot cause loops.
func Orientation(exif []byte) int {
	exif = bytes.TrimPrefix(exif, exifHeader)
	t, ok := newTIFFReader(byteSource(exif))
	if !ok {
		return 0
	}
	entries, nextPos := t.ifd(t.ifd0)
	return t.orientation(entries, nextPos)
}

// ResetOrientation returns a copy of the EXIF block with every Orientation
// tag of IFD0 set to 1, for use once the pixels have been made upright with
// Apply. It also drops the thumbnail IFD1 by clearing IFD0's next-IFD link:
// the thumbnail shows the original, unrotated picture, so keeping it would
// show a stale (and now wrongly oriented) preview. The thumbnail bytes stay
// in the block as unreferenced data, so the block does not shrink.
//
// The block is otherwise untouched (no tag is added when Orientation is
// absent, PixelXDimension/PixelYDimension are not updated). A malformed
// block is returned as an unchanged copy; nil in gives nil out.
func ResetOrientation(exif []byte) []byte {
	if exif == nil {
		return nil
	}
	out := bytes.Clone(exif)
	body := out
	if bytes.HasPrefix(body, exifHeader) {
		body = body[len(exifHeader):]
	}
	t, ok := newTIFFReader(byteSource(body))
	if !ok {
		return out
	}
	entries, nextPos := t.ifd(t.ifd0)
	set1 := func(e ifdEntry) {
		v := body[e.valPos:]
		switch e.typ {
		case 1, 6, 7:
			v[0] = 1
		case 3, 8:
			t.bo.PutUint16(v, 1)
		case 4, 9:
			t.bo.PutUint32(v, 1)
		case 16, 17:
			t.bo.PutUint64(v, 1)
		}
	}
	// Writes go only to usable values (never into the header or the IFD0
	// structure), so the structure is the same afterwards. The first entry,
	// the one Orientation reads, is written last in case duplicates overlap.
	for _, e := range entries {
		if e.tag == tagOrientation && t.usable(e, nextPos) {
			set1(e)
		}
	}
	if e, ok := t.orientationEntry(entries, nextPos); ok {
		set1(e)
	}
	hdrEnd := int64(8)
	if t.big {
		hdrEnd = 16
	}
	if nextPos >= 0 {
		n := int64(4)
		if t.big {
			n = 8
		}
		if nextPos >= hdrEnd && nextPos+n <= int64(len(body)) {
			clear(body[nextPos : nextPos+n])
		}
	}
	return out
}

// readTIFF reads Orientation and the ICC profile from IFD0 of a TIFF file.
func readTIFF(r io.Reader, info *Info) error {
	src := newFileSource(r)
	t, ok := newTIFFReader(src)
	if ok {
		entries, nextPos := t.ifd(t.ifd0)
		info.Orientation = t.orientation(entries, nextPos)
		for _, e := range entries {
			if e.valPos < 0 {
				continue
			}
			size := e.count * typeSize(e.typ) // IPTC is often written as LONGs
			switch {
			case e.tag == tagICC && (e.typ == 1 || e.typ == 7) && e.count <= maxICC:
				if icc := src.at(e.valPos, int64(e.count)); uint64(len(icc)) == e.count {
					info.ICC = icc
				}
			case e.tag == tagXMP && (e.typ == 1 || e.typ == 7) && e.count <= maxXMP:
				if b := src.at(e.valPos, int64(e.count)); uint64(len(b)) == e.count {
					info.XMP = b
				}
			case e.tag == tagIPTC && (e.typ == 1 || e.typ == 4 || e.typ == 7) && size <= maxXMP:
				if b := src.at(e.valPos, int64(size)); uint64(len(b)) == size {
					info.IPTC = b
				}
			}
		}
	}
	return src.error()
}

// fileSource is a source over an io.Reader: positioned reads when the
// reader is an io.ReaderAt, else a forward buffer of the stream.
type fileSource struct {
	ra   io.ReaderAt
	base int64 // offset of the image in ra
	size int64 // size of ra from base, -1 if unknown

	r   io.Reader // stream fallback
	buf []byte
	eof bool

	err error // first I/O error other than EOF
}

// maxStreamBuffer bounds how much of a non-seekable stream is buffered to
// reach metadata at large offsets.
const maxStreamBuffer = 256 << 20

func newFileSource(r io.Reader) *fileSource {
	ra, ok := r.(io.ReaderAt)
	if !ok {
		return &fileSource{r: r, size: -1}
	}
	s := &fileSource{ra: ra, size: -1}
	if sk, ok := r.(io.Seeker); ok {
		if cur, err := sk.Seek(0, io.SeekCurrent); err == nil {
			s.base = cur
			if end, err := sk.Seek(0, io.SeekEnd); err == nil {
				s.size = end - cur
			}
			sk.Seek(cur, io.SeekStart)
		}
	} else if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			s.size = fi.Size()
		}
	}
	return s
}

func (s *fileSource) error() error {
	if s.err != nil && !isEOF(s.err) {
		return s.err
	}
	return nil
}

func (s *fileSource) at(off, n int64) []byte {
	if off < 0 || n <= 0 || s.err != nil {
		return nil
	}
	if s.ra == nil {
		return s.streamAt(off, n)
	}
	if s.size >= 0 {
		if off >= s.size {
			return nil
		}
		n = min(n, s.size-off)
	}
	// Read in growing pieces so a bogus n on a short file allocates little.
	var out []byte
	for int64(len(out)) < n {
		piece := min(n-int64(len(out)), max(64<<10, int64(len(out))))
		b := make([]byte, piece)
		m, err := s.ra.ReadAt(b, s.base+off+int64(len(out)))
		out = append(out, b[:m]...)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
			break
		}
	}
	return out
}

func (s *fileSource) streamAt(off, n int64) []byte {
	end := off + n
	if end < off || end > maxStreamBuffer {
		end = maxStreamBuffer
	}
	for int64(len(s.buf)) < end && !s.eof {
		want := min(end-int64(len(s.buf)), max(64<<10, int64(len(s.buf))))
		old := len(s.buf)
		s.buf = append(s.buf, make([]byte, want)...)
		m, err := io.ReadFull(s.r, s.buf[old:])
		s.buf = s.buf[:old+m]
		if err != nil {
			s.eof = true
			if !isEOF(err) {
				s.err = err
			}
		}
	}
	return byteSource(s.buf).at(off, min(n, end-off))
}
