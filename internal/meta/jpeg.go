package meta

import (
	"bytes"
	"errors"
	"io"
	"sort"
)

// JPEG marker codes used here.
const (
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mAPP0  = 0xE0
	mAPP1  = 0xE1
	mAPP2  = 0xE2
	mAPP13 = 0xED
	mAPP14 = 0xEE
)

var (
	exifHeader = []byte("Exif\x00\x00")
	iccHeader  = []byte("ICC_PROFILE\x00")
	jfifHeader = []byte("JFIF\x00")
)

// maxICCChunk is the most profile data one APP2 segment can carry:
// 65535 (segment length) - 2 (length field) - 12 ("ICC_PROFILE\0") - 2
// (sequence number and count).
const maxICCChunk = 65535 - 2 - len("ICC_PROFILE\x00") - 2

// maxEXIFJPEG is the largest EXIF block one APP1 segment can carry.
const maxEXIFJPEG = 65535 - 2 - len("Exif\x00\x00")

type iccChunk struct {
	seq, count int
	data       []byte
}

func readJPEG(r io.Reader, info *Info) error {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	if hdr[0] != 0xFF || hdr[1] != mSOI {
		return errMalformed
	}
	var chunks []iccChunk
	defer func() { info.ICC = assembleICC(chunks) }()
	for {
		// Read a marker, skipping fill bytes (any number of 0xFF).
		var b [1]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return err
		}
		if b[0] != 0xFF {
			return errMalformed
		}
		for b[0] == 0xFF {
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return err
			}
		}
		m := b[0]
		switch {
		case m == mSOS || m == mEOI:
			return nil
		case m == 0x00 || m == mSOI:
			return errMalformed
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			continue // standalone markers (TEM, RSTn) have no length
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		n := int(hdr[0])<<8 | int(hdr[1])
		if n < 2 {
			return errMalformed
		}
		n -= 2
		switch m {
		case mAPP1, mAPP2, mAPP13, mAPP14:
		default:
			if err := skip(r, int64(n)); err != nil {
				return err
			}
			continue
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(r, p); err != nil {
			return err
		}
		switch m {
		case mAPP1:
			switch {
			case info.EXIF == nil && bytes.HasPrefix(p, exifHeader):
				info.EXIF = p[len(exifHeader):]
				info.Orientation = Orientation(info.EXIF)
			case info.XMP == nil && bytes.HasPrefix(p, xmpHeader):
				info.XMP = p[len(xmpHeader):]
			}
		case mAPP13:
			if info.IPTC == nil && bytes.HasPrefix(p, photoshopHeader) {
				info.IPTC = iptcFromIRB(p[len(photoshopHeader):])
			}
		case mAPP2:
			// A valid profile has at most 255 chunks; ignore anything
			// beyond that so hostile input cannot pile up memory.
			if bytes.HasPrefix(p, iccHeader) && len(p) >= len(iccHeader)+2 && len(chunks) < 256 {
				chunks = append(chunks, iccChunk{
					seq:   int(p[len(iccHeader)]),
					count: int(p[len(iccHeader)+1]),
					data:  p[len(iccHeader)+2:],
				})
			}
		case mAPP14:
			if info.AdobeTransform < 0 && len(p) >= 12 && bytes.HasPrefix(p, []byte("Adobe")) {
				info.AdobeTransform = int(p[11])
			}
		}
	}
}

// assembleICC joins APP2 ICC_PROFILE chunks in sequence order. Like
// libjpeg's read_icc_profile it requires a consistent set: sequence numbers
// 1..N each present exactly once, all declaring the same count N. Anything
// else is a damaged profile and yields nil.
func assembleICC(chunks []iccChunk) []byte {
	if len(chunks) == 0 {
		return nil
	}
	count := chunks[0].count
	if count == 0 || count != len(chunks) {
		return nil
	}
	sort.SliceStable(chunks, func(i, j int) bool { return chunks[i].seq < chunks[j].seq })
	size := 0
	for i, c := range chunks {
		if c.count != count || c.seq != i+1 {
			return nil
		}
		size += len(c.data)
	}
	if size == 0 {
		return nil
	}
	icc := make([]byte, 0, size)
	for _, c := range chunks {
		icc = append(icc, c.data...)
	}
	return icc
}

// EmbedJPEG returns jpg (a complete JPEG file, such as image/jpeg produces)
// with an APP1 Exif segment (if exif is non-empty) and APP2 ICC_PROFILE
// segments (if icc is non-empty) inserted right after SOI, or after the JFIF
// APP0 segment when the file starts with one, in the order JFIF, Exif, ICC.
//
// The profile is split over as many APP2 segments as needed, at most 65519
// bytes of profile each, numbered 1..N; it may be at most 255*65519 bytes.
// The EXIF block must be the raw TIFF structure (a leading "Exif\0\0" is
// tolerated and not doubled) of at most 65527 bytes. Existing Exif APP1
// (resp. ICC_PROFILE APP2) segments are removed when a new EXIF block (resp.
// profile) is given, so the result never carries two. The input is not
// modified. An error is returned when jpg's header segments are malformed
// (no SOI, or a segment running past the end before SOS) or the metadata is
// too large.
func EmbedJPEG(jpg []byte, icc, exif []byte) ([]byte, error) {
	if len(jpg) < 4 || jpg[0] != 0xFF || jpg[1] != mSOI {
		return nil, errors.New("meta: EmbedJPEG: not a JPEG (no SOI marker)")
	}
	exif = bytes.TrimPrefix(exif, exifHeader)
	if len(exif) > maxEXIFJPEG {
		return nil, errors.New("meta: EmbedJPEG: EXIF block larger than 65527 bytes")
	}
	nICC := (len(icc) + maxICCChunk - 1) / maxICCChunk
	if nICC > 255 {
		return nil, errors.New("meta: EmbedJPEG: ICC profile larger than 255*65519 bytes")
	}

	// Walk the header segments (up to SOS) to validate them, find the
	// insertion point and drop segments we replace.
	type span struct{ start, end int }
	var drop []span
	insert := 2
	pos := 2
	first := true
	for {
		if pos >= len(jpg) || jpg[pos] != 0xFF {
			return nil, errors.New("meta: EmbedJPEG: malformed JPEG header")
		}
		start := pos
		for pos < len(jpg) && jpg[pos] == 0xFF {
			pos++
		}
		if pos >= len(jpg) {
			return nil, errors.New("meta: EmbedJPEG: malformed JPEG header")
		}
		m := jpg[pos]
		pos++
		if m == mSOS || m == mEOI {
			break
		}
		if m == 0x01 || (m >= 0xD0 && m <= 0xD7) {
			first = false
			continue
		}
		if m == 0x00 || m == mSOI || pos+2 > len(jpg) {
			return nil, errors.New("meta: EmbedJPEG: malformed JPEG header")
		}
		n := int(jpg[pos])<<8 | int(jpg[pos+1])
		if n < 2 || pos+n > len(jpg) {
			return nil, errors.New("meta: EmbedJPEG: JPEG segment runs past the end")
		}
		p := jpg[pos+2 : pos+n]
		pos += n
		switch {
		case first && m == mAPP0 && bytes.HasPrefix(p, jfifHeader):
			insert = pos
		case len(exif) > 0 && m == mAPP1 && bytes.HasPrefix(p, exifHeader),
			len(icc) > 0 && m == mAPP2 && bytes.HasPrefix(p, iccHeader):
			drop = append(drop, span{start, pos})
		}
		first = false
	}

	var out bytes.Buffer
	out.Grow(len(jpg) + len(exif) + len(icc) + 10 + nICC*18)
	out.Write(jpg[:insert])
	if len(exif) > 0 {
		writeSegment(&out, mAPP1, exifHeader, exif)
	}
	for i := 0; i < nICC; i++ {
		chunk := icc[i*maxICCChunk : min((i+1)*maxICCChunk, len(icc))]
		writeSegment(&out, mAPP2, append(append([]byte(nil), iccHeader...), byte(i+1), byte(nICC)), chunk)
	}
	rest := insert
	for _, d := range drop {
		out.Write(jpg[rest:d.start])
		rest = d.end
	}
	out.Write(jpg[rest:])
	return out.Bytes(), nil
}

func writeSegment(w *bytes.Buffer, marker byte, header, data []byte) {
	n := 2 + len(header) + len(data)
	w.Write([]byte{0xFF, marker, byte(n >> 8), byte(n)})
	w.Write(header)
	w.Write(data)
}
