package account_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/auth"
	"github.com/stridehq/stride/sqlite/sqlitetest"
)

// newService is the account service on a real SQLite store with an
// authentication cache far longer than any test: whatever the cache must
// forget, it forgets because the service told it to, not by expiry.
func newService(t *testing.T) *account.Service {
	return newServices(t, 1)[0]
}

// newServices are n API processes on one store.
func newServices(t *testing.T, n int) []*account.Service {
	t.Helper()
	db := sqlitetest.Open(t)
	signer, err := auth.NewSigner([]byte(strings.Repeat("k", 32)), "stride", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*account.Service, n)
	for i := range out {
		out[i] = account.New(db, signer, account.Config{AuthCacheTTL: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	}
	return out
}

// A change made through one process reaches another's cache only when
// announced: until then the other trusts its cached token (for up to its
// TTL), after Forget it checks the store again.
func TestAuthCacheAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	procs := newServices(t, 2)
	a, b := procs[0], procs[1]
	var announced []string
	a.AuthChanged = func(userID string) { announced = append(announced, userID) }
	g := register(t, a, "ana@example.com")
	if _, err := authenticate(t, b, g.AccessToken); err != nil { // cached by b
		t.Fatal(err)
	}
	p, err := authenticate(t, a, g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := authenticate(t, b, g.AccessToken); err != nil {
		t.Fatalf("b checked the store before being told: %v", err)
	}
	for _, id := range announced { // what the fan-out carries to b
		b.Forget(id)
	}
	if _, err := authenticate(t, b, g.AccessToken); err == nil {
		t.Fatal("b still accepts a signed-out token after the announcement")
	}
}

func register(t *testing.T, s *account.Service, email string) *account.Grant {
	t.Helper()
	g, err := s.Register(context.Background(), account.RegisterInput{Email: email, Password: "correct horse battery staple", Name: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func authenticate(t *testing.T, s *account.Service, token string) (*account.Principal, error) {
	t.Helper()
	p, err := s.Authenticate(context.Background(), token)
	if err != nil && stride.ErrorCode(err) != stride.EUNAUTHORIZED {
		t.Fatalf("authenticate: %v", err)
	}
	return p, err
}

// Each change made through the service takes effect on the very next
// request although the token was cached just before it.
func TestAuthCacheForgetsWhatTheServiceChanges(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(t *testing.T, s *account.Service, g *account.Grant, p *account.Principal)
		// check inspects the next authentication of the same token.
		check func(t *testing.T, p *account.Principal, err error)
	}{
		{"sign-out", func(t *testing.T, s *account.Service, g *account.Grant, p *account.Principal) {
			if err := s.Logout(ctx, p); err != nil {
				t.Fatal(err)
			}
		}, refused},
		{"profile", func(t *testing.T, s *account.Service, g *account.Grant, p *account.Principal) {
			name := "Ana Renamed"
			if _, err := s.UpdateProfile(ctx, p, stride.ProfileUpdate{Name: &name}); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, p *account.Principal, err error) {
			if err != nil || p.User.Name != "Ana Renamed" {
				t.Fatalf("after a rename: %+v, %v", p, err)
			}
		}},
		{"disabled by an administrator", func(t *testing.T, s *account.Service, g *account.Grant, p *account.Principal) {
			admin, err := s.CreateAdmin(ctx, "admin@example.com", "correct horse battery staple", "Admin")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetUserStatus(ctx, &account.Principal{User: admin}, p.User.ID, stride.StatusDisabled); err != nil {
				t.Fatal(err)
			}
		}, refused},
		{"account deleted", func(t *testing.T, s *account.Service, g *account.Grant, p *account.Principal) {
			if err := s.DeleteAccount(ctx, p); err != nil {
				t.Fatal(err)
			}
		}, refused},
		{"refresh token reused", func(t *testing.T, s *account.Service, g *account.Grant, p *account.Principal) {
			if _, err := s.Refresh(ctx, g.RefreshToken); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Refresh(ctx, g.RefreshToken); stride.ErrorCode(err) != stride.EUNAUTHORIZED {
				t.Fatalf("reuse: %v", err)
			}
		}, refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t)
			g := register(t, s, "ana@example.com")
			p, err := authenticate(t, s, g.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := authenticate(t, s, g.AccessToken); err != nil { // now served from the cache
				t.Fatal(err)
			}
			var announced []string
			s.AuthChanged = func(userID string) { announced = append(announced, userID) }
			tt.change(t, s, g, p)
			// Other API processes are told, so that they forget it too.
			want := p.User.ID
			if tt.name == "refresh token reused" {
				want = "" // the session's athlete is not known there
			}
			if !slices.Contains(announced, want) {
				t.Fatalf("announced %q, want %q among them", announced, want)
			}
			p, err = authenticate(t, s, g.AccessToken)
			tt.check(t, p, err)
		})
	}
}

func refused(t *testing.T, p *account.Principal, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("the token still authenticates %s", p.User.ID)
	}
}

// Other athletes' cached tokens survive a change to one athlete.
func TestAuthCacheKeepsOtherAthletes(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	ana, bo := register(t, s, "ana@example.com"), register(t, s, "bo@example.com")
	pa, err := authenticate(t, s, ana.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := authenticate(t, s, bo.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx, pa); err != nil {
		t.Fatal(err)
	}
	if _, err := authenticate(t, s, ana.AccessToken); err == nil {
		t.Fatal("signed-out token accepted")
	}
	if _, err := authenticate(t, s, bo.AccessToken); err != nil {
		t.Fatalf("another athlete's token refused: %v", err)
	}
	if _, err := authenticate(t, s, "not-a-token"); err == nil {
		t.Fatal("garbage accepted")
	}
}
