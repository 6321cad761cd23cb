package bustest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride/bus"
)

// FanoutFactory returns two nodes, a and b, of one fan-out namespace on one
// broker: each on its own connection, each with its cleanup registered on t.
// Every call must use a namespace (prefix) of its own: the isolation test
// calls it twice and expects the two pairs not to hear each other.
type FanoutFactory func(t *testing.T) (a, b bus.Fanout)

// settle is how long a test waits for messages that must not arrive, once
// a barrier message sent after them has arrived elsewhere. Delivery to
// different listeners is not ordered, so a barrier alone proves nothing
// about another listener; this margin makes a miss unlikely, not impossible.
const settle = 300 * time.Millisecond

// RunFanout runs every fan-out conformance test against the adapter, in
// parallel, each test with namespaces of its own.
func RunFanout(t *testing.T, newFanout FanoutFactory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newFanout FanoutFactory)
	}{
		{"EveryNode", testFanoutEveryNode},
		{"ListenersOnOneNode", testFanoutListenersOnOneNode},
		{"Order", testFanoutOrder},
		{"Payloads", testFanoutPayloads},
		{"Topics", testFanoutTopics},
		{"StopListening", testFanoutStopListening},
		{"CancelledContext", testFanoutCancelledContext},
		{"BlockedListener", testFanoutBlockedListener},
		{"Isolation", testFanoutIsolation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newFanout)
		})
	}
}

type fanMsg struct {
	topic   string
	payload []byte
}

// listener records what one Listen call receives. It keeps the payload
// slices as handed over, so an adapter reusing buffers fails the checks.
type listener struct {
	cancel context.CancelFunc

	mu      sync.Mutex
	msgs    []fanMsg
	changed chan struct{}
}

// listen registers a recording listener on f until the test ends or the
// listener is stopped.
func listen(t *testing.T, f bus.Fanout) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(testCtx(t))
	t.Cleanup(cancel)
	l := &listener{cancel: cancel, changed: make(chan struct{})}
	if err := f.Listen(ctx, l.add); err != nil {
		t.Fatalf("listen: %v", err)
	}
	return l
}

func (l *listener) add(topic string, payload []byte) {
	l.mu.Lock()
	l.msgs = append(l.msgs, fanMsg{topic, payload})
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *listener) snapshot() []fanMsg {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

// waitFor blocks until cond holds on the messages so far.
func (l *listener) waitFor(t *testing.T, what string, cond func([]fanMsg) bool) []fanMsg {
	t.Helper()
	timeout := time.After(waitLimit)
	for {
		l.mu.Lock()
		msgs, ch := slices.Clone(l.msgs), l.changed
		l.mu.Unlock()
		if cond(msgs) {
			return msgs
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %s; got %d messages", what, len(msgs))
		}
	}
}

// onTopic counts the messages of topic.
func onTopic(msgs []fanMsg, topic string) int {
	n := 0
	for _, m := range msgs {
		if m.topic == topic {
			n++
		}
	}
	return n
}

func hasOnTopic(topic string, n int) func([]fanMsg) bool {
	return func(msgs []fanMsg) bool { return onTopic(msgs, topic) >= n }
}

func mustBroadcast(t *testing.T, ctx context.Context, f bus.Fanout, topic string, payload []byte) {
	t.Helper()
	if err := f.Broadcast(ctx, topic, payload); err != nil {
		t.Fatalf("broadcast %q: %v", topic, err)
	}
}

// A message reaches the listeners of both nodes, whichever node sent it.
func testFanoutEveryNode(t *testing.T, newFanout FanoutFactory) {
	ctx := testCtx(t)
	a, b := newFanout(t)
	la, lb := listen(t, a), listen(t, b)
	mustBroadcast(t, ctx, a, "from-a", []byte("1"))
	mustBroadcast(t, ctx, b, "from-b", []byte("2"))
	for name, l := range map[string]*listener{"a": la, "b": lb} {
		msgs := l.waitFor(t, "both messages on node "+name, func(msgs []fanMsg) bool {
			return onTopic(msgs, "from-a") >= 1 && onTopic(msgs, "from-b") >= 1
		})
		for _, m := range msgs {
			want := map[string]string{"from-a": "1", "from-b": "2"}[m.topic]
			if string(m.payload) != want {
				t.Errorf("node %s: %q carried %q, want %q", name, m.topic, m.payload, want)
			}
		}
	}
	// The barrier: a later message from the same publisher on the same topic.
	mustBroadcast(t, ctx, a, "from-a", []byte("1"))
	mustBroadcast(t, ctx, b, "from-b", []byte("2"))
	for name, l := range map[string]*listener{"a": la, "b": lb} {
		msgs := l.waitFor(t, "the second messages on node "+name, func(msgs []fanMsg) bool {
			return onTopic(msgs, "from-a") >= 2 && onTopic(msgs, "from-b") >= 2
		})
		if len(msgs) != 4 {
			t.Errorf("node %s got %d messages, want 4 (each once)", name, len(msgs))
		}
	}
}

// Two listeners on one node each get every message, once.
func testFanoutListenersOnOneNode(t *testing.T, newFanout FanoutFactory) {
	ctx := testCtx(t)
	a, b := newFanout(t)
	l1, l2 := listen(t, a), listen(t, a)
	const n = 10
	for i := range n {
		mustBroadcast(t, ctx, b, "t", []byte(strconv.Itoa(i)))
	}
	for i, l := range []*listener{l1, l2} {
		msgs := l.waitFor(t, fmt.Sprintf("%d messages on listener %d", n, i+1), hasOnTopic("t", n))
		if len(msgs) != n {
			t.Errorf("listener %d got %d messages, want %d", i+1, len(msgs), n)
		}
	}
}

// Each publisher's messages on a topic arrive in publish order, while two
// publishers send on the same topics at once.
func testFanoutOrder(t *testing.T, newFanout FanoutFactory) {
	ctx := testCtx(t)
	a, b := newFanout(t)
	la, lb := listen(t, a), listen(t, b)
	const n = 1000
	topics := []string{"x", "y"}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for name, f := range map[string]bus.Fanout{"a": a, "b": b} {
		wg.Go(func() {
			for i := range n {
				topic := topics[i%len(topics)]
				if err := f.Broadcast(ctx, topic, fmt.Appendf(nil, "%s:%d", name, i)); err != nil {
					errs <- fmt.Errorf("broadcast from %s: %w", name, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for node, l := range map[string]*listener{"a": la, "b": lb} {
		msgs := l.waitFor(t, fmt.Sprintf("%d messages on node %s", 2*n, node), func(msgs []fanMsg) bool {
			return len(msgs) >= 2*n
		})
		last := map[string]int{} // publisher+topic -> last index seen
		for _, m := range msgs {
			pub, idx, ok := strings.Cut(string(m.payload), ":")
			i, err := strconv.Atoi(idx)
			if !ok || err != nil || topics[i%len(topics)] != m.topic {
				t.Fatalf("node %s: unexpected message %q on %q", node, m.payload, m.topic)
			}
			key := pub + "/" + m.topic
			prev, seen := last[key]
			if seen && i <= prev {
				t.Fatalf("node %s: from %s on %s, %d arrived after %d", node, pub, m.topic, i, prev)
			}
			last[key] = i
		}
		if len(msgs) != 2*n {
			t.Errorf("node %s got %d messages, want %d", node, len(msgs), 2*n)
		}
	}
}

// Payloads arrive byte for byte, up to MaxFanoutPayload; a larger one is
// refused rather than cut or sent.
func testFanoutPayloads(t *testing.T, newFanout FanoutFactory) {
	ctx := testCtx(t)
	a, b := newFanout(t)
	lb := listen(t, b)
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	largest := make([]byte, bus.MaxFanoutPayload)
	_, _ = rand.Read(largest)
	payloads := map[string][]byte{
		"empty":      {},
		"every-byte": every,
		"not-utf8":   {0xff, 0xfe, 0x00, 0xc3, 0x28, '\r', '\n'},
		"json":       []byte(`{"lat":48.8566,"lon":2.3522,"hr":142}`),
		"largest":    largest,
	}
	for name, p := range payloads {
		mustBroadcast(t, ctx, a, name, p)
	}
	if err := a.Broadcast(ctx, "too-large", make([]byte, bus.MaxFanoutPayload+1)); err == nil {
		t.Errorf("a payload of MaxFanoutPayload+1 bytes was accepted")
	}
	msgs := lb.waitFor(t, "every payload", func(msgs []fanMsg) bool { return len(msgs) >= len(payloads) })
	for _, m := range msgs {
		want, ok := payloads[m.topic]
		switch {
		case !ok:
			t.Errorf("unexpected message on %q (%d bytes)", m.topic, len(m.payload))
		case !bytes.Equal(m.payload, want):
			t.Errorf("%s: got %d bytes, want %d, not the same", m.topic, len(m.payload), len(want))
		}
	}
}

// Topics are opaque strings: separators of every broker's naming scheme,
// and more, come back unchanged.
func testFanoutTopics(t *testing.T, newFanout FanoutFactory) {
	ctx := testCtx(t)
	a, b := newFanout(t)
	lb := listen(t, b)
	topics := []string{
		"live:06H0ABC",
		"board:distance:all:week:2026-W47:public:all",
		"a.b.c",
		"a/b/c",
		"*",
		">",
		"#",
		"with space",
		" padded ",
		"percent%20sign",
		"line\nbreak",
		"tab\tand\x00nul",
		"über-läufer 🏃",
		strings.Repeat("long-", 40),
	}
	for _, topic := range topics {
		mustBroadcast(t, ctx, a, topic, []byte(topic))
	}
	msgs := lb.waitFor(t, "every topic", func(msgs []fanMsg) bool { return len(msgs) >= len(topics) })
	var got []string
	for _, m := range msgs {
		if m.topic != string(m.payload) {
			t.Errorf("topic %q arrived as %q", m.payload, m.topic)
		}
		got = append(got, m.topic)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(topics))
	if !slices.Equal(got, want) {
		t.Errorf("topics received:\n%q\nwant:\n%q", got, want)
	}
}

// Once its context is cancelled, a listener gets nothing more, while the
// other listeners of its node carry on.
func testFanoutStopListening(t *testing.T, newFanout FanoutFactory) {
	ctx := testCtx(t)
	a, b := newFanout(t)
	stopped, kept := listen(t, a), listen(t, a)
	mustBroadcast(t, ctx, b, "before", nil)
	stopped.waitFor(t, "the message before the stop", hasOnTopic("before", 1))
	stopped.cancel()
	const n = 50
	for range n {
		mustBroadcast(t, ctx, b, "after", nil)
	}
	kept.waitFor(t, "the messages after the stop", hasOnTopic("after", n))
	time.Sleep(settle)
	if got := onTopic(stopped.snapshot(), "after"); got > 0 {
		t.Errorf("the stopped listener was called for %d messages sent after its context was cancelled", got)
	}
}

// A cancelled context fails Broadcast and Listen, and nothing is sent.
func testFanoutCancelledContext(t *testing.T, newFanout FanoutFactory) {
	ctx := testCtx(t)
	a, b := newFanout(t)
	lb := listen(t, b)
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.Broadcast(done, "cancelled", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("broadcast with a cancelled context: %v, want context.Canceled", err)
	}
	called := make(chan struct{}, 1)
	if err := a.Listen(done, func(string, []byte) {
		select {
		case called <- struct{}{}:
		default:
		}
	}); err == nil {
		t.Errorf("listen with a cancelled context returned nil")
	}
	mustBroadcast(t, ctx, a, "barrier", nil)
	lb.waitFor(t, "the barrier", hasOnTopic("barrier", 1))
	time.Sleep(settle)
	if got := onTopic(lb.snapshot(), "cancelled"); got > 0 {
		t.Errorf("a broadcast with a cancelled context was delivered")
	}
	select {
	case <-called:
		t.Errorf("a listener registered with a cancelled context was called")
	default:
	}
}

// A listener that blocks holds up neither Broadcast nor the other
// listeners, on its node or elsewhere.
func testFanoutBlockedListener(t *testing.T, newFanout FanoutFactory) {
	ctx := testCtx(t)
	a, b := newFanout(t)
	release := make(chan struct{})
	defer close(release)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	entered := make(chan struct{}, 1)
	if err := a.Listen(lctx, func(string, []byte) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
	}); err != nil {
		t.Fatalf("listen: %v", err)
	}
	la, lb := listen(t, a), listen(t, b)
	mustBroadcast(t, ctx, a, "first", nil)
	select {
	case <-entered:
	case <-time.After(waitLimit):
		t.Fatal("the blocking listener was never called")
	}
	const n = 200
	for range n {
		mustBroadcast(t, ctx, a, "t", []byte("x"))
	}
	la.waitFor(t, "every message on the blocked listener's node", hasOnTopic("t", n))
	lb.waitFor(t, "every message on the other node", hasOnTopic("t", n))
}

// A namespace hears nothing from another one on the same broker.
func testFanoutIsolation(t *testing.T, newFanout FanoutFactory) {
	ctx := testCtx(t)
	a, b := newFanout(t)
	other, _ := newFanout(t)
	la, lo := listen(t, a), listen(t, other)
	mustBroadcast(t, ctx, a, "t", []byte("mine"))
	mustBroadcast(t, ctx, b, "t", []byte("mine"))
	mustBroadcast(t, ctx, other, "t", []byte("other"))
	la.waitFor(t, "the namespace's own messages", hasOnTopic("t", 2))
	lo.waitFor(t, "the other namespace's message", hasOnTopic("t", 1))
	time.Sleep(settle)
	for _, m := range la.snapshot() {
		if string(m.payload) != "mine" {
			t.Errorf("a listener got %q from another namespace", m.payload)
		}
	}
	for _, m := range lo.snapshot() {
		if string(m.payload) != "other" {
			t.Errorf("a listener of another namespace got %q", m.payload)
		}
	}
	if got := len(la.snapshot()); got != 2 {
		t.Errorf("got %d messages, want 2", got)
	}
}
