package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/stridehq/stride"
)

// MaxJSONBody is the largest JSON body accepted by account endpoints.
const MaxJSONBody = 64 << 10

// decodeJSON reads a JSON object body into dst strictly: the media type must
// be JSON, unknown fields and trailing data are refused, and the body is
// capped, so a client learns about a typo instead of having it ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return stride.Errorf(stride.EUNSUPPORTED, "The body must be application/json.")
		}
	} else {
		return stride.Errorf(stride.EUNSUPPORTED, "The body must be application/json; set Content-Type.")
	}
	body := http.MaxBytesReader(w, r.Body, MaxJSONBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return jsonError(err)
		}
		return stride.Errorf(stride.EMALFORMED, "The body must hold exactly one JSON value.")
	}
	return nil
}

// jsonError turns a decoding failure into a problem that names the field.
func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
		fieldErr  *fieldValueError
		malformed = func(field, msg string) error {
			e := &stride.Error{Code: stride.EMALFORMED, Message: "The body is not valid JSON for this endpoint."}
			if field != "" {
				e.Fields = []stride.FieldError{{Field: field, Message: msg}}
			} else {
				e.Message = msg
			}
			return e
		}
	)
	switch {
	case errors.As(err, &tooLarge):
		return stride.Errorf(stride.ETOOLARGE, "The body is larger than %d bytes.", tooLarge.Limit)
	case errors.As(err, &syntax):
		return malformed("", fmt.Sprintf("The body is not valid JSON (at byte %d).", syntax.Offset))
	case errors.Is(err, io.EOF):
		return malformed("", "The body is empty; a JSON object is expected.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("", "The body ends in the middle of a JSON value.")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return malformed("", "The body must be a JSON object.")
		}
		return malformed(field, "must be "+jsonTypeName(typeErr.Type.String()))
	case errors.As(err, &fieldErr):
		return malformed(fieldErr.field, fieldErr.msg)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return malformed(name, "is not a known field")
	}
	return malformed("", "The body is not valid JSON for this endpoint.")
}

func jsonTypeName(goType string) string {
	goType = strings.TrimPrefix(goType, "*")
	switch {
	case goType == "string", strings.HasSuffix(goType, "Optional[string]"):
		return "a string"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasSuffix(goType, "Optional[int]"):
		return "an integer"
	case strings.HasPrefix(goType, "float"), strings.HasSuffix(goType, "Optional[float64]"):
		return "a number"
	case goType == "bool":
		return "a boolean"
	}
	return "of the documented type"
}

// fieldValueError is returned by custom decoders to name the failing field.
type fieldValueError struct{ field, msg string }

func (e *fieldValueError) Error() string { return e.field + ": " + e.msg }

// Optional is a JSON field of a PATCH body that distinguishes absent (Set is
// false), null (Set and Null) and a value.
type Optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// Ptr returns the value when set and not null.
func (o Optional[T]) Ptr() *T {
	if !o.Set || o.Null {
		return nil
	}
	v := o.Value
	return &v
}

// pageParams reads limit and cursor, refusing out-of-range limits instead of
// silently clamping them, so clients find their bug.
func pageParams(r *http.Request) (stride.Page, error) {
	q := r.URL.Query()
	p := stride.Page{Cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > stride.MaxPageLimit {
			return p, &stride.Error{Code: stride.EINVALID, Message: "The request has invalid fields.",
				Fields: []stride.FieldError{{Field: "limit", Message: fmt.Sprintf("must be an integer from 1 to %d", stride.MaxPageLimit)}}}
		}
		p.Limit = n
	}
	return p, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	writeEncoded(w, status, body, err)
}

// writeEncoded answers with a body already encoded as JSON (err is the
// encoding's).
func writeEncoded(w http.ResponseWriter, status int, body []byte, err error) {
	if err != nil {
		http.Error(w, `{"error":"encode response"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
