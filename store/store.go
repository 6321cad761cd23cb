// Package store defines the system-of-record port: what the application needs
// from its database, whatever the database is. Adapters live in their own
// packages (sqlite, postgres) and all pass the one conformance suite in
// storetest, so the services above them cannot tell them apart.
//
// Every method takes a context first and returns *stride.Error values for
// conditions callers act on (ENOTFOUND, ECONFLICT, ...); anything else is an
// internal failure wrapped with what was being done.
package store

import (
	"context"
	"time"

	"github.com/stridehq/stride"
)

// Store is the whole port. It is split into smaller interfaces so that a
// service can ask for only what it uses.
type Store interface {
	Users
	Sessions
	Follows
	Invites
	Ingest
	Standings
	Live
	Tickets
	// Ping checks that the database answers, for readiness probes.
	Ping(ctx context.Context) error
	Close() error
}

// Users stores accounts.
type Users interface {
	// CreateUser inserts u with its password hash. A taken email is ECONFLICT.
	// When inviteHash is not nil the invite is consumed in the same
	// transaction; an unknown, used or expired invite is EREGISTRATION and
	// nothing is written.
	CreateUser(ctx context.Context, u *stride.User, passwordHash string, inviteHash []byte) error
	UserByID(ctx context.Context, id string) (*stride.User, error)
	// UserCredentials returns the account with that (normalized) email and
	// its password hash.
	UserCredentials(ctx context.Context, email string) (*stride.User, string, error)
	// UpdateProfile writes every profile field of u (not email, role, status).
	UpdateProfile(ctx context.Context, u *stride.User) error
	SetUserStatus(ctx context.Context, id, status string, now time.Time) error
	// UserNames returns the display names of those of ids that exist and
	// are active, in one read: the names beside a page of leaderboard
	// entries.
	UserNames(ctx context.Context, ids []string) (map[string]string, error)
	// ListUsers lists accounts, oldest first.
	ListUsers(ctx context.Context, page stride.Page) ([]stride.User, string, error)
	// DeleteUser removes the account and everything that belongs to it,
	// including its unsent outbox events (keyed by id: they would describe
	// data that no longer exists), and writes ev in the same transaction,
	// after that purge so that ev survives it: the deletion's own event,
	// for the projections kept outside the store (leaderboards). A missing
	// account is ENOTFOUND and nothing is written.
	DeleteUser(ctx context.Context, id string, ev OutboxEvent) error
}

// Session is one sign-in: a family of rotating refresh tokens. Access tokens
// name their session, so revoking it ends them at once.
type Session struct {
	ID        string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// RefreshToken is stored by the SHA-256 of its value only.
type RefreshToken struct {
	Hash      []byte
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Sessions stores sign-ins and their refresh tokens.
type Sessions interface {
	CreateSession(ctx context.Context, s Session, first RefreshToken) error
	// RotateRefreshToken exchanges a presented token for next, in one
	// transaction. An unknown or expired token, or one of a revoked or expired
	// session, is EUNAUTHORIZED. A token that was already exchanged is a sign
	// of theft: the whole session is revoked and the error is ETOKENREUSED.
	RotateRefreshToken(ctx context.Context, presented []byte, next RefreshToken, now time.Time) (Session, error)
	// RevokeSession ends a session; revoking twice is not an error.
	RevokeSession(ctx context.Context, userID, sessionID string, now time.Time) error
	// PurgeSessions deletes sessions that expired or were revoked before
	// cutoff, with their refresh tokens, and returns how many went.
	PurgeSessions(ctx context.Context, cutoff time.Time) (int64, error)
	// SessionUser returns the user of an unrevoked, unexpired session if the
	// account is active; otherwise EUNAUTHORIZED. It runs on every
	// authenticated request, so it must be a single indexed read.
	SessionUser(ctx context.Context, sessionID string, now time.Time) (*stride.User, error)
}

// FollowEntry is one user in a followers or following list.
type FollowEntry struct {
	User  stride.User
	Since time.Time
}

// Follows stores the follow graph.
type Follows interface {
	// Follow is idempotent. Following oneself is EINVALID; a missing followee
	// is ENOTFOUND.
	Follow(ctx context.Context, followerID, followeeID string, now time.Time) error
	// Unfollow is idempotent.
	Unfollow(ctx context.Context, followerID, followeeID string) error
	IsFollowing(ctx context.Context, followerID, followeeID string) (bool, error)
	// Followers and Following list newest edges first.
	Followers(ctx context.Context, userID string, page stride.Page) ([]FollowEntry, string, error)
	Following(ctx context.Context, userID string, page stride.Page) ([]FollowEntry, string, error)
}

// Invite lets one person register while registration is invite-only. Only
// the SHA-256 of the code is kept.
type Invite struct {
	CodeHash  []byte
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Invites stores registration invites.
type Invites interface {
	CreateInvite(ctx context.Context, inv Invite) error
}
