package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

// Follow implements store.Follows.
func (db *DB) Follow(ctx context.Context, followerID, followeeID string, now time.Time) error {
	if followerID == followeeID {
		return stride.Errorf(stride.EINVALID, "You cannot follow yourself.")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO follows (follower_id, followee_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (follower_id, followee_id) DO NOTHING`, followerID, followeeID, now)
	if isViolation(err, foreignKeyViolation) {
		return notFound("User")
	}
	if err != nil {
		return fmt.Errorf("follow %s: %w", followeeID, err)
	}
	return nil
}

// Unfollow implements store.Follows.
func (db *DB) Unfollow(ctx context.Context, followerID, followeeID string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2`, followerID, followeeID); err != nil {
		return fmt.Errorf("unfollow %s: %w", followeeID, err)
	}
	return nil
}

// IsFollowing implements store.Follows.
func (db *DB) IsFollowing(ctx context.Context, followerID, followeeID string) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = $2)`,
		followerID, followeeID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check follow: %w", err)
	}
	return ok, nil
}

// Followers implements store.Follows.
func (db *DB) Followers(ctx context.Context, userID string, page stride.Page) ([]store.FollowEntry, string, error) {
	return db.followList(ctx, "followee_id", "follower_id", userID, page)
}

// Following implements store.Follows.
func (db *DB) Following(ctx context.Context, userID string, page stride.Page) ([]store.FollowEntry, string, error) {
	return db.followList(ctx, "follower_id", "followee_id", userID, page)
}

// followList pages through the edges where column `self` is userID, newest
// first, returning the users at the `other` end.
func (db *DB) followList(ctx context.Context, self, other, userID string, page stride.Page) ([]store.FollowEntry, string, error) {
	limit := store.PageLimit(page)
	before, beforeID := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "\uffff"
	if page.Cursor != "" {
		var err error
		if before, beforeID, err = store.DecodeCursor(page.Cursor); err != nil {
			return nil, "", err
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT `+store.QualifyColumns("u.", userColumns)+`, f.created_at FROM follows f
		JOIN users u ON u.id = f.`+other+`
		WHERE f.`+self+` = $1 AND (f.created_at, f.`+other+`) < ($2, $3)
		ORDER BY f.created_at DESC, f.`+other+` DESC LIMIT $4`, userID, before, beforeID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list follows of %s: %w", userID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.FollowEntry, error) {
		var since time.Time
		u, err := scanUser(r, &since)
		if err != nil {
			return store.FollowEntry{}, err
		}
		return store.FollowEntry{User: *u, Since: since.UTC()}, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list follows of %s: %w", userID, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = store.EncodeCursor(last.Since, last.User.ID)
	}
	return out, next, nil
}
