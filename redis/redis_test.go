package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stridehq/stride/internal/testenv"
	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/ranker/rankertest"
)

// client returns a client to the test Redis, skipping (or failing in CI)
// when none answers.
func client(t testing.TB) *goredis.Client {
	t.Helper()
	o, err := goredis.ParseURL(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(o)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		testenv.Unavailable(t, "Redis at "+o.Addr, err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// prefixed returns a unique key prefix and registers the deletion of every
// key under it when t ends.
func prefixed(t testing.TB, rdb *goredis.Client) string {
	prefix := testenv.Name("stride_test_lb") + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if n, err := deletePrefix(ctx, rdb, prefix); err != nil {
			t.Errorf("delete keys %s*: %v (deleted %d)", prefix, err, n)
		}
	})
	return prefix
}

func deletePrefix(ctx context.Context, rdb *goredis.Client, prefix string) (int, error) {
	n := 0
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
				return n, err
			}
			n += len(batch)
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return n, err
	}
	if len(batch) > 0 {
		if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
			return n, err
		}
		n += len(batch)
	}
	return n, nil
}

func TestConformance(t *testing.T) {
	rdb := client(t)
	rankertest.Run(t, func(t *testing.T) ranker.Ranker {
		r := New(rdb, Options{Prefix: prefixed(t, rdb)})
		t.Cleanup(func() { _ = r.Close() })
		return r
	})
}

// TestKeysAndTTL checks what the adapter leaves in Redis: the board's TTL
// as Redis reports it (PTTL), the event record's expiry, and that Replace
// leaves no temporary key behind.
func TestKeysAndTTL(t *testing.T) {
	ctx := context.Background()
	rdb := client(t)
	prefix := prefixed(t, rdb)
	r := New(rdb, Options{Prefix: prefix, DedupeWindow: 48 * time.Hour})
	defer r.Close()
	weekEnd := time.Now().Add(3 * 24 * time.Hour)
	if _, err := r.Incr(ctx, "ev-1", ranker.Update{Board: "w", Member: "ana", Score: 1, ExpireAt: weekEnd}); err != nil {
		t.Fatal(err)
	}
	ttl, err := rdb.PTTL(ctx, prefix+"b:w").Result()
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(weekEnd); ttl <= 0 || ttl > d+time.Second || ttl < d-time.Minute {
		t.Errorf("board PTTL = %v, want about %v", ttl, d)
	}
	ttl, err = rdb.PTTL(ctx, prefix+"e:ev-1").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 47*time.Hour || ttl > 48*time.Hour {
		t.Errorf("event record PTTL = %v, want about 48h (the dedupe window)", ttl)
	}
	// Scores are stored negated (see the package comment).
	if s, err := rdb.ZScore(ctx, prefix+"b:w", "ana").Result(); err != nil || s != -1 {
		t.Errorf("stored score = %v, %v; want -1", s, err)
	}
	if err := r.Replace(ctx, "w", []ranker.Entry{{Member: "ben", Score: 2}}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if ttl, err := rdb.PTTL(ctx, prefix+"b:w").Result(); err != nil || ttl != -1 {
		t.Errorf("PTTL after Replace without a deadline = %v, %v; want -1 (none)", ttl, err)
	}
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Errorf("keys = %q, want the board and the event record only", keys)
	}
}

// TestRemoveMemberScan checks what the conformance suite cannot see: the
// scan goes past one batch of keys, and stays within the adapter's prefix
// even when the prefix holds glob characters that, unquoted, would match
// another deployment's keys.
func TestRemoveMemberScan(t *testing.T) {
	ctx := context.Background()
	rdb := client(t)
	base := prefixed(t, rdb)
	r := New(rdb, Options{Prefix: base + "[a]*:"})
	defer r.Close()
	other := New(rdb, Options{Prefix: base + "a-other:"})
	defer other.Close()
	boards := removeMemberBatch*2 + 7
	var ups []ranker.Update
	for i := range boards {
		b := fmt.Sprintf("board-%d", i)
		ups = append(ups, ranker.Update{Board: b, Member: "ana", Score: 1}, ranker.Update{Board: b, Member: "ben", Score: 2})
	}
	if err := r.Set(ctx, ups...); err != nil {
		t.Fatal(err)
	}
	if err := other.Set(ctx, ranker.Update{Board: "kept", Member: "ana", Score: 1}); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveMember(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	for i := range boards {
		b := fmt.Sprintf("board-%d", i)
		if es, err := r.Top(ctx, b, 0, 10); err != nil || len(es) != 1 || es[0].Member != "ben" {
			t.Fatalf("%s = %+v, %v; want ben alone", b, es, err)
		}
	}
	if _, ok, err := other.Rank(ctx, "kept", "ana"); err != nil || !ok {
		t.Errorf("another prefix's board lost the member: %v, %v", ok, err)
	}
}

func TestOpen(t *testing.T) {
	client(t) // skips when Redis is not there
	ctx := context.Background()
	r, err := Open(ctx, testenv.RedisURL(), Options{Prefix: testenv.Name("stride_test_lb") + ":"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Size(ctx, "none"); err != nil || n != 0 {
		t.Errorf("size = %d, %v", n, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, "redis://127.0.0.1:1/0", Options{}); err == nil {
		t.Error("open on a closed port succeeded")
	}
}

// BenchmarkRanker runs rankertest.Bench on a board of a million members in
// the machine's Redis, under a prefix deleted afterwards; its activity
// writes go to 16 boards of 100,000 members each, which keeps the shared
// server's memory and the fill time modest. Parallel runs use
// 32 goroutines per core (64 on 2 cores, the seeds' 64 clients).
func BenchmarkRanker(b *testing.B) {
	rdb := client(b)
	rdb.Options().PoolSize = 64
	r := New(rdb, Options{Prefix: prefixed(b, rdb)})
	defer r.Close()
	rankertest.Bench(b, r, 1_000_000, 100_000, 32)
}
