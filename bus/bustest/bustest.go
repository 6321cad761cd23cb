// Package bustest is the conformance suite of the bus port. Every adapter
// runs it against a real broker:
//
//	func TestConformance(t *testing.T) {
//		bustest.Run(t, func(t *testing.T, prefix string) bus.Bus { ... })
//	}
//
// The factory is called several times with the same prefix within one test
// to stand for several processes: each call must return a bus on its own
// connection sharing the prefix's topology, and register its own cleanup
// (Close, and deleting what the prefix created on the broker). Where the
// broker redelivers on an ack timeout, the factory should make that timeout
// short (about a second) to keep the suite quick; no assertion depends on it.
package bustest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride/bus"
)

// Factory returns a new bus for the prefix; see the package comment.
type Factory func(t *testing.T, prefix string) bus.Bus

// waitLimit only keeps a broken adapter from hanging the run; nothing
// measures time against it.
const waitLimit = 45 * time.Second

// Run runs every conformance test against the adapter. The tests run in
// parallel, each with its own prefix.
func Run(t *testing.T, newBus Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newBus func(t *testing.T) bus.Bus)
	}{
		{"EnvelopeRoundTrip", testEnvelopeRoundTrip},
		{"PublishConsume", testPublishConsume},
		{"PublishInvalid", testPublishInvalid},
		{"Closed", testClosed},
		{"CompetingConsumers", testCompetingConsumers},
		{"RedeliveryAfterConsumerDies", testRedeliveryAfterConsumerDies},
		{"RedeliveryAfterCancel", testRedeliveryAfterCancel},
		{"PerKeyOrdering", testPerKeyOrdering},
		{"RetryThenDeadLetter", testRetryThenDeadLetter},
		{"Stats", testStats},
		{"InvalidConsumerConfig", testInvalidConsumerConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prefix := NewPrefix()
			tc.fn(t, func(t *testing.T) bus.Bus { return newBus(t, prefix) })
		})
	}
}

// NewPrefix returns a random prefix, so that tests never share broker
// objects, even across runs on the same server.
func NewPrefix() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// event builds a small event; ids are unique within a test.
func event(typ, key string, i int) bus.Event {
	return bus.Event{
		ID:      fmt.Sprintf("%s/%s/%d", typ, key, i),
		Type:    typ,
		Source:  "/stride/bustest",
		Key:     key,
		Subject: fmt.Sprintf("item-%d", i),
		Time:    time.Now(),
		Data:    json.RawMessage(fmt.Sprintf(`{"key":%q,"i":%d}`, key, i)),
	}
}

func index(t *testing.T, ev bus.Event) int {
	t.Helper()
	var d struct{ I int }
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Errorf("event %s: data %s: %v", ev.ID, ev.Data, err)
	}
	return d.I
}

// consumer runs Consume in the background until stopped.
type consumer struct {
	cancel context.CancelFunc
	done   chan error
}

func consume(t *testing.T, b bus.Bus, cfg bus.ConsumerConfig, h bus.Handler) *consumer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &consumer{cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- b.Consume(ctx, cfg, h) }()
	t.Cleanup(func() { c.cancel(); <-c.done })
	return c
}

// stop cancels the consumer and returns what Consume returned.
func (c *consumer) stop(t *testing.T) error {
	t.Helper()
	c.cancel()
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		return err
	case <-time.After(waitLimit):
		t.Fatal("Consume did not return after its context was cancelled")
		return nil
	}
}

// recorder collects deliveries and wakes waiters.
type recorder struct {
	mu      sync.Mutex
	all     []bus.Delivery
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) add(d bus.Delivery) {
	r.mu.Lock()
	r.all = append(r.all, d)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// waitFor blocks until cond holds on the deliveries so far.
func (r *recorder) waitFor(t *testing.T, what string, cond func([]bus.Delivery) bool) []bus.Delivery {
	t.Helper()
	timeout := time.After(waitLimit)
	for {
		r.mu.Lock()
		all, ch := slices.Clone(r.all), r.changed
		r.mu.Unlock()
		if cond(all) {
			return all
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %s; got %d deliveries", what, len(all))
		}
	}
}

func (r *recorder) snapshot() []bus.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all)
}

func distinct(ds []bus.Delivery) map[string]int {
	m := map[string]int{}
	for _, d := range ds {
		m[d.Event.ID]++
	}
	return m
}

func hasN(n int) func([]bus.Delivery) bool {
	return func(ds []bus.Delivery) bool { return len(distinct(ds)) >= n }
}

func mustPublish(t *testing.T, ctx context.Context, b bus.Bus, evs ...bus.Event) {
	t.Helper()
	if err := b.Publish(ctx, evs...); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func mustDeclare(t *testing.T, ctx context.Context, b bus.Bus, cfg bus.ConsumerConfig) {
	t.Helper()
	if err := b.Declare(ctx, cfg); err != nil {
		t.Fatalf("declare %s: %v", cfg.Group, err)
	}
}

// sameEvent compares what was published with what was delivered, after the
// normalization Publish applies.
func sameEvent(want, got bus.Event) error {
	want = want.Normalize()
	if !want.Time.Equal(got.Time) {
		return fmt.Errorf("time %v, want %v", got.Time, want.Time)
	}
	var wd, gd bytes.Buffer
	if err := json.Compact(&wd, want.Data); err != nil {
		return err
	}
	if err := json.Compact(&gd, got.Data); err != nil {
		return fmt.Errorf("data %q: %v", got.Data, err)
	}
	if wd.String() != gd.String() {
		return fmt.Errorf("data %s, want %s", gd.String(), wd.String())
	}
	want.Time, got.Time = time.Time{}, time.Time{}
	want.Data, got.Data = nil, nil
	if fmt.Sprintf("%+v", want) != fmt.Sprintf("%+v", got) {
		return fmt.Errorf("got %+v, want %+v", got, want)
	}
	return nil
}

func testEnvelopeRoundTrip(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	ctx := testCtx(t)
	b := newBus(t)
	cfg := bus.ConsumerConfig{Group: "env", Types: []string{"activity.uploaded"}}
	mustDeclare(t, ctx, b, cfg)
	ev := bus.Event{
		ID:              "01JDX7Q7Z9K2M3N4P5Q6R7S8T9",
		Type:            "activity.uploaded",
		Source:          "/stride/api",
		Subject:         "uploads/u-42",
		Time:            time.Date(2026, 11, 22, 7, 30, 15, 123456789, time.FixedZone("CET", 3600)),
		DataContentType: "application/json",
		DataSchema:      "https://stride.example/schemas/activity.uploaded/v2.json",
		SchemaVersion:   2,
		Key:             "athlete-7",
		TraceParent:     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		TraceState:      "stride=1",
		Data:            json.RawMessage(`{"upload_id":"u-42","sport":"run","name":"Morning \u00e9t\u00e9 run","points":[1,2.5,null]}`),
	}
	mustPublish(t, ctx, b, ev)
	rec := newRecorder()
	consume(t, b, cfg, func(ctx context.Context, d bus.Delivery) error { rec.add(d); return nil })
	ds := rec.waitFor(t, "the event", hasN(1))
	if err := sameEvent(ev, ds[0].Event); err != nil {
		t.Errorf("round trip: %v", err)
	}
	if ds[0].Event.SpecVersion != bus.SpecVersion {
		t.Errorf("specversion %q", ds[0].Event.SpecVersion)
	}
	if ds[0].Attempt != 1 {
		t.Errorf("attempt %d, want 1", ds[0].Attempt)
	}
}

func testPublishConsume(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	ctx := testCtx(t)
	b := newBus(t)
	onlyA := bus.ConsumerConfig{Group: "only-a", Types: []string{"a.done"}}
	both := bus.ConsumerConfig{Group: "both", Types: []string{"a.done", "b"}}
	mustDeclare(t, ctx, b, onlyA)
	mustDeclare(t, ctx, b, both)
	var evs []bus.Event
	for i := range 20 {
		evs = append(evs, event("a.done", fmt.Sprintf("k%d", i%5), i))
	}
	for i := range 10 {
		evs = append(evs, event("b", fmt.Sprintf("k%d", i%5), i))
	}
	// One batch, then a few single publishes: both paths must work.
	mustPublish(t, ctx, b, evs[:27]...)
	for _, ev := range evs[27:] {
		mustPublish(t, ctx, b, ev)
	}
	ra, rb := newRecorder(), newRecorder()
	consume(t, b, onlyA, func(ctx context.Context, d bus.Delivery) error { ra.add(d); return nil })
	consume(t, b, both, func(ctx context.Context, d bus.Delivery) error { rb.add(d); return nil })
	da := ra.waitFor(t, "group only-a", hasN(20))
	db := rb.waitFor(t, "group both", hasN(30))
	for _, d := range da {
		if d.Event.Type != "a.done" {
			t.Errorf("group only-a got type %s", d.Event.Type)
		}
	}
	for name, ds := range map[string][]bus.Delivery{"only-a": da, "both": db} {
		for id, n := range distinct(ds) {
			if n != 1 {
				t.Errorf("group %s: event %s handled %d times, want once", name, id, n)
			}
		}
		for _, d := range ds {
			if d.Attempt != 1 {
				t.Errorf("group %s: event %s attempt %d, want 1", name, d.Event.ID, d.Attempt)
			}
		}
	}
	// Events published after the consumers started flow too.
	late := event("b", "late", 99)
	mustPublish(t, ctx, b, late)
	rb.waitFor(t, "late event", func(ds []bus.Delivery) bool { return distinct(ds)[late.ID] > 0 })
}

func testPublishInvalid(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	ctx := testCtx(t)
	b := newBus(t)
	bad := []bus.Event{
		{Type: "a", Source: "s"},                             // no id
		{ID: "1", Source: "s"},                               // no type
		{ID: "1", Type: "a"},                                 // no source
		{ID: "1", Type: "a b", Source: "s"},                  // type unusable in subjects
		{ID: "1", Type: "a..b", Source: "s"},                 // empty token
		{ID: "1", Type: "a", Source: "s", Data: []byte("{")}, // not JSON
		{ID: "1", Type: "a", Source: "s", SpecVersion: "0.3"},
	}
	for _, ev := range bad {
		if err := b.Publish(ctx, event("a", "k", 1), ev); !errors.Is(err, bus.ErrInvalidEvent) {
			t.Errorf("publish %+v: err %v, want ErrInvalidEvent", ev, err)
		}
	}
	if err := b.Publish(ctx); err != nil {
		t.Errorf("publish of nothing: %v", err)
	}
}

func testClosed(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	ctx := testCtx(t)
	b := newBus(t)
	cfg := bus.ConsumerConfig{Group: "closed", Types: []string{"a"}}
	mustDeclare(t, ctx, b, cfg)
	mustPublish(t, ctx, b, event("a", "k", 1))
	c := consume(t, b, bus.ConsumerConfig{Group: "closed", Types: []string{"a"}},
		func(ctx context.Context, d bus.Delivery) error { return nil })
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case err := <-c.done:
		c.done <- err
		if !errors.Is(err, bus.ErrClosed) {
			t.Errorf("running Consume after Close returned %v, want ErrClosed", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Consume still running after Close")
	}
	if err := b.Publish(ctx, event("a", "k", 2)); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	if err := b.Consume(ctx, cfg, func(context.Context, bus.Delivery) error { return nil }); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Consume after Close: %v, want ErrClosed", err)
	}
	if _, err := b.DeadLetters(ctx, "closed", 10); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("DeadLetters after Close: %v, want ErrClosed", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func testCompetingConsumers(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	ctx := testCtx(t)
	pub, b1, b2 := newBus(t), newBus(t), newBus(t)
	cfg := bus.ConsumerConfig{Group: "share", Types: []string{"work"}, Concurrency: 4}
	mustDeclare(t, ctx, pub, cfg)
	rec := newRecorder()
	var mu sync.Mutex
	byConsumer := map[string]int{}
	handler := func(name string) bus.Handler {
		return func(ctx context.Context, d bus.Delivery) error {
			// A little work, as a real handler does, so that sharing
			// has something to share.
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			byConsumer[name]++
			mu.Unlock()
			rec.add(d)
			return nil
		}
	}
	consume(t, b1, cfg, handler("one"))
	consume(t, b2, cfg, handler("two"))
	// Publish in batches until both consumers have had a share: a slow
	// start of one consumer then costs batches, not a failure; a bus that
	// never shares fails after maxBatches.
	const batch, maxBatches = 40, 50
	n := 0
	for range maxBatches {
		var evs []bus.Event
		for range batch {
			evs = append(evs, event("work", fmt.Sprintf("athlete-%d", n%80), n))
			n++
		}
		mustPublish(t, ctx, pub, evs...)
		rec.waitFor(t, "the batch", hasN(n))
		mu.Lock()
		shared := byConsumer["one"] > 0 && byConsumer["two"] > 0
		mu.Unlock()
		if shared && n >= 200 {
			break
		}
	}
	ds := rec.snapshot()
	for id, c := range distinct(ds) {
		if c != 1 {
			t.Errorf("event %s handled %d times, want once", id, c)
		}
	}
	if len(ds) != n {
		t.Errorf("%d deliveries for %d events", len(ds), n)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d events, handled by consumer: %v", n, byConsumer)
	if byConsumer["one"] == 0 || byConsumer["two"] == 0 {
		t.Errorf("load not shared between competing consumers: %v", byConsumer)
	}
}

func testRedeliveryAfterConsumerDies(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	ctx := testCtx(t)
	dying, survivor := newBus(t), newBus(t)
	cfg := bus.ConsumerConfig{Group: "dies", Types: []string{"job"}}
	mustDeclare(t, ctx, survivor, cfg)
	started := make(chan bus.Delivery, 1)
	release := make(chan struct{})
	c := consume(t, dying, cfg, func(ctx context.Context, d bus.Delivery) error {
		started <- d
		<-release // stuck until its process is long gone
		return nil
	})
	ev := event("job", "athlete-1", 1)
	mustPublish(t, ctx, survivor, ev)
	select {
	case d := <-started:
		if d.Event.ID != ev.ID || d.Attempt != 1 {
			t.Fatalf("first delivery %s attempt %d", d.Event.ID, d.Attempt)
		}
	case <-time.After(waitLimit):
		t.Fatal("event never delivered")
	}
	// The process dies mid-handler: its connection goes away without an ack.
	if err := dying.Close(); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	consume(t, survivor, cfg, func(ctx context.Context, d bus.Delivery) error { rec.add(d); return nil })
	ds := rec.waitFor(t, "redelivery to the survivor", hasN(1))
	if ds[0].Event.ID != ev.ID {
		t.Errorf("survivor got %s, want %s", ds[0].Event.ID, ev.ID)
	}
	if ds[0].Attempt < 2 {
		t.Errorf("redelivery attempt %d, want >= 2", ds[0].Attempt)
	}
	close(release)
	if err := c.stop(t); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Consume on the closed bus returned %v, want ErrClosed", err)
	}
}

func testRedeliveryAfterCancel(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	ctx := testCtx(t)
	first, second := newBus(t), newBus(t)
	cfg := bus.ConsumerConfig{Group: "cancel", Types: []string{"job"}}
	mustDeclare(t, ctx, first, cfg)
	started := make(chan struct{}, 1)
	c := consume(t, first, cfg, func(ctx context.Context, d bus.Delivery) error {
		started <- struct{}{}
		<-ctx.Done() // a handler that honours cancellation
		return ctx.Err()
	})
	ev := event("job", "athlete-1", 1)
	mustPublish(t, ctx, first, ev)
	select {
	case <-started:
	case <-time.After(waitLimit):
		t.Fatal("event never delivered")
	}
	if err := c.stop(t); err != nil {
		t.Errorf("Consume after cancel returned %v, want nil", err)
	}
	rec := newRecorder()
	consume(t, second, cfg, func(ctx context.Context, d bus.Delivery) error { rec.add(d); return nil })
	ds := rec.waitFor(t, "redelivery", hasN(1))
	if ds[0].Event.ID != ev.ID || ds[0].Attempt < 2 {
		t.Errorf("got %s attempt %d, want %s attempt >= 2", ds[0].Event.ID, ds[0].Attempt, ev.ID)
	}
	// The bus that was only cancelled is still usable.
	mustPublish(t, ctx, first, event("job", "athlete-1", 2))
	rec.waitFor(t, "second event", hasN(2))
}

func testPerKeyOrdering(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	ctx := testCtx(t)
	pub, b1, b2 := newBus(t), newBus(t), newBus(t)
	cfg := bus.ConsumerConfig{
		Group: "ordered", Types: []string{"point"}, MaxAttempts: 5, Concurrency: 4,
		Backoff: func(int) time.Duration { return 5 * time.Millisecond },
	}
	mustDeclare(t, ctx, pub, cfg)
	const keys, perKey = 12, 25
	var (
		mu       sync.Mutex
		inFlight = map[string]string{}
		handled  = map[string][]string{} // key -> "i/attempt/ok" in handling order
		errs     []string
	)
	rec := newRecorder()
	h := func(ctx context.Context, d bus.Delivery) error {
		k, i := d.Event.Key, index(t, d.Event)
		mu.Lock()
		if other, busy := inFlight[k]; busy {
			errs = append(errs, fmt.Sprintf("key %s: %s handled while %s in flight", k, d.Event.ID, other))
		}
		inFlight[k] = d.Event.ID
		mu.Unlock()
		runtime.Gosched()
		// Every seventh event fails its first attempt: the retry must come
		// before the key's next event.
		fail := i%7 == 3 && d.Attempt == 1
		mu.Lock()
		delete(inFlight, k)
		handled[k] = append(handled[k], fmt.Sprintf("%d/%t", i, !fail))
		mu.Unlock()
		if fail {
			return errors.New("transient failure")
		}
		rec.add(d)
		return nil
	}
	consume(t, b1, cfg, h)
	consume(t, b2, cfg, h)
	var evs []bus.Event
	for i := range perKey {
		for k := range keys {
			evs = append(evs, event("point", fmt.Sprintf("athlete-%d", k), i))
		}
	}
	// Several batches, as a relay would send them.
	for start := 0; start < len(evs); start += 50 {
		mustPublish(t, ctx, pub, evs[start:min(start+50, len(evs))]...)
	}
	rec.waitFor(t, "all events", hasN(keys*perKey))
	mu.Lock()
	defer mu.Unlock()
	for _, e := range errs {
		t.Error(e)
	}
	for k := range keys {
		key := fmt.Sprintf("athlete-%d", k)
		var want []string
		for i := range perKey {
			if i%7 == 3 {
				want = append(want, fmt.Sprintf("%d/false", i))
			}
			want = append(want, fmt.Sprintf("%d/true", i))
		}
		if got := handled[key]; !slices.Equal(got, want) {
			t.Errorf("key %s handled in order\n%v\nwant\n%v", key, got, want)
		}
	}
}

func testRetryThenDeadLetter(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	ctx := testCtx(t)
	b, other := newBus(t), newBus(t)
	var (
		mu       sync.Mutex
		backoffs []int
		fixed    bool
	)
	cfg := bus.ConsumerConfig{
		Group: "retry", Types: []string{"activity.processed"}, MaxAttempts: 3,
		Backoff: func(n int) time.Duration {
			mu.Lock()
			backoffs = append(backoffs, n)
			mu.Unlock()
			return time.Duration(n) * 10 * time.Millisecond
		},
	}
	otherCfg := bus.ConsumerConfig{Group: "bystander", Types: []string{"activity.processed"}}
	mustDeclare(t, ctx, b, cfg)
	mustDeclare(t, ctx, b, otherCfg)

	poison := event("activity.processed", "athlete-bad", 0)
	after := event("activity.processed", "athlete-bad", 1)
	evs := []bus.Event{poison, after}
	for i := range 30 {
		evs = append(evs, event("activity.processed", fmt.Sprintf("athlete-%d", i), i))
	}
	rec := newRecorder() // every call, failed or not
	consume(t, b, cfg, func(ctx context.Context, d bus.Delivery) error {
		rec.add(d)
		mu.Lock()
		ok := fixed
		mu.Unlock()
		if d.Event.ID == poison.ID && !ok {
			return fmt.Errorf("boom on %s", d.Event.ID)
		}
		return nil
	})
	orec := newRecorder()
	consume(t, other, otherCfg, func(ctx context.Context, d bus.Delivery) error { orec.add(d); return nil })
	mustPublish(t, ctx, b, evs...)

	ds := rec.waitFor(t, "every event, the poison one three times", func(ds []bus.Delivery) bool {
		m := distinct(ds)
		return len(m) == len(evs) && m[poison.ID] >= 3
	})
	var poisonAttempts []int
	afterPos, lastPoison := -1, -1
	for i, d := range ds {
		switch d.Event.ID {
		case poison.ID:
			poisonAttempts = append(poisonAttempts, d.Attempt)
			lastPoison = i
		case after.ID:
			afterPos = i
		}
	}
	if !slices.Equal(poisonAttempts, []int{1, 2, 3}) {
		t.Errorf("poison event attempts %v, want [1 2 3]", poisonAttempts)
	}
	if afterPos < lastPoison {
		t.Errorf("the key's next event was handled before the failing one was dead lettered")
	}
	mu.Lock()
	if !slices.Equal(backoffs, []int{1, 2}) {
		t.Errorf("backoff asked for attempts %v, want [1 2]", backoffs)
	}
	mu.Unlock()

	// The next event of the key was handled after the dead lettering, so the
	// dead letter is there now.
	dls, err := b.DeadLetters(ctx, "retry", 10)
	if err != nil {
		t.Fatalf("dead letters: %v", err)
	}
	if len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1: %+v", len(dls), dls)
	}
	dl := dls[0]
	if err := sameEvent(poison, dl.Event); err != nil {
		t.Errorf("dead letter event: %v", err)
	}
	if dl.Group != "retry" || dl.Attempts != 3 || !strings.Contains(dl.Error, "boom") || dl.FailedAt.IsZero() {
		t.Errorf("dead letter %+v", dl)
	}
	if dls, err := b.DeadLetters(ctx, "bystander", 10); err != nil || len(dls) != 0 {
		t.Errorf("bystander dead letters %v, %v; want none", dls, err)
	}
	st, err := b.Stats(ctx)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	if got := st.Groups["retry"].DeadLetters; got != 1 {
		t.Errorf("stats: %d dead letters for retry, want 1", got)
	}
	orec.waitFor(t, "bystander gets everything", hasN(len(evs)))

	// Replay: an unknown id replays nothing, the poison id comes back to its
	// group only.
	if n, err := b.Replay(ctx, "retry", "no-such-event"); err != nil || n != 0 {
		t.Errorf("replay unknown: %d, %v", n, err)
	}
	mu.Lock()
	fixed = true
	mu.Unlock()
	if n, err := b.Replay(ctx, "retry", poison.ID); err != nil || n != 1 {
		t.Fatalf("replay: %d, %v; want 1", n, err)
	}
	ds = rec.waitFor(t, "replayed event", func(ds []bus.Delivery) bool { return distinct(ds)[poison.ID] >= 4 })
	if err := sameEvent(poison, ds[len(ds)-1].Event); err != nil {
		t.Errorf("replayed event: %v", err)
	}
	if dls, err := b.DeadLetters(ctx, "retry", 10); err != nil || len(dls) != 0 {
		t.Errorf("dead letters after replay: %+v, %v; want none", dls, err)
	}
	// A marker on the same key reaches the bystander after anything the
	// replay could have sent it, so the bystander must not see the poison
	// event twice.
	marker := event("activity.processed", "athlete-bad", 2)
	mustPublish(t, ctx, b, marker)
	ods := orec.waitFor(t, "marker", func(ds []bus.Delivery) bool { return distinct(ds)[marker.ID] > 0 })
	if n := distinct(ods)[poison.ID]; n != 1 {
		t.Errorf("bystander got the poison event %d times, want once (replay must target one group)", n)
	}
}

func testStats(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	ctx := testCtx(t)
	b := newBus(t)
	cfg := bus.ConsumerConfig{Group: "lag", Types: []string{"a"}}
	mustDeclare(t, ctx, b, cfg)
	var evs []bus.Event
	for i := range 7 {
		evs = append(evs, event("a", fmt.Sprintf("k%d", i), i))
	}
	mustPublish(t, ctx, b, evs...)
	waitStats(t, ctx, b, "7 pending", func(gs bus.GroupStats) bool { return gs.Pending == 7 })
	rec := newRecorder()
	consume(t, b, cfg, func(ctx context.Context, d bus.Delivery) error { rec.add(d); return nil })
	rec.waitFor(t, "all events", hasN(7))
	waitStats(t, ctx, b, "nothing pending", func(gs bus.GroupStats) bool {
		return gs.Pending == 0 && gs.InFlight <= 0 && gs.DeadLetters == 0
	})
}

// waitStats polls Stats until cond holds for the "lag" group; brokers update
// their counters asynchronously.
func waitStats(t *testing.T, ctx context.Context, b bus.Bus, what string, cond func(bus.GroupStats) bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		st, err := b.Stats(ctx)
		if err != nil {
			t.Fatalf("stats: %v", err)
		}
		gs, ok := st.Groups["lag"]
		if ok && cond(gs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats never showed %s: %+v", what, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testInvalidConsumerConfig(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	ctx := testCtx(t)
	b := newBus(t)
	h := func(context.Context, bus.Delivery) error { return nil }
	for _, cfg := range []bus.ConsumerConfig{
		{Types: []string{"a"}},
		{Group: "no_underscore", Types: []string{"a"}},
		{Group: "g"},
		{Group: "g", Types: []string{"a", "a"}},
		{Group: "g", Types: []string{"a*"}},
		{Group: "g", Types: []string{"a"}, MaxAttempts: -1},
	} {
		if err := b.Consume(ctx, cfg, h); err == nil {
			t.Errorf("Consume(%+v) accepted", cfg)
		}
		if err := b.Declare(ctx, cfg); err == nil {
			t.Errorf("Declare(%+v) accepted", cfg)
		}
	}
	if _, err := b.DeadLetters(ctx, "bad group", 1); err == nil {
		t.Error("DeadLetters accepted a bad group name")
	}
}
