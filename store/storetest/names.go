package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

func testUserNames(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newUser(t, s, "names-a@example.com", base)
	b := newUser(t, s, "names-b@example.com", base)
	off := newUser(t, s, "names-off@example.com", base)
	if err := s.SetUserStatus(ctx, off.ID, stride.StatusDisabled, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserNames(ctx, []string{a.ID, b.ID, off.ID, "missing", a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[a.ID] != a.Name || got[b.ID] != b.Name {
		t.Fatalf("UserNames = %v, want the two active users' names", got)
	}
	if got, err := s.UserNames(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("UserNames(nil) = %v, %v", got, err)
	}
}
