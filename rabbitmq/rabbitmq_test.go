package rabbitmq

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/bus/bustest"
)

func testLogger() *slog.Logger {
	if os.Getenv("STRIDE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// amqpURL returns the broker for the tests: it skips when none answers, and
// fails instead under CI, where the broker must be there.
func amqpURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("STRIDE_TEST_AMQP_URL")
	if u == "" {
		u = "amqp://guest:guest@127.0.0.1:5672/"
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("STRIDE_TEST_AMQP_URL: %v", err)
	}
	conn, err := net.DialTimeout("tcp", pu.Host, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("RabbitMQ at %s unreachable (%v): CI needs it (rabbitmq-server -detached, or set STRIDE_TEST_AMQP_URL)", pu.Host, err)
		}
		t.Skipf("RabbitMQ at %s unreachable: %v", pu.Host, err)
	}
	_ = conn.Close()
	return u
}

func newTestBus(t testing.TB, u, prefix string) *Bus {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := Connect(ctx, u, Options{Prefix: prefix, Partitions: 8, Logger: testLogger()})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() {
		_ = b.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := b.Teardown(ctx); err != nil {
			t.Errorf("teardown %s: %v", prefix, err)
		}
	})
	return b
}

func TestConformance(t *testing.T) {
	u := amqpURL(t)
	bustest.Run(t, func(t *testing.T, prefix string) bus.Bus { return newTestBus(t, u, prefix) })
}

func BenchmarkPublish(b *testing.B) {
	bb := newTestBus(b, amqpURL(b), bustest.NewPrefix())
	bustest.BenchmarkPublish(b, bb, 100)
}

// AMQP cannot list queues: a group named in Options.Groups that nobody has
// declared yet is left out of Stats rather than failing it.
func TestStatsOfUndeclaredGroup(t *testing.T) {
	u := amqpURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prefix := bustest.NewPrefix()
	b, err := Connect(ctx, u, Options{Prefix: prefix, Partitions: 2, Groups: []string{"later"}, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(); _ = b.Teardown(context.Background()) })
	st, err := b.Stats(ctx)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	if _, ok := st.Groups["later"]; ok {
		t.Errorf("stats report an undeclared group: %+v", st)
	}
	if err := b.Declare(ctx, bus.ConsumerConfig{Group: "later", Types: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, bus.Event{ID: "1", Type: "a", Source: "s", Key: "k"}); err != nil {
		t.Fatal(err)
	}
	st, err = b.Stats(ctx)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	if gs := st.Groups["later"]; gs.Pending != 1 || gs.InFlight != -1 {
		t.Errorf("stats of later: %+v, want 1 pending", gs)
	}
}
