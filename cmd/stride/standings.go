package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/ranker/memrank"
	"github.com/stridehq/stride/redis"
	"github.com/stridehq/stride/standings"
)

// rankerSettings choose the leaderboard store.
type rankerSettings struct {
	redisURL    *string
	redisPrefix *string
}

func addRankerSettings(s *settings) rankerSettings {
	return rankerSettings{
		redisURL:    s.string("redis-url", "", "leaderboards in Redis (redis://host:6379/0); empty keeps them in memory, rebuilt from the database at start (one process only)"),
		redisPrefix: s.string("redis-prefix", "stride", "prefix of every Redis key, so deployments can share a Redis"),
	}
}

func (rs rankerSettings) inMemory() bool { return *rs.redisURL == "" }

func openRanker(ctx context.Context, rs rankerSettings) (ranker.Ranker, error) {
	if rs.inMemory() {
		return memrank.New(memrank.Options{}), nil
	}
	if !strings.HasPrefix(*rs.redisURL, "redis://") && !strings.HasPrefix(*rs.redisURL, "rediss://") {
		return nil, errors.New("redis url must start with redis:// or rediss://")
	}
	return redis.Open(ctx, *rs.redisURL, redis.Options{Prefix: *rs.redisPrefix + ":"})
}

// discardPublisher stands in for the bus where nobody listens: a replay
// rewrites boards without announcing each athlete's change.
type discardPublisher struct{}

func (discardPublisher) Publish(context.Context, ...bus.Event) error { return nil }

func runReplay(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s := newSettings("replay", getenv, stderr)
	s.fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: stride replay [flags] leaderboards|standings

Rebuilds a projection from the database:
  leaderboards  recompute every board of every period still kept and replace it
                whole in Redis (the in-memory ranker is rebuilt at every start)
  standings     recompute every athlete's achievements and records, announcing
                nothing (after a change of rules)

Stop the workers first for an exact result: an event handled during the replay
can be overwritten by the older state the replay read.

`)
		s.fs.PrintDefaults()
	}
	st := addStoreSettings(s)
	rs := addRankerSettings(s)
	if err := s.parse(args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if s.fs.NArg() != 1 || (s.fs.Arg(0) != "leaderboards" && s.fs.Arg(0) != "standings") {
		s.fs.Usage()
		return errUsage
	}
	what := s.fs.Arg(0)
	if what == "leaderboards" && rs.inMemory() {
		return errors.New("replay leaderboards writes to Redis (--redis-url); the in-memory ranker is rebuilt by every 'stride serve' at start")
	}
	db, err := openDatabase(ctx, st)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := prepareSchema(ctx, db, false, slog.New(slog.DiscardHandler)); err != nil {
		return err
	}
	rk, err := openRanker(ctx, rs)
	if err != nil {
		return err
	}
	defer rk.Close()
	p := standings.NewProjector(db, rk, discardPublisher{}, slog.New(slog.DiscardHandler), time.Now, "stride/replay")
	start := time.Now()
	if what == "standings" {
		n, err := p.RebuildStandings(ctx, db)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "standings of %d athletes recomputed in %s\n", n, time.Since(start).Round(time.Millisecond))
		return nil
	}
	stats, err := p.RebuildLeaderboards(ctx, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d boards (%d entries) rebuilt from %d athletes in %s\n", stats.Boards, stats.Entries, stats.Users, time.Since(start).Round(time.Millisecond))
	return nil
}
