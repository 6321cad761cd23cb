package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/stridehq/stride"
)

// ProblemTypeBase prefixes every problem type. The types are stable: clients
// may switch on them. docs/api.md lists them.
const ProblemTypeBase = "https://stride.dev/problems/"

// problemKinds maps each domain error code to its HTTP status and problem
// type: the one place where domain errors meet HTTP.
var problemKinds = map[string]struct {
	status int
	slug   string
	title  string
}{
	stride.EMALFORMED:    {http.StatusBadRequest, "malformed-request", "Malformed request"},
	stride.EINVALID:      {http.StatusUnprocessableEntity, "validation", "Invalid request"},
	stride.ENOTFOUND:     {http.StatusNotFound, "not-found", "Not found"},
	stride.ECONFLICT:     {http.StatusConflict, "conflict", "Conflict"},
	stride.EUNAUTHORIZED: {http.StatusUnauthorized, "unauthorized", "Unauthorized"},
	stride.EFORBIDDEN:    {http.StatusForbidden, "forbidden", "Forbidden"},
	stride.ERATELIMITED:  {http.StatusTooManyRequests, "rate-limited", "Too many requests"},
	stride.ETOOLARGE:     {http.StatusRequestEntityTooLarge, "too-large", "Request body too large"},
	stride.EUNSUPPORTED:  {http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type"},
	stride.EUNAVAILABLE:  {http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	stride.EINPROGRESS:   {http.StatusConflict, "in-progress", "Request in progress"},
	stride.EIDEMPOTENCY:  {http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency key reused"},
	stride.EREGISTRATION: {http.StatusForbidden, "registration-closed", "Registration not allowed"},
	stride.ETOKENREUSED:  {http.StatusUnauthorized, "unauthorized", "Unauthorized"},
	stride.EINTERNAL:     {http.StatusInternalServerError, "internal", "Internal error"},
	codeMethodNotAllowed: {http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed"},
}

// codeMethodNotAllowed exists only at the HTTP layer.
const codeMethodNotAllowed = "method_not_allowed"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	Code      string              `json:"code"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []stride.FieldError `json:"errors,omitempty"`
}

// writeError answers with the problem for err. Internal errors are logged
// with their cause and shown to the client as a bare "internal".
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := stride.ErrorCode(err)
	kind, ok := problemKinds[code]
	if !ok {
		code, kind = stride.EINTERNAL, problemKinds[stride.EINTERNAL]
	}
	p := Problem{
		Type: ProblemTypeBase + kind.slug, Title: kind.title, Status: kind.status, Code: code,
		Detail: stride.ErrorMessage(err), Instance: r.URL.Path, RequestID: requestID(r.Context()),
	}
	var se *stride.Error
	if errors.As(err, &se) {
		p.Errors = se.Fields
		if se.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(se.RetryAfter))
		}
	}
	switch {
	case kind.status >= 500 && errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client hung up first: nobody reads this answer, and nothing
		// failed on our side; what it asked for may still have taken effect
		// (an upload committed after its caller left is processed as usual).
		log.InfoContext(r.Context(), "client went away before the answer", "err", err.Error())
	case kind.status >= 500:
		log.ErrorContext(r.Context(), "request failed", "err", err.Error(), "status", kind.status)
	}
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(kind.status)
	_, _ = w.Write(append(body, '\n'))
}
