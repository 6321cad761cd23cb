package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stridehq/stride/ranker"
)

// Many concurrent Window calls share pipelines, and each gets its own
// member's window, not a neighbour's reply.
func TestWindowPipelinedCallsGetTheirOwnReplies(t *testing.T) {
	rdb := client(t)
	r := New(rdb, Options{Prefix: prefixed(t, rdb)})
	t.Cleanup(func() { _ = r.Close() })
	ctx := context.Background()
	const n = 400
	updates := make([]ranker.Update, n)
	for i := range updates {
		updates[i] = ranker.Update{Board: "b", Member: fmt.Sprintf("m%03d", i), Score: float64(i)}
	}
	if err := r.Set(ctx, updates...); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const rounds = 2
	errs := make(chan error, rounds*n)
	for range rounds {
		for i := range n {
			wg.Go(func() {
				member := fmt.Sprintf("m%03d", i)
				w, err := r.Window(ctx, "b", member, 0, 5, true)
				switch {
				case err != nil:
					errs <- fmt.Errorf("%s: %w", member, err)
				case !w.OnBoard || w.Member.Member != member || w.Member.Rank != n-i || w.Member.Score != float64(i):
					errs <- fmt.Errorf("%s: got standing %+v", member, w.Member)
				}
			})
		}
		wg.Wait()
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A batch sent after a SCRIPT FLUSH (as after a Redis restart) loads the
// script again instead of failing its calls with NOSCRIPT.
func TestWindowPipelineAfterScriptFlush(t *testing.T) {
	rdb := client(t)
	r := New(rdb, Options{Prefix: prefixed(t, rdb)})
	t.Cleanup(func() { _ = r.Close() })
	ctx := context.Background()
	if err := r.Set(ctx, ranker.Update{Board: "b", Member: "a", Score: 2}, ranker.Update{Board: "b", Member: "z", Score: 1}); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	key := r.boardKey("b")
	batch := []*scriptCall{
		{ctx: ctx, keys: []string{key}, args: []any{"a", 0, 1, "1"}, done: make(chan struct{})},
		{ctx: ctx, keys: []string{key}, args: []any{"z", 0, 1, "1"}, done: make(chan struct{})},
	}
	r.windows.exec(batch, nil)
	for i, c := range batch {
		<-c.done
		if c.err != nil || len(c.res) != 5 || c.res[1] != int64(i) {
			t.Errorf("call %d: %v, %v", i, c.res, c.err)
		}
	}
}

func TestWindowAfterClose(t *testing.T) {
	rdb := client(t)
	r := New(rdb, Options{Prefix: prefixed(t, rdb)})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.windows.run(context.Background(), []string{"k"}, "", 0, 1, "0"); !errors.Is(err, ranker.ErrClosed) {
		t.Fatalf("run after close = %v, want ErrClosed", err)
	}
}
