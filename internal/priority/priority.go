// Package priority lets background work give way to interactive requests
// when both run in one process on the same cores.
//
// With --role all, the HTTP API and the consumers that turn uploads into
// activities and boards share the machine. Left alone, Go's scheduler gives
// them equal turns, so a burst of uploads is answered at half the speed the
// API could manage while the backlog it creates is worked off at full
// speed. A Gate reverses that: while requests arrive faster than a
// threshold, each background handler rests after it runs, long enough that
// it uses only a set share of the time, and resumes full speed as soon as
// the burst ends. Handlers also take turns while busy, one at a time: the
// worker and the standings projector each run several, and a share of the
// time for each would add up to whole cores. Nothing is skipped or
// dropped: the events wait on the bus.
package priority

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// window is how long requests are counted before the rate is judged again:
// short enough that background work resumes soon after a burst, long
// enough that a few requests do not look like a burst.
const window = 100 * time.Millisecond

// maxRest bounds one rest, so a slow handler (a large file) is not followed
// by a long stall, and a message is never held near its ack deadline.
const maxRest = time.Second

// Gate measures the rate of interactive requests and paces background
// handlers while it is high. The zero value is not usable; see New.
type Gate struct {
	busyRate float64 // requests per second from which background work yields
	share    float64 // the fraction of time a handler may run while busy
	now      func() time.Time
	rest     func(ctx context.Context, d time.Duration) // waits d or until ctx ends
	// turn is held by the one background handler that may run while busy.
	turn chan struct{}

	requests atomic.Int64 // counted since windowStart

	mu          sync.Mutex
	windowStart time.Time
	busy        bool
}

// New returns a gate that counts the process busy from busyRate requests
// per second, and then lets background handlers run share of the time
// (0 < share ≤ 1). A busyRate of 0 or a share of 1 turns pacing off.
func New(busyRate, share float64, now func() time.Time) *Gate {
	return &Gate{busyRate: busyRate, share: share, now: now, rest: sleep, turn: make(chan struct{}, 1), windowStart: now()}
}

func (g *Gate) enabled() bool { return g != nil && g.busyRate > 0 && g.share > 0 && g.share < 1 }

// Middleware counts every request that passes through next.
func (g *Gate) Middleware(next http.Handler) http.Handler {
	if !g.enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.requests.Add(1)
		next.ServeHTTP(w, r)
	})
}

// Busy reports whether requests arrived at busyRate or faster in the last
// full window.
func (g *Gate) Busy() bool {
	if !g.enabled() {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if elapsed := now.Sub(g.windowStart); elapsed >= window {
		n := g.requests.Swap(0)
		// A gap of several windows with nobody asking means the count
		// spans them all: the rate over the whole gap is what it was.
		g.busy = float64(n)/elapsed.Seconds() >= g.busyRate
		g.windowStart = now
	}
	return g.busy
}

// Rest is how long a handler that ran for d should pause while busy so
// that it runs only share of the time.
func (g *Gate) Rest(d time.Duration) time.Duration {
	if !g.enabled() || d <= 0 {
		return 0
	}
	return min(time.Duration(float64(d)*(1-g.share)/g.share), maxRest)
}

// Pace wraps a background handler so that each call goes through Run.
func Pace[T any](g *Gate, h func(context.Context, T) error) func(context.Context, T) error {
	if !g.enabled() {
		return h
	}
	return func(ctx context.Context, v T) error {
		return g.Run(ctx, func(ctx context.Context) error { return h(ctx, v) })
	}
}

// Run runs one round of background work (a handler's call, a relay's
// batch). While the gate is busy, rounds run one at a time, and each is
// followed by a rest in proportion to how long it ran, during which it
// keeps its turn: together they use share of one core at most. f's result
// is returned unchanged; a wait for the turn, or a rest, ends early when
// ctx ends (Run then returns ctx's error without running f, and the work
// is done again later: the bus delivers the event again, the relay finds
// its batch still in the outbox).
func (g *Gate) Run(ctx context.Context, f func(context.Context) error) error {
	if !g.Busy() {
		return f(ctx)
	}
	select {
	case g.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.turn }()
	start := g.now()
	err := f(ctx)
	if rest := g.Rest(g.now().Sub(start)); rest > 0 {
		g.rest(ctx, rest)
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
