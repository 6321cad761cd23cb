package standings

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// Hand-written JSON for the entries of a page. A leaderboard read encodes
// up to 100 Standings, and encoding/json's reflection was the largest cost
// of a read after the system calls (docs/benchmarks.md). The output is
// byte for byte what json.Marshal gives (FuzzAppendStanding checks it).

// appendStandings appends entries as a JSON array.
func appendStandings(dst []byte, entries []Standing) ([]byte, error) {
	dst = append(dst, '[')
	for i := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendStanding(dst, &entries[i]); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

// appendStanding appends s as json.Marshal encodes it, or null for nil.
func appendStanding(dst []byte, s *Standing) ([]byte, error) {
	if s == nil {
		return append(dst, "null"...), nil
	}
	dst = append(dst, `{"rank":`...)
	dst = strconv.AppendInt(dst, int64(s.Rank), 10)
	dst = append(dst, `,"user_id":`...)
	dst = appendString(dst, s.UserID)
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, s.Name)
	dst = append(dst, `,"value":`...)
	dst, err := appendFloat(dst, s.Value)
	if err != nil {
		return dst, err
	}
	return append(dst, '}'), nil
}

// appendJSON appends b as json.Marshal encodes it.
func (b *BoardInfo) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, b.Type)
	dst = append(dst, `,"sport":`...)
	dst = appendString(dst, b.Sport)
	dst = append(dst, `,"period":`...)
	dst = appendString(dst, b.Period)
	dst = append(dst, `,"period_key":`...)
	dst = appendString(dst, b.PeriodKey)
	if b.From != "" {
		dst = append(dst, `,"from":`...)
		dst = appendString(dst, b.From)
	}
	if b.To != "" {
		dst = append(dst, `,"to":`...)
		dst = appendString(dst, b.To)
	}
	dst = append(dst, `,"scope":`...)
	dst = appendString(dst, b.Scope)
	dst = append(dst, `,"indoor":`...)
	dst = appendString(dst, b.Indoor)
	dst = append(dst, `,"unit":`...)
	dst = appendString(dst, b.Unit)
	dst = append(dst, `,"athletes":`...)
	dst = strconv.AppendInt(dst, int64(b.Athletes), 10)
	return append(dst, '}')
}

// appendFloat formats f as encoding/json does: the shortest decimal, in
// exponent form only for very small or very large magnitudes.
func appendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json writes it.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping on: <, >
// and & as \u003c, \u003e and \u0026, invalid UTF-8 as \ufffd, and U+2028
// and U+2029 escaped for JavaScript.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
