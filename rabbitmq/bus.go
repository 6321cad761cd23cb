// Package rabbitmq is the RabbitMQ (AMQP 0.9.1) adapter of the bus port.
//
// Layout, for a prefix P, N partitions and a group G:
//
//	exchange P.events  direct, durable; routing key <type>.<partition>
//	queue    P.G.<p>   quorum, single active consumer, dead-letter exchange P.dlx,
//	                   bound with <type>.<p> for each type of G
//	exchange P.dlx     direct, durable; routing key G
//	queue    P.G.dlq   classic, durable: G's dead letters
//	queue    P.G.members  classic, never holds a message: one consumer per
//	                   consuming process, to count them for balancing
//	exchange P.fanout  fanout, durable: bus.Fanout; each Listen an exclusive,
//	                   auto-delete, server-named queue bound to it
//
// Messages are persistent and published with publisher confirms; consumers
// ack manually with a prefetch of one per partition queue. See docs/bus.md.
package rabbitmq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/stridehq/stride/bus"
)

// Options configure a Bus. Every process sharing a prefix must use the same
// Partitions.
type Options struct {
	// Prefix namespaces exchanges and queues; letters, digits, '-'.
	// Default "stride".
	Prefix string
	// Partitions is the number of ordering partitions (queues) per group.
	// Default 16.
	Partitions int
	// Groups are consumer groups Stats reports besides the ones this Bus
	// declared itself: AMQP cannot list queues, so an API process that
	// only publishes names the groups it wants metrics for.
	Groups []string
	// Existing attaches to the exchanges of a running deployment and
	// declares nothing: Connect fails if the prefix has none on the broker,
	// so that an operator's mistyped prefix does not leave new ones behind.
	Existing bool
	// Logger receives the adapter's logs. Default slog.Default().
	Logger *slog.Logger
}

const (
	defaultPrefix     = "stride"
	defaultPartitions = 16
	// memberRefresh is how often a consumer re-reads how many processes
	// compete for a group, to decide whether to hand partitions over.
	memberRefresh = 100 * time.Millisecond
	// activeWindow: a partition counts as this process's while it
	// delivered here that recently.
	activeWindow  = 10 * time.Second
	settleTimeout = 10 * time.Second
)

func (o Options) withDefaults() (Options, error) {
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	if err := bus.ValidateName("prefix", o.Prefix); err != nil {
		return o, err
	}
	if o.Partitions == 0 {
		o.Partitions = defaultPartitions
	}
	if o.Partitions < 1 || o.Partitions > 1024 {
		return o, fmt.Errorf("partitions %d: want 1..1024", o.Partitions)
	}
	for _, g := range o.Groups {
		if err := bus.ValidateName("group", g); err != nil {
			return o, err
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Bus is the RabbitMQ implementation of bus.Bus.
type Bus struct {
	url  string
	opts Options
	log  *slog.Logger
	id   string

	mu       sync.Mutex // guards conn and declared
	conn     *amqp.Connection
	declared map[string]bool

	pubMu sync.Mutex // guards pubCh; one publisher channel, confirms in order
	pubCh *amqp.Channel

	fanMu sync.Mutex // guards fanCh; one channel keeps broadcasts in order
	fanCh *amqp.Channel

	closed atomic.Bool
	done   chan struct{}
}

var _ bus.Bus = (*Bus)(nil)

// Connect dials RabbitMQ (amqp://user:pass@host:5672/vhost) and declares
// the exchanges of the prefix (with Options.Existing, checks they exist).
// The Bus redials when the connection drops.
func Connect(ctx context.Context, url string, opts Options) (*Bus, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("rabbitmq bus: %w", err)
	}
	rb := make([]byte, 4)
	_, _ = rand.Read(rb)
	b := &Bus{
		url:      url,
		opts:     o,
		log:      o.Logger.With("bus", "rabbitmq", "prefix", o.Prefix),
		id:       hex.EncodeToString(rb),
		declared: map[string]bool{},
		done:     make(chan struct{}),
	}
	err = b.withChannel(ctx, func(ch *amqp.Channel) error {
		for _, ex := range []string{b.eventsExchange(), b.dlxExchange()} {
			if o.Existing {
				// A passive declaration only checks; the broker closes the
				// channel when the exchange is missing.
				if err := ch.ExchangeDeclarePassive(ex, amqp.ExchangeDirect, true, false, false, false, nil); err != nil {
					return fmt.Errorf("no exchange %s on this broker: is the prefix %q the one the server uses? (%w)", ex, o.Prefix, err)
				}
				continue
			}
			if err := ch.ExchangeDeclare(ex, amqp.ExchangeDirect, true, false, false, false, nil); err != nil {
				return fmt.Errorf("declare exchange %s: %w", ex, err)
			}
		}
		if o.Existing {
			return nil
		}
		return b.declareFanout(ch)
	})
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("rabbitmq bus: %w", err)
	}
	return b, nil
}

func (b *Bus) eventsExchange() string { return b.opts.Prefix + ".events" }
func (b *Bus) dlxExchange() string    { return b.opts.Prefix + ".dlx" }
func (b *Bus) queue(group string, p int) string {
	return fmt.Sprintf("%s.%s.%d", b.opts.Prefix, group, p)
}
func (b *Bus) dlq(group string) string { return b.opts.Prefix + "." + group + ".dlq" }

// members names the group's presence queue: it never holds a message, every
// consuming process keeps one consumer on it, so its consumer count is the
// number of processes. (Consumer counts of single-active-consumer queues
// only show the active one.)
func (b *Bus) members(group string) string { return b.opts.Prefix + "." + group + ".members" }
func routingKey(typ string, p int) string  { return typ + "." + strconv.Itoa(p) }

// connection returns the live connection, dialling a new one if the last
// one dropped.
func (b *Bus) connection() (*amqp.Connection, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, bus.ErrClosed
	}
	if b.conn != nil && !b.conn.IsClosed() {
		return b.conn, nil
	}
	cfg := amqp.Config{
		Heartbeat:  10 * time.Second,
		Properties: amqp.Table{"connection_name": "stride-" + b.opts.Prefix + "-" + b.id},
	}
	conn, err := amqp.DialConfig(b.url, cfg)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	b.conn = conn
	return conn, nil
}

func (b *Bus) channel() (*amqp.Channel, error) {
	conn, err := b.connection()
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	return ch, nil
}

// withChannel runs fn on a short-lived channel: a failed AMQP operation
// closes its channel, so one-off operations do not share one.
func (b *Bus) withChannel(ctx context.Context, fn func(ch *amqp.Channel) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ch, err := b.channel()
	if err != nil {
		return err
	}
	defer func() { _ = ch.Close() }()
	return fn(ch)
}

func (b *Bus) closedErr(err error) error {
	if b.closed.Load() && !errors.Is(err, bus.ErrClosed) {
		return errors.Join(bus.ErrClosed, err)
	}
	return err
}

// Publish implements bus.Bus: persistent messages on one confirm-mode
// channel, all sent before waiting for the confirms.
func (b *Bus) Publish(ctx context.Context, events ...bus.Event) error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	type pending struct {
		msg amqp.Publishing
		key string
	}
	msgs := make([]pending, len(events))
	for i, ev := range events {
		ev = ev.Normalize()
		body, err := bus.Encode(ev)
		if err != nil {
			return fmt.Errorf("publish %s: %w", ev.ID, err)
		}
		msgs[i] = pending{key: routingKey(ev.Type, bus.Partition(ev, b.opts.Partitions)), msg: b.publishing(ev, body)}
	}
	if len(msgs) == 0 {
		return nil
	}
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	ch, err := b.publisher()
	if err != nil {
		return fmt.Errorf("publish %s: %w", msgs[0].msg.MessageId, b.closedErr(err))
	}
	confirms := make([]*amqp.DeferredConfirmation, len(msgs))
	for i, m := range msgs {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, b.eventsExchange(), m.key, false, false, m.msg)
		if err != nil {
			return fmt.Errorf("publish %s: %w", m.msg.MessageId, b.closedErr(err))
		}
		confirms[i] = dc
	}
	for i, dc := range confirms {
		ok, err := dc.WaitContext(ctx)
		if err != nil {
			return fmt.Errorf("publish %s: %w", msgs[i].msg.MessageId, err)
		}
		if !ok {
			return fmt.Errorf("publish %s: %w", msgs[i].msg.MessageId, b.closedErr(errors.New("not confirmed by the broker")))
		}
	}
	return nil
}

func (b *Bus) publishing(ev bus.Event, body []byte) amqp.Publishing {
	h := amqp.Table{}
	if ev.TraceParent != "" {
		// Also as a header, for tools that read headers only.
		h["traceparent"] = ev.TraceParent
	}
	return amqp.Publishing{
		Headers:      h,
		ContentType:  "application/cloudevents+json",
		DeliveryMode: amqp.Persistent,
		MessageId:    ev.ID,
		Timestamp:    ev.Time,
		Type:         ev.Type,
		Body:         body,
	}
}

// publisher returns the confirm-mode channel; pubMu must be held.
func (b *Bus) publisher() (*amqp.Channel, error) {
	if b.pubCh != nil && !b.pubCh.IsClosed() {
		return b.pubCh, nil
	}
	ch, err := b.channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return nil, fmt.Errorf("confirm mode: %w", err)
	}
	b.pubCh = ch
	return ch, nil
}

// publishConfirmed sends one message and waits for its confirm.
func (b *Bus) publishConfirmed(ctx context.Context, exchange, key string, msg amqp.Publishing) error {
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	ch, err := b.publisher()
	if err != nil {
		return err
	}
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, false, false, msg)
	if err != nil {
		return err
	}
	ok, err := dc.WaitContext(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("not confirmed by the broker")
	}
	return nil
}

// Declare implements bus.Bus.
func (b *Bus) Declare(ctx context.Context, cfg bus.ConsumerConfig) error {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return fmt.Errorf("declare: %w", err)
	}
	return b.declare(ctx, cfg)
}

func (b *Bus) declare(ctx context.Context, cfg bus.ConsumerConfig) error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	err := b.withChannel(ctx, func(ch *amqp.Channel) error {
		if _, err := ch.QueueDeclare(b.dlq(cfg.Group), true, false, false, false,
			amqp.Table{"x-queue-type": "classic"}); err != nil {
			return fmt.Errorf("declare %s: %w", b.dlq(cfg.Group), err)
		}
		if err := ch.QueueBind(b.dlq(cfg.Group), cfg.Group, b.dlxExchange(), false, nil); err != nil {
			return fmt.Errorf("bind %s: %w", b.dlq(cfg.Group), err)
		}
		if _, err := ch.QueueDeclare(b.members(cfg.Group), true, false, false, false,
			amqp.Table{"x-queue-type": "classic"}); err != nil {
			return fmt.Errorf("declare %s: %w", b.members(cfg.Group), err)
		}
		for p := range b.opts.Partitions {
			q := b.queue(cfg.Group, p)
			if _, err := ch.QueueDeclare(q, true, false, false, false, amqp.Table{
				"x-queue-type": "quorum",
				// One consumer at a time per partition, the others on
				// standby: per-key order across processes.
				"x-single-active-consumer": true,
				// What the broker itself gives up on (a rejected or
				// over-delivered message) lands in the group's dead letters.
				"x-dead-letter-exchange":    b.dlxExchange(),
				"x-dead-letter-routing-key": cfg.Group,
			}); err != nil {
				return fmt.Errorf("declare %s: %w", q, err)
			}
			for _, t := range cfg.Types {
				if err := ch.QueueBind(q, routingKey(t, p), b.eventsExchange(), false, nil); err != nil {
					return fmt.Errorf("bind %s to %s: %w", q, t, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("declare group %s: %w", cfg.Group, b.closedErr(err))
	}
	b.mu.Lock()
	b.declared[cfg.Group] = true
	b.mu.Unlock()
	return nil
}

// Consume implements bus.Bus. One goroutine per partition queue holds a
// channel with prefetch 1 and a single-active consumer on it.
func (b *Bus) Consume(ctx context.Context, cfg bus.ConsumerConfig, h bus.Handler) error {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	if err := b.declare(ctx, cfg); err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-b.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	g := &groupRun{b: b, cfg: cfg, h: h, sem: make(chan struct{}, cfg.Concurrency), active: map[int]time.Time{}}
	var wg sync.WaitGroup
	wg.Go(func() { g.runPresence(ctx) })
	for p := range b.opts.Partitions {
		wg.Go(func() { g.runPartition(ctx, p) })
	}
	wg.Wait()
	if b.closed.Load() {
		return bus.ErrClosed
	}
	return nil
}

// groupRun is one process's consumption of one group.
type groupRun struct {
	b   *Bus
	cfg bus.ConsumerConfig
	h   bus.Handler
	sem chan struct{}

	mu        sync.Mutex
	active    map[int]time.Time // partitions that delivered here lately
	members   int               // consumers on a partition queue: processes
	checkedAt time.Time
}

func (g *groupRun) runPartition(ctx context.Context, p int) {
	log := g.b.log.With("group", g.cfg.Group, "partition", p)
	failures := 0
	for ctx.Err() == nil {
		err := g.consumeOnce(ctx, p, log)
		if ctx.Err() != nil || g.b.closed.Load() {
			return
		}
		if err != nil {
			failures++
			log.Warn("consume", "err", err)
			sleep(ctx, bus.ExponentialBackoff(200*time.Millisecond, 10*time.Second)(failures))
			continue
		}
		failures = 0
	}
}

// runPresence keeps this process counted among the group's consumers
// while Consume runs, across reconnections.
func (g *groupRun) runPresence(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		err := func() error {
			ch, err := g.b.channel()
			if err != nil {
				return err
			}
			defer func() { _ = ch.Close() }()
			closed := ch.NotifyClose(make(chan *amqp.Error, 1))
			if _, err := ch.Consume(g.b.members(g.cfg.Group), "", true, false, false, false, nil); err != nil {
				return fmt.Errorf("presence: %w", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case err := <-closed:
				return fmt.Errorf("presence channel closed: %v", err)
			}
		}()
		if ctx.Err() != nil || g.b.closed.Load() {
			return
		}
		if err != nil {
			failures++
			g.b.log.Warn("presence", "group", g.cfg.Group, "err", err)
			sleep(ctx, bus.ExponentialBackoff(200*time.Millisecond, 10*time.Second)(failures))
		}
	}
}

// consumeOnce subscribes to the partition queue and handles deliveries
// until the channel goes away, ctx is done, or this process hands the
// partition to another one (nil error: subscribe again, as standby).
func (g *groupRun) consumeOnce(ctx context.Context, p int, log *slog.Logger) error {
	ch, err := g.b.channel()
	if err != nil {
		return err
	}
	// Closing the channel gives back an unacked delivery to the front of
	// the quorum queue, where the next active consumer takes it first.
	defer func() { _ = ch.Close() }()
	if err := ch.Qos(1, 0, false); err != nil {
		return fmt.Errorf("qos: %w", err)
	}
	q := g.b.queue(g.cfg.Group, p)
	tag := fmt.Sprintf("stride-%s-%s-%d", g.b.id, g.cfg.Group, p)
	deliveries, err := ch.Consume(q, tag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume %s: %w", q, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-deliveries:
			if !ok {
				return errors.New("channel closed")
			}
			if g.handle(ctx, p, d, log) {
				if g.release(ch, p, tag) {
					log.Debug("partition handed over")
					_ = d.Ack(false)
					return nil
				}
				if err := d.Ack(false); err != nil {
					log.Warn("ack", "err", err)
				}
			}
		}
	}
}

// handle runs the handler with retries held in this process (the delivery
// stays unacked, so the partition waits: per-key order survives retries).
// It returns true when the delivery is settled and must be acked; on false
// it was already nacked or must be left to the channel close.
func (g *groupRun) handle(ctx context.Context, p int, d amqp.Delivery, log *slog.Logger) bool {
	g.mu.Lock()
	g.active[p] = time.Now()
	g.mu.Unlock()
	attempt := deliveryCount(d) + 1
	ev, err := bus.Decode(d.Body)
	if err != nil {
		return g.deadLetter(ctx, d, ev, attempt, err, log)
	}
	if attempt > g.cfg.MaxAttempts {
		return g.deadLetter(ctx, d, ev, attempt-1, bus.ErrNotDelivered, log)
	}
	for ; ; attempt++ {
		select {
		case g.sem <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		herr := bus.SafeHandle(ctx, g.h, bus.Delivery{Event: ev, Attempt: attempt, Partition: p})
		<-g.sem
		switch {
		case herr == nil:
			return true
		case ctx.Err() != nil:
			// Stopping: give it to another consumer now.
			_ = d.Nack(false, true)
			return false
		case attempt >= g.cfg.MaxAttempts:
			log.Warn("dead letter", "event", ev.ID, "attempts", attempt, "err", herr)
			return g.deadLetter(ctx, d, ev, attempt, herr, log)
		}
		delay := g.cfg.Backoff(attempt)
		log.Info("handler failed, retrying", "event", ev.ID, "attempt", attempt, "delay", delay, "err", herr)
		sleep(ctx, delay)
		if ctx.Err() != nil {
			_ = d.Nack(false, true)
			return false
		}
	}
}

// deliveryCount is how many times the broker delivered the message before:
// quorum queues count returns in x-delivery-count.
func deliveryCount(d amqp.Delivery) int {
	if n, ok := toInt(d.Headers["x-delivery-count"]); ok {
		return n
	}
	if d.Redelivered {
		return 1
	}
	return 0
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int8:
		return int(n), true
	case int16:
		return int(n), true
	case int32:
		return int(n), true
	case int64:
		return int(n), true
	case uint8:
		return int(n), true
	case uint16:
		return int(n), true
	case uint32:
		return int(n), true
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}

const (
	hdrGroup    = "stride-group"
	hdrAttempts = "stride-attempts"
	hdrError    = "stride-error"
	hdrFailedAt = "stride-failed-at"
)

// deadLetter publishes the delivery to the group's dead letters with a
// confirm; only then may it be acked. If that fails it is nacked back to
// the queue to be tried again.
func (g *groupRun) deadLetter(ctx context.Context, d amqp.Delivery, ev bus.Event, attempts int, cause error, log *slog.Logger) bool {
	settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	msg := amqp.Publishing{
		Headers: amqp.Table{
			hdrGroup:    g.cfg.Group,
			hdrAttempts: int64(attempts),
			hdrError:    truncate(cause.Error(), 4096),
			hdrFailedAt: time.Now().UTC().Format(time.RFC3339Nano),
		},
		ContentType:  d.ContentType,
		DeliveryMode: amqp.Persistent,
		MessageId:    d.MessageId,
		Timestamp:    d.Timestamp,
		Type:         d.Type,
		Body:         d.Body,
	}
	if err := g.b.publishConfirmed(settle, g.b.dlxExchange(), g.cfg.Group, msg); err != nil {
		log.Error("store dead letter", "event", ev.ID, "err", err)
		sleep(ctx, g.cfg.Backoff(max(attempts, 1)))
		_ = d.Nack(false, true)
		return false
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// release decides whether this process should hand partition p to another
// one, and if so cancels its consumer on the channel (the delivery is still
// unacked, so nothing else can arrive meanwhile). Single active consumer
// gives a queue to the first consumer and keeps the others waiting, so
// without this the first process would take every partition; a process
// keeps at most its fair share, ceil(partitions / processes), of the
// partitions that are busy, and the next consumer in line takes the rest.
func (g *groupRun) release(ch *amqp.Channel, p int, tag string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if now.Sub(g.checkedAt) >= memberRefresh {
		// A failed passive declare would close this channel; it only
		// fails if the queue is gone, and then the channel is lost anyway.
		if qi, err := ch.QueueDeclarePassive(g.b.members(g.cfg.Group), true, false, false, false, nil); err == nil {
			g.members = qi.Consumers
		}
		g.checkedAt = now
	}
	if g.members <= 1 {
		return false
	}
	busy := 0
	for ap, t := range g.active {
		if now.Sub(t) > activeWindow {
			delete(g.active, ap)
			continue
		}
		busy++
	}
	fair := (g.b.opts.Partitions + g.members - 1) / g.members
	if busy <= fair {
		return false
	}
	if err := ch.Cancel(tag, false); err != nil {
		return false
	}
	delete(g.active, p)
	return true
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// DeadLetters implements bus.Bus. AMQP has no way to read a queue without
// taking messages, so they are fetched unacked and given back when the
// channel closes; a classic queue puts them back in place. limit <= 0
// means 100.
func (b *Bus) DeadLetters(ctx context.Context, group string, limit int) ([]bus.DeadLetter, error) {
	if b.closed.Load() {
		return nil, bus.ErrClosed
	}
	if err := bus.ValidateName("group", group); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	var out []bus.DeadLetter
	err := b.scanDLQ(ctx, group, func(ch *amqp.Channel, d amqp.Delivery, dl bus.DeadLetter) (bool, error) {
		out = append(out, dl)
		return len(out) < limit, nil
	})
	return out, err
}

// scanDLQ reads the group's dead letters once each (as many as the queue
// held at the start) and requeues every one fn did not ack.
func (b *Bus) scanDLQ(ctx context.Context, group string, fn func(*amqp.Channel, amqp.Delivery, bus.DeadLetter) (bool, error)) error {
	err := b.withChannel(ctx, func(ch *amqp.Channel) error {
		qi, err := ch.QueueDeclarePassive(b.dlq(group), true, false, false, false, nil)
		if err != nil {
			var ae *amqp.Error
			if errors.As(err, &ae) && ae.Code == amqp.NotFound {
				return nil // never declared: no dead letters
			}
			return err
		}
		if err := ch.Confirm(false); err != nil {
			return err
		}
		for range qi.Messages {
			if err := ctx.Err(); err != nil {
				return err
			}
			d, ok, err := ch.Get(b.dlq(group), false)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			more, err := fn(ch, d, toDeadLetter(group, d))
			if err != nil || !more {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read dead letters of %s: %w", group, b.closedErr(err))
	}
	return nil
}

func toDeadLetter(group string, d amqp.Delivery) bus.DeadLetter {
	ev, err := bus.Decode(d.Body)
	if err != nil {
		ev = bus.Event{ID: d.MessageId}
	}
	dl := bus.DeadLetter{Event: ev, Group: group}
	dl.Attempts, _ = toInt(d.Headers[hdrAttempts])
	dl.Error, _ = d.Headers[hdrError].(string)
	if s, ok := d.Headers[hdrFailedAt].(string); ok {
		dl.FailedAt, _ = time.Parse(time.RFC3339Nano, s)
	}
	if dl.Error == "" {
		// Dead lettered by the broker: the reason is in x-death.
		if deaths, ok := d.Headers["x-death"].([]any); ok && len(deaths) > 0 {
			if x, ok := deaths[0].(amqp.Table); ok {
				reason, _ := x["reason"].(string)
				dl.Error = "dead lettered by the broker: " + reason
				if t, ok := x["time"].(time.Time); ok {
					dl.FailedAt = t
				}
				if n, ok := toInt(x["count"]); ok && dl.Attempts == 0 {
					dl.Attempts = n
				}
			}
		}
		if dl.Attempts == 0 {
			dl.Attempts = deliveryCount(d)
		}
	}
	return dl
}

// Replay implements bus.Bus: matching dead letters are published straight
// to their partition queue of the group (default exchange), confirmed, and
// only then acked off the dead-letter queue.
func (b *Bus) Replay(ctx context.Context, group string, ids ...string) (int, error) {
	if b.closed.Load() {
		return 0, bus.ErrClosed
	}
	if err := bus.ValidateName("group", group); err != nil {
		return 0, err
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	n := 0
	err := b.scanDLQ(ctx, group, func(ch *amqp.Channel, d amqp.Delivery, dl bus.DeadLetter) (bool, error) {
		ev := dl.Event
		if ev.Type == "" || (len(want) > 0 && !want[ev.ID]) {
			return true, nil
		}
		q := b.queue(group, bus.Partition(ev, b.opts.Partitions))
		msg := b.publishing(ev, d.Body)
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", q, true, false, msg)
		if err != nil {
			return false, fmt.Errorf("replay %s: %w", ev.ID, err)
		}
		ok, err := dc.WaitContext(ctx)
		if err != nil || !ok {
			return false, fmt.Errorf("replay %s: not confirmed: %w", ev.ID, errors.Join(err, errors.New("nacked")))
		}
		if err := d.Ack(false); err != nil {
			return false, fmt.Errorf("replay %s: remove dead letter: %w", ev.ID, err)
		}
		n++
		return true, nil
	})
	return n, err
}

// Stats implements bus.Bus for the groups this Bus declared and those in
// Options.Groups. InFlight is -1: AMQP does not report unacked counts.
func (b *Bus) Stats(ctx context.Context) (bus.Stats, error) {
	if b.closed.Load() {
		return bus.Stats{}, bus.ErrClosed
	}
	b.mu.Lock()
	groups := map[string]bool{}
	for g := range b.declared {
		groups[g] = true
	}
	b.mu.Unlock()
	for _, g := range b.opts.Groups {
		groups[g] = true
	}
	st := bus.Stats{Groups: map[string]bus.GroupStats{}}
	for g := range groups {
		gs := bus.GroupStats{InFlight: -1}
		err := b.withChannel(ctx, func(ch *amqp.Channel) error {
			for p := range b.opts.Partitions {
				qi, err := ch.QueueDeclarePassive(b.queue(g, p), true, false, false, false, nil)
				if err != nil {
					return err
				}
				gs.Pending += int64(qi.Messages)
			}
			qi, err := ch.QueueDeclarePassive(b.dlq(g), true, false, false, false, nil)
			if err != nil {
				return err
			}
			gs.DeadLetters = int64(qi.Messages)
			return nil
		})
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Code == amqp.NotFound {
			continue // named in Options.Groups but not declared yet
		}
		if err != nil {
			return st, fmt.Errorf("stats of %s: %w", g, b.closedErr(err))
		}
		st.Groups[g] = gs
	}
	return st, nil
}

// Close implements bus.Bus: the connection closes at once and the broker
// requeues unacked deliveries for the next consumer.
func (b *Bus) Close() error {
	if !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(b.done)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn != nil && !b.conn.IsClosed() {
		return b.conn.Close()
	}
	return nil
}

// Teardown deletes the prefix's exchanges and the queues of the groups this
// Bus declared or was told about (Options.Groups), on a connection of its
// own (the Bus may be closed), with every event still in them. Tests use it
// to leave the shared broker clean.
func (b *Bus) Teardown(ctx context.Context) error {
	conn, err := amqp.Dial(b.url)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	b.mu.Lock()
	groups := make([]string, 0, len(b.declared))
	for g := range b.declared {
		groups = append(groups, g)
	}
	b.mu.Unlock()
	for _, g := range b.opts.Groups {
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	var errs []error
	del := func(f func(ch *amqp.Channel) error) {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			return
		}
		ch, err := conn.Channel()
		if err != nil {
			errs = append(errs, err)
			return
		}
		defer func() { _ = ch.Close() }()
		errs = append(errs, f(ch))
	}
	for _, g := range groups {
		for p := range b.opts.Partitions {
			del(func(ch *amqp.Channel) error { _, err := ch.QueueDelete(b.queue(g, p), false, false, false); return err })
		}
		for _, q := range []string{b.dlq(g), b.members(g)} {
			del(func(ch *amqp.Channel) error { _, err := ch.QueueDelete(q, false, false, false); return err })
		}
	}
	for _, ex := range []string{b.eventsExchange(), b.dlxExchange(), b.fanoutExchange()} {
		del(func(ch *amqp.Channel) error { return ch.ExchangeDelete(ex, false, false) })
	}
	return errors.Join(errs...)
}
