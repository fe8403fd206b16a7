package meta

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// maxPNGChunk is the largest chunk length the PNG spec allows (2^31-1).
const maxPNGChunk = 1<<31 - 1

func readPNG(r io.Reader, info *Info) error {
	sig := make([]byte, len(pngSignature))
	if _, err := io.ReadFull(r, sig); err != nil {
		return err
	}
	if !bytes.Equal(sig, pngSignature) {
		return errMalformed
	}
	var hdr [8]byte
	haveICC, haveEXIF := false, false
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		if n > maxPNGChunk {
			return errMalformed
		}
		switch typ {
		case "IDAT", "IEND":
			return nil
		case "iCCP", "eXIf", "iTXt":
		default:
			if err := skip(r, n+4); err != nil { // data + CRC
				return err
			}
			continue
		}
		limit := int64(maxICC)
		if typ == "eXIf" {
			limit = maxEXIF
		}
		if n > limit || (typ == "iCCP" && haveICC) || (typ == "eXIf" && haveEXIF) || (typ == "iTXt" && info.XMP != nil) {
			if err := skip(r, n+4); err != nil {
				return err
			}
			continue
		}
		data, err := readN(r, n+4)
		if err != nil {
			return err
		}
		data, crc := data[:n], binary.BigEndian.Uint32(data[n:])
		c := crc32.NewIEEE()
		c.Write(hdr[4:8])
		c.Write(data)
		if c.Sum32() != crc {
			continue // damaged chunk: ignore it
		}
		switch typ {
		case "iCCP":
			haveICC = true
			info.ICC, info.DroppedICC = inflateICCP(data)
		case "eXIf":
			haveEXIF = true
			info.EXIF = data
			info.Orientation = Orientation(data)
		case "iTXt":
			info.XMP = xmpFromITXt(data)
		}
	}
}

// inflateICCP decodes an iCCP chunk body: a 1-79 byte profile name, a NUL,
// compression method 0 and a zlib stream. It returns nil when malformed,
// and nil with dropped = MaxICC+1 for a profile over MaxICC, which it
// stops inflating there (a 15 MiB profile compresses into a few KiB).
func inflateICCP(data []byte) (icc []byte, dropped int64) {
	i := bytes.IndexByte(data, 0)
	if i < 1 || i > 79 || i+2 > len(data) || data[i+1] != 0 {
		return nil, 0
	}
	zr, err := zlib.NewReader(bytes.NewReader(data[i+2:]))
	if err != nil {
		return nil, 0
	}
	defer zr.Close()
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, MaxICC+1))
	switch {
	case n > MaxICC:
		return nil, n
	case err != nil || n == 0:
		return nil, 0
	}
	return out.Bytes(), 0
}

// EmbedPNG returns png (a complete PNG file, such as image/png produces)
// with an iCCP chunk (if icc is non-empty; zlib-compressed, profile name
// "ICC profile") and an eXIf chunk (if exif is non-empty; the raw TIFF
// structure, a leading "Exif\0\0" is tolerated and stripped) inserted right
// after IHDR, so before PLTE and IDAT, in the order iCCP, eXIf.
//
// When a profile is given, existing iCCP and sRGB chunks are removed (the
// PNG spec forbids both iCCP and sRGB); when EXIF is given, existing eXIf
// chunks are removed. All CRCs of new chunks are computed; other chunks are
// copied unchanged. The input is not modified. An error is returned when
// png is not a well-formed chunk sequence starting with IHDR.
func EmbedPNG(png []byte, icc, exif []byte) ([]byte, error) {
	if !bytes.HasPrefix(png, pngSignature) {
		return nil, errors.New("meta: EmbedPNG: not a PNG (bad signature)")
	}
	exif = bytes.TrimPrefix(exif, exifHeader)
	if len(exif) > maxPNGChunk || len(icc) > maxICC {
		return nil, errors.New("meta: EmbedPNG: metadata too large")
	}
	type span struct{ start, end int }
	var drop []span
	pos := len(pngSignature)
	ihdrEnd := -1
	for {
		if pos+12 > len(png) {
			return nil, errors.New("meta: EmbedPNG: truncated PNG chunk")
		}
		n := int64(binary.BigEndian.Uint32(png[pos:]))
		typ := string(png[pos+4 : pos+8])
		if n > maxPNGChunk || int64(pos)+12+n > int64(len(png)) {
			return nil, errors.New("meta: EmbedPNG: PNG chunk runs past the end")
		}
		end := pos + 12 + int(n)
		if ihdrEnd < 0 {
			if typ != "IHDR" {
				return nil, errors.New("meta: EmbedPNG: first chunk is not IHDR")
			}
			ihdrEnd = end
		}
		switch {
		case len(icc) > 0 && (typ == "iCCP" || typ == "sRGB"),
			len(exif) > 0 && typ == "eXIf":
			drop = append(drop, span{pos, end})
		}
		pos = end
		if typ == "IEND" {
			break
		}
	}

	var out bytes.Buffer
	out.Grow(len(png) + len(icc) + len(exif) + 64)
	out.Write(png[:ihdrEnd])
	if len(icc) > 0 {
		var body bytes.Buffer
		body.WriteString("ICC profile\x00\x00") // name, NUL, compression method 0
		zw, _ := zlib.NewWriterLevel(&body, zlib.BestCompression)
		zw.Write(icc)
		zw.Close()
		if body.Len() > maxPNGChunk {
			return nil, errors.New("meta: EmbedPNG: metadata too large")
		}
		writeChunk(&out, "iCCP", body.Bytes())
	}
	if len(exif) > 0 {
		writeChunk(&out, "eXIf", exif)
	}
	rest := ihdrEnd
	for _, d := range drop {
		out.Write(png[rest:d.start])
		rest = d.end
	}
	out.Write(png[rest:])
	return out.Bytes(), nil
}

func writeChunk(w *bytes.Buffer, typ string, data []byte) {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], uint32(len(data)))
	copy(b[4:], typ)
	w.Write(b[:])
	w.Write(data)
	c := crc32.NewIEEE()
	c.Write(b[4:])
	c.Write(data)
	binary.BigEndian.PutUint32(b[:4], c.Sum32())
	w.Write(b[:4])
}
