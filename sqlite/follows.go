package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

// Follow implements store.Follows.
func (db *DB) Follow(ctx context.Context, followerID, followeeID string, now time.Time) error {
	if followerID == followeeID {
		return stride.Errorf(stride.EINVALID, "You cannot follow yourself.")
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO follows (follower_id, followee_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (follower_id, followee_id) DO NOTHING`, followerID, followeeID, micros(now))
	if isForeignKeyViolation(err) {
		return notFound("User")
	}
	if err != nil {
		return fmt.Errorf("follow %s: %w", followeeID, err)
	}
	return nil
}

// Unfollow implements store.Follows.
func (db *DB) Unfollow(ctx context.Context, followerID, followeeID string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM follows WHERE follower_id = ? AND followee_id = ?`, followerID, followeeID); err != nil {
		return fmt.Errorf("unfollow %s: %w", followeeID, err)
	}
	return nil
}

// IsFollowing implements store.Follows.
func (db *DB) IsFollowing(ctx context.Context, followerID, followeeID string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM follows WHERE follower_id = ? AND followee_id = ?`,
		followerID, followeeID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check follow: %w", err)
	}
	return n > 0, nil
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
	before := int64(1<<63 - 1)
	beforeID := "\uffff"
	if page.Cursor != "" {
		t, id, err := store.DecodeCursor(page.Cursor)
		if err != nil {
			return nil, "", err
		}
		before, beforeID = micros(t), id
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+store.QualifyColumns("u.", userColumns)+`, f.created_at FROM follows f
		JOIN users u ON u.id = f.`+other+`
		WHERE f.`+self+` = ? AND (f.created_at, f.`+other+`) < (?, ?)
		ORDER BY f.created_at DESC, f.`+other+` DESC LIMIT ?`, userID, before, beforeID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list follows of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []store.FollowEntry
	for rows.Next() {
		var since int64
		u, err := scanUser(rows, &since)
		if err != nil {
			return nil, "", fmt.Errorf("list follows of %s: %w", userID, err)
		}
		out = append(out, store.FollowEntry{User: *u, Since: fromMicros(since)})
	}
	if err := rows.Err(); err != nil {
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
