package bus

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func sample() Event {
	return Event{
		ID: "e-1", Type: "activity.uploaded", Source: "/stride/api", Subject: "uploads/u-1",
		Time:          time.Date(2026, 11, 22, 8, 0, 0, 42, time.FixedZone("X", -5*3600)),
		DataSchema:    "https://stride.example/s/v3.json",
		SchemaVersion: 3, Key: "athlete-1",
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", TraceState: "a=b",
		Data: json.RawMessage(`{"upload_id":"u-1"}`),
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	ev := sample()
	b, err := Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := ev.Normalize()
	if !got.Time.Equal(want.Time) || got.Time.Location() != time.UTC {
		t.Errorf("time %v, want %v in UTC", got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("round trip\n got %s\nwant %s", gj, wj)
	}
}

// The wire format is CloudEvents structured JSON: other tools rely on the
// attribute names.
func TestWireNames(t *testing.T) {
	b, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		"specversion": "1.0", "id": "e-1", "type": "activity.uploaded", "source": "/stride/api",
		"subject": "uploads/u-1", "time": "2026-11-22T13:00:00.000000042Z",
		"datacontenttype": "application/json", "dataschema": "https://stride.example/s/v3.json",
		"schemaversion": float64(3), "partitionkey": "athlete-1",
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": "a=b",
	} {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if d, ok := m["data"].(map[string]any); !ok || d["upload_id"] != "u-1" {
		t.Errorf("data = %v", m["data"])
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, s := range []string{``, `{`, `{"id":"1","type":"a","source":"s","specversion":"2.0"}`, `{"type":"a","source":"s"}`} {
		if _, err := Decode([]byte(s)); err == nil {
			t.Errorf("Decode(%q) accepted", s)
		}
	}
	if _, err := Encode(Event{ID: "1", Type: "a", Source: "s", Data: []byte("nope")}); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("Encode of bad data: %v", err)
	}
}

func TestPartitionIsStableAndSpread(t *testing.T) {
	// Fixed values: a change of hash would move keys between partitions of
	// a running system and break per-key order during the change.
	if p := Partition(Event{Key: "athlete-1"}, 16); p != Partition(Event{ID: "x", Key: "athlete-1"}, 16) {
		t.Error("partition depends on more than the key")
	}
	if got := Partition(Event{Key: "athlete-1"}, 16); got != 2 {
		t.Errorf("partition of athlete-1 = %d, want 2", got)
	}
	seen := map[int]bool{}
	for i := range 200 {
		seen[Partition(Event{Key: strings.Repeat("k", i)}, 16)] = true
	}
	if len(seen) != 16 {
		t.Errorf("200 keys use %d of 16 partitions", len(seen))
	}
}

func TestExponentialBackoff(t *testing.T) {
	b := ExponentialBackoff(time.Second, 10*time.Second)
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 50: 10 * time.Second} {
		if got := b(n); got != want {
			t.Errorf("attempt %d: %v, want %v", n, got, want)
		}
	}
}

func TestSafeHandleRecoversPanic(t *testing.T) {
	err := SafeHandle(context.Background(), func(context.Context, Delivery) error { panic("bad") }, Delivery{})
	if err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("err %v", err)
	}
}

func TestConsumerConfigDefaults(t *testing.T) {
	c, err := ConsumerConfig{Group: "worker", Types: []string{"activity.uploaded"}}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxAttempts != DefaultMaxAttempts || c.Backoff == nil || c.Concurrency < 1 {
		t.Errorf("defaults %+v", c)
	}
}
