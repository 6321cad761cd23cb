package bustest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stridehq/stride/bus"
)

// BenchmarkPublish measures Publish of batches of small events, as the
// outbox relay sends them, on a bus with one declared group (so the broker
// stores every event). It reports events/s.
func BenchmarkPublish(b *testing.B, bb bus.Bus, batch int) {
	ctx := context.Background()
	if err := bb.Declare(ctx, bus.ConsumerConfig{Group: "bench", Types: []string{"activity.uploaded"}}); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	evs := make([]bus.Event, batch)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for i := range evs {
			n++
			evs[i] = bus.Event{
				ID: fmt.Sprintf("bench-%d", n), Type: "activity.uploaded", Source: "/stride/bench",
				Key: fmt.Sprintf("athlete-%d", n%1000), Time: now,
				Data: json.RawMessage(`{"upload_id":"u-123456","user_id":"athlete-42","format":"fit","bytes":18234}`),
			}
		}
		if err := bb.Publish(ctx, evs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
