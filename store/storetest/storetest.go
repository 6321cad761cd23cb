// Package storetest is the conformance suite of the store port. Every adapter
// runs it against a fresh, migrated, empty store (its own database or schema),
// so that the services above cannot tell one adapter from another.
package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

// Factory returns a new empty, migrated store. The adapter's test registers
// its own cleanup on t.
type Factory func(t *testing.T) store.Store

// Run runs every conformance test against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateAndLoadUser", testCreateAndLoadUser},
		{"DuplicateEmail", testDuplicateEmail},
		{"UpdateProfile", testUpdateProfile},
		{"UserStatus", testUserStatus},
		{"ListUsersPaginates", testListUsersPaginates},
		{"UserNames", testUserNames},
		{"Tickets", testTickets},
		{"BadCursor", testBadCursor},
		{"Invites", testInvites},
		{"SessionRotation", testSessionRotation},
		{"RefreshReuseRevokesSession", testRefreshReuseRevokesSession},
		{"SessionExpiryAndRevocation", testSessionExpiryAndRevocation},
		{"PurgeSessions", testPurgeSessions},
		{"Follows", testFollows},
		{"FollowListsPaginate", testFollowListsPaginate},
		{"DeleteUserCascades", testDeleteUserCascades},
	}
	tests = append(tests, ingestTests...)
	tests = append(tests, standingsTests...)
	tests = append(tests, liveTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

// base is a fixed instant so that tests do not depend on the clock; stores
// must keep at least microsecond precision.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

func ptr[T any](v T) *T { return &v }

func newUser(t *testing.T, s store.Store, email string, created time.Time) *stride.User {
	t.Helper()
	u := &stride.User{
		ID: stride.NewID(created), Email: email, Name: "Athlete " + email, Role: stride.RoleAthlete,
		Status: stride.StatusActive, Units: "metric", DefaultVisibility: stride.VisibilityFollowers,
		CreatedAt: created, UpdatedAt: created,
	}
	if err := s.CreateUser(context.Background(), u, "hash-of-"+email, nil); err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := stride.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func testCreateAndLoadUser(t *testing.T, s store.Store) {
	ctx := context.Background()
	bd := stride.Date{Year: 1990, Month: 5, Day: 17}
	u := &stride.User{
		ID: stride.NewID(base), Email: "ana@example.com", Name: "Ana", Role: stride.RoleAdmin, Status: stride.StatusActive,
		BirthDate: &bd, HeightM: ptr(1.68), WeightKg: ptr(57.5), Gender: "female", Goals: "Sub-3 marathon",
		TimeZone: "Europe/Lisbon", Units: "imperial", RestingHR: ptr(48), MaxHR: ptr(188), FTPW: ptr(230),
		DefaultVisibility: stride.VisibilityPublic, CreatedAt: base, UpdatedAt: base.Add(time.Second),
	}
	if err := s.CreateUser(ctx, u, "argon-hash", nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := userDiff(u, got); diff != "" {
		t.Fatalf("UserByID: %s", diff)
	}
	got, hash, err := s.UserCredentials(ctx, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if hash != "argon-hash" || got.ID != u.ID {
		t.Fatalf("UserCredentials = %s, %q", got.ID, hash)
	}
	_, err = s.UserByID(ctx, "missing")
	wantCode(t, err, stride.ENOTFOUND)
	_, _, err = s.UserCredentials(ctx, "nobody@example.com")
	wantCode(t, err, stride.ENOTFOUND)
}

func userDiff(want, got *stride.User) string {
	w, g := fmt.Sprintf("%+v", flatten(want)), fmt.Sprintf("%+v", flatten(got))
	if w != g {
		return fmt.Sprintf("\n got %s\nwant %s", g, w)
	}
	return ""
}

// flatten dereferences a user's optional fields so they compare by value.
func flatten(u *stride.User) map[string]any {
	deref := func(v any) any {
		switch p := v.(type) {
		case *float64:
			if p != nil {
				return *p
			}
		case *int:
			if p != nil {
				return *p
			}
		case *stride.Date:
			if p != nil {
				return p.String()
			}
		}
		return nil
	}
	return map[string]any{
		"id": u.ID, "email": u.Email, "name": u.Name, "role": u.Role, "status": u.Status,
		"birth": deref(u.BirthDate), "height": deref(u.HeightM), "weight": deref(u.WeightKg), "gender": u.Gender,
		"goals": u.Goals, "tz": u.TimeZone, "units": u.Units, "rest": deref(u.RestingHR), "max": deref(u.MaxHR),
		"ftp": deref(u.FTPW), "vis": u.DefaultVisibility, "created": u.CreatedAt.UTC().Format(time.RFC3339Nano),
		"updated": u.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
}

func testDuplicateEmail(t *testing.T, s store.Store) {
	newUser(t, s, "dup@example.com", base)
	u := &stride.User{ID: stride.NewID(base), Email: "dup@example.com", Name: "Other", Role: stride.RoleAthlete,
		Status: stride.StatusActive, Units: "metric", DefaultVisibility: stride.VisibilityPublic, CreatedAt: base, UpdatedAt: base}
	wantCode(t, s.CreateUser(context.Background(), u, "h", nil), stride.ECONFLICT)
	if _, err := s.UserByID(context.Background(), u.ID); stride.ErrorCode(err) != stride.ENOTFOUND {
		t.Fatalf("the refused user was written: %v", err)
	}
}

func testUpdateProfile(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "upd@example.com", base)
	u.Name, u.WeightKg, u.MaxHR, u.TimeZone = "New Name", ptr(70.25), ptr(190), "America/New_York"
	u.UpdatedAt = base.Add(time.Hour)
	if err := s.UpdateProfile(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := userDiff(u, got); diff != "" {
		t.Fatal(diff)
	}
	u.WeightKg = nil
	if err := s.UpdateProfile(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UserByID(ctx, u.ID); got.WeightKg != nil {
		t.Fatalf("weight not cleared: %v", *got.WeightKg)
	}
	missing := *u
	missing.ID = "missing"
	wantCode(t, s.UpdateProfile(ctx, &missing), stride.ENOTFOUND)
}

func testUserStatus(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "status@example.com", base)
	if err := s.SetUserStatus(ctx, u.ID, stride.StatusDisabled, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.UserByID(ctx, u.ID)
	if got.Status != stride.StatusDisabled {
		t.Fatalf("status = %q", got.Status)
	}
	wantCode(t, s.SetUserStatus(ctx, "missing", stride.StatusDisabled, base), stride.ENOTFOUND)
}

func testListUsersPaginates(t *testing.T, s store.Store) {
	ctx := context.Background()
	var want []string
	for i := range 7 {
		// Two users share each creation time to exercise the id tie-break.
		want = append(want, newUser(t, s, fmt.Sprintf("u%d@example.com", i), base.Add(time.Duration(i/2)*time.Second)).ID)
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		users, next, err := s.ListUsers(ctx, stride.Page{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(users) > 3 {
			t.Fatalf("page of %d users, limit 3", len(users))
		}
		for _, u := range users {
			got = append(got, u.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	sortByCreation(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("paged ids\n got %v\nwant %v", got, want)
	}
}

// sortByCreation orders ids as the store must: they embed their creation
// time first, so byte order is creation order with a stable tie-break.
func sortByCreation(ids []string) {
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
}

func testBadCursor(t *testing.T, s store.Store) {
	_, _, err := s.ListUsers(context.Background(), stride.Page{Cursor: "not-a-cursor"})
	wantCode(t, err, stride.EINVALID)
	_, _, err = s.Followers(context.Background(), "x", stride.Page{Cursor: "%%%"})
	wantCode(t, err, stride.EINVALID)
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func testInvites(t *testing.T, s store.Store) {
	ctx := context.Background()
	admin := newUser(t, s, "admin@example.com", base)
	if err := s.CreateInvite(ctx, store.Invite{CodeHash: hashOf("code-1"), CreatedBy: admin.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateInvite(ctx, store.Invite{CodeHash: hashOf("old"), CreatedBy: admin.ID, CreatedAt: base, ExpiresAt: base.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	mk := func(email string, at time.Time) *stride.User {
		return &stride.User{ID: stride.NewID(at), Email: email, Name: "Invitee", Role: stride.RoleAthlete, Status: stride.StatusActive,
			Units: "metric", DefaultVisibility: stride.VisibilityPublic, CreatedAt: at, UpdatedAt: at}
	}
	// Unknown and expired codes write nothing.
	bad := mk("bad@example.com", base.Add(2*time.Minute))
	wantCode(t, s.CreateUser(ctx, bad, "h", hashOf("nope")), stride.EREGISTRATION)
	wantCode(t, s.CreateUser(ctx, bad, "h", hashOf("old")), stride.EREGISTRATION)
	if _, err := s.UserByID(ctx, bad.ID); stride.ErrorCode(err) != stride.ENOTFOUND {
		t.Fatalf("user written despite a bad invite: %v", err)
	}
	ok := mk("ok@example.com", base.Add(2*time.Minute))
	if err := s.CreateUser(ctx, ok, "h", hashOf("code-1")); err != nil {
		t.Fatal(err)
	}
	// An invite is single-use.
	wantCode(t, s.CreateUser(ctx, mk("again@example.com", base.Add(3*time.Minute)), "h", hashOf("code-1")), stride.EREGISTRATION)
}

func testSessionRotation(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "sess@example.com", base)
	sess := store.Session{ID: stride.NewID(base), UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(30 * 24 * time.Hour)}
	if err := s.CreateSession(ctx, sess, store.RefreshToken{Hash: hashOf("r1"), SessionID: sess.ID, CreatedAt: base, ExpiresAt: base.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SessionUser(ctx, sess.ID, base.Add(time.Minute))
	if err != nil || got.ID != u.ID {
		t.Fatalf("SessionUser = %v, %v", got, err)
	}
	now := base.Add(time.Hour)
	rotated, err := s.RotateRefreshToken(ctx, hashOf("r1"), store.RefreshToken{Hash: hashOf("r2"), CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}, now)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.ID != sess.ID || rotated.UserID != u.ID {
		t.Fatalf("rotated session = %+v", rotated)
	}
	if _, err := s.RotateRefreshToken(ctx, hashOf("r2"), store.RefreshToken{Hash: hashOf("r3"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, now); err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	_, err = s.RotateRefreshToken(ctx, hashOf("unknown"), store.RefreshToken{Hash: hashOf("x"), CreatedAt: now, ExpiresAt: now}, now)
	wantCode(t, err, stride.EUNAUTHORIZED)
	// An expired refresh token is refused.
	late := now.Add(2 * time.Hour)
	_, err = s.RotateRefreshToken(ctx, hashOf("r3"), store.RefreshToken{Hash: hashOf("r4"), CreatedAt: late, ExpiresAt: late.Add(time.Hour)}, late)
	wantCode(t, err, stride.EUNAUTHORIZED)
	// A session of a missing user cannot be created.
	wantCode(t, s.CreateSession(ctx, store.Session{ID: "s-missing", UserID: "missing", CreatedAt: base, ExpiresAt: late},
		store.RefreshToken{Hash: hashOf("m"), SessionID: "s-missing", CreatedAt: base, ExpiresAt: late}), stride.ENOTFOUND)
}

func testRefreshReuseRevokesSession(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "reuse@example.com", base)
	sess := store.Session{ID: stride.NewID(base), UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour * 24)}
	if err := s.CreateSession(ctx, sess, store.RefreshToken{Hash: hashOf("a"), SessionID: sess.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	now := base.Add(time.Minute)
	if _, err := s.RotateRefreshToken(ctx, hashOf("a"), store.RefreshToken{Hash: hashOf("b"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	// The thief (or the victim) presents the old token again.
	_, err := s.RotateRefreshToken(ctx, hashOf("a"), store.RefreshToken{Hash: hashOf("c"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, now)
	wantCode(t, err, stride.ETOKENREUSED)
	// The whole family is now dead, including the newest token...
	_, err = s.RotateRefreshToken(ctx, hashOf("b"), store.RefreshToken{Hash: hashOf("d"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, now)
	wantCode(t, err, stride.EUNAUTHORIZED)
	// ...and access tokens of the session stop working.
	_, err = s.SessionUser(ctx, sess.ID, now)
	wantCode(t, err, stride.EUNAUTHORIZED)
}

func testSessionExpiryAndRevocation(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "rev@example.com", base)
	other := newUser(t, s, "other@example.com", base)
	mk := func(id string, ttl time.Duration) store.Session {
		sess := store.Session{ID: id, UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(ttl)}
		if err := s.CreateSession(ctx, sess, store.RefreshToken{Hash: hashOf(id), SessionID: id, CreatedAt: base, ExpiresAt: base.Add(ttl)}); err != nil {
			t.Fatal(err)
		}
		return sess
	}
	short, long := mk("short-"+u.ID, time.Minute), mk("long-"+u.ID, time.Hour)
	_, err := s.SessionUser(ctx, short.ID, base.Add(2*time.Minute))
	wantCode(t, err, stride.EUNAUTHORIZED)
	// Another user cannot revoke this user's session.
	if err := s.RevokeSession(ctx, other.ID, long.ID, base); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionUser(ctx, long.ID, base); err != nil {
		t.Fatalf("session revoked by another user: %v", err)
	}
	for range 2 { // idempotent
		if err := s.RevokeSession(ctx, u.ID, long.ID, base); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.SessionUser(ctx, long.ID, base)
	wantCode(t, err, stride.EUNAUTHORIZED)
	_, err = s.RotateRefreshToken(ctx, hashOf(long.ID), store.RefreshToken{Hash: hashOf("n"), CreatedAt: base, ExpiresAt: base.Add(time.Hour)}, base)
	wantCode(t, err, stride.EUNAUTHORIZED)

	// A disabled account's live sessions stop at once.
	live := mk("live-"+u.ID, time.Hour)
	if err := s.SetUserStatus(ctx, u.ID, stride.StatusDisabled, base); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionUser(ctx, live.ID, base)
	wantCode(t, err, stride.EUNAUTHORIZED)
	if err := s.SetUserStatus(ctx, u.ID, stride.StatusActive, base); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionUser(ctx, live.ID, base); err != nil {
		t.Fatalf("re-enabled account: %v", err)
	}
}

func testPurgeSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "purge@example.com", base)
	for i, ttl := range []time.Duration{time.Minute, time.Hour, 48 * time.Hour} {
		id := fmt.Sprintf("p%d-%s", i, u.ID)
		if err := s.CreateSession(ctx, store.Session{ID: id, UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(ttl)},
			store.RefreshToken{Hash: hashOf(id), SessionID: id, CreatedAt: base, ExpiresAt: base.Add(ttl)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PurgeSessions(ctx, base.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("purged %d sessions, want 2", n)
	}
	if _, err := s.SessionUser(ctx, "p2-"+u.ID, base.Add(2*time.Hour)); err != nil {
		t.Fatalf("live session purged: %v", err)
	}
}

func testFollows(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := newUser(t, s, "a@example.com", base), newUser(t, s, "b@example.com", base)
	for range 2 { // idempotent
		if err := s.Follow(ctx, a.ID, b.ID, base); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, s.Follow(ctx, a.ID, a.ID, base), stride.EINVALID)
	wantCode(t, s.Follow(ctx, a.ID, "missing", base), stride.ENOTFOUND)
	if ok, err := s.IsFollowing(ctx, a.ID, b.ID); err != nil || !ok {
		t.Fatalf("IsFollowing(a, b) = %v, %v", ok, err)
	}
	if ok, _ := s.IsFollowing(ctx, b.ID, a.ID); ok {
		t.Fatal("follow is not symmetric")
	}
	followers, _, err := s.Followers(ctx, b.ID, stride.Page{})
	if err != nil || len(followers) != 1 || followers[0].User.ID != a.ID || !followers[0].Since.Equal(base) {
		t.Fatalf("Followers(b) = %+v, %v", followers, err)
	}
	following, _, err := s.Following(ctx, a.ID, stride.Page{})
	if err != nil || len(following) != 1 || following[0].User.ID != b.ID {
		t.Fatalf("Following(a) = %+v, %v", following, err)
	}
	for range 2 {
		if err := s.Unfollow(ctx, a.ID, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := s.IsFollowing(ctx, a.ID, b.ID); ok {
		t.Fatal("still following after unfollow")
	}
}

func testFollowListsPaginate(t *testing.T, s store.Store) {
	ctx := context.Background()
	star := newUser(t, s, "star@example.com", base)
	var want []string
	for i := range 5 {
		f := newUser(t, s, fmt.Sprintf("fan%d@example.com", i), base)
		// Pairs of follows at the same instant exercise the tie-break.
		if err := s.Follow(ctx, f.ID, star.ID, base.Add(time.Duration(i/2)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		want = append(want, f.ID)
	}
	var got []string
	cursor := ""
	for range 10 {
		page, next, err := s.Followers(ctx, star.ID, stride.Page{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range page {
			got = append(got, e.User.ID)
			if i > 0 && e.Since.After(page[i-1].Since) {
				t.Fatal("followers not newest first")
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("paged %d followers, want %d: %v", len(got), len(want), got)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("follower %s listed twice", id)
		}
		seen[id] = true
	}
}

func testDeleteUserCascades(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, friend := newUser(t, s, "gone@example.com", base), newUser(t, s, "friend@example.com", base)
	sess := store.Session{ID: stride.NewID(base), UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess, store.RefreshToken{Hash: hashOf("del"), SessionID: sess.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Follow(ctx, u.ID, friend.ID, base); err != nil {
		t.Fatal(err)
	}
	if err := s.Follow(ctx, friend.ID, u.ID, base); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateInvite(ctx, store.Invite{CodeHash: hashOf("inv-" + u.ID), CreatedBy: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID, outboxEvent("user.deleted", u.ID, base)); err != nil {
		t.Fatal(err)
	}
	// Deleting again fails and writes no second event.
	wantCode(t, s.DeleteUser(ctx, u.ID, outboxEvent("user.deleted", u.ID, base)), stride.ENOTFOUND)
	if pending, err := s.PendingOutbox(ctx, 10); err != nil || len(pending) != 1 || pending[0].Type != "user.deleted" {
		t.Fatalf("pending outbox = %+v, %v; want one user.deleted", pending, err)
	}
	_, err := s.UserByID(ctx, u.ID)
	wantCode(t, err, stride.ENOTFOUND)
	_, err = s.SessionUser(ctx, sess.ID, base)
	wantCode(t, err, stride.EUNAUTHORIZED)
	if f, _, _ := s.Followers(ctx, friend.ID, stride.Page{}); len(f) != 0 {
		t.Fatalf("deleted user still follows: %+v", f)
	}
	if f, _, _ := s.Following(ctx, friend.ID, stride.Page{}); len(f) != 0 {
		t.Fatalf("deleted user still followed: %+v", f)
	}
	// The email is free again.
	newUser(t, s, "gone@example.com", base.Add(time.Hour))
}
