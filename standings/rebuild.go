package standings

import (
	"context"
	"fmt"
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
	boards := map[string][]ranker.Entry{}
	expiry := map[string]time.Time{}
	err := p.eachAthlete(ctx, users, func(userID string, facts []stride.ActivityFacts) error {
		stats.Users++
		for _, s := range leaderboard.Rebuild(facts) {
			exp := s.Board.ExpireAt()
			if !exp.IsZero() && !exp.After(now) {
				continue
			}
			name := s.Board.Name()
			boards[name] = append(boards[name], ranker.Entry{Member: userID, Score: s.Score})
			expiry[name] = exp
		}
		return nil
	})
	if err != nil {
		return stats, err
	}
	for name, entries := range boards {
		if err := p.ranker.Replace(ctx, name, entries, expiry[name]); err != nil {
			return stats, fmt.Errorf("replace board %s: %w", name, err)
		}
		stats.Boards++
		stats.Entries += len(entries)
	}
	if p.OnBoardsChanged != nil {
		p.OnBoardsChanged(ChangedBoards{All: true})
	}
	return stats, nil
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

// eachAthlete calls fn with every athlete's activity facts.
func (p *Projector) eachAthlete(ctx context.Context, users UserLister, fn func(userID string, facts []stride.ActivityFacts) error) error {
	page := stride.Page{Limit: stride.MaxPageLimit}
	for {
		list, next, err := users.ListUsers(ctx, page)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		for _, u := range list {
			facts, err := p.store.ActivityFacts(ctx, u.ID)
			if err != nil {
				return fmt.Errorf("load activity facts of %s: %w", u.ID, err)
			}
			if err := fn(u.ID, facts); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		page.Cursor = next
	}
}
