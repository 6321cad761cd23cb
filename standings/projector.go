// Package standings keeps the projections of athletes' activities that rank
// and reward them: achievements, personal records and leaderboards. The
// Projector consumes activity events and recomputes, from the store, what
// the event's activity counted for, and takes deleted accounts off the
// leaderboards; the Reader serves them with the visibility rules of the
// API.
//
// Every write is an absolute value recomputed from the store (never an
// increment), so handling an event twice, or out of order with a rebuild,
// leaves the same state: that is what makes the ranker, which is outside
// the store's transaction, safe to redeliver into.
package standings

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/achievement"
	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/store"
)

// Events this package emits.
const (
	EventAchievementUnlocked = "achievement.unlocked"
	EventRecordSet           = "record.set"
	EventLeaderboardChanged  = "leaderboard.changed"
)

// Group is the projector's consumer group.
const Group = "standings"

// Store is what the projector needs of the system of record.
type Store interface {
	store.Standings
}

// Publisher publishes events that are not part of a store transaction:
// leaderboard.changed follows a ranker write.
type Publisher interface {
	Publish(ctx context.Context, events ...bus.Event) error
}

// Projector handles activity events for achievements, records and
// leaderboards.
type Projector struct {
	store  Store
	ranker ranker.Ranker
	bus    Publisher
	rules  []achievement.Rule
	log    *slog.Logger
	now    func() time.Time
	source string
	// Metrics, when set, receives how long after the 202 each upload's
	// effects reached the leaderboards.
	Metrics *Metrics
	// facts keeps athletes' facts between their events; nil reads the
	// whole history on every event (see SetFactsCache).
	facts *factsCache
	// OnBoardsChanged, when set, is called with what the projector has
	// just written to the ranker (before leaderboard.changed is published,
	// and with All after a rebuild): Reader.BoardsChanged, so that the
	// reads of this process see the write at once.
	OnBoardsChanged func(ChangedBoards)
}

// NewProjector returns a projector writing boards to r and publishing
// leaderboard.changed on b.
func NewProjector(s Store, r ranker.Ranker, b Publisher, log *slog.Logger, now func() time.Time, source string) *Projector {
	return &Projector{store: s, ranker: r, bus: b, rules: achievement.Rules, log: log, now: now, source: source,
		facts: newFactsCache(DefaultFactsCache)}
}

// SetFactsCache bounds how many activity facts the projector keeps between
// events (DefaultFactsCache unless set); 0 keeps none, and every event
// reads the athlete's whole history.
func (p *Projector) SetFactsCache(max int) {
	if max <= 0 {
		p.facts = nil
		return
	}
	p.facts = newFactsCache(max)
}

// ConsumerConfig is the projector's bus subscription.
func (p *Projector) ConsumerConfig() bus.ConsumerConfig {
	// The projector waits on the store, the ranker and the bus far more
	// than it computes: more handlers than cores keep them busy.
	return bus.ConsumerConfig{Group: Group, Concurrency: 8, Types: []string{ingest.EventProcessed, ingest.EventUpdated, ingest.EventDeleted, account.EventUserDeleted}}
}

// ChangedBoards is the payload of leaderboard.changed: one athlete's
// scores were rewritten on every board of these sports (and "all") and
// periods, for every metric, tier and env. Subscribers match the boards
// they watch against it.
type ChangedBoards struct {
	UserID  string   `json:"user_id"`
	Sports  []string `json:"sports"`
	Periods []string `json:"periods"` // "week:2026-W47", "month:2026-11", "year:2026", "all:all"
	// All says the athlete left every board (a deleted account): the
	// sports and periods are unknown.
	All bool `json:"all,omitempty"`
}

// Handle is the bus handler.
func (p *Projector) Handle(ctx context.Context, d bus.Delivery) error {
	switch d.Event.Type {
	case ingest.EventProcessed:
		var data ingest.ProcessedData
		if err := json.Unmarshal(d.Event.Data, &data); err != nil || data.UserID == "" {
			return fmt.Errorf("event %s: bad %s payload: %v", d.Event.ID, d.Event.Type, err)
		}
		if err := p.apply(ctx, data.UserID, data.ActivityID, nil, true); err != nil {
			return err
		}
		if !data.AcceptedAt.IsZero() {
			p.Metrics.boardWritten(p.now().Sub(data.AcceptedAt))
		}
		return nil
	case ingest.EventUpdated, ingest.EventDeleted:
		var data ingest.ChangedData
		if err := json.Unmarshal(d.Event.Data, &data); err != nil || data.UserID == "" {
			return fmt.Errorf("event %s: bad %s payload: %v", d.Event.ID, d.Event.Type, err)
		}
		return p.Apply(ctx, data.UserID, data.ActivityID, data.Before)
	case account.EventUserDeleted:
		var data account.DeletedData
		if err := json.Unmarshal(d.Event.Data, &data); err != nil || data.UserID == "" {
			return fmt.Errorf("event %s: bad %s payload: %v", d.Event.ID, d.Event.Type, err)
		}
		return p.RemoveUser(ctx, data.UserID)
	}
	return nil
}

// RemoveUser takes a deleted athlete off every leaderboard. The store's
// cascade already took their achievements and records, and their unsent
// activity events, so only the boards, outside the store, are left. The
// boards that held them are unknown (the facts are gone with the
// account), hence the ranker's whole pass; it is idempotent, so a
// redelivery or a retry after a partial pass is safe. Nothing is
// published: leaderboard.changed names sports and periods, which are not
// known here either.
func (p *Projector) RemoveUser(ctx context.Context, userID string) error {
	if p.facts != nil {
		p.facts.drop(userID)
	}
	if err := p.ranker.RemoveMember(ctx, userID); err != nil {
		return fmt.Errorf("remove %s from the leaderboards: %w", userID, err)
	}
	return p.announce(ctx, ChangedBoards{UserID: userID, All: true})
}

// Apply recomputes the athlete's standings after a change to one activity:
// before is what it counted for before the change (nil for a new one).
func (p *Projector) Apply(ctx context.Context, userID, activityID string, before []ingest.CountedAs) error {
	return p.apply(ctx, userID, activityID, before, false)
}

// apply is Apply; added says that the change added the activity (an
// activity.processed event), which lets it read that activity alone.
func (p *Projector) apply(ctx context.Context, userID, activityID string, before []ingest.CountedAs, added bool) error {
	facts, err := p.athleteFacts(ctx, userID, activityID, added)
	if err != nil {
		return fmt.Errorf("load activity facts of %s: %w", userID, err)
	}
	if err := p.saveAchievements(ctx, userID, facts); err != nil {
		return err
	}
	var touched []leaderboard.Touched
	for _, b := range before {
		touched = append(touched, leaderboard.Touched{Sport: b.Sport, LocalDate: b.LocalDate, Efforts: b.Efforts})
	}
	for _, f := range facts {
		if f.ActivityID == activityID || f.ParentID == activityID {
			touched = append(touched, leaderboard.Touched{Sport: f.Sport, LocalDate: f.LocalDate})
		}
	}
	if len(touched) == 0 {
		return nil // deleted before it was projected, and nothing counted
	}
	return p.writeBoards(ctx, userID, facts, touched)
}

// athleteFacts returns the athlete's facts as the store holds them now.
// With a copy at version v in the cache, and the store at v+1 because of
// the one transaction that added the event's activity (every change to an
// athlete's activities raises the version, see store.FactsVersion), the
// copy plus that activity's facts is the store's state: only those are
// read. Anything else (another change in between, an edit, a deletion, no
// copy) reads the whole history and keeps it for the next event.
func (p *Projector) athleteFacts(ctx context.Context, userID, activityID string, added bool) ([]stride.ActivityFacts, error) {
	if p.facts == nil {
		p.Metrics.factsRead(factsWholeRead)
		facts, err := p.store.ActivityFacts(ctx, userID)
		sortFacts(facts)
		return facts, err
	}
	if v, cached, ok := p.facts.get(userID); ok && added {
		now, fresh, err := p.store.FactsOfActivity(ctx, userID, activityID)
		if err != nil {
			return nil, err
		}
		switch {
		case now == v: // nothing changed since the copy: a redelivery
			p.Metrics.factsRead(factsFromCopy)
			return cached, nil
		case now == v+1 && len(fresh) > 0 && !holds(cached, activityID):
			sortFacts(fresh)
			merged := mergeFacts(cached, fresh)
			p.facts.put(userID, now, merged)
			p.Metrics.factsRead(factsAddedToCopy)
			return merged, nil
		}
	}
	p.Metrics.factsRead(factsWholeRead)
	v, facts, err := p.store.VersionedFacts(ctx, userID)
	if err != nil {
		return nil, err
	}
	sortFacts(facts)
	if v == 0 { // no such user (any more)
		p.facts.drop(userID)
	} else {
		p.facts.put(userID, v, facts)
	}
	return facts, nil
}

func (p *Projector) saveAchievements(ctx context.Context, userID string, facts []stride.ActivityFacts) error {
	computed := achievement.Evaluate(userID, facts, p.rules)
	records := achievement.Records(userID, facts)
	storedA, err := p.store.Achievements(ctx, userID)
	if err != nil {
		return fmt.Errorf("load achievements of %s: %w", userID, err)
	}
	storedR, err := p.store.Records(ctx, userID)
	if err != nil {
		return fmt.Errorf("load records of %s: %w", userID, err)
	}
	if achievement.Same(storedA, computed, storedR, records) {
		return nil
	}
	unlocked, set := achievement.Changes(storedA, computed, storedR, records)
	now := p.now().UTC()
	var events []store.OutboxEvent
	for _, a := range unlocked {
		ev, err := ingest.NewOutboxEvent(p.source, EventAchievementUnlocked, userID, a.ActivityID, AchievementJSON(a), now)
		if err != nil {
			return err
		}
		events = append(events, ev)
	}
	for _, r := range set {
		ev, err := ingest.NewOutboxEvent(p.source, EventRecordSet, userID, r.ActivityID, RecordJSON(r), now)
		if err != nil {
			return err
		}
		events = append(events, ev)
	}
	if err := p.store.SaveStandings(ctx, userID, computed, records, events); err != nil {
		return fmt.Errorf("save standings of %s: %w", userID, err)
	}
	return nil
}

func (p *Projector) writeBoards(ctx context.Context, userID string, facts []stride.ActivityFacts, touched []leaderboard.Touched) error {
	scores, err := leaderboard.Scores(facts, touched)
	if err != nil {
		return fmt.Errorf("leaderboard scores of %s: %w", userID, err)
	}
	now := p.now()
	updates := make([]ranker.Update, 0, len(scores))
	sports, periods := map[string]bool{}, map[string]bool{}
	for _, s := range scores {
		exp := s.Board.ExpireAt()
		if !exp.IsZero() && !exp.After(now) {
			continue // a late event for a period whose boards are gone
		}
		updates = append(updates, ranker.Update{Board: s.Board.Name(), Member: userID, Score: s.Score, Remove: !s.Present, ExpireAt: exp})
		sports[s.Board.Sport] = true
		periods[string(s.Board.Period.Kind)+":"+s.Board.Period.Key] = true
	}
	if len(updates) == 0 {
		return nil
	}
	if err := p.ranker.Set(ctx, updates...); err != nil {
		return fmt.Errorf("write leaderboards of %s: %w", userID, err)
	}
	return p.announce(ctx, ChangedBoards{UserID: userID, Sports: sortedTrue(sports), Periods: sortedTrue(periods)})
}

// announce publishes leaderboard.changed for the realtime layer, and
// tells OnBoardsChanged first.
func (p *Projector) announce(ctx context.Context, ch ChangedBoards) error {
	if p.OnBoardsChanged != nil {
		p.OnBoardsChanged(ch)
	}
	data, err := json.Marshal(ch)
	if err != nil {
		return fmt.Errorf("encode %s: %w", EventLeaderboardChanged, err)
	}
	now := p.now()
	ev := bus.Event{ID: stride.NewID(now), Type: EventLeaderboardChanged, Source: p.source, Subject: ch.UserID, Time: now.UTC(),
		Key: ch.UserID, SchemaVersion: 1, Data: data}.Normalize()
	if err := p.bus.Publish(ctx, ev); err != nil {
		return fmt.Errorf("publish %s: %w", EventLeaderboardChanged, err)
	}
	return nil
}

func sortedTrue(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
