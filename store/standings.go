package store

import (
	"context"

	"github.com/stridehq/stride"
)

// FactsVersion identifies the state of one athlete's activity facts: every
// transaction that adds, changes or removes an activity of theirs raises
// it. It lets a reader that kept the facts of version v, and learns that
// the version is now v+1 and that this one change added activity X, bring
// its copy up to date by adding X's facts alone, instead of reading the
// whole history again. It is 0 for a user that does not exist.
type FactsVersion int64

// Standings stores what the achievement and record projection derives from
// an athlete's activities, and reads the activity facts it derives them from.
type Standings interface {
	// ActivityFacts returns the facts of every activity of the user that
	// counts (standalone activities and multisport legs, see
	// stride.ActivityFacts), oldest start first, ties by activity id. A leg
	// has its parent's visibility.
	ActivityFacts(ctx context.Context, userID string) ([]stride.ActivityFacts, error)
	// ActivityFactsOfUsers is ActivityFacts for several users in one read,
	// keyed by user id; a user with no facts, or unknown, has no key. It
	// is for rebuilds, which would otherwise make a round trip per athlete.
	ActivityFactsOfUsers(ctx context.Context, userIDs []string) (map[string][]stride.ActivityFacts, error)
	// VersionedFacts is ActivityFacts with the user's facts version, both
	// read in one snapshot.
	VersionedFacts(ctx context.Context, userID string) (FactsVersion, []stride.ActivityFacts, error)
	// FactsOfActivity returns the facts of one activity of the user (the
	// activity itself, or its legs for a multisport one; none if it does
	// not exist), in ActivityFacts' order, with the user's facts version,
	// both read in one snapshot.
	FactsOfActivity(ctx context.Context, userID, activityID string) (FactsVersion, []stride.ActivityFacts, error)
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

// FactsByUser groups facts by user, keeping their order within each user:
// the adapters' ActivityFactsOfUsers.
func FactsByUser(facts []stride.ActivityFacts) map[string][]stride.ActivityFacts {
	out := make(map[string][]stride.ActivityFacts)
	for _, f := range facts {
		out[f.UserID] = append(out[f.UserID], f)
	}
	return out
}
