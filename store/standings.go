package store

import (
	"context"

	"github.com/stridehq/stride"
)

// Standings stores what the achievement and record projection derives from
// an athlete's activities, and reads the activity facts it derives them from.
type Standings interface {
	// ActivityFacts returns the facts of every activity of the user that
	// counts (standalone activities and multisport legs, see
	// stride.ActivityFacts), oldest start first, ties by activity id. A leg
	// has its parent's visibility.
	ActivityFacts(ctx context.Context, userID string) ([]stride.ActivityFacts, error)
	// Achievements returns the user's achievements, oldest first (ties by
	// type).
	Achievements(ctx context.Context, userID string) ([]stride.Achievement, error)
	// Records returns the user's record progressions, by effort and then
	// oldest first.
	Records(ctx context.Context, userID string) ([]stride.Record, error)
	// SaveStandings replaces the user's achievements and records with the
	// given sets and writes the events, in one transaction. For a user that
	// no longer exists it writes nothing and returns nil (the account was
	// deleted while the projection worked).
	SaveStandings(ctx context.Context, userID string, achievements []stride.Achievement, records []stride.Record, events []OutboxEvent) error
}
