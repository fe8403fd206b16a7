package meta

import (
	"bytes"
	"encoding/binary"
	"io"
)

// readWebP reads the VP8X extended-format chunks: ICCP (before the
// bitstream) and EXIF (after it; the bitstream is only skipped when the
// VP8X flags announce EXIF).
func readWebP(r io.Reader, info *Info) error {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	if string(hdr[:4]) != "RIFF" || string(hdr[8:12]) != "WEBP" {
		return errMalformed
	}
	end := int64(binary.LittleEndian.Uint32(hdr[4:8])) + 8
	pos := int64(12)
	wantEXIF, wantICC, wantXMP := false, false, false
	first := true
	var ch [8]byte
	for pos+8 <= end {
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return err
		}
		pos += 8
		fourcc := string(ch[:4])
		n := int64(binary.LittleEndian.Uint32(ch[4:]))
		padded := n + n&1
		if first {
			first = false
			if fourcc != "VP8X" {
				return nil // simple format: no metadata
			}
			if n < 10 || n > 1024 {
				return errMalformed
			}
			flags, err := readN(r, padded)
			if err != nil {
				return err
			}
			pos += padded
			wantICC = flags[0]&0x20 != 0
			wantEXIF = flags[0]&0x08 != 0
			wantXMP = flags[0]&0x04 != 0
			continue
		}
		switch {
		case fourcc == "ICCP" && info.ICC == nil && n <= maxICC:
			b, err := readN(r, n)
			if err != nil {
				return err
			}
			info.ICC = b
			wantICC = false
			if err := skip(r, n&1); err != nil {
				return err
			}
		case fourcc == "EXIF" && info.EXIF == nil && n <= maxEXIF:
			b, err := readN(r, n)
			if err != nil {
				return err
			}
			// Some writers wrongly keep the JPEG "Exif\0\0" prefix.
			info.EXIF = bytes.TrimPrefix(b, exifHeader)
			info.Orientation = Orientation(info.EXIF)
			wantEXIF = false
			if err := skip(r, n&1); err != nil {
				return err
			}
		case fourcc == "XMP " && info.XMP == nil && n <= maxXMP:
			b, err := readN(r, n)
			if err != nil {
				return err
			}
			info.XMP = b
			wantXMP = false
			if err := skip(r, n&1); err != nil {
				return err
			}
		default:
			if err := skip(r, padded); err != nil {
				return err
			}
		}
		pos += padded
		if !wantEXIF && !wantXMP {
			switch fourcc {
			case "VP8 ", "VP8L", "ANMF", "ALPH", "ANIM":
				// Image data reached and no EXIF expected after it.
				// (ICCP, when present, precedes all of these.)
				return nil
			}
			if !wantICC {
				return nil
			}
		}
	}
	return nil
}

// readGIF reads an ICC profile from an "ICCRGBG1012" application extension
// before the first image descriptor.
func readGIF(r io.Reader, info *Info) error {
	var hdr [13]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	if string(hdr[:6]) != "GIF87a" && string(hdr[:6]) != "GIF89a" {
		return errMalformed
	}
	if hdr[10]&0x80 != 0 {
		if err := skip(r, 3<<(hdr[10]&7+1)); err != nil {
			return err
		}
	}
	var b [2]byte
	for {
		if _, err := io.ReadFull(r, b[:1]); err != nil {
			return err
		}
		if b[0] != 0x21 { // image descriptor (0x2C), trailer (0x3B) or junk
			return nil
		}
		if _, err := io.ReadFull(r, b[:2]); err != nil {
			return err
		}
		label, size := b[0], int64(b[1])
		var icc []byte
		isICC := false
		if label == 0xFF && size == 11 {
			id, err := readN(r, 11)
			if err != nil {
				return err
			}
			isICC = info.ICC == nil && string(id) == "ICCRGBG1012"
		} else if err := skip(r, size); err != nil {
			return err
		}
		// Data sub-blocks until a zero-length block.
		for {
			if _, err := io.ReadFull(r, b[:1]); err != nil {
				return err
			}
			if b[0] == 0 {
				break
			}
			if isICC && len(icc)+int(b[0]) <= maxICC {
				old := len(icc)
				icc = append(icc, make([]byte, b[0])...)
				if _, err := io.ReadFull(r, icc[old:]); err != nil {
					return err
				}
			} else {
				isICC = false
				if err := skip(r, int64(b[0])); err != nil {
					return err
				}
			}
		}
		if isICC && len(icc) > 0 {
			info.ICC = icc
		}
	}
}

// readBMP reads a profile embedded in a BITMAPV5HEADER (bV5CSType
// PROFILE_EMBEDDED). Linked profiles (a file name) are ignored.
func readBMP(r io.Reader, info *Info) error {
	src := newFileSource(r)
	h := src.at(0, 14+124)
	if len(h) < 14+124 || string(h[:2]) != "BM" {
		return src.error()
	}
	v5 := h[14:]
	le := binary.LittleEndian
	if le.Uint32(v5) < 124 || string(v5[56:60]) != "DEBM" { // 'MBED' little-endian
		return src.error()
	}
	off, size := int64(le.Uint32(v5[112:])), int64(le.Uint32(v5[116:]))
	if size > 0 && size <= maxICC {
		if icc := src.at(14+off, size); int64(len(icc)) == size {
			info.ICC = icc
		}
	}
	return src.error()
}
