// Package query is the read side for activities: it loads what the store
// keeps and applies the visibility rules, so that every endpoint answers
// "not found" alike for what is absent and for what the caller may not see.
package query

import (
	"context"
	"fmt"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/activity/streamcodec"
	"github.com/stridehq/stride/store"
)

// Store is what the read side needs.
type Store interface {
	Activity(ctx context.Context, id string) (*stride.Activity, error)
	ActivityStreams(ctx context.Context, id string) ([]byte, error)
	ListActivities(ctx context.Context, userID string, f store.ActivityFilter, page stride.Page) ([]stride.Activity, string, error)
	IsFollowing(ctx context.Context, followerID, followeeID string) (bool, error)
	UserByID(ctx context.Context, id string) (*stride.User, error)
}

// Activities answers activity queries for a viewer.
type Activities struct{ store Store }

// New returns the activity queries.
func New(s Store) *Activities { return &Activities{store: s} }

func notFound() error { return stride.Errorf(stride.ENOTFOUND, "Activity not found.") }

// Activity returns an activity the viewer may see.
func (q *Activities) Activity(ctx context.Context, viewerID, id string) (*stride.Activity, error) {
	a, err := q.store.Activity(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := q.canView(ctx, viewerID, a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound()
	}
	return a, nil
}

func (q *Activities) canView(ctx context.Context, viewerID string, a *stride.Activity) (bool, error) {
	if a.UserID == viewerID || a.Visibility == stride.VisibilityPublic {
		return true, nil
	}
	if a.Visibility != stride.VisibilityFollowers {
		return false, nil
	}
	follows, err := q.store.IsFollowing(ctx, viewerID, a.UserID)
	if err != nil {
		return false, fmt.Errorf("check visibility of %s: %w", a.ID, err)
	}
	return a.CanView(viewerID, follows), nil
}

// MaxStreamResolution caps downsampled streams.
const MaxStreamResolution = 10_000

// Streams returns the requested stream types of an activity the viewer may
// see; no types means all.
func (q *Activities) Streams(ctx context.Context, viewerID, id string, types []string) (*activity.Streams, error) {
	if _, err := q.Activity(ctx, viewerID, id); err != nil {
		return nil, err
	}
	data, err := q.store.ActivityStreams(ctx, id)
	if stride.ErrorCode(err) == stride.ENOTFOUND {
		return &activity.Streams{}, nil // a manual entry has no points
	}
	if err != nil {
		return nil, err
	}
	s, err := streamcodec.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode streams of %s: %w", id, err)
	}
	if len(types) == 0 {
		return s, nil
	}
	sel, err := streamcodec.Select(s, types)
	if err != nil {
		return nil, &stride.Error{Code: stride.EINVALID, Message: "The request has invalid fields.",
			Fields: []stride.FieldError{{Field: "types", Message: err.Error()}}}
	}
	return sel, nil
}

// List returns a user's activities that the viewer may see, newest first.
func (q *Activities) List(ctx context.Context, viewerID, userID string, f store.ActivityFilter, page stride.Page) ([]stride.Activity, string, error) {
	if _, err := q.store.UserByID(ctx, userID); err != nil {
		return nil, "", err
	}
	switch {
	case viewerID == userID:
		f.Visibilities = nil
	default:
		follows, err := q.store.IsFollowing(ctx, viewerID, userID)
		if err != nil {
			return nil, "", err
		}
		f.Visibilities = []string{stride.VisibilityPublic}
		if follows {
			f.Visibilities = append(f.Visibilities, stride.VisibilityFollowers)
		}
	}
	return q.store.ListActivities(ctx, userID, f, page)
}
