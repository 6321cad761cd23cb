package standings

import (
	"container/list"
	"slices"
	"strings"
	"sync"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

// DefaultFactsCache is how many activity facts the projector keeps by
// default (a few hundred bytes each).
const DefaultFactsCache = 100_000

// factsCache keeps athletes' activity facts between their events, each
// copy with the store.FactsVersion it was read at. The projector needs an
// athlete's whole history on every event, and reading it from the store
// costs time in proportion to it (about 4 ms per thousand activities on
// SQLite); with the copy, a new activity costs one read of that activity.
//
// A copy is only ever an exact snapshot of the store: it is replaced,
// never edited in place, because handlers of other athletes' events may be
// reading the slice it holds. It is bounded by the number of facts held;
// the athlete whose copy was used least recently goes first.
type factsCache struct {
	mu     sync.Mutex
	max    int
	held   int
	byUser map[string]*list.Element // of *cachedFacts
	lru    list.List                // most recently used at the front
}

type cachedFacts struct {
	userID  string
	version store.FactsVersion
	facts   []stride.ActivityFacts
}

func newFactsCache(max int) *factsCache {
	return &factsCache{max: max, byUser: map[string]*list.Element{}}
}

// get returns the copy of userID's facts, if one is held.
func (c *factsCache) get(userID string) (store.FactsVersion, []stride.ActivityFacts, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byUser[userID]
	if !ok {
		return 0, nil, false
	}
	c.lru.MoveToFront(e)
	cf := e.Value.(*cachedFacts)
	return cf.version, cf.facts, true
}

// put keeps facts as userID's copy at version, unless a newer copy is held
// (two events of one athlete may be handled at once). A history larger
// than the whole cache is not kept.
func (c *factsCache) put(userID string, version store.FactsVersion, facts []stride.ActivityFacts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byUser[userID]; ok {
		cf := e.Value.(*cachedFacts)
		if cf.version > version {
			return
		}
		c.remove(e)
	}
	if len(facts) > c.max {
		return
	}
	c.byUser[userID] = c.lru.PushFront(&cachedFacts{userID: userID, version: version, facts: facts})
	c.held += len(facts)
	for c.held > c.max {
		c.remove(c.lru.Back())
	}
}

// drop forgets userID's copy.
func (c *factsCache) drop(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byUser[userID]; ok {
		c.remove(e)
	}
}

func (c *factsCache) remove(e *list.Element) {
	cf := c.lru.Remove(e).(*cachedFacts)
	delete(c.byUser, cf.userID)
	c.held -= len(cf.facts)
}

// holds reports whether facts include activity id, standalone or as the
// parent of legs.
func holds(facts []stride.ActivityFacts, id string) bool {
	for _, f := range facts {
		if f.ActivityID == id || f.ParentID == id {
			return true
		}
	}
	return false
}

// mergeFacts returns a new slice of the facts of both, which are each in
// the store's order (start time, then activity id), in that order.
func mergeFacts(old, added []stride.ActivityFacts) []stride.ActivityFacts {
	out := make([]stride.ActivityFacts, 0, len(old)+len(added))
	i, j := 0, 0
	for i < len(old) && j < len(added) {
		if factBefore(added[j], old[i]) {
			out = append(out, added[j])
			j++
		} else {
			out = append(out, old[i])
			i++
		}
	}
	out = append(out, old[i:]...)
	return append(out, added[j:]...)
}

// compareFacts is the store's order: start time, then activity id, the
// ids compared as bytes. A store whose collation orders ids otherwise
// (PostgreSQL's may) is sorted again (see sortFacts), so that a merged copy
// and a fresh read are always in the same order.
func compareFacts(a, b stride.ActivityFacts) int {
	if c := a.StartTime.Compare(b.StartTime); c != 0 {
		return c
	}
	return strings.Compare(a.ActivityID, b.ActivityID)
}

func factBefore(a, b stride.ActivityFacts) bool { return compareFacts(a, b) < 0 }

// sortFacts puts facts read from the store in compareFacts' order; they
// nearly always are already.
func sortFacts(facts []stride.ActivityFacts) {
	if !slices.IsSortedFunc(facts, compareFacts) {
		slices.SortFunc(facts, compareFacts)
	}
}
