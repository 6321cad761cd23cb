package nats

import (
	"context"
	"fmt"
	"net/url"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/stridehq/stride/bus"
)

// The Bus is also the fan-out, on the same connection: core NATS on the
// subject P.fanout, outside both streams, so nothing is stored. The topic
// travels in a header, path-escaped, because topics are arbitrary strings
// and a header value cannot hold a line break or keep surrounding spaces.
var _ bus.Fanout = (*Bus)(nil)

const (
	hdrTopic = "Stride-Topic"
	// fanoutPendingMsgs and fanoutPendingBytes bound what queues behind a
	// slow fan-out handler; past them the client drops messages for that
	// Listen only and reports a slow consumer to the error handler.
	fanoutPendingMsgs  = 8192
	fanoutPendingBytes = 64 << 20
	// fanoutFlushTimeout bounds the wait for the server's PONG when the
	// caller's context has no deadline.
	fanoutFlushTimeout = 5 * time.Second
)

func (b *Bus) fanoutSubject() string { return b.opts.Prefix + ".fanout" }

// Broadcast implements bus.Fanout. While the connection is down it fails
// at once rather than buffer the message for a late delivery.
func (b *Bus) Broadcast(ctx context.Context, topic string, payload []byte) error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("broadcast %q: %w", topic, err)
	}
	if len(payload) > bus.MaxFanoutPayload {
		return fmt.Errorf("broadcast %q: payload of %d bytes, over %d", topic, len(payload), bus.MaxFanoutPayload)
	}
	if b.nc.IsReconnecting() {
		return fmt.Errorf("broadcast %q: %w", topic, natsgo.ErrConnectionReconnecting)
	}
	m := natsgo.NewMsg(b.fanoutSubject())
	m.Header.Set(hdrTopic, url.PathEscape(topic))
	m.Data = payload
	// No flush: the client library writes the message out within
	// milliseconds, and waiting for the server's answer to a PING per
	// message queued every live batch behind the others.
	if err := b.nc.PublishMsg(m); err != nil {
		return fmt.Errorf("broadcast %q: %w", topic, b.closedErr(err))
	}
	return nil
}

func (b *Bus) flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, fanoutFlushTimeout)
		defer cancel()
	}
	return b.nc.FlushWithContext(ctx)
}

// Listen implements bus.Fanout with a core subscription: the client runs
// h on the subscription's own goroutine, in arrival order, and drops past
// the pending limits. The client renews the subscription after a
// reconnection; what was sent meanwhile is lost.
func (b *Bus) Listen(ctx context.Context, h func(topic string, payload []byte)) error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	sub, err := b.nc.Subscribe(b.fanoutSubject(), func(m *natsgo.Msg) {
		// Messages already queued when ctx ends must not reach h.
		if ctx.Err() != nil {
			return
		}
		topic, err := url.PathUnescape(m.Header.Get(hdrTopic))
		if err != nil {
			b.log.Warn("fan-out message with a malformed topic", "topic", m.Header.Get(hdrTopic))
			return
		}
		b.callListener(h, topic, m.Data)
	})
	if err != nil {
		return fmt.Errorf("listen: %w", b.closedErr(err))
	}
	if err := sub.SetPendingLimits(fanoutPendingMsgs, fanoutPendingBytes); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("listen: %w", err)
	}
	// The SUB goes out with the client's next write; only after the PONG
	// does the server route to it, which is what Listen promises.
	if err := b.flush(ctx); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("listen: %w", b.closedErr(err))
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-b.done:
		}
		_ = sub.Unsubscribe()
	}()
	return nil
}

// callListener keeps a panicking handler from taking the process down
// with the subscription's goroutine: the message is lost, as a dropped one
// would be.
func (b *Bus) callListener(h func(string, []byte), topic string, payload []byte) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("fan-out handler panicked", "topic", topic, "panic", r)
		}
	}()
	h(topic, payload)
}
