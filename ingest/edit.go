package ingest

import (
	"context"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/store"
)

// Events of an athlete's edits; projections recompute what depended on the
// activity.
const (
	EventUpdated = "activity.updated"
	EventDeleted = "activity.deleted"
)

// ChangedData is the payload of activity.updated and activity.deleted.
type ChangedData struct {
	ActivityID string  `json:"activity_id"`
	UserID     string  `json:"user_id"`
	Sport      *string `json:"sport,omitempty"`
	Visibility *string `json:"visibility,omitempty"`
	// Before lists what the activity counted for before the change: one entry per leg of a multisport activity, else one.
	Before []CountedAs `json:"before"`
}

// CountedAs is a sport and day an activity counted for, so that a
// projection can take it out of the periods it was in, even once the
// activity is gone.
type CountedAs struct {
	Sport     string `json:"sport"`
	LocalDate string `json:"local_date"`
	// Efforts names the best efforts it had: the effort boards it was on.
	Efforts []string `json:"efforts,omitempty"`
}

// countedAs lists what a stored activity counts for: its legs when it has
// any (they carry the sports), else itself.
func countedAs(a *stride.Activity) []CountedAs {
	legs := a.Children
	if len(legs) == 0 {
		legs = []stride.Activity{*a}
	}
	out := make([]CountedAs, len(legs))
	for i, l := range legs {
		out[i] = CountedAs{Sport: l.Sport, LocalDate: stride.LocalDate(l.LocalStart, l.StartTime), Efforts: slices.Sorted(maps.Keys(l.Efforts))}
	}
	return out
}

// UpdateActivity applies the owner's edit and emits activity.updated.
func (s *Service) UpdateActivity(ctx context.Context, userID, id string, upd store.ActivityUpdate) (*stride.Activity, error) {
	var v stride.Validation
	if upd.Name != nil {
		trimmed := strings.TrimSpace(*upd.Name)
		upd.Name = &trimmed
		if n := utf8.RuneCountInString(trimmed); n == 0 || n > 200 {
			v.Add("name", "must be 1 to 200 characters")
		}
	}
	if upd.Description != nil && utf8.RuneCountInString(*upd.Description) > 10_000 {
		v.Add("description", "must be at most 10000 characters")
	}
	if upd.Visibility != nil {
		switch *upd.Visibility {
		case stride.VisibilityPublic, stride.VisibilityFollowers, stride.VisibilityPrivate:
		default:
			v.Add("visibility", "must be public, followers or private")
		}
	}
	if upd.Sport != nil {
		sport := activity.SportFromName(*upd.Sport)
		if sport == activity.SportOther && !strings.EqualFold(*upd.Sport, string(activity.SportOther)) {
			v.Add("sport", "is not a known sport")
		}
		name := string(sport)
		upd.Sport = &name
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	event := func(before *stride.Activity) (store.OutboxEvent, error) {
		return s.event(EventUpdated, userID, id, ChangedData{ActivityID: id, UserID: userID, Sport: upd.Sport,
			Visibility: upd.Visibility, Before: countedAs(before)}, now)
	}
	a, err := s.store.UpdateActivity(ctx, userID, id, upd, event, now)
	if err != nil {
		return nil, err
	}
	s.notify()
	return a, nil
}

// DeleteActivity deletes the owner's activity and emits activity.deleted.
func (s *Service) DeleteActivity(ctx context.Context, userID, id string) error {
	now := s.now().UTC()
	event := func(before *stride.Activity) (store.OutboxEvent, error) {
		return s.event(EventDeleted, userID, id, ChangedData{ActivityID: id, UserID: userID, Before: countedAs(before)}, now)
	}
	if err := s.store.DeleteActivity(ctx, userID, id, event); err != nil {
		return err
	}
	s.notify()
	return nil
}
