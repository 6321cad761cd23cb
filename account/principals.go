package account

import (
	"sync"
	"time"

	"github.com/stridehq/stride"
)

// principalCache remembers, for a short time, which caller an access token
// authenticated, so that a busy client does not cost a signature check and
// a session query on every request (they were a fifth of an upload's CPU).
//
// What it trades: a change made through this process (sign-out, profile,
// status, account deletion, a reused refresh token) takes effect at once,
// because the service forgets the athlete's entries as it makes it; a
// change made by another process (another API node) is seen when that
// process's announcement arrives (Service.AuthChanged, Service.Forget), or
// within the TTL at most if it is lost.
//
// Staleness is bounded by generations rather than by scanning: every
// athlete has a generation, bumped whenever the service changes something
// authentication depends on; an entry is valid only while its athlete's
// generation (and the cache's epoch, bumped by forgetAll) is what it was
// when the entry's lookup began. Taking the generation before the store is
// read closes the race with a sign-out that lands during the lookup.
type principalCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]cachedPrincipal // by access token
	gens    map[string]uint64          // by user id; absent is 0
	epoch   uint64
}

type cachedPrincipal struct {
	user      stride.User
	sessionID string
	expiresAt time.Time // the access token's expiry
	until     time.Time // when the entry stops being trusted
	gen       uint64
	epoch     uint64
}

// stamp is the state an entry must still match to be used: taken before a
// lookup, checked when it is stored and when it is read.
type stamp struct{ gen, epoch uint64 }

// newPrincipalCache returns a cache keeping at most max entries for ttl, or
// nil (no caching) when ttl or max is not positive.
func newPrincipalCache(ttl time.Duration, max int) *principalCache {
	if ttl <= 0 || max <= 0 {
		return nil
	}
	return &principalCache{ttl: ttl, max: max, entries: make(map[string]cachedPrincipal), gens: make(map[string]uint64)}
}

// get returns a copy of the principal token authenticated, if a valid entry
// holds it at now.
func (c *principalCache) get(token string, now time.Time) (*Principal, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	e, ok := c.entries[token]
	if ok && (!now.Before(e.until) || !now.Before(e.expiresAt) || e.gen != c.gens[e.user.ID] || e.epoch != c.epoch) {
		delete(c.entries, token)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	u := e.user // each caller gets its own copy: handlers may keep or change it
	return &Principal{User: &u, SessionID: e.sessionID, ExpiresAt: e.expiresAt}, true
}

// stampFor is taken before the store is read for a token of userID.
func (c *principalCache) stampFor(userID string) stamp {
	if c == nil {
		return stamp{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return stamp{gen: c.gens[userID], epoch: c.epoch}
}

// put remembers p for token unless the athlete changed since st was taken.
func (c *principalCache) put(token string, p *Principal, st stamp, now time.Time) {
	if c == nil {
		return
	}
	until := now.Add(c.ttl)
	if p.ExpiresAt.Before(until) {
		until = p.ExpiresAt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.gen != c.gens[p.User.ID] || st.epoch != c.epoch {
		return
	}
	if len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[token] = cachedPrincipal{user: *p.User, sessionID: p.SessionID, expiresAt: p.ExpiresAt, until: until, gen: st.gen, epoch: st.epoch}
}

// evict makes room. It looks at a few entries (map order is random),
// dropping those expired and, while the cache is still full, any: a cache
// full of live entries then costs little per put.
func (c *principalCache) evict(now time.Time) {
	const look = 32
	seen := 0
	for token, e := range c.entries {
		if !now.Before(e.until) || len(c.entries) >= c.max {
			delete(c.entries, token)
		}
		if seen++; seen >= look {
			return
		}
	}
}

// forgetUser invalidates every entry of an athlete.
func (c *principalCache) forgetUser(userID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gens[userID]++
	c.mu.Unlock()
}

// forgetAll invalidates every entry: for a change whose athlete is not
// known here (a reused refresh token revokes a session found by its hash).
func (c *principalCache) forgetAll() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.epoch++
	clear(c.entries)
	c.mu.Unlock()
}
