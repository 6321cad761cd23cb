// Package nats is the NATS JetStream adapter of the bus port: against an
// external server or cluster (Connect), or against a server embedded in the
// Stride process with file storage in the data dir (StartEmbedded), which is
// the one-box default.
//
// Layout, for a prefix P and N partitions:
//
//	stream P_events   subjects P.ev.>   interest retention, file storage
//	  subject P.ev.<partition>.<type>.<target>   target "_" (every group) or a group (replay)
//	  consumer <group>_<partition>: durable pull, explicit ack,
//	           MaxAckPending 1 (per-key order across processes), MaxDeliver unlimited
//	stream P_dlq      subjects P.dlq.>  limits retention
//	  subject P.dlq.<group>
//	subject P.fanout  core NATS, no stream: bus.Fanout, topic in header Stride-Topic
//
// See docs/bus.md for the reasoning.
package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stridehq/stride/bus"
)

// Options configure a Bus. Every process sharing a prefix must use the same
// Partitions.
type Options struct {
	// Prefix namespaces streams and subjects; letters, digits, '-'.
	// Default "stride".
	Prefix string
	// Partitions is the number of ordering partitions per group. Default 16.
	Partitions int
	// AckWait is how long the server waits for an ack (or an in-progress
	// heartbeat, sent every AckWait/3 while a handler runs) before
	// redelivering to another consumer. It bounds how long a dead consumer
	// holds its partition. Default 30s.
	AckWait time.Duration
	// Replicas of the streams, for clusters. Default 1.
	Replicas int
	// MaxAge drops events older than this even if a group has not consumed
	// them (0: never), a guard against a group that was abandoned.
	MaxAge time.Duration
	// DeadLetterMaxAge drops dead letters older than this (0: never).
	DeadLetterMaxAge time.Duration
	// Existing attaches to the streams of a running deployment and creates
	// nothing: Connect fails if the prefix has no streams on the server, so
	// that an operator's mistyped prefix does not leave new ones behind.
	Existing bool
	// Logger receives the adapter's logs. Default slog.Default().
	Logger *slog.Logger
}

const (
	defaultPrefix     = "stride"
	defaultPartitions = 16
	defaultAckWait    = 30 * time.Second
	// pollWait is the expiry of one pull request; it only bounds how long an
	// idle partition loop waits before asking again.
	pollWait = 5 * time.Second
	// publishChunk bounds the async publishes awaiting acks at once, below
	// the client's own limit, so a large batch never stalls.
	publishChunk = 512
	// settleTimeout bounds acks and dead-letter publishes done after the
	// consume context is cancelled.
	settleTimeout = 10 * time.Second
	// allTarget is the target token of a normal publish: every group. A
	// replay targets one group by name; group names have no '_'.
	allTarget = "_"
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
	if o.AckWait == 0 {
		o.AckWait = defaultAckWait
	}
	if o.AckWait < 100*time.Millisecond {
		return o, fmt.Errorf("ack wait %s: want at least 100ms", o.AckWait)
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Bus is the JetStream implementation of bus.Bus.
type Bus struct {
	opts   Options
	log    *slog.Logger
	nc     *natsgo.Conn
	js     jetstream.JetStream
	events jetstream.Stream
	dlq    jetstream.Stream
	// multiFilter is true when the server takes several filter subjects per
	// consumer (2.10+); older servers get one wildcard filter per partition
	// and the client skips the types the group does not want.
	multiFilter bool

	closeOnce sync.Once
	closed    atomic.Bool
	done      chan struct{}
}

var _ bus.Bus = (*Bus)(nil)

// Connect dials a NATS server (url as in nats.Connect, e.g.
// "nats://127.0.0.1:4222") and returns a Bus owning that connection.
func Connect(ctx context.Context, url string, opts Options, extra ...natsgo.Option) (*Bus, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("nats bus: %w", err)
	}
	nopts := append(connOptions(o), extra...)
	nc, err := natsgo.Connect(url, nopts...)
	if err != nil {
		return nil, fmt.Errorf("nats bus: connect %s: %w", url, err)
	}
	b, err := newBus(ctx, nc, o)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return b, nil
}

func connOptions(o Options) []natsgo.Option {
	log := o.Logger
	return []natsgo.Option{
		natsgo.Name("stride-" + o.Prefix),
		// A worker outlives broker restarts: keep reconnecting, and keep
		// publishes made meanwhile in the client buffer (their acks still
		// gate Publish).
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(time.Second),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
			log.Warn("nats async error", "err", err)
		}),
	}
}

// newBus takes ownership of nc and makes sure both streams exist (with
// Options.Existing, that they already do).
func newBus(ctx context.Context, nc *natsgo.Conn, o Options) (*Bus, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("nats bus: jetstream: %w", err)
	}
	b := &Bus{
		opts:        o,
		log:         o.Logger.With("bus", "nats", "prefix", o.Prefix),
		nc:          nc,
		js:          js,
		multiFilter: serverAtLeast(nc.ConnectedServerVersion(), 2, 10),
		done:        make(chan struct{}),
	}
	if o.Existing {
		for _, st := range []struct {
			name string
			dst  *jetstream.Stream
		}{{b.eventsStream(), &b.events}, {b.dlqStream(), &b.dlq}} {
			if *st.dst, err = js.Stream(ctx, st.name); err != nil {
				if errors.Is(err, jetstream.ErrStreamNotFound) {
					return nil, fmt.Errorf("nats bus: no stream %s on this server: is the prefix %q the one the server uses?", st.name, o.Prefix)
				}
				return nil, fmt.Errorf("nats bus: stream %s: %w", st.name, err)
			}
		}
		return b, nil
	}
	b.events, err = declareStream(ctx, js, b.log, jetstream.StreamConfig{
		Name:        b.eventsStream(),
		Description: "stride events",
		Subjects:    []string{o.Prefix + ".ev.>"},
		// Interest retention: an event stays until every group whose
		// consumers match it has acked it, and not longer.
		Retention:  jetstream.InterestPolicy,
		Storage:    jetstream.FileStorage,
		Replicas:   o.Replicas,
		MaxAge:     o.MaxAge,
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("nats bus: stream %s: %w", b.eventsStream(), err)
	}
	b.dlq, err = declareStream(ctx, js, b.log, jetstream.StreamConfig{
		Name:        b.dlqStream(),
		Description: "stride dead letters",
		Subjects:    []string{o.Prefix + ".dlq.>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		MaxAge:      o.DeadLetterMaxAge,
		Duplicates:  2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("nats bus: stream %s: %w", b.dlqStream(), err)
	}
	return b, nil
}

// declareStream creates or updates a stream. nats-server answers a failure
// to set up a stream's files with one fixed sentence, whatever the cause
// (it logs the cause itself), and some of those causes pass: a directory
// still being removed, a moment of file-descriptor pressure. A few spaced
// tries keep a start or a test from failing on them; a lasting cause (a
// full disk) still fails, with the server's words.
func declareStream(ctx context.Context, js jetstream.JetStream, log *slog.Logger, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	const tries = 5
	for try := 1; ; try++ {
		s, err := js.CreateOrUpdateStream(ctx, cfg)
		if err == nil || try == tries || !storeSetupFailed(err) {
			return s, err
		}
		wait := retryDelay(try)
		log.Warn("nats-server could not set up the stream's files; trying again",
			"stream", cfg.Name, "try", try, "retry_in", wait, "err", err)
		sleep(ctx, wait)
		if ctx.Err() != nil {
			return nil, err
		}
	}
}

// storeSetupFailed reports the server's generic answer to a stream whose
// storage it could not create (JSStreamStoreFailedF, 10049, 500).
func storeSetupFailed(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == 10049 && apiErr.Code == 500
}

func serverAtLeast(version string, major, minor int) bool {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}

func (b *Bus) eventsStream() string { return b.opts.Prefix + "_events" }
func (b *Bus) dlqStream() string    { return b.opts.Prefix + "_dlq" }
func (b *Bus) dlqSubject(group string) string {
	return b.opts.Prefix + ".dlq." + group
}
func (b *Bus) subject(p int, typ, target string) string {
	return fmt.Sprintf("%s.ev.%d.%s.%s", b.opts.Prefix, p, typ, target)
}
func consumerName(group string, p int) string { return fmt.Sprintf("%s_%d", group, p) }

// parseSubject splits P.ev.<partition>.<type>.<target>.
func (b *Bus) parseSubject(s string) (typ, target string, ok bool) {
	rest, found := strings.CutPrefix(s, b.opts.Prefix+".ev.")
	if !found {
		return "", "", false
	}
	_, rest, found = strings.Cut(rest, ".")
	if !found {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// Publish implements bus.Bus. Events are published asynchronously in
// chunks and Publish waits for every PubAck; the event id is the JetStream
// message id, so a republish within two minutes is deduplicated by the
// server.
func (b *Bus) Publish(ctx context.Context, events ...bus.Event) error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	msgs := make([]*natsgo.Msg, len(events))
	for i, ev := range events {
		ev = ev.Normalize()
		data, err := bus.Encode(ev)
		if err != nil {
			return fmt.Errorf("publish %s: %w", ev.ID, err)
		}
		m := natsgo.NewMsg(b.subject(bus.Partition(ev, b.opts.Partitions), ev.Type, allTarget))
		m.Data = data
		if ev.TraceParent != "" {
			// Duplicated in a header so that tools reading headers only
			// (nats CLI, server tracing) see the trace too.
			m.Header.Set("traceparent", ev.TraceParent)
		}
		m.Header.Set(natsgo.MsgIdHdr, ev.ID)
		msgs[i] = m
	}
	for start := 0; start < len(msgs); start += publishChunk {
		chunk := msgs[start:min(start+publishChunk, len(msgs))]
		futures := make([]jetstream.PubAckFuture, 0, len(chunk))
		for _, m := range chunk {
			f, err := b.js.PublishMsgAsync(m)
			if err != nil {
				return b.publishErr(m, err)
			}
			futures = append(futures, f)
		}
		for i, f := range futures {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return b.publishErr(chunk[i], err)
			case <-ctx.Done():
				return b.publishErr(chunk[i], ctx.Err())
			case <-b.done:
				return b.publishErr(chunk[i], bus.ErrClosed)
			}
		}
	}
	return nil
}

func (b *Bus) publishErr(m *natsgo.Msg, err error) error {
	return fmt.Errorf("publish %s: %w", m.Header.Get(natsgo.MsgIdHdr), b.closedErr(err))
}

// closedErr marks an error that happened because the bus was closed
// meanwhile, so callers can tell a shutdown from a broker failure.
func (b *Bus) closedErr(err error) error {
	if b.closed.Load() && !errors.Is(err, bus.ErrClosed) {
		return errors.Join(bus.ErrClosed, err)
	}
	return err
}

// Declare implements bus.Bus: it creates (or updates) the group's durable
// consumers, one per partition.
func (b *Bus) Declare(ctx context.Context, cfg bus.ConsumerConfig) error {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return fmt.Errorf("declare: %w", err)
	}
	_, err = b.declare(ctx, cfg)
	return err
}

func (b *Bus) declare(ctx context.Context, cfg bus.ConsumerConfig) ([]jetstream.Consumer, error) {
	if b.closed.Load() {
		return nil, bus.ErrClosed
	}
	cons := make([]jetstream.Consumer, b.opts.Partitions)
	for p := range cons {
		cc := jetstream.ConsumerConfig{
			Durable:     consumerName(cfg.Group, p),
			Description: fmt.Sprintf("stride group %s partition %d", cfg.Group, p),
			// A group gets what is published after it first exists, as on
			// RabbitMQ where a queue gets what is routed to it once bound.
			DeliverPolicy: jetstream.DeliverNewPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       b.opts.AckWait,
			// Retries are counted by the adapter, which dead letters;
			// a server-side limit would drop the message silently.
			MaxDeliver: -1,
			// One unacked message per partition across all processes:
			// this is what keeps a key's events in order, retries included
			// (a NAK with delay stays pending).
			MaxAckPending: 1,
		}
		switch {
		case len(cfg.Types) == 1:
			cc.FilterSubject = b.subject(p, cfg.Types[0], "*")
		case b.multiFilter:
			for _, t := range cfg.Types {
				cc.FilterSubjects = append(cc.FilterSubjects, b.subject(p, t, "*"))
			}
		default:
			cc.FilterSubject = fmt.Sprintf("%s.ev.%d.>", b.opts.Prefix, p)
		}
		c, err := b.events.CreateOrUpdateConsumer(ctx, cc)
		if err != nil {
			return nil, fmt.Errorf("declare group %s partition %d: %w", cfg.Group, p, b.closedErr(err))
		}
		cons[p] = c
	}
	return cons, nil
}

// Consume implements bus.Bus. It runs one loop per partition; each loop
// fetches one message at a time (the consumer allows no more in flight),
// and a semaphore bounds the handlers running at once.
func (b *Bus) Consume(ctx context.Context, cfg bus.ConsumerConfig, h bus.Handler) error {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	cons, err := b.declare(ctx, cfg)
	if err != nil {
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
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	for p, c := range cons {
		wg.Go(func() {
			pl := &partitionLoop{b: b, cfg: cfg, p: p, c: c, sem: sem, h: h,
				log: b.log.With("group", cfg.Group, "partition", p)}
			pl.run(ctx)
		})
	}
	wg.Wait()
	if b.closed.Load() {
		return bus.ErrClosed
	}
	return nil
}

type partitionLoop struct {
	b   *Bus
	cfg bus.ConsumerConfig
	p   int
	c   jetstream.Consumer
	sem chan struct{}
	h   bus.Handler
	log *slog.Logger
}

func (l *partitionLoop) run(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		// Ask for a message only when a handler slot is free: a process at
		// capacity should leave the partition to a competing process
		// instead of holding its next message while it waits. (A fetch
		// already under way can still land on a busy process; the message
		// then waits for a slot under in-progress heartbeats.)
		select {
		case l.sem <- struct{}{}:
			<-l.sem
		case <-ctx.Done():
			return
		}
		batch, err := l.c.Fetch(1, jetstream.FetchMaxWait(pollWait))
		if err != nil {
			failures++
			l.log.Warn("fetch", "err", err)
			sleep(ctx, retryDelay(failures))
			continue
		}
		select {
		case m, ok := <-batch.Messages():
			if !ok {
				if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, natsgo.ErrTimeout) {
					failures++
					if ctx.Err() == nil {
						l.log.Warn("fetch", "err", err)
					}
					sleep(ctx, retryDelay(failures))
				}
				continue
			}
			failures = 0
			l.handle(ctx, m)
		case <-ctx.Done():
			// A message may still arrive for this pull: give it back at
			// once rather than let it hold the partition for AckWait.
			go func() {
				for m := range batch.Messages() {
					_ = m.Nak()
				}
			}()
			return
		}
	}
}

func retryDelay(failures int) time.Duration {
	return bus.ExponentialBackoff(100*time.Millisecond, 5*time.Second)(failures)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (l *partitionLoop) handle(ctx context.Context, m jetstream.Msg) {
	settle, cancelSettle := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancelSettle()

	// Tell the server the message is being worked on while it waits for a
	// handler slot and while the handler runs, so that AckWait only expires
	// when this process is gone.
	hbCtx, stopHB := context.WithCancel(context.Background())
	defer stopHB()
	go heartbeat(hbCtx, m, l.b.opts.AckWait/3)

	meta, err := m.Metadata()
	if err != nil {
		l.log.Error("message metadata", "err", err)
		_ = m.Term()
		return
	}
	attempt := int(meta.NumDelivered)
	typ, target, ok := l.b.parseSubject(m.Subject())
	if !ok || !l.cfg.Wants(typ) || (target != allTarget && target != l.cfg.Group) {
		// Another group's replay, or a type this group does not take
		// (only with a wildcard filter on pre-2.10 servers).
		if err := m.DoubleAck(settle); err != nil {
			l.log.Warn("ack skipped message", "seq", meta.Sequence.Stream, "err", err)
		}
		return
	}
	ev, err := bus.Decode(m.Data())
	if err != nil {
		// A message that cannot be decoded will never succeed: dead
		// letter it now rather than retry.
		l.deadLetter(settle, m, meta, attempt, err)
		return
	}
	if attempt > l.cfg.MaxAttempts {
		l.deadLetter(settle, m, meta, attempt-1, bus.ErrNotDelivered)
		return
	}

	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		_ = m.Nak()
		return
	}
	herr := bus.SafeHandle(ctx, l.h, bus.Delivery{Event: ev, Attempt: attempt, Partition: l.p})
	<-l.sem
	// The settle timeout bounds the ack, not the handler: a handler that
	// ran longer than settleTimeout must still get its ack through, or the
	// partition stays blocked for AckWait and the event is redelivered.
	settle, cancelAck := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancelAck()
	switch {
	case herr == nil:
		if err := m.DoubleAck(settle); err != nil {
			l.log.Warn("ack", "event", ev.ID, "err", err)
		}
	case ctx.Err() != nil:
		// Stopping: hand the event to another consumer now.
		_ = m.Nak()
	case attempt >= l.cfg.MaxAttempts:
		l.log.Warn("dead letter", "event", ev.ID, "attempts", attempt, "err", herr)
		l.deadLetter(settle, m, meta, attempt, herr)
	default:
		delay := l.cfg.Backoff(attempt)
		l.log.Info("handler failed, retrying", "event", ev.ID, "attempt", attempt, "delay", delay, "err", herr)
		if err := m.NakWithDelay(delay); err != nil {
			l.log.Warn("nak", "event", ev.ID, "err", err)
		}
	}
}

func heartbeat(ctx context.Context, m jetstream.Msg, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = m.InProgress()
		}
	}
}

const (
	hdrGroup    = "Stride-Group"
	hdrAttempts = "Stride-Attempts"
	hdrError    = "Stride-Error"
	hdrFailedAt = "Stride-Failed-At"
)

// deadLetter stores the message in the group's dead letters, then acks it.
// If the store fails the message is retried later instead, so it is never
// dropped; the dead-letter message id makes a second store a no-op.
func (l *partitionLoop) deadLetter(ctx context.Context, m jetstream.Msg, meta *jetstream.MsgMetadata, attempts int, cause error) {
	dm := natsgo.NewMsg(l.b.dlqSubject(l.cfg.Group))
	dm.Data = m.Data()
	dm.Header.Set(hdrGroup, l.cfg.Group)
	dm.Header.Set(hdrAttempts, strconv.Itoa(attempts))
	dm.Header.Set(hdrError, truncate(cause.Error(), 4096))
	dm.Header.Set(hdrFailedAt, time.Now().UTC().Format(time.RFC3339Nano))
	dm.Header.Set(natsgo.MsgIdHdr, fmt.Sprintf("dlq-%s-%d", l.cfg.Group, meta.Sequence.Stream))
	if _, err := l.b.js.PublishMsg(ctx, dm); err != nil {
		l.log.Error("store dead letter", "seq", meta.Sequence.Stream, "err", err)
		_ = m.NakWithDelay(l.cfg.Backoff(max(attempts, 1)))
		return
	}
	if err := m.DoubleAck(ctx); err != nil {
		l.log.Warn("ack dead-lettered message", "seq", meta.Sequence.Stream, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// dlqEntry is a dead letter with its sequence in the DLQ stream.
type dlqEntry struct {
	seq uint64
	dl  bus.DeadLetter
	raw []byte
}

// scanDLQ walks a group's dead letters in order, calling fn until it
// returns false. It reads by sequence with a subject filter, which needs no
// consumer and leaves nothing behind on the server.
func (b *Bus) scanDLQ(ctx context.Context, group string, fn func(dlqEntry) (bool, error)) error {
	subj := b.dlqSubject(group)
	for seq := uint64(1); ; {
		rm, err := b.dlq.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subj))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read dead letters of %s: %w", group, b.closedErr(err))
		}
		seq = rm.Sequence + 1
		attempts, _ := strconv.Atoi(rm.Header.Get(hdrAttempts))
		failedAt, _ := time.Parse(time.RFC3339Nano, rm.Header.Get(hdrFailedAt))
		ev, derr := bus.Decode(rm.Data)
		if derr != nil {
			ev = bus.Event{}
		}
		more, err := fn(dlqEntry{seq: rm.Sequence, raw: rm.Data, dl: bus.DeadLetter{
			Event: ev, Group: group, Attempts: attempts, Error: rm.Header.Get(hdrError), FailedAt: failedAt,
		}})
		if err != nil || !more {
			return err
		}
	}
}

// DeadLetters implements bus.Bus. limit <= 0 means 100.
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
	err := b.scanDLQ(ctx, group, func(e dlqEntry) (bool, error) {
		out = append(out, e.dl)
		return len(out) < limit, nil
	})
	return out, err
}

// Replay implements bus.Bus. The event goes back on its partition with the
// group as target, so only that group sees it, and is then removed from the
// dead letters; a crash in between replays it twice, which consumers
// tolerate.
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
	err := b.scanDLQ(ctx, group, func(e dlqEntry) (bool, error) {
		ev := e.dl.Event
		if ev.ID == "" || (len(want) > 0 && !want[ev.ID]) {
			return true, nil
		}
		m := natsgo.NewMsg(b.subject(bus.Partition(ev, b.opts.Partitions), ev.Type, group))
		m.Data = e.raw
		m.Header.Set(natsgo.MsgIdHdr, fmt.Sprintf("replay-%s-%d", group, e.seq))
		if _, err := b.js.PublishMsg(ctx, m); err != nil {
			return false, fmt.Errorf("replay %s to %s: %w", ev.ID, group, b.closedErr(err))
		}
		if err := b.dlq.DeleteMsg(ctx, e.seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return false, fmt.Errorf("replay %s: remove dead letter: %w", ev.ID, err)
		}
		n++
		return true, nil
	})
	return n, err
}

// Stats implements bus.Bus, for every group that has consumers on the
// server.
func (b *Bus) Stats(ctx context.Context) (bus.Stats, error) {
	if b.closed.Load() {
		return bus.Stats{}, bus.ErrClosed
	}
	st := bus.Stats{Groups: map[string]bus.GroupStats{}}
	lister := b.events.ListConsumers(ctx)
	for ci := range lister.Info() {
		i := strings.LastIndexByte(ci.Name, '_')
		if i <= 0 {
			continue
		}
		g := ci.Name[:i]
		gs := st.Groups[g]
		gs.Pending += int64(ci.NumPending)
		gs.InFlight += int64(ci.NumAckPending)
		st.Groups[g] = gs
	}
	if err := lister.Err(); err != nil {
		return st, fmt.Errorf("stats: list consumers: %w", b.closedErr(err))
	}
	info, err := b.dlq.Info(ctx, jetstream.WithSubjectFilter(b.opts.Prefix+".dlq.>"))
	if err != nil {
		return st, fmt.Errorf("stats: dead letters: %w", b.closedErr(err))
	}
	for subj, n := range info.State.Subjects {
		g := strings.TrimPrefix(subj, b.opts.Prefix+".dlq.")
		gs := st.Groups[g]
		gs.DeadLetters = int64(n)
		st.Groups[g] = gs
	}
	return st, nil
}

// Close implements bus.Bus: it closes the connection at once, without
// draining, so unacked deliveries go to other consumers after AckWait.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		close(b.done)
		b.nc.Close()
	})
	return nil
}

// Conn returns the underlying connection, for health checks.
func (b *Bus) Conn() *natsgo.Conn { return b.nc }
