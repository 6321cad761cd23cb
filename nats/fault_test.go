package nats

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride/bus"
)

// TestHelperEmbeddedServer is not a test: TestEmbeddedSurvivesKill runs the
// test binary with STRIDE_NATS_HELPER_DIR set, and this function then runs
// an embedded server on that dir in the child process, prints its URL and
// waits to be killed.
func TestHelperEmbeddedServer(t *testing.T) {
	dir := os.Getenv("STRIDE_NATS_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestEmbeddedSurvivesKill")
	}
	listen := os.Getenv("STRIDE_NATS_HELPER_LISTEN")
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	srv, err := StartEmbedded(context.Background(), dir, EmbeddedOptions{Listen: listen, Logger: testLogger()})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("URL", srv.ClientURL())
	select {}
}

// startChild runs an embedded server in a child process on dir and returns
// its URL and a function that kills it with SIGKILL.
func startChild(t *testing.T, dir, listen string) (string, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperEmbeddedServer$", "-test.v=false")
	cmd.Env = append(os.Environ(), "STRIDE_NATS_HELPER_DIR="+dir, "STRIDE_NATS_HELPER_LISTEN="+listen)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(kill)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "URL ") || strings.HasPrefix(l, "ERR ") {
				lines <- l
			}
		}
		close(lines)
	}()
	select {
	case l, ok := <-lines:
		if !ok || !strings.HasPrefix(l, "URL ") {
			t.Fatalf("child server did not start: %q", l)
		}
		return strings.TrimPrefix(l, "URL "), kill
	case <-time.After(time.Minute):
		t.Fatal("child server did not start within a minute")
		return "", nil
	}
}

// TestEmbeddedSurvivesKill kills the embedded server (SIGKILL, no drain, no
// flush) while events are being published, restarts it on the same dir, and
// checks that every event whose Publish had returned is consumed.
func TestEmbeddedSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url, kill := startChild(t, dir, "")
	opts := testOptions("fault")
	pub, err := Connect(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	cfg := bus.ConsumerConfig{Group: "worker", Types: []string{"activity.uploaded"}}
	if err := pub.Declare(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked []string
	)
	enough := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for batch := 0; ; batch++ {
			var evs []bus.Event
			for i := range 20 {
				evs = append(evs, bus.Event{
					ID: fmt.Sprintf("ev-%d-%d", batch, i), Type: "activity.uploaded", Source: "/test",
					Key: fmt.Sprintf("athlete-%d", i%7), Data: []byte(`{}`),
				})
			}
			bctx, bcancel := context.WithTimeout(ctx, 5*time.Second)
			err := pub.Publish(bctx, evs...)
			bcancel()
			if err != nil {
				return // the server is gone
			}
			mu.Lock()
			for _, ev := range evs {
				acked = append(acked, ev.ID)
			}
			if len(acked) == 400 {
				close(enough)
			}
			mu.Unlock()
		}
	}()
	select {
	case <-enough:
	case <-stopped:
		t.Fatal("publisher stopped before the kill")
	}
	kill()
	<-stopped
	_ = pub.Close()
	mu.Lock()
	want := append([]string(nil), acked...)
	mu.Unlock()
	t.Logf("%d events acked before the kill", len(want))

	url, _ = startChild(t, dir, "")
	cons, err := Connect(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	got := map[string]bool{}
	all := make(chan struct{})
	cctx, ccancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- cons.Consume(cctx, cfg, func(ctx context.Context, d bus.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			got[d.Event.ID] = true
			missing := 0
			for _, id := range want {
				if !got[id] {
					missing++
				}
			}
			if missing == 0 {
				select {
				case <-all:
				default:
					close(all)
				}
			}
			return nil
		})
	}()
	select {
	case <-all:
	case <-time.After(time.Minute):
		mu.Lock()
		t.Errorf("after restart got %d of %d acked events", len(got), len(want))
		mu.Unlock()
	}
	ccancel()
	if err := <-done; err != nil {
		t.Errorf("consume: %v", err)
	}
}

// TestBrokerKilledMidLoad kills the broker (SIGKILL) while a publisher and a
// consumer are running, restarts it on the same address and data dir, and
// checks that both reconnect by themselves and that every event the
// publisher got an ack for is handled. The publisher behaves like the
// outbox relay: it retries a failed batch until it is acked.
func TestBrokerKilledMidLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url, kill := startChild(t, dir, "")
	addr := strings.TrimPrefix(url, "nats://")
	opts := testOptions("midload")
	pub, err := Connect(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	cons, err := Connect(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	cfg := bus.ConsumerConfig{Group: "worker", Types: []string{"activity.uploaded"}}
	if err := pub.Declare(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	var (
		mu      sync.Mutex
		acked   = map[string]bool{}
		handled = map[string]bool{}
		changed = make(chan struct{}, 1)
	)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	cctx, ccancel := context.WithCancel(ctx)
	consumeDone := make(chan error, 1)
	go func() {
		consumeDone <- cons.Consume(cctx, cfg, func(ctx context.Context, d bus.Delivery) error {
			mu.Lock()
			handled[d.Event.ID] = true
			mu.Unlock()
			notify()
			return nil
		})
	}()
	const total = 800
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for batch := 0; batch*20 < total; batch++ {
			var evs []bus.Event
			for i := range 20 {
				evs = append(evs, bus.Event{
					ID: fmt.Sprintf("ev-%d-%d", batch, i), Type: "activity.uploaded", Source: "/test",
					Key: fmt.Sprintf("athlete-%d", i%7), Data: []byte(`{}`),
				})
			}
			for ctx.Err() == nil {
				bctx, bcancel := context.WithTimeout(ctx, 3*time.Second)
				err := pub.Publish(bctx, evs...)
				bcancel()
				if err == nil {
					break
				}
			}
			mu.Lock()
			for _, ev := range evs {
				acked[ev.ID] = true
			}
			mu.Unlock()
			notify()
		}
	}()
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.After(time.Minute)
		for {
			mu.Lock()
			ok := cond()
			mu.Unlock()
			if ok {
				return
			}
			select {
			case <-changed:
			case <-time.After(100 * time.Millisecond):
			case <-deadline:
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("timed out waiting for %s: %d acked, %d handled", what, len(acked), len(handled))
			}
		}
	}
	waitUntil("some load", func() bool { return len(acked) >= total/4 && len(handled) > 0 })
	kill()
	startChild(t, dir, addr)
	<-pubDone
	waitUntil("every acked event handled", func() bool {
		for id := range acked {
			if !handled[id] {
				return false
			}
		}
		return len(acked) == total
	})
	ccancel()
	if err := <-consumeDone; err != nil {
		t.Errorf("consume: %v", err)
	}
}
