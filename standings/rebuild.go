package standings

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

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
	boards := map[leaderboard.Board]*rebuiltBoard{}
	err := p.eachAthlete(ctx, users, func(userID string, facts []stride.ActivityFacts) error {
		stats.Users++
		for _, s := range leaderboard.Rebuild(facts) {
			b := boards[s.Board]
			if b == nil {
				// Once per board, not per entry: the name and the expiry
				// are the same for every entry of the board.
				b = &rebuiltBoard{name: s.Board.Name(), expireAt: s.Board.ExpireAt()}
				b.gone = !b.expireAt.IsZero() && !b.expireAt.After(now)
				boards[s.Board] = b
			}
			if !b.gone {
				b.entries = append(b.entries, ranker.Entry{Member: userID, Score: s.Score})
			}
		}
		return nil
	})
	if err != nil {
		return stats, err
	}
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
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan *rebuiltBoard)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(boards)) {
		wg.Go(func() {
			for b := range work {
				if err := p.ranker.Replace(ctx, b.name, b.entries, b.expireAt); err != nil {
					cancel(fmt.Errorf("replace board %s: %w", b.name, err))
				}
				b.entries = nil
			}
		})
	}
	for _, b := range boards {
		select {
		case work <- b:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
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

// eachAthlete calls fn with every athlete's activity facts, read a page of
// athletes at a time: one read per athlete made the rebuild of a million
// athletes a million round trips.
func (p *Projector) eachAthlete(ctx context.Context, users UserLister, fn func(userID string, facts []stride.ActivityFacts) error) error {
	page := stride.Page{Limit: stride.MaxPageLimit}
	for {
		list, next, err := users.ListUsers(ctx, page)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		ids := make([]string, len(list))
		for i, u := range list {
			ids[i] = u.ID
		}
		facts, err := p.store.ActivityFactsOfUsers(ctx, ids)
		if err != nil {
			return fmt.Errorf("load activity facts: %w", err)
		}
		for _, id := range ids {
			if err := fn(id, facts[id]); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		page.Cursor = next
	}
}
