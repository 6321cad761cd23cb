package activity

import "fmt"

// Error is the error every parser in this package returns. Code is a stable,
// machine-readable problem code (the API maps it to an RFC 9457 problem type
// and an HTTP status); Detail is a human explanation specific to the input.
type Error struct {
	Code   string
	Detail string
	Err    error // underlying cause, if any
}

// Stable problem codes. They are part of the public API: do not rename.
const (
	CodeUnsupportedFormat = "unsupported_format" // not FIT, GPX, TCX, JSON or gzip of one of them
	CodeCorrupt           = "corrupt_file"       // recognised format, but unreadable or unsafe content
	CodeTooLarge          = "too_large"          // input, decompressed size or point count above Limits
	CodeNoData            = "no_data"            // readable, but holds nothing to make an activity from
)

// Sentinel errors to use with errors.Is: an *Error matches the sentinel that
// carries the same Code, whatever its Detail.
var (
	ErrUnsupportedFormat = &Error{Code: CodeUnsupportedFormat, Detail: "unsupported file format"}
	ErrCorrupt           = &Error{Code: CodeCorrupt, Detail: "corrupt file"}
	ErrTooLarge          = &Error{Code: CodeTooLarge, Detail: "input too large"}
	ErrNoData            = &Error{Code: CodeNoData, Detail: "no activity data"}
)

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Err)
	}
	return e.Code + ": " + e.Detail
}

// Unwrap exposes the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func newError(code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

func wrapError(code string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...), Err: cause}
}

// Warning reports something the parser or the cleaner repaired or ignored.
// An activity with warnings is still valid; warnings are shown to the athlete
// ("12 points with an invalid position were dropped").
type Warning struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Count  int    `json:"count,omitempty"`
}

// Stable warning codes.
const (
	WarnCRCMismatch      = "crc_mismatch"      // FIT file CRC does not match its content
	WarnTruncated        = "truncated"         // input ended early; kept what was complete
	WarnDecodeError      = "decode_error"      // decoding stopped at a malformed message; kept what came before
	WarnInvalidPosition  = "invalid_position"  // lat/lon NaN, infinite or out of range: position dropped
	WarnInvalidValue     = "invalid_value"     // a sensor value outside its physical range: value dropped
	WarnMissingTime      = "missing_time"      // points without a timestamp were dropped
	WarnTimeReordered    = "time_reordered"    // points were out of time order and were sorted
	WarnDuplicateTime    = "duplicate_time"    // points sharing a timestamp were merged
	WarnGPSSpike         = "gps_spike"         // positions implying an impossible speed were dropped
	WarnImplausibleTimes = "implausible_times" // device clock looks wrong (e.g. year 1901)
	WarnXMLEntity        = "xml_entity"        // an undefined XML entity was left unexpanded
	WarnSummaryMismatch  = "summary_mismatch"  // device summary disagrees with the points
)
