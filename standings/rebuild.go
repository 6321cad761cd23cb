package standings

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/achievement"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/ranker"
)

// UserLister pages through every account.
type UserLister interface {
	ListUsers(ctx context.Context, page stride.Page) ([]stride.User, string, error)
}

// RebuildStats reports a rebuild.
type RebuildStats struct {
	Users   int
	Boards  int
	Entries int
}

// RebuildLeaderboards recomputes every live board from the store and
// replaces each one whole in the ranker (readers see the old board or the
// new one, never a mix). Boards of periods past their retention are not
// written. It is `stride replay leaderboards`, and how the in-memory ranker
// is filled at start-up.
//
// Events handled while it runs may be overwritten by the older state it
// read; the athlete's next event corrects them. Run it with the workers
// stopped for an exact result.
func (p *Projector) RebuildLeaderboards(ctx context.Context, users UserLister) (RebuildStats, error) {
	var stats RebuildStats
	now := p.now()
	// The athletes are scored on every core, each scorer collecting its
	// own boards (no lock, no shared map); the parts are joined at the end.
	pages := make(chan athletePage)
	parts := make([]map[leaderboard.Board]*rebuiltBoard, runtime.GOMAXPROCS(0))
	var scorers sync.WaitGroup
	for w := range parts {
		part := map[leaderboard.Board]*rebuiltBoard{}
		parts[w] = part
		scorers.Go(func() {
			for page := range pages {
				for _, id := range page.ids {
					addScores(part, id, page.facts[id], now)
				}
			}
		})
	}
	err := p.eachPage(ctx, users, func(page athletePage) error {
		stats.Users += len(page.ids)
		select {
		case pages <- page:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(pages)
	scorers.Wait()
	if err != nil {
		return stats, err
	}
	boards := joinParts(parts)
	var live []*rebuiltBoard
	for _, b := range boards {
		if !b.gone {
			live = append(live, b)
			stats.Boards++
			stats.Entries += len(b.entries)
		}
	}
	if err := p.replaceBoards(ctx, live); err != nil {
		return stats, err
	}
	if p.OnBoardsChanged != nil {
		p.OnBoardsChanged(ChangedBoards{All: true})
	}
	return stats, nil
}

// addScores adds one athlete's scores to the boards collected so far.
func addScores(boards map[leaderboard.Board]*rebuiltBoard, userID string, facts []stride.ActivityFacts, now time.Time) {
	for _, s := range leaderboard.Rebuild(facts) {
		b := boards[s.Board]
		if b == nil {
			// Once per board, not per entry: the name and the expiry are
			// the same for every entry of the board.
			b = &rebuiltBoard{name: s.Board.Name(), expireAt: s.Board.ExpireAt()}
			b.gone = !b.expireAt.IsZero() && !b.expireAt.After(now)
			boards[s.Board] = b
		}
		if !b.gone {
			b.entries = append(b.entries, ranker.Entry{Member: userID, Score: s.Score})
		}
	}
}

// joinParts merges the scorers' boards: an athlete was scored by one
// scorer only, so a board's parts hold different members.
func joinParts(parts []map[leaderboard.Board]*rebuiltBoard) map[leaderboard.Board]*rebuiltBoard {
	boards := parts[0]
	for _, part := range parts[1:] {
		for key, b := range part {
			if into := boards[key]; into != nil {
				into.entries = append(into.entries, b.entries...)
			} else {
				boards[key] = b
			}
			delete(part, key)
		}
	}
	return boards
}

// rebuiltBoard is a board as a rebuild collects it; gone marks a board of a
// period past its retention, which is not written.
type rebuiltBoard struct {
	name     string
	expireAt time.Time
	gone     bool
	entries  []ranker.Entry
}

// replaceBoards writes the boards, as many at a time as the process has
// cores: the in-memory ranker builds a board (a sort and a tree) before it
// takes its lock, so boards build side by side. Each board's entries are
// dropped once written, which lowers the rebuild's peak memory.
func (p *Projector) replaceBoards(ctx context.Context, boards []*rebuiltBoard) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, b := range boards {
		g.Go(func() error {
			defer func() { b.entries = nil }()
			if err := ctx.Err(); err != nil {
				return err // another board failed: build no more
			}
			if err := p.ranker.Replace(ctx, b.name, b.entries, b.expireAt); err != nil {
				return fmt.Errorf("replace board %s: %w", b.name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// RebuildStandings recomputes every athlete's achievements and records
// from the store, announcing nothing: it is for a changed rule set, not for
// news.
func (p *Projector) RebuildStandings(ctx context.Context, users UserLister) (int, error) {
	n := 0
	err := p.eachAthlete(ctx, users, func(userID string, facts []stride.ActivityFacts) error {
		if err := p.store.SaveStandings(ctx, userID, achievement.Evaluate(userID, facts, p.rules), achievement.Records(userID, facts), nil); err != nil {
			return fmt.Errorf("save standings of %s: %w", userID, err)
		}
		n++
		return nil
	})
	return n, err
}

// athletePage is the activity facts of a page of athletes, by id; an
// athlete without any has no key.
type athletePage struct {
	ids   []string
	facts map[string][]stride.ActivityFacts
}

// eachAthlete calls fn with every athlete's activity facts.
func (p *Projector) eachAthlete(ctx context.Context, users UserLister, fn func(userID string, facts []stride.ActivityFacts) error) error {
	return p.eachPage(ctx, users, func(page athletePage) error {
		for _, id := range page.ids {
			if err := fn(id, page.facts[id]); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachPage calls fn with every page of athletes and their facts, read in
// one query per page: one read per athlete made the rebuild of a million
// athletes a million round trips.
func (p *Projector) eachPage(ctx context.Context, users UserLister, fn func(athletePage) error) error {
	cursor := stride.Page{Limit: stride.MaxPageLimit}
	for {
		list, next, err := users.ListUsers(ctx, cursor)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		page := athletePage{ids: make([]string, len(list))}
		for i, u := range list {
			page.ids[i] = u.ID
		}
		if page.facts, err = p.store.ActivityFactsOfUsers(ctx, page.ids); err != nil {
			return fmt.Errorf("load activity facts: %w", err)
		}
		if err := fn(page); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		cursor.Cursor = next
	}
}
