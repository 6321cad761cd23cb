package nats

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/bus/bustest"
	"github.com/stridehq/stride/internal/testenv"
)

// fanoutPrefix is unique per call and readable on a shared server; prefixes
// take no '_'.
func fanoutPrefix() string {
	return strings.ReplaceAll(testenv.Name("fanout"), "_", "-")
}

func TestEmbeddedFanout(t *testing.T) {
	srv := startEmbedded(t, t.TempDir(), EmbeddedOptions{})
	bustest.RunFanout(t, func(t *testing.T) (bus.Fanout, bus.Fanout) {
		prefix := fanoutPrefix()
		node := func() bus.Fanout {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			b, err := srv.Connect(ctx, testOptions(prefix))
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			t.Cleanup(func() { _ = b.Close() })
			return b
		}
		return node(), node()
	})
}

func TestExternalFanout(t *testing.T) {
	u := testenv.NATSURL()
	testenv.Reachable(t, "NATS", u)
	bustest.RunFanout(t, func(t *testing.T) (bus.Fanout, bus.Fanout) {
		prefix := fanoutPrefix()
		// Connect declares the prefix's streams, fan-out or not.
		t.Cleanup(func() { deleteStreams(t, u, prefix) })
		node := func() bus.Fanout {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			b, err := Connect(ctx, u, testOptions(prefix))
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			t.Cleanup(func() { _ = b.Close() })
			return b
		}
		return node(), node()
	})
}
