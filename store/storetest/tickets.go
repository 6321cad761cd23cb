package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

func testTickets(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "tickets@example.com", base)
	now := time.Now().UTC().Truncate(time.Microsecond)
	tk := store.Ticket{Hash: []byte("hash-1"), UserID: u.ID, SessionID: "session-1", TokenExpiresAt: now.Add(10 * time.Minute), ExpiresAt: now.Add(30 * time.Second)}
	if err := s.CreateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsumeTicket(ctx, tk.Hash, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != u.ID || got.SessionID != "session-1" || !got.TokenExpiresAt.Equal(tk.TokenExpiresAt) || !got.ExpiresAt.Equal(tk.ExpiresAt) || !bytes.Equal(got.Hash, tk.Hash) {
		t.Fatalf("ticket %+v, want %+v", got, tk)
	}
	// Single use.
	_, err = s.ConsumeTicket(ctx, tk.Hash, now)
	wantCode(t, err, stride.EUNAUTHORIZED)
	// Expired.
	old := store.Ticket{Hash: []byte("hash-2"), UserID: u.ID, SessionID: "s", TokenExpiresAt: now, ExpiresAt: now.Add(time.Second)}
	if err := s.CreateTicket(ctx, old); err != nil {
		t.Fatal(err)
	}
	_, err = s.ConsumeTicket(ctx, old.Hash, now.Add(time.Second))
	wantCode(t, err, stride.EUNAUTHORIZED)
	_, err = s.ConsumeTicket(ctx, []byte("never issued"), now)
	wantCode(t, err, stride.EUNAUTHORIZED)

	// Of concurrent uses, exactly one wins.
	race := store.Ticket{Hash: []byte("hash-3"), UserID: u.ID, SessionID: "s", TokenExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(time.Minute)}
	if err := s.CreateTicket(ctx, race); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Go(func() {
			if _, err := s.ConsumeTicket(ctx, race.Hash, now); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if stride.ErrorCode(err) != stride.EUNAUTHORIZED {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent uses of one ticket succeeded, want 1", wins)
	}
}
