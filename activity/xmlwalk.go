package activity

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxXMLText bounds the character data kept for one element: every value
// GPX and TCX carry is short, and a hostile file must not make us buffer an
// arbitrarily long text node.
const maxXMLText = 4 << 10

// maxXMLDepth bounds element nesting; real files nest fewer than 12 levels.
const maxXMLDepth = 256

// xmlHandler receives the elements of a document. stack holds the local
// names (namespace prefix stripped) of the open elements, the current one
// last; text is the element's own character data, trimmed.
type xmlHandler interface {
	start(stack []string, attrs []xml.Attr) error
	end(stack []string, text []byte) error
}

// errTruncatedXML reports a document that ended with elements still open.
var errTruncatedXML = errors.New("document ends before its elements are closed")

// walkXML streams through an XML document with encoding/xml's RawToken.
// RawToken does not resolve namespaces, so undeclared prefixes (seen in real
// Strava exports) are harmless: elements are matched on their local name.
// Because RawToken does not check nesting either, walkXML checks that every
// end tag closes the element it should.
//
// Entities: encoding/xml never reads a DTD, so it expands no entity a file
// declares and never fetches an external one; with Strict set, an undefined
// entity reference is a syntax error. walkXML goes further and refuses any
// document whose DOCTYPE declares entities (billion laughs, XXE), so no
// declared entity is ever even parsed as text.
func walkXML(data []byte, h xmlHandler) error {
	d := xml.NewDecoder(bytes.NewReader(trimBOMAndSpace(data)))
	d.Strict = true
	d.Entity = nil // only the five predefined entities
	d.CharsetReader = charsetReader
	var (
		stack []string
		text  []byte
	)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if len(stack) > 0 {
				return errTruncatedXML
			}
			return nil
		}
		if err != nil {
			var syn *xml.SyntaxError
			if errors.As(err, &syn) && strings.Contains(syn.Msg, "unexpected EOF") {
				return errTruncatedXML
			}
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return fmt.Errorf("elements nested deeper than %d levels", maxXMLDepth)
			}
			stack = append(stack, t.Name.Local)
			text = text[:0]
			if err := h.start(stack, t.Attr); err != nil {
				return err
			}
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1] != t.Name.Local {
				open := "nothing"
				if len(stack) > 0 {
					open = "<" + stack[len(stack)-1] + ">"
				}
				line, _ := d.InputPos()
				return fmt.Errorf("line %d: </%s> closes %s", line, t.Name.Local, open)
			}
			if err := h.end(stack, bytes.TrimSpace(text)); err != nil {
				return err
			}
			stack = stack[:len(stack)-1]
			text = text[:0]
		case xml.CharData:
			if len(text)+len(t) <= maxXMLText {
				text = append(text, t...)
			}
		case xml.Directive:
			if bytes.Contains(t, []byte("ENTITY")) {
				return errXMLEntities
			}
		}
	}
}

var errXMLEntities = errors.New("the document declares XML entities in its DOCTYPE; refused so that no entity is ever expanded or fetched")

// charsetReader accepts the single-byte encodings old GPS software declares
// (ISO-8859-1, Windows-1252 treated as Latin-1) besides UTF-8.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252":
		return &latin1Reader{r: bufio.NewReader(input)}, nil
	}
	return nil, fmt.Errorf("unsupported XML encoding %q", label)
}

type latin1Reader struct {
	r   *bufio.Reader
	buf [utf8.UTFMax]byte
	pen []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(l.pen) > 0 {
			c := copy(p[n:], l.pen)
			l.pen = l.pen[c:]
			n += c
			continue
		}
		b, err := l.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if b < utf8.RuneSelf {
			p[n] = b
			n++
			continue
		}
		w := utf8.EncodeRune(l.buf[:], rune(b))
		l.pen = l.buf[:w]
	}
	return n, nil
}

// xmlParent returns the name of the element enclosing the current one.
func xmlParent(stack []string) string {
	if len(stack) < 2 {
		return ""
	}
	return stack[len(stack)-2]
}

// xmlInside reports whether an element named name is open.
func xmlInside(stack []string, name string) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i] == name {
			return true
		}
	}
	return false
}

// parseNumber parses a decimal number; it returns Missing for empty,
// non-numeric, NaN or infinite text.
func parseNumber(b []byte) float64 {
	if len(b) == 0 {
		return Missing
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || v != v || v > 1e300 || v < -1e300 {
		return Missing
	}
	return v
}

// parseXMLTime parses xsd:dateTime as GPX and TCX writers produce it. A time
// without a zone is taken as UTC, as GPX 1.0 requires.
func parseXMLTime(b []byte) (time.Time, bool) {
	s := string(b)
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func attr(attrs []xml.Attr, local string) (string, bool) {
	for _, a := range attrs {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}
