package activity

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"path"
	"strings"
)

// FileHint carries what the upload said about the file. Content always wins
// over hints: a hint is used only when the bytes do not identify the format.
type FileHint struct {
	Filename    string // original file name, e.g. "morning.fit.gz"
	ContentType string // media type of the upload, e.g. "application/gpx+xml"
}

// Limits bound the resources one Parse may use. A zero field takes its
// default; no real file in the test corpus comes near a default.
type Limits struct {
	MaxInputBytes        int64 // raw upload size; default 64 MiB
	MaxDecompressedBytes int64 // size after gunzip; default 128 MiB
	MaxPoints            int   // points over all sessions; default 1,000,000 (11.5 days at 1 Hz)
	MaxSessions          int   // sessions of a multisport FIT file; default 64
}

// DefaultLimits returns the limits used for zero fields of Limits.
func DefaultLimits() Limits {
	return Limits{MaxInputBytes: 64 << 20, MaxDecompressedBytes: 128 << 20, MaxPoints: 1_000_000, MaxSessions: 64}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxInputBytes <= 0 {
		l.MaxInputBytes = d.MaxInputBytes
	}
	if l.MaxDecompressedBytes <= 0 {
		l.MaxDecompressedBytes = d.MaxDecompressedBytes
	}
	if l.MaxPoints <= 0 {
		l.MaxPoints = d.MaxPoints
	}
	if l.MaxSessions <= 0 {
		l.MaxSessions = d.MaxSessions
	}
	return l
}

// Parse reads a FIT, GPX, TCX or JSON activity, optionally gzip-compressed,
// into a cleaned Recording (see Clean). It never panics, and its memory is
// bounded by lim. Errors are *Error values carrying a stable Code; warnings
// report what was repaired or dropped.
func Parse(data []byte, hint FileHint, lim Limits) (*Recording, []Warning, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxInputBytes {
		return nil, nil, newError(CodeTooLarge, "file is %d bytes, the limit is %d", len(data), lim.MaxInputBytes)
	}
	if len(data) == 0 {
		return nil, nil, newError(CodeNoData, "the file is empty")
	}
	if isGzip(data) {
		raw, err := gunzip(data, lim.MaxDecompressedBytes)
		if err != nil {
			return nil, nil, err
		}
		if isGzip(raw) {
			return nil, nil, newError(CodeUnsupportedFormat, "gzip inside gzip is not accepted")
		}
		data = raw
		hint.Filename = strings.TrimSuffix(strings.ToLower(hint.Filename), ".gz")
		hint.ContentType = ""
		if len(data) == 0 {
			return nil, nil, newError(CodeNoData, "the compressed file is empty")
		}
	}
	format := DetectFormat(data, hint)
	var (
		rec      *Recording
		warnings []Warning
		err      error
	)
	switch format {
	case FormatFIT:
		rec, warnings, err = parseFIT(data, lim)
	case FormatGPX:
		rec, warnings, err = parseGPX(data, lim)
	case FormatTCX:
		rec, warnings, err = parseTCX(data, lim)
	case FormatJSON:
		rec, warnings, err = parseJSON(data, lim)
	default:
		return nil, nil, newError(CodeUnsupportedFormat,
			"not a FIT, GPX, TCX or JSON activity (starts with %q)", printablePrefix(data, 8))
	}
	if err != nil {
		return nil, warnings, err
	}
	warnings = append(warnings, Clean(rec)...)
	if !rec.hasData() {
		return nil, warnings, newError(CodeNoData, "the %s file holds no track point with a time and no summary", format)
	}
	return rec, warnings, nil
}

// hasData reports whether there is anything to analyse: timed points, or a
// device summary with a duration or distance (a summary-only activity).
func (r *Recording) hasData() bool {
	if len(r.Children) > 0 {
		for _, c := range r.Children {
			if c.hasData() {
				return true
			}
		}
		return false
	}
	return len(r.Points) > 0 || Has(r.Summary.ElapsedS) || Has(r.Summary.TimerS) || Has(r.Summary.DistanceM)
}

// DetectFormat identifies the format from magic bytes (FIT header ".FIT",
// XML root element gpx or TrainingCenterDatabase, a JSON object), falling
// back on the file name extension and then the content type. It returns ""
// when nothing identifies the data. Gzip is not unwrapped here.
func DetectFormat(data []byte, hint FileHint) Format {
	if isFIT(data) {
		return FormatFIT
	}
	body := trimBOMAndSpace(data)
	if len(body) > 0 {
		switch body[0] {
		case '<':
			switch xmlRootName(body) {
			case "gpx":
				return FormatGPX
			case "TrainingCenterDatabase":
				return FormatTCX
			}
		case '{':
			return FormatJSON
		}
	}
	name := strings.TrimSuffix(strings.ToLower(hint.Filename), ".gz")
	switch path.Ext(name) {
	case ".fit":
		return FormatFIT
	case ".gpx":
		return FormatGPX
	case ".tcx":
		return FormatTCX
	case ".json":
		return FormatJSON
	}
	ct := strings.ToLower(hint.ContentType)
	switch {
	case strings.Contains(ct, "fit"):
		return FormatFIT
	case strings.Contains(ct, "gpx"):
		return FormatGPX
	case strings.Contains(ct, "tcx"):
		return FormatTCX
	case strings.Contains(ct, "json"):
		return FormatJSON
	}
	return ""
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

func isFIT(b []byte) bool {
	return len(b) >= 12 && (b[0] == 12 || b[0] == 14) && string(b[8:12]) == ".FIT"
}

// gunzip decompresses b, refusing to produce more than limit bytes: a gzip
// bomb is stopped after at most limit bytes of output.
func gunzip(b []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, wrapError(CodeCorrupt, err, "invalid gzip header")
	}
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, limit+1))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, wrapError(CodeCorrupt, err, "gzip data is corrupt after %d bytes", n)
	}
	if n > limit {
		return nil, newError(CodeTooLarge, "decompressed size exceeds the limit of %d bytes", limit)
	}
	return out.Bytes(), nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func trimBOMAndSpace(b []byte) []byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	b = bytes.TrimPrefix(b, utf8BOM)
	return bytes.TrimLeft(b, " \t\r\n")
}

// xmlRootName finds the local name of the first element of an XML document,
// skipping the declaration, comments and DOCTYPE, without a full parse.
func xmlRootName(b []byte) string {
	const scanLimit = 64 << 10 // the root comes early in any real file
	if len(b) > scanLimit {
		b = b[:scanLimit]
	}
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 || i+1 >= len(b) {
			return ""
		}
		b = b[i+1:]
		switch b[0] {
		case '?':
			if j := bytes.Index(b, []byte("?>")); j >= 0 {
				b = b[j+2:]
				continue
			}
			return ""
		case '!':
			if bytes.HasPrefix(b, []byte("!--")) {
				if j := bytes.Index(b, []byte("-->")); j >= 0 {
					b = b[j+3:]
					continue
				}
				return ""
			}
			continue // DOCTYPE: its internal subset may hold '<'; keep scanning for an element
		}
		end := bytes.IndexAny(b, " \t\r\n/>")
		if end < 0 {
			return ""
		}
		name := string(b[:end])
		if k := strings.IndexByte(name, ':'); k >= 0 {
			name = name[k+1:]
		}
		if name == "" || strings.HasPrefix(name, "!") {
			continue
		}
		if !isNameStart(name[0]) {
			continue
		}
		return name
	}
}

func isNameStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }

func printablePrefix(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
