package priority

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// newTestGate returns a gate on a fake clock whose rests are recorded
// instead of slept.
func newTestGate(rate, share float64) (*Gate, *clock, *[]time.Duration) {
	c := &clock{t: time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)}
	g := New(rate, share, c.now)
	var rests []time.Duration
	g.rest = func(_ context.Context, d time.Duration) { rests = append(rests, d) }
	return g, c, &rests
}

// requests sends n requests through the gate's middleware.
func requests(t *testing.T, g *Gate, n int) {
	t.Helper()
	h := g.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for range n {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	}
}

func TestBusy(t *testing.T) {
	tests := []struct {
		name     string
		requests int
		after    time.Duration
		want     bool
	}{
		{"no requests", 0, window, false},
		{"below the rate", 49, window, false}, // 490/s against 500/s
		{"at the rate", 50, window, true},
		{"a burst spread over a long gap", 50, 10 * window, false},
		{"window not over: the last verdict stands", 500, window / 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, c, _ := newTestGate(500, 0.25)
			requests(t, g, tt.requests)
			c.advance(tt.after)
			if got := g.Busy(); got != tt.want {
				t.Fatalf("Busy() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBusyEndsWithTheBurst(t *testing.T) {
	g, c, _ := newTestGate(500, 0.25)
	requests(t, g, 100)
	c.advance(window)
	if !g.Busy() {
		t.Fatal("not busy during the burst")
	}
	c.advance(window)
	if g.Busy() {
		t.Fatal("still busy one quiet window after the burst")
	}
}

func TestRest(t *testing.T) {
	tests := []struct {
		share float64
		ran   time.Duration
		want  time.Duration
	}{
		{0.25, 10 * time.Millisecond, 30 * time.Millisecond},
		{0.5, 10 * time.Millisecond, 10 * time.Millisecond},
		{0.1, 10 * time.Millisecond, 90 * time.Millisecond},
		{0.25, 2 * time.Second, maxRest},
		{0.25, 0, 0},
		{1, 10 * time.Millisecond, 0}, // pacing off
	}
	for _, tt := range tests {
		g, _, _ := newTestGate(500, tt.share)
		if got := g.Rest(tt.ran); got != tt.want {
			t.Errorf("share %v, ran %v: Rest = %v, want %v", tt.share, tt.ran, got, tt.want)
		}
	}
}

func TestPace(t *testing.T) {
	g, c, rests := newTestGate(500, 0.25)
	wantErr := errors.New("handler failed")
	h := Pace(g, func(_ context.Context, ran time.Duration) error {
		c.advance(ran)
		return wantErr
	})

	// Quiet: no rest, and the handler's error comes back unchanged.
	if err := h(context.Background(), 20*time.Millisecond); !errors.Is(err, wantErr) {
		t.Fatalf("err = %v, want %v", err, wantErr)
	}
	if len(*rests) != 0 {
		t.Fatalf("rested %v while quiet", *rests)
	}

	// A burst: the next call rests three times as long as it ran.
	requests(t, g, 100)
	c.advance(window)
	if err := h(context.Background(), 20*time.Millisecond); !errors.Is(err, wantErr) {
		t.Fatalf("err = %v, want %v", err, wantErr)
	}
	if len(*rests) != 1 || (*rests)[0] != 60*time.Millisecond {
		t.Fatalf("rests = %v, want [60ms]", *rests)
	}
}

func TestDisabledGatePassesThrough(t *testing.T) {
	for _, g := range []*Gate{nil, New(0, 0.25, time.Now), New(500, 1, time.Now)} {
		if g.Busy() {
			t.Fatal("a disabled gate is busy")
		}
		next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
		if got := g.Middleware(next); got == nil {
			t.Fatal("nil handler")
		}
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan struct{})
	go func() { sleep(ctx, time.Hour); close(done) }()
	<-done // would hang for an hour if the context were ignored
}

// While busy, paced handlers take turns: never two at once, so that their
// shares do not add up to whole cores.
func TestPacedHandlersTakeTurnsWhileBusy(t *testing.T) {
	g, c, _ := newTestGate(500, 0.25)
	requests(t, g, 100)
	c.advance(window)
	var running, most atomic.Int32
	h := Pace(g, func(context.Context, int) error {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		for range 20 {
			runtime.Gosched()
		}
		running.Add(-1)
		return nil
	})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { _ = h(context.Background(), i) })
	}
	wg.Wait()
	if m := most.Load(); m != 1 {
		t.Fatalf("%d paced handlers ran at once while busy, want 1", m)
	}
}

// A handler waiting for its turn gives up when its context ends, without
// running.
func TestPacedHandlerWaitEndsWithContext(t *testing.T) {
	g, c, _ := newTestGate(500, 0.25)
	requests(t, g, 100)
	c.advance(window)
	g.turn <- struct{}{} // another handler holds the turn
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := Pace(g, func(context.Context, int) error { ran = true; return nil })(ctx, 1)
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("err = %v, ran = %v; want context.Canceled without running", err, ran)
	}
}
