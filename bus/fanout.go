package bus

import "context"

// Fanout carries short-lived messages to every node: live points, pushes
// for WebSocket clients. Unlike the Bus it keeps nothing and promises at
// most once: a node that is down or slow misses messages, and the realtime
// layer recovers what matters from the store (a watcher's catch-up reads
// the batches it missed). What it does promise, checked by bustest.RunFanout:
//
//   - every listener on every node, including the publisher's own, receives
//     each message published after its Listen call returned;
//   - messages from one publisher on one topic arrive in publish order;
//   - payloads arrive unchanged, up to MaxFanoutPayload bytes.
type Fanout interface {
	// Broadcast sends payload under topic to every listener. It returns
	// once the message is handed to the connection, without waiting for
	// the broker: fan-out is at most once, and a round trip per message
	// would make every sender wait in line behind the others.
	Broadcast(ctx context.Context, topic string, payload []byte) error
	// Listen registers h for every message; it returns once the
	// registration is in place, and h is called (from one goroutine per
	// Listen, in arrival order) until ctx is done. h must not block long:
	// messages queue behind it and are dropped past a bound.
	Listen(ctx context.Context, h func(topic string, payload []byte)) error
}

// MaxFanoutPayload bounds one fan-out message.
const MaxFanoutPayload = 512 << 10
