package store

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/stridehq/stride"
)

// EncodeCursor makes an opaque page cursor from the sort key of the last item
// returned: a time and an id that breaks ties between equal times.
func EncodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + ":" + id))
}

// DecodeCursor reverses EncodeCursor. A cursor that was not made by
// EncodeCursor is EINVALID: clients must pass cursors back untouched.
func DecodeCursor(s string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		ts, id, ok := strings.Cut(string(raw), ":")
		if us, perr := strconv.ParseInt(ts, 10, 64); ok && perr == nil && id != "" {
			return time.UnixMicro(us).UTC(), id, nil
		}
	}
	return time.Time{}, "", &stride.Error{
		Code:    stride.EINVALID,
		Message: "The cursor is not valid; pass back the next_cursor of a previous page unchanged.",
		Fields:  []stride.FieldError{{Field: "cursor", Message: "is not a cursor this server issued"}},
	}
}

// PageLimit returns the page size to use: the default for 0, else the
// requested size capped at the maximum.
func PageLimit(p stride.Page) int {
	switch {
	case p.Limit <= 0:
		return stride.DefaultPageLimit
	case p.Limit > stride.MaxPageLimit:
		return stride.MaxPageLimit
	}
	return p.Limit
}

// QualifyColumns prefixes each column of a comma-separated list with a table
// alias, so one column list serves both plain selects and joins.
func QualifyColumns(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
