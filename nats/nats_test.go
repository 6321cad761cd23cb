package nats

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/bus/bustest"
)

// testLogger is silent unless STRIDE_TEST_LOG is set: adapters log from
// background goroutines that may outlive a test, where t.Log would panic.
func testLogger() *slog.Logger {
	if os.Getenv("STRIDE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func testOptions(prefix string) Options {
	// A short AckWait keeps the redelivery-after-death test quick; eight
	// partitions keep the consumer count down on the shared server.
	return Options{Prefix: prefix, Partitions: 8, AckWait: 2 * time.Second, Logger: testLogger()}
}

func startEmbedded(t testing.TB, dir string, opts EmbeddedOptions) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if opts.Logger == nil {
		opts.Logger = testLogger()
	}
	srv, err := StartEmbedded(ctx, dir, opts)
	if err != nil {
		t.Fatalf("start embedded: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

func TestEmbeddedConformance(t *testing.T) {
	srv := startEmbedded(t, t.TempDir(), EmbeddedOptions{})
	if srv.ClientURL() != "" {
		t.Errorf("embedded server listens at %s by default", srv.ClientURL())
	}
	bustest.Run(t, func(t *testing.T, prefix string) bus.Bus {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b, err := srv.Connect(ctx, testOptions(prefix))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	})
}

// externalURL returns the NATS server for the external tests: it skips when
// none answers, and fails instead under CI, where the server must be there.
func externalURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("STRIDE_TEST_NATS_URL")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("STRIDE_TEST_NATS_URL %q: %v", u, err)
	}
	conn, err := net.DialTimeout("tcp", pu.Host, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("NATS at %s unreachable (%v): CI needs it (nats-server -js on 127.0.0.1:4222, or set STRIDE_TEST_NATS_URL)", u, err)
		}
		t.Skipf("NATS at %s unreachable: %v", u, err)
	}
	_ = conn.Close()
	return u
}

// deleteStreams removes what a prefix created on a shared server.
func deleteStreams(t testing.TB, url, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Errorf("cleanup %s: %v", prefix, err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Errorf("cleanup %s: %v", prefix, err)
		return
	}
	for _, s := range []string{prefix + "_events", prefix + "_dlq"} {
		if err := js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("cleanup: delete stream %s: %v", s, err)
		}
	}
}

func TestExternalConformance(t *testing.T) {
	u := externalURL(t)
	bustest.Run(t, func(t *testing.T, prefix string) bus.Bus {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b, err := Connect(ctx, u, testOptions(prefix))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(func() {
			_ = b.Close()
			deleteStreams(t, u, prefix)
		})
		return b
	})
}

func BenchmarkPublishEmbedded(b *testing.B) {
	srv := startEmbedded(b, b.TempDir(), EmbeddedOptions{})
	bb, err := srv.Connect(context.Background(), testOptions("bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer bb.Close()
	bustest.BenchmarkPublish(b, bb, 100)
}

func BenchmarkPublishEmbeddedSyncAlways(b *testing.B) {
	srv := startEmbedded(b, b.TempDir(), EmbeddedOptions{SyncAlways: true})
	bb, err := srv.Connect(context.Background(), testOptions("bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer bb.Close()
	bustest.BenchmarkPublish(b, bb, 100)
}

func BenchmarkPublishExternal(b *testing.B) {
	u := externalURL(b)
	prefix := bustest.NewPrefix()
	bb, err := Connect(context.Background(), u, testOptions(prefix))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bb.Close(); deleteStreams(b, u, prefix) })
	bustest.BenchmarkPublish(b, bb, 100)
}
