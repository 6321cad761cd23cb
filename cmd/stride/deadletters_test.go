package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/internal/testenv"
	"github.com/stridehq/stride/nats"
)

func TestDeadLettersCommandLine(t *testing.T) {
	out, _, err := runCommand(t, nil, "help")
	if err != nil || !strings.Contains(out, "stride deadletters list|replay") {
		t.Fatalf("help does not document deadletters: %v\n%s", err, out)
	}
	if _, errOut, err := runCommand(t, nil, "deadletters"); err == nil || !strings.Contains(errOut, "deadletters replay") {
		t.Fatalf("no subcommand: %v %q", err, errOut)
	}
	if _, errOut, err := runCommand(t, nil, "deadletters", "purge"); err == nil || !strings.Contains(errOut, "Usage:") {
		t.Fatalf("unknown subcommand: %v %q", err, errOut)
	}
	_, errOut, err := runCommand(t, nil, "deadletters", "list", "-h")
	if err != nil || !strings.Contains(errOut, "STRIDE_BUS_URL") || !strings.Contains(errOut, "-group") {
		t.Fatalf("list -h: %v\n%s", err, errOut)
	}
	// Without a bus URL the command would need the embedded bus, which
	// belongs to the running server: it must say how to reach it instead.
	_, _, err = runCommand(t, nil, "deadletters", "list")
	if err == nil || !strings.Contains(err.Error(), "--bus-listen") || !strings.Contains(err.Error(), "--bus-url") {
		t.Fatalf("list with the embedded bus: %v", err)
	}
	_, _, err = runCommand(t, nil, "deadletters", "list", "--bus-url", "nats://127.0.0.1:1", "some-id")
	if err == nil || !strings.Contains(err.Error(), "replay") {
		t.Fatalf("list with arguments: %v", err)
	}
	_, _, err = runCommand(t, nil, "deadletters", "replay", "--bus-url", "nats://127.0.0.1:1", "--group", "no_such")
	if err == nil || !strings.Contains(err.Error(), "group") {
		t.Fatalf("bad group name: %v", err)
	}
	_, _, err = runCommand(t, nil, "serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0",
		"--bus-url", "nats://127.0.0.1:1", "--bus-listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "--bus-listen") {
		t.Fatalf("serve with both --bus-url and --bus-listen: %v", err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--bus-listen", "0.0.0.0:0"}, "token"},                               // beyond loopback, open to anyone
		{[]string{"--bus-listen-token", "0123456789abcdef"}, "without --bus-listen"},   // nothing to protect
		{[]string{"--bus-listen", "127.0.0.1:0", "--bus-listen-token", "short"}, "16"}, // guessable
	} {
		_, _, err := runCommand(t, nil, append([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve %v: %v, want an error about %q", c.args, err, c.want)
		}
	}
}

func TestPrintDeadLetters(t *testing.T) {
	var buf bytes.Buffer
	if err := printDeadLetters(&buf, "worker", nil, false); err != nil || buf.String() != "no dead letters in group worker\n" {
		t.Fatalf("empty: %q %v", buf.String(), err)
	}
	at := time.Date(2026, 3, 1, 7, 0, 0, 0, time.UTC)
	dls := []bus.DeadLetter{
		{Event: bus.Event{ID: "ev-1", Type: "activity.uploaded"}, Group: "worker", Attempts: 5, Error: "bad\npayload", FailedAt: at},
		{Group: "worker", Attempts: 1, Error: strings.Repeat("x", 500)},
	}
	buf.Reset()
	if err := printDeadLetters(&buf, "worker", dls, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "ev-1") || !strings.Contains(lines[1], "2026-03-01T07:00:00Z") ||
		!strings.Contains(lines[1], "bad payload") || !strings.Contains(lines[2], "(undecodable)") || len(lines[2]) > 300 ||
		lines[3] != "2 dead letter(s) in group worker" {
		t.Fatalf("table:\n%s", buf.String())
	}
	buf.Reset()
	if err := printDeadLetters(&buf, "worker", dls[:1], true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"id":"ev-1"`) || !strings.Contains(buf.String(), `"error":"bad\npayload"`) {
		t.Fatalf("json: %s", buf.String())
	}
}

// TestBusCollector reads the backlog of a real (embedded) bus through the
// collector, then checks that a bus that stopped answering is reported down
// rather than failing the scrape.
func TestBusCollector(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := nats.StartEmbedded(ctx, t.TempDir(), nats.EmbeddedOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(context.Background()) }()
	b, err := srv.Connect(ctx, nats.Options{Prefix: "metrics", Partitions: 2, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg := bus.ConsumerConfig{Group: "worker", Types: []string{"activity.uploaded"}}
	if err := b.Declare(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		ev := bus.Event{ID: "ev-" + string(rune('a'+i)), Type: "activity.uploaded", Source: "/test", Key: "k", Data: []byte(`{}`)}
		if err := b.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newBusCollector(b, log))
	got := gather(t, reg)
	for name, v := range map[string]float64{
		"stride_bus_up": 1, `stride_bus_consumer_pending_events{group="worker"}`: 3,
		`stride_bus_consumer_in_flight_events{group="worker"}`: 0, `stride_bus_dead_letters{group="worker"}`: 0,
	} {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v; gathered %v", name, g, ok, v, got)
		}
	}
	_ = b.Close()
	got = gather(t, reg)
	if len(got) != 1 || got["stride_bus_up"] != 0 {
		t.Errorf("after the bus closed: %v, want only stride_bus_up 0", got)
	}
}

// gather returns every gauge of reg as "name{label=\"value\"}" → value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += fmt.Sprintf("{%s=%q}", l.GetName(), l.GetValue())
			}
			out[name] = m.GetGauge().GetValue()
		}
	}
	return out
}

// A mistyped --bus-prefix fails and leaves nothing behind on the broker,
// instead of creating an empty deployment's streams or exchanges and
// reporting that it has no dead letters.
func TestDeadLettersWrongPrefixCreatesNothing(t *testing.T) {
	for _, tc := range []struct{ name, url string }{
		{"NATS", testenv.NATSURL()},
		{"RabbitMQ", testenv.AMQPURL()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.Reachable(t, tc.name, tc.url)
			prefix := fmt.Sprintf("nosuch-%d", time.Now().UnixNano())
			for _, sub := range []string{"list", "replay", "list"} {
				_, _, err := runCommand(t, nil, "deadletters", sub, "--bus-url", tc.url, "--bus-prefix", prefix)
				if err == nil || !strings.Contains(err.Error(), prefix) {
					t.Fatalf("deadletters %s with an unknown prefix: %v", sub, err)
				}
			}
		})
	}
}
