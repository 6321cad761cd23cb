package bus

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// Bus is a durable event log with consumer groups.
//
// Guarantees every adapter gives (checked by bustest):
//   - Publish returns nil only once the broker has durably accepted every
//     event (JetStream PubAck, RabbitMQ publisher confirm).
//   - Each declared group receives every event of its types published after
//     the group was first declared, at least once; processes consuming the
//     same group compete for its events.
//   - Within a group, events with the same Key are handled one at a time in
//     publish order, across all competing processes.
//   - A handler error means redelivery after Backoff; after MaxAttempts the
//     event is moved to the group's dead letters, which unblocks its key.
type Bus interface {
	// Publish puts events on the bus and returns once all are durably
	// accepted. On error some of the events may have been accepted: the
	// caller publishes them again (consumers dedupe by event id).
	Publish(ctx context.Context, events ...Event) error

	// Declare creates the durable state of a consumer group, so that events
	// published from now on are kept for it even while no process consumes
	// it. Consume declares too; the API process declares the groups it knows
	// at start so that nothing published before the first worker runs is lost.
	Declare(ctx context.Context, cfg ConsumerConfig) error

	// Consume handles the group's events until ctx is done, then waits for
	// the handlers under way and returns nil. It returns an error if the
	// configuration is invalid or the bus is closed.
	Consume(ctx context.Context, cfg ConsumerConfig, h Handler) error

	// DeadLetters lists up to limit dead letters of a group, oldest first.
	DeadLetters(ctx context.Context, group string, limit int) ([]DeadLetter, error)

	// Replay sends the dead letters of a group whose event ids are given
	// (all of them when ids is empty) back to that group only, and removes
	// them from the dead letters. It returns how many were replayed.
	Replay(ctx context.Context, group string, ids ...string) (int, error)

	// Stats reports the backlog of the groups the bus knows.
	Stats(ctx context.Context) (Stats, error)

	// Close releases the connection. Handlers still running lose their
	// delivery: it is redelivered to another consumer (at-least-once). For a
	// graceful stop, cancel the Consume contexts first and wait for them.
	Close() error
}

// Delivery is one delivery of an event to a handler.
type Delivery struct {
	Event Event
	// Attempt counts deliveries of this event to this group, from 1. On
	// RabbitMQ, retries made by a process that then crashed are not
	// counted, so it can fall short of the true count (see docs/bus.md).
	Attempt int
	// Partition is the partition the event's key maps to.
	Partition int
}

// Handler processes one delivery. Returning nil acknowledges it; an error
// asks for a redelivery after the group's backoff. Handlers must be
// idempotent: the same event can be delivered more than once.
type Handler func(ctx context.Context, d Delivery) error

// ConsumerConfig describes a consumer group.
type ConsumerConfig struct {
	// Group names the consumer group; letters, digits and '-'.
	Group string
	// Types are the event types the group receives.
	Types []string
	// MaxAttempts bounds deliveries of a failing event before it is dead
	// lettered. Default 5.
	MaxAttempts int
	// Backoff gives the delay before redelivery after failed attempt n
	// (n from 1). Default ExponentialBackoff(time.Second, time.Minute).
	Backoff func(attempt int) time.Duration
	// Concurrency bounds the handlers this process runs at once for the
	// group. Default GOMAXPROCS. Within a key handling is always sequential.
	Concurrency int
}

// DefaultMaxAttempts is used when ConsumerConfig.MaxAttempts is zero.
const DefaultMaxAttempts = 5

// WithDefaults validates the configuration and fills its defaults.
func (c ConsumerConfig) WithDefaults() (ConsumerConfig, error) {
	if err := ValidateName("group", c.Group); err != nil {
		return c, err
	}
	if len(c.Types) == 0 {
		return c, fmt.Errorf("group %s: no event types", c.Group)
	}
	seen := make(map[string]bool, len(c.Types))
	for _, t := range c.Types {
		if err := ValidateType(t); err != nil {
			return c, fmt.Errorf("group %s: %w", c.Group, err)
		}
		if seen[t] {
			return c, fmt.Errorf("group %s: type %s listed twice", c.Group, t)
		}
		seen[t] = true
	}
	if c.MaxAttempts < 0 {
		return c, fmt.Errorf("group %s: negative MaxAttempts", c.Group)
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Backoff == nil {
		c.Backoff = ExponentialBackoff(time.Second, time.Minute)
	}
	if c.Concurrency <= 0 {
		c.Concurrency = runtime.GOMAXPROCS(0)
	}
	return c, nil
}

// Wants reports whether the group receives events of type t.
func (c ConsumerConfig) Wants(t string) bool {
	for _, w := range c.Types {
		if w == t {
			return true
		}
	}
	return false
}

// ExponentialBackoff doubles the delay at each attempt, from base up to max.
func ExponentialBackoff(base, max time.Duration) func(int) time.Duration {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < max; i++ {
			d *= 2
		}
		return min(d, max)
	}
}

// DeadLetter is an event a group gave up on.
type DeadLetter struct {
	Event    Event
	Group    string
	Attempts int
	// Error is the last handler error (or the broker's reason).
	Error    string
	FailedAt time.Time
}

// Stats is a snapshot of the backlog, for metrics (consumer lag, queue
// depth, dead letters).
type Stats struct {
	Groups map[string]GroupStats
}

// GroupStats is the backlog of one consumer group.
type GroupStats struct {
	// Pending counts events not yet delivered to the group.
	Pending int64
	// InFlight counts events delivered and not yet acknowledged; -1 when
	// the broker does not report it (RabbitMQ over AMQP).
	InFlight int64
	// DeadLetters counts the group's dead letters.
	DeadLetters int64
}

// SafeHandle runs h and turns a panic into an error, so that one bad event
// cannot take a worker process down: it is retried and dead lettered like
// any other failure.
func SafeHandle(ctx context.Context, h Handler, d Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return h(ctx, d)
}

// ErrNotDelivered is the error recorded when an event was delivered
// MaxAttempts times without any outcome, which happens when consumers die
// while handling it.
var ErrNotDelivered = errors.New("delivered too many times without an acknowledgement")
