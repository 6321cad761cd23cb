package ingest

import (
	"context"
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
	ev, err := s.event(EventUpdated, userID, id, ChangedData{ActivityID: id, UserID: userID, Sport: upd.Sport, Visibility: upd.Visibility}, now)
	if err != nil {
		return nil, err
	}
	a, err := s.store.UpdateActivity(ctx, userID, id, upd, ev, now)
	if err != nil {
		return nil, err
	}
	s.notify()
	return a, nil
}

// DeleteActivity deletes the owner's activity and emits activity.deleted.
func (s *Service) DeleteActivity(ctx context.Context, userID, id string) error {
	ev, err := s.event(EventDeleted, userID, id, ChangedData{ActivityID: id, UserID: userID}, s.now().UTC())
	if err != nil {
		return err
	}
	if err := s.store.DeleteActivity(ctx, userID, id, ev); err != nil {
		return err
	}
	s.notify()
	return nil
}
