// Package bus is Stride's port to a durable event log: the outbox relay
// publishes committed events through it and the workers consume them, with
// at-least-once delivery, per-key ordering within a consumer group, bounded
// retries and a dead-letter store per group. Adapters live in their own
// packages (nats, rabbitmq) and all pass the suite in bus/bustest.
package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// SpecVersion is the CloudEvents specification version the envelope follows.
const SpecVersion = "1.0"

// Event is a CloudEvents 1.0 envelope in structured JSON mode. The JSON
// names are the CloudEvents attribute names, so any CloudEvents tooling can
// read what Stride puts on the wire. Three extensions are used:
// "partitionkey" (the CloudEvents partitioning extension) carries Key,
// "schemaversion" the version of Data's schema, and "traceparent"/"tracestate"
// (the distributed-tracing extension) the W3C trace context, so OpenTelemetry
// spans continue across the bus.
type Event struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	SpecVersion     string          `json:"specversion"`
	Subject         string          `json:"subject,omitempty"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	DataSchema      string          `json:"dataschema,omitempty"`
	SchemaVersion   int             `json:"schemaversion,omitempty"`
	Key             string          `json:"partitionkey,omitempty"`
	TraceParent     string          `json:"traceparent,omitempty"`
	TraceState      string          `json:"tracestate,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
}

// ErrInvalidEvent is wrapped by every validation error of Event.
var ErrInvalidEvent = errors.New("invalid event")

// ErrClosed is returned by every call on a bus after Close.
var ErrClosed = errors.New("bus closed")

// Normalize fills the attributes that have an obvious default (specversion,
// datacontenttype, time) and brings Time to UTC, so that what a consumer
// decodes equals what the publisher meant. It returns the event unchanged
// otherwise.
func (e Event) Normalize() Event {
	if e.SpecVersion == "" {
		e.SpecVersion = SpecVersion
	}
	if e.DataContentType == "" && len(e.Data) > 0 {
		e.DataContentType = "application/json"
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	// Drop the monotonic reading and the location: they do not survive JSON
	// and would make a decoded event compare unequal to the published one.
	e.Time = e.Time.UTC().Round(0)
	return e
}

// Validate reports whether the event can be put on a bus. Type is used in
// broker subjects and routing keys, so it is restricted to dot-separated
// tokens of letters, digits, '-' and '_'.
func (e Event) Validate() error {
	if e.ID == "" {
		return fmt.Errorf("%w: empty id", ErrInvalidEvent)
	}
	if e.Source == "" {
		return fmt.Errorf("%w %s: empty source", ErrInvalidEvent, e.ID)
	}
	if err := ValidateType(e.Type); err != nil {
		return fmt.Errorf("%w %s: %v", ErrInvalidEvent, e.ID, err)
	}
	if e.SpecVersion != "" && e.SpecVersion != SpecVersion {
		return fmt.Errorf("%w %s: specversion %q, want %q", ErrInvalidEvent, e.ID, e.SpecVersion, SpecVersion)
	}
	if len(e.Data) > 0 && !json.Valid(e.Data) {
		return fmt.Errorf("%w %s: data is not valid JSON", ErrInvalidEvent, e.ID)
	}
	return nil
}

// ValidateType checks an event type: non-empty dot-separated tokens of
// [A-Za-z0-9_-].
func ValidateType(t string) error {
	if t == "" {
		return errors.New("empty type")
	}
	for tok := range strings.SplitSeq(t, ".") {
		if tok == "" || !isName(tok) {
			return fmt.Errorf("type %q: want dot-separated tokens of letters, digits, '-' or '_'", t)
		}
	}
	return nil
}

// ValidateName checks a consumer group or prefix name: letters, digits and
// '-' only, because adapters build broker object names from it and use '_'
// and '.' as separators.
func ValidateName(kind, name string) error {
	if name == "" || len(name) > 64 || strings.Contains(name, "_") || !isName(name) {
		return fmt.Errorf("%s %q: want 1-64 letters, digits or '-'", kind, name)
	}
	return nil
}

func isName(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// Encode returns the structured-mode JSON of the event, normalized.
func Encode(e Event) ([]byte, error) {
	e = e.Normalize()
	if err := e.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return b, nil
}

// Decode parses the structured-mode JSON of an event.
func Decode(b []byte) (Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&e); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	if err := e.Validate(); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	e.Time = e.Time.UTC()
	return e, nil
}

// Partition maps an event to one of n partitions. Events with the same key
// land in the same partition, which is what gives per-key ordering; events
// without a key are spread by id, so they carry no ordering promise. Every
// adapter uses this function so that a key's partition does not depend on the
// broker.
func Partition(e Event, n int) int {
	k := e.Key
	if k == "" {
		k = e.ID
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(k))
	return int(h.Sum32() % uint32(n))
}
