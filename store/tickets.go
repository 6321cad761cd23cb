package store

import (
	"context"
	"time"
)

// Ticket lets a browser open a WebSocket: browsers cannot set an
// Authorization header on the upgrade, and a long-lived token must never
// travel in a URL, so the client trades its access token for a ticket that
// works once, within seconds. Only the SHA-256 of the ticket is kept.
type Ticket struct {
	Hash      []byte
	UserID    string
	SessionID string
	// TokenExpiresAt is the expiry of the access token the ticket was
	// bought with: the connection must renew by then, as with the token.
	TokenExpiresAt time.Time
	ExpiresAt      time.Time
}

// Tickets stores realtime tickets.
type Tickets interface {
	// CreateTicket stores a ticket, and deletes expired ones on the way.
	CreateTicket(ctx context.Context, t Ticket) error
	// ConsumeTicket deletes and returns the ticket with that hash if it has
	// not expired at now. Unknown, used or expired tickets are
	// EUNAUTHORIZED; of two concurrent calls for one ticket, one wins.
	ConsumeTicket(ctx context.Context, hash []byte, now time.Time) (*Ticket, error)
}
