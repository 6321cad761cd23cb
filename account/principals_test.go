package account

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride"
)

func principalOf(userID string, expires time.Time) *Principal {
	return &Principal{User: &stride.User{ID: userID, Name: "Name of " + userID, Status: stride.StatusActive}, SessionID: "s-" + userID, ExpiresAt: expires}
}

func TestPrincipalCache(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	far := t0.Add(time.Hour)
	tests := []struct {
		name string
		// act runs against a cache holding "tok" for user "u1" (put at t0,
		// TTL 5 s, token expiring at far) and returns the time to read at.
		act  func(c *principalCache) time.Time
		want bool
	}{
		{"fresh entry", func(c *principalCache) time.Time { return t0.Add(4 * time.Second) }, true},
		{"past the TTL", func(c *principalCache) time.Time { return t0.Add(5 * time.Second) }, false},
		{"athlete changed here", func(c *principalCache) time.Time { c.forgetUser("u1"); return t0 }, false},
		{"another athlete changed", func(c *principalCache) time.Time { c.forgetUser("u2"); return t0 }, true},
		{"everything forgotten", func(c *principalCache) time.Time { c.forgetAll(); return t0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newPrincipalCache(5*time.Second, 10)
			c.put("tok", principalOf("u1", far), c.stampFor("u1"), t0)
			at := tt.act(c)
			p, ok := c.get("tok", at)
			if ok != tt.want {
				t.Fatalf("hit = %v, want %v", ok, tt.want)
			}
			if ok && (p.User.ID != "u1" || p.SessionID != "s-u1" || !p.ExpiresAt.Equal(far)) {
				t.Fatalf("got %+v", p)
			}
		})
	}
}

func TestPrincipalCacheNeverOutlivesTheToken(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	c := newPrincipalCache(time.Minute, 10)
	c.put("tok", principalOf("u1", t0.Add(2*time.Second)), c.stampFor("u1"), t0)
	if _, ok := c.get("tok", t0.Add(time.Second)); !ok {
		t.Fatal("miss before the token expires")
	}
	if _, ok := c.get("tok", t0.Add(2*time.Second)); ok {
		t.Fatal("an expired token was served from the cache")
	}
}

// A sign-out that lands while a lookup reads the store must win: the
// lookup's result, taken before the change, is not remembered.
func TestPrincipalCacheChangeDuringLookup(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	c := newPrincipalCache(time.Minute, 10)
	st := c.stampFor("u1") // the lookup begins
	c.forgetUser("u1")     // the session is revoked meanwhile
	c.put("tok", principalOf("u1", t0.Add(time.Hour)), st, t0)
	if _, ok := c.get("tok", t0); ok {
		t.Fatal("a lookup older than the sign-out was remembered")
	}
	st = c.stampFor("u1")
	c.forgetAll()
	c.put("tok", principalOf("u1", t0.Add(time.Hour)), st, t0)
	if _, ok := c.get("tok", t0); ok {
		t.Fatal("a lookup older than forgetAll was remembered")
	}
}

func TestPrincipalCacheCopiesTheUser(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	c := newPrincipalCache(time.Minute, 10)
	p := principalOf("u1", t0.Add(time.Hour))
	c.put("tok", p, c.stampFor("u1"), t0)
	p.User.Name = "changed by the first caller"
	a, _ := c.get("tok", t0)
	a.User.Role = stride.RoleAdmin
	b, _ := c.get("tok", t0)
	if b.User.Name != "Name of u1" || b.User.Role == stride.RoleAdmin {
		t.Fatalf("callers share the cached user: %+v", b.User)
	}
}

func TestPrincipalCacheIsBounded(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	c := newPrincipalCache(time.Minute, 100)
	for i := range 1000 {
		u := fmt.Sprintf("u%d", i)
		c.put("tok-"+u, principalOf(u, t0.Add(time.Hour)), c.stampFor(u), t0)
		if len(c.entries) > 100 {
			t.Fatalf("%d entries after %d puts, bound 100", len(c.entries), i+1)
		}
	}
	if _, ok := c.get("tok-u999", t0); !ok {
		t.Fatal("the newest entry was evicted")
	}
}

func TestPrincipalCacheDisabled(t *testing.T) {
	c := newPrincipalCache(0, 100)
	if c != nil {
		t.Fatal("a zero TTL made a cache")
	}
	// Every method is safe on the nil cache the service then holds.
	c.put("tok", principalOf("u1", time.Now().Add(time.Hour)), c.stampFor("u1"), time.Now())
	c.forgetUser("u1")
	c.forgetAll()
	if _, ok := c.get("tok", time.Now()); ok {
		t.Fatal("hit on a disabled cache")
	}
}

func TestPrincipalCacheConcurrent(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	c := newPrincipalCache(time.Minute, 50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				u := fmt.Sprintf("u%d", (g*500+i)%80)
				c.put("tok-"+u, principalOf(u, t0.Add(time.Hour)), c.stampFor(u), t0)
				c.get("tok-"+u, t0)
				if i%50 == 0 {
					c.forgetUser(u)
				}
				if i%200 == 0 {
					c.forgetAll()
				}
			}
		})
	}
	wg.Wait()
	if len(c.entries) > 50 {
		t.Fatalf("%d entries, bound 50", len(c.entries))
	}
}
