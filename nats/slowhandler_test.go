package nats

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stridehq/stride/bus"
)

// TestSlowHandlerIsAcked: a handler that runs longer than settleTimeout
// must still have its ack accepted. The settle deadline used to start
// before the handler ran, so such an event was never acked: it blocked its
// partition for AckWait and was handled a second time.
func TestSlowHandlerIsAcked(t *testing.T) {
	if testing.Short() {
		t.Skip("a handler runs for longer than settleTimeout")
	}
	t.Parallel()
	srv := startEmbedded(t, t.TempDir(), EmbeddedOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := srv.Connect(ctx, testOptions("slow"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cfg := bus.ConsumerConfig{Group: "worker", Types: []string{"activity.uploaded"}}
	if err := b.Declare(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	var slowCalls, fastCalls atomic.Int32
	fastDone := make(chan struct{})
	cctx, ccancel := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	go func() {
		consumed <- b.Consume(cctx, cfg, func(ctx context.Context, d bus.Delivery) error {
			if d.Event.ID == "slow" {
				slowCalls.Add(1)
				time.Sleep(settleTimeout + time.Second)
				return nil
			}
			if fastCalls.Add(1) == 1 {
				close(fastDone)
			}
			return nil
		})
	}()
	// Same key: the second event waits for the first one's ack.
	for _, id := range []string{"slow", "fast"} {
		if err := b.Publish(ctx, bus.Event{ID: id, Type: "activity.uploaded", Source: "/test", Key: "k", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-fastDone:
	case <-ctx.Done():
		t.Fatal("the event behind the slow one was never handled")
	}
	// Past AckWait (2s in testOptions): an unacked slow event would be back.
	time.Sleep(3 * time.Second)
	ccancel()
	if err := <-consumed; err != nil {
		t.Fatal(err)
	}
	if n := slowCalls.Load(); n != 1 {
		t.Fatalf("slow event handled %d times, want once: its ack was lost", n)
	}
}
