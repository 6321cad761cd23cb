package standings

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/ranker"
)

// DefaultBoardCacheSize is the number of board pages the Reader caches when
// BoardCacheSize is 0. A cached top-100 page is some 15 KB (its entries and
// their JSON), so the cache holds about 15 MB at most.
const DefaultBoardCacheSize = 1000

// A board page read through the API is, for the global scope and without
// around=me, the same for every viewer: only their own standing differs.
// The boardCache keeps such pages (size, entries with names, their JSON)
// for Reader.BoardCacheTTL, so that a popular board costs one ranker read
// per TTL instead of one per request. It is safe for concurrent use.
type boardCache struct {
	now func() time.Time

	mu sync.Mutex
	m  map[boardKey]*cachedPage
}

type boardKey struct {
	board         string
	offset, limit int
}

// cachedPage is one page of one board. It is in the map from the moment
// its read starts (readers of the same key wait on ready rather than read
// the ranker too) until it expires, is invalidated or evicted. Its fields
// other than ready are written once, before ready is closed, and only read
// after.
type cachedPage struct {
	ready   chan struct{}
	expires time.Time
	sport   string // of the board, for invalidation
	period  string // "kind:key", for invalidation

	err     error
	value   func(score float64) float64 // the metric's
	size    int
	entries []Standing // shared by every read of the page: never modified
	// pos finds a member's index in entries.
	pos map[string]int
	// json is entries encoded, for BoardPage.AppendJSON.
	json []byte
}

func newBoardCache(now func() time.Time) *boardCache {
	return &boardCache{now: now, m: make(map[boardKey]*cachedPage)}
}

func (p *cachedPage) filled() bool {
	select {
	case <-p.ready:
		return true
	default:
		return false
	}
}

// get returns the page for key: a fresh cached one, the one being read by
// another request (waiting for it), or a new one that the caller must
// fill and then pass to done (leader is then true).
func (c *boardCache) get(ctx context.Context, key boardKey, b leaderboard.Board, ttl time.Duration, maxPages int) (p *cachedPage, leader bool, err error) {
	now := c.now()
	c.mu.Lock()
	p, ok := c.m[key]
	if ok && (now.Before(p.expires) || !p.filled()) {
		c.mu.Unlock()
		select {
		case <-p.ready:
			return p, false, nil
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	if !ok && len(c.m) >= maxPages {
		c.evict(now, maxPages)
	}
	p = &cachedPage{ready: make(chan struct{}), expires: now.Add(ttl), sport: b.Sport, period: string(b.Period.Kind) + ":" + b.Period.Key}
	c.m[key] = p
	c.mu.Unlock()
	return p, true, nil
}

// done ends the read of a page the caller got as leader: on error it is
// dropped, so that the next read tries again.
func (c *boardCache) done(key boardKey, p *cachedPage, err error) {
	if err != nil {
		p.err = err
		c.drop(key, p)
	}
	close(p.ready)
}

// drop takes p out of the cache if it is still the page cached for key.
func (c *boardCache) drop(key boardKey, p *cachedPage) {
	c.mu.Lock()
	if c.m[key] == p {
		delete(c.m, key)
	}
	c.mu.Unlock()
}

// evict makes room when the cache is full: expired pages go first; if none
// has expired, a batch of pages in map order (arbitrary). Called with mu
// held.
func (c *boardCache) evict(now time.Time, maxPages int) {
	for k, p := range c.m {
		if !now.Before(p.expires) && p.filled() {
			delete(c.m, k)
		}
	}
	n := len(c.m) - maxPages + max(maxPages/64, 1)
	for k := range c.m {
		if n <= 0 {
			return
		}
		delete(c.m, k)
		n--
	}
}

// changed drops the pages of the boards ch says were rewritten. A page
// being read is dropped too: it may hold the board from before the write,
// so it serves only the requests already waiting for it.
func (c *boardCache) changed(ch ChangedBoards) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.m {
		if ch.All || (p.sport == leaderboard.AllSports || slices.Contains(ch.Sports, p.sport)) && slices.Contains(ch.Periods, p.period) {
			delete(c.m, k)
		}
	}
}

// BoardsChanged drops the cached pages of the boards ch names: every board
// of one of its sports or of all sports, in one of its periods (every
// metric, env and tier), or every board when ch.All. Call it with each
// leaderboard.changed payload, and from the projector of the same process
// (Projector.OnBoardsChanged) as soon as it has written. It does nothing
// when the cache is disabled.
func (r *Reader) BoardsChanged(ch ChangedBoards) {
	r.boards.changed(ch)
}

// cachedLeaderboard fills page, a global-scope page of board b (not
// around=me), from the board cache: one ranker read per page and
// BoardCacheTTL, shared by every viewer, and for a viewer not on the page
// one read of their own standing (Window with limit 0).
func (r *Reader) cachedLeaderboard(ctx context.Context, viewer *stride.User, q BoardQuery, b leaderboard.Board, offset, limit int, page *BoardPage) (*BoardPage, error) {
	maxPages := r.BoardCacheSize
	if maxPages <= 0 {
		maxPages = DefaultBoardCacheSize
	}
	key := boardKey{board: b.Name(), offset: offset, limit: limit}
	p, leader, err := r.boards.get(ctx, key, b, r.BoardCacheTTL, maxPages)
	if err != nil {
		return nil, err
	}
	var own ranker.Window // the leader's read has the viewer's entry
	if leader {
		if own, err = r.fill(ctx, viewer.ID, q.Metric, key, p); err != nil {
			return nil, err
		}
	} else if p.err != nil {
		// The leader's read failed (perhaps only its request was
		// cancelled): read without the cache.
		return r.globalLeaderboard(ctx, viewer, q, b, offset, limit, page)
	}

	size := p.size
	page.Entries, page.entriesJSON = p.entries, p.json
	if i, ok := p.pos[viewer.ID]; ok {
		e := p.entries[i]
		page.Me = &Standing{Rank: e.Rank, UserID: viewer.ID, Name: viewer.Name, Value: e.Value}
		if e.Name != viewer.Name {
			// The viewer's own name is always current: their copy of
			// the page has it.
			page.Entries, page.entriesJSON = slices.Clone(p.entries), nil
			page.Entries[i].Name = viewer.Name
		}
	} else {
		if !leader {
			own, err = r.ranker.Window(ctx, key.board, viewer.ID, 0, 0, false)
			if err != nil {
				return nil, fmt.Errorf("read board %s: %w", key.board, err)
			}
			size = own.Size
			if own.OnBoard && own.Member.Rank > offset && own.Member.Rank <= offset+limit {
				// The viewer is now on this page but was not when it was
				// cached: the page is stale, and they would notice.
				r.boards.drop(key, p)
				page.Entries, page.entriesJSON = []Standing{}, nil
				return r.globalLeaderboard(ctx, viewer, q, b, offset, limit, page)
			}
		}
		if own.OnBoard {
			page.Me = &Standing{Rank: own.Member.Rank, UserID: viewer.ID, Name: viewer.Name, Value: p.value(own.Member.Score)}
		}
	}
	page.Board.Athletes = size
	if offset+limit < size {
		page.NextCursor = encodeOffset(offset + limit)
	}
	return page, nil
}

// errFillPanicked is what waiters see of a read that panicked.
var errFillPanicked = errors.New("board read panicked")

// fill is fillPage, then done, even if fillPage panics: the requests
// waiting for the page must not wait for ever.
func (r *Reader) fill(ctx context.Context, viewerID string, metric leaderboard.Metric, key boardKey, p *cachedPage) (w ranker.Window, err error) {
	err = errFillPanicked
	defer func() { r.boards.done(key, p, err) }()
	return r.fillPage(ctx, viewerID, metric, key, p)
}

// fillPage reads a page into p (the leader's read of it), with the
// viewer's entry, and returns what the ranker read.
func (r *Reader) fillPage(ctx context.Context, viewerID string, metric leaderboard.Metric, key boardKey, p *cachedPage) (ranker.Window, error) {
	w, err := r.ranker.Window(ctx, key.board, viewerID, key.offset, key.limit, false)
	if err != nil {
		return w, fmt.Errorf("read board %s: %w", key.board, err)
	}
	ids := make([]string, len(w.Entries))
	for i, e := range w.Entries {
		ids[i] = e.Member
	}
	names, err := r.names.lookup(ctx, ids, r.store.UserNames)
	if err != nil {
		return w, err
	}
	value := valueOf(metric)
	entries := make([]Standing, len(w.Entries))
	pos := make(map[string]int, len(w.Entries))
	for i, e := range w.Entries {
		entries[i] = Standing{Rank: e.Rank, UserID: e.Member, Name: names[e.Member], Value: value(e.Score)}
		pos[e.Member] = i
	}
	enc, err := appendStandings(nil, entries)
	if err != nil {
		return w, fmt.Errorf("encode board %s: %w", key.board, err)
	}
	p.value, p.size, p.entries, p.pos, p.json = value, w.Size, entries, pos, enc
	return w, nil
}

// AppendJSON appends the page encoded as json.Marshal encodes it, without
// its reflection (encode.go). A cached page's entries are encoded once for
// all its reads. The page is not a json.Marshaler: the realtime hub embeds
// it in its messages.
func (p *BoardPage) AppendJSON(dst []byte) ([]byte, error) {
	if p == nil {
		return append(dst, "null"...), nil
	}
	dst = slices.Grow(dst, len(p.entriesJSON)+512) // the rest is some 400 bytes
	dst = append(dst, `{"board":`...)
	dst = p.Board.appendJSON(dst)
	dst = append(dst, `,"entries":`...)
	var err error
	switch {
	case p.entriesJSON != nil:
		dst = append(dst, p.entriesJSON...)
	case p.Entries == nil:
		dst = append(dst, "null"...)
	default:
		if dst, err = appendStandings(dst, p.Entries); err != nil {
			return dst, err
		}
	}
	dst = append(dst, `,"me":`...)
	if dst, err = appendStanding(dst, p.Me); err != nil {
		return dst, err
	}
	dst = append(dst, `,"next_cursor":`...)
	if p.NextCursor == nil {
		dst = append(dst, "null"...)
	} else {
		dst = appendString(dst, *p.NextCursor)
	}
	return append(dst, '}'), nil
}
