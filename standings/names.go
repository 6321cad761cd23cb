package standings

import (
	"context"
	"sync"
	"time"
)

// Display names are cached because every page of a board shows up to 100 of
// them and they rarely change: without the cache each read pays a database
// round trip for them. The price is that a rename shows on boards up to
// NameTTL late (docs/standings.md).
const (
	NameTTL = time.Minute
	// MaxCachedNames bounds the cache: about 100 bytes an entry, so some
	// 10 MB at most, enough for the athletes of every page read in a
	// minute on a busy server.
	MaxCachedNames = 100_000
)

// nameCache maps user ids to display names for NameTTL. It is safe for
// concurrent use.
type nameCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.RWMutex
	m  map[string]cachedName
}

type cachedName struct {
	name  string
	until time.Time
}

func newNameCache(ttl time.Duration, maxEntries int, now func() time.Time) *nameCache {
	return &nameCache{ttl: ttl, max: maxEntries, now: now, m: make(map[string]cachedName)}
}

// lookup returns the names of ids, querying load once for those not cached
// (or expired). Ids load does not return (deleted or disabled accounts) are
// left out of the result and not cached, so they are asked again next time.
func (c *nameCache) lookup(ctx context.Context, ids []string, load func(context.Context, []string) (map[string]string, error)) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	var misses []string
	now := c.now()
	c.mu.RLock()
	for _, id := range ids {
		if e, ok := c.m[id]; ok && now.Before(e.until) {
			out[id] = e.name
		} else {
			misses = append(misses, id)
		}
	}
	c.mu.RUnlock()
	if len(misses) == 0 {
		return out, nil
	}
	loaded, err := load(ctx, misses)
	if err != nil {
		return nil, err
	}
	for id, name := range loaded {
		out[id] = name
	}
	c.put(loaded, now)
	return out, nil
}

// put caches names read at now.
func (c *nameCache) put(names map[string]string, now time.Time) {
	if len(names) == 0 {
		return
	}
	until := now.Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, name := range names {
		if _, ok := c.m[id]; !ok && len(c.m) >= c.max {
			c.evict()
		}
		c.m[id] = cachedName{name: name, until: until}
	}
}

// evict makes room when the cache is full: it drops a batch of entries in
// map order, which is arbitrary. Any entry is cheap to lose (it costs one
// name in the next query that needs it), and a batch rather than one keeps
// the scans rare. Called with mu held.
func (c *nameCache) evict() {
	n := max(c.max/64, 1)
	for id := range c.m {
		if n == 0 {
			return
		}
		delete(c.m, id)
		n--
	}
}
