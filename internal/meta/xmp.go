package meta

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
)

// XMP and IPTC: read from JPEG (APP1 XMP, APP13 Photoshop IRB 0x0404), PNG
// (iTXt XML:com.adobe.xmp), WebP (XMP chunk) and TIFF (tags 700, 33723);
// written into JPEG, PNG (XMP only) and WebP (XMP only); and cut down to
// the rights fields for Output.KeepMetadata "copyright".

var (
	xmpHeader       = []byte("http://ns.adobe.com/xap/1.0/\x00")
	photoshopHeader = []byte("Photoshop 3.0\x00")
)

const (
	tagXMP       = 700   // TIFF XMLPacket
	tagIPTC      = 33723 // TIFF IPTC-NAA
	tagArtist    = 0x013B
	tagCopyright = 0x8298
	maxXMP       = 16 << 20
)

// iptcFromIRB returns the IPTC-NAA block (resource 0x0404) of a Photoshop
// image resource block sequence (APP13 after "Photoshop 3.0\0"), or nil.
func iptcFromIRB(p []byte) []byte {
	for len(p) >= 12 && string(p[:4]) == "8BIM" {
		id := binary.BigEndian.Uint16(p[4:])
		nameLen := int(p[6])
		n := 1 + nameLen
		n += n & 1 // the Pascal name is padded to even length
		if 6+n+4 > len(p) {
			return nil
		}
		size := int(binary.BigEndian.Uint32(p[6+n:]))
		data := p[6+n+4:]
		if size > len(data) {
			return nil
		}
		if id == 0x0404 {
			return data[:size]
		}
		p = data[min(len(data), size+size&1):]
	}
	return nil
}

// irb wraps an IPTC block as a Photoshop image resource (APP13 payload
// after "Photoshop 3.0\0").
func irb(iptc []byte) []byte {
	b := []byte("8BIM\x04\x04\x00\x00")
	b = binary.BigEndian.AppendUint32(b, uint32(len(iptc)))
	b = append(b, iptc...)
	if len(iptc)&1 == 1 {
		b = append(b, 0)
	}
	return b
}

// xmpFromITXt returns the XMP packet of a PNG iTXt chunk body whose keyword
// is XML:com.adobe.xmp, or nil.
func xmpFromITXt(data []byte) []byte {
	const key = "XML:com.adobe.xmp\x00"
	if !bytes.HasPrefix(data, []byte(key)) || len(data) < len(key)+2 {
		return nil
	}
	compressed, rest := data[len(key)] == 1, data[len(key)+2:]
	for range 2 { // language tag, translated keyword
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			return nil
		}
		rest = rest[i+1:]
	}
	if !compressed {
		return rest
	}
	zr, err := zlib.NewReader(bytes.NewReader(rest))
	if err != nil {
		return nil
	}
	defer zr.Close()
	var out bytes.Buffer
	if n, err := io.Copy(&out, io.LimitReader(zr, maxXMP+1)); err != nil || n > maxXMP {
		return nil
	}
	return out.Bytes()
}

// EmbedJPEGExtra returns jpg with an APP1 XMP segment (if xmp is non-empty)
// and an APP13 Photoshop segment holding iptc (if non-empty) inserted after
// SOI (or the JFIF APP0 segment). Call it before EmbedJPEG, which puts Exif
// and the profile in front of them. The input is not modified.
func EmbedJPEGExtra(jpg, xmp, iptc []byte) ([]byte, error) {
	if len(jpg) < 4 || jpg[0] != 0xFF || jpg[1] != mSOI {
		return nil, errors.New("meta: EmbedJPEGExtra: not a JPEG (no SOI marker)")
	}
	if len(xmp)+len(xmpHeader) > 65533 || len(iptc)+len(photoshopHeader)+12 > 65533 {
		return nil, errors.New("meta: EmbedJPEGExtra: XMP or IPTC larger than one JPEG segment")
	}
	insert := 2
	if len(jpg) > 8 && jpg[2] == 0xFF && jpg[3] == mAPP0 {
		n := int(jpg[4])<<8 | int(jpg[5])
		if 4+n <= len(jpg) && bytes.HasPrefix(jpg[6:], jfifHeader) {
			insert = 4 + n
		}
	}
	var out bytes.Buffer
	out.Grow(len(jpg) + len(xmp) + len(iptc) + 64)
	out.Write(jpg[:insert])
	if len(xmp) > 0 {
		writeSegment(&out, mAPP1, xmpHeader, xmp)
	}
	if len(iptc) > 0 {
		writeSegment(&out, mAPP13, photoshopHeader, irb(iptc))
	}
	out.Write(jpg[insert:])
	return out.Bytes(), nil
}

// EmbedPNGExtra returns png with an uncompressed iTXt XML:com.adobe.xmp
// chunk holding xmp (if non-empty) right after IHDR. PNG has no standard
// place for IPTC: iptc is ignored. The input is not modified.
func EmbedPNGExtra(png, xmp, _ []byte) ([]byte, error) {
	if !bytes.HasPrefix(png, pngSignature) || len(png) < len(pngSignature)+25 ||
		string(png[len(pngSignature)+4:len(pngSignature)+8]) != "IHDR" {
		return nil, errors.New("meta: EmbedPNGExtra: not a PNG starting with IHDR")
	}
	if len(xmp) == 0 {
		return png, nil
	}
	ihdrEnd := len(pngSignature) + 12 + int(binary.BigEndian.Uint32(png[len(pngSignature):]))
	if ihdrEnd > len(png) {
		return nil, errors.New("meta: EmbedPNGExtra: truncated IHDR")
	}
	var out bytes.Buffer
	out.Grow(len(png) + len(xmp) + 64)
	out.Write(png[:ihdrEnd])
	writeChunk(&out, "iTXt", append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), xmp...))
	out.Write(png[ihdrEnd:])
	return out.Bytes(), nil
}

// XMPResetOrientation returns xmp with any tiff:Orientation set to 1, as
// ResetOrientation does for EXIF: the pixels are upright.
func XMPResetOrientation(xmp []byte) []byte {
	return xmpOrientation.ReplaceAll(xmp, []byte("${1}1${2}"))
}

var xmpOrientation = regexp.MustCompile(`(tiff:Orientation\s*=\s*["']|<tiff:Orientation>\s*)[0-9]+(["']|\s*</tiff:Orientation>)`)

// CopyrightEXIF returns a new minimal EXIF block (little-endian TIFF, one
// IFD) holding only the Artist and Copyright of exif's IFD0, or nil when it
// has neither.
func CopyrightEXIF(exif []byte) []byte {
	t, ok := newTIFFReader(byteSource(exif))
	if !ok {
		return nil
	}
	entries, _ := t.ifd(t.ifd0)
	var keep []struct {
		tag uint16
		val []byte
	}
	for _, want := range []uint16{tagArtist, tagCopyright} { // ascending, as TIFF requires
		for _, e := range entries {
			if e.tag != want || e.typ != 2 || e.valPos < 0 || e.count > 64<<10 {
				continue
			}
			v := byteSource(exif).at(e.valPos, int64(e.count))
			v = bytes.TrimRight(v, "\x00")
			if len(v) > 0 {
				keep = append(keep, struct {
					tag uint16
					val []byte
				}{want, append(v, 0)})
			}
			break
		}
	}
	if len(keep) == 0 {
		return nil
	}
	le := binary.LittleEndian
	b := []byte("II*\x00\x08\x00\x00\x00")
	b = le.AppendUint16(b, uint16(len(keep)))
	data := 8 + 2 + 12*len(keep) + 4
	var tail []byte
	for _, k := range keep {
		b = le.AppendUint16(b, k.tag)
		b = le.AppendUint16(b, 2)
		b = le.AppendUint32(b, uint32(len(k.val)))
		if len(k.val) <= 4 {
			var v [4]byte
			copy(v[:], k.val)
			b = append(b, v[:]...)
			continue
		}
		b = le.AppendUint32(b, uint32(data+len(tail)))
		tail = append(tail, k.val...)
		if len(tail)&1 == 1 {
			tail = append(tail, 0)
		}
	}
	b = le.AppendUint32(b, 0) // no next IFD
	return append(b, tail...)
}

// CopyrightIPTC returns the datasets of an IPTC-NAA block that name the
// author and the rights: the envelope's coded character set (1:90), the
// record version (2:0), by-line (2:80), credit (2:110) and copyright
// notice (2:116); nil when none of 2:80, 2:110, 2:116 is there.
func CopyrightIPTC(iptc []byte) []byte {
	var out []byte
	rights := false
	for p := iptc; len(p) >= 5 && p[0] == 0x1C; {
		rec, ds := p[1], p[2]
		n := int(binary.BigEndian.Uint16(p[3:]))
		if n&0x8000 != 0 || 5+n > len(p) { // extended lengths are for huge data sets: none of ours
			break
		}
		switch {
		case rec == 1 && ds == 90, rec == 2 && ds == 0:
			out = append(out, p[:5+n]...)
		case rec == 2 && (ds == 80 || ds == 110 || ds == 116):
			out = append(out, p[:5+n]...)
			rights = true
		}
		p = p[5+n:]
	}
	if !rights {
		return nil
	}
	return out
}

// Namespaces of the XMP rights fields.
const (
	nsRDF       = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	nsDC        = "http://purl.org/dc/elements/1.1/"
	nsXMPRights = "http://ns.adobe.com/xap/1.0/rights/"
)

// CopyrightXMP returns a new minimal XMP packet holding only dc:creator,
// dc:rights and the xmpRights properties (Marked, WebStatement,
// UsageTerms, Owner, Certificate) of xmp, copied as they are written there
// (elements or attributes of rdf:Description), or nil when it has none.
func CopyrightXMP(xmp []byte) []byte {
	dec := xml.NewDecoder(bytes.NewReader(xmp))
	dec.Strict = false
	ns := map[string]string{"rdf": nsRDF, "dc": nsDC, "xmpRights": nsXMPRights}
	var body strings.Builder
	var attrs []string
	depth := 0
	start := int64(-1)
	var outer xml.Name
	for {
		off := dec.InputOffset()
		tok, err := dec.RawToken()
		if err != nil {
			break
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			depth++
			if start >= 0 {
				continue
			}
			for _, a := range tk.Attr {
				if a.Name.Space == "xmlns" {
					ns[a.Name.Local] = a.Value
				}
			}
			space := ns[tk.Name.Space]
			if tk.Name.Local == "Description" && space == nsRDF {
				for _, a := range tk.Attr {
					if ns[a.Name.Space] == nsXMPRights && a.Name.Space != "xmlns" {
						attrs = append(attrs, "xmpRights:"+a.Name.Local+`="`+escape(a.Value)+`"`)
					}
				}
				continue
			}
			if (space == nsDC && (tk.Name.Local == "creator" || tk.Name.Local == "rights")) || space == nsXMPRights {
				start, outer, depth = off, tk.Name, 1
			}
		case xml.EndElement:
			depth--
			if start >= 0 && depth == 0 && tk.Name == outer {
				want := "xmpRights"
				if ns[outer.Space] == nsDC {
					want = "dc"
				}
				body.WriteString("   " + renamePrefix(string(xmp[start:dec.InputOffset()]), outer.Space, want) + "\n")
				start = -1
			}
		}
	}
	if body.Len() == 0 && len(attrs) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("<?xpacket begin=\"\uFEFF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n")
	b.WriteString(`<x:xmpmeta xmlns:x="adobe:ns:meta/">` + "\n")
	b.WriteString(` <rdf:RDF xmlns:rdf="` + nsRDF + `">` + "\n")
	b.WriteString(`  <rdf:Description rdf:about="" xmlns:dc="` + nsDC + `" xmlns:xmpRights="` + nsXMPRights + `"`)
	for _, a := range attrs {
		b.WriteString(" " + a)
	}
	b.WriteString(">\n" + body.String())
	b.WriteString("  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>")
	return []byte(b.String())
}

// renamePrefix rewrites the outer element's prefix old to want (the one
// the new packet declares); inner elements (rdf:Seq, rdf:li) keep theirs.
func renamePrefix(raw, old, want string) string {
	if old == want {
		return raw
	}
	raw = strings.Replace(raw, "<"+old+":", "<"+want+":", 1)
	if i := strings.LastIndex(raw, "</"+old+":"); i >= 0 {
		raw = raw[:i] + "</" + want + ":" + raw[i+len("</"+old+":"):]
	}
	return raw
}

func escape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
