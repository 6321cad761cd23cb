package stride

import (
	"errors"
	"fmt"
)

// Error codes are the stable vocabulary between the core and its adapters.
// The HTTP layer maps each to a status and a problem type in one table, so a
// storage adapter never needs to know about HTTP and a handler never needs to
// inspect driver errors.
const (
	EINVALID      = "invalid"      // well-formed input that breaks a rule
	EMALFORMED    = "malformed"    // input that could not be decoded at all
	ENOTFOUND     = "not_found"    // absent, or present but not visible to the caller
	ECONFLICT     = "conflict"     // unique value already taken
	EUNAUTHORIZED = "unauthorized" // missing or bad credentials
	EFORBIDDEN    = "forbidden"    // visible, but the caller may not do this
	ERATELIMITED  = "rate_limited" // too many attempts; retry later
	ETOOLARGE     = "too_large"    // body over the limit
	EUNSUPPORTED  = "unsupported"  // media type not accepted
	EUNAVAILABLE  = "unavailable"  // a dependency is down or saturated
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINPROGRESS   = "in_progress"  // the same request is still being handled
	EIDEMPOTENCY  = "idempotency"  // idempotency key reused with another body
	EREGISTRATION = "registration" // registration closed or invite missing
	ETOKENREUSED  = "token_reused" // a rotated refresh token was presented again
)

// FieldError names one invalid field of a request, for the problem's
// "errors" list.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an application error with a code the caller can act on and a
// message safe to show to the user. Anything that is not an *Error is treated
// as internal and its text is never shown to clients.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// RetryAfter, when positive, tells the client how long to wait, in seconds.
	RetryAfter int
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("stride %s: %s (%d field errors)", e.Code, e.Message, len(e.Fields))
	}
	return fmt.Sprintf("stride %s: %s", e.Code, e.Message)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err: the *Error's message,
// or a generic text for internal errors, whose details stay in the logs.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}

// Validation collects field errors so a request reports all of its problems
// at once instead of one per round trip.
type Validation struct{ fields []FieldError }

// Add records a problem with a field.
func (v *Validation) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns an EINVALID *Error listing every recorded field, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "The request has invalid fields.", Fields: v.fields}
}
