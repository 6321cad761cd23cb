// Package memrank is the in-memory ranker, Stride's embedded default: boards
// live in the process and are rebuilt from the store at start (the ranker
// port's Replace). Each board is a table of member ids and scores plus an
// order-statistics B+ tree, both free of Go pointers (see members), so
// that rank, around and a page of the top are O(log n) and a big board
// costs the collector next to nothing; boards past their deadline are dropped, and the record of
// applied event ids is kept only for the dedupe window, so memory stays
// bounded by the live periods.
package memrank

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stridehq/stride/ranker"
)

// Options configure a Ranker.
type Options struct {
	// Now is the clock deadlines are checked against; time.Now if nil.
	// Tests pass a clock they control to expire boards without sleeping.
	Now func() time.Time
	// DedupeWindow is how long the ranker remembers that an event was
	// applied; ranker.DefaultDedupeWindow if zero.
	DedupeWindow time.Duration
}

// Ranker is an in-memory ranker.Ranker. One lock guards everything: reads
// share it, and a write holds it for the whole call, which is what makes an
// Incr's dedupe check and its increments one atomic step.
type Ranker struct {
	now    func() time.Time
	window time.Duration

	mu       sync.RWMutex
	closed   bool
	boards   map[string]*board
	deadline deadlines // boards by deadline, checked lazily (see sweep)
	applied  map[string]appliedEvent
	forget   deadlines // event ids by the end of their dedupe window
}

var _ ranker.Ranker = (*Ranker)(nil)

type board struct {
	m        members
	tree     tree
	expireAt time.Time // zero: none
}

// appliedEvent records the (board, member) pairs an event was applied to.
// An event touches a handful of boards, so a slice beats a map.
type appliedEvent struct {
	until time.Time
	to    []target
}

type target struct{ board, member string }

// New returns an empty ranker.
func New(opts Options) *Ranker {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DedupeWindow <= 0 {
		opts.DedupeWindow = ranker.DefaultDedupeWindow
	}
	return &Ranker{
		now:     opts.Now,
		window:  opts.DedupeWindow,
		boards:  make(map[string]*board),
		applied: make(map[string]appliedEvent),
	}
}

func errorf(op string, err error) error { return fmt.Errorf("memrank: %s: %w", op, err) }

// lockWrite takes the write lock, and drops what expired, so that expired
// boards and events never outlive the next write.
func (r *Ranker) lockWrite(ctx context.Context, op string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, errorf(op, err)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return time.Time{}, errorf(op, ranker.ErrClosed)
	}
	// The clock is read only when something can expire: writes without
	// deadlines on a ranker without any are the common case.
	var now time.Time
	if len(r.deadline) > 0 || len(r.forget) > 0 {
		now = r.now()
		r.sweep(now)
	}
	return now, nil
}

func (r *Ranker) lockRead(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return errorf(op, err)
	}
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return errorf(op, ranker.ErrClosed)
	}
	return nil
}

// sweep drops the boards and event records whose deadline has passed. Each
// deadline change pushes one heap entry; entries that no longer match the
// current deadline are stale and skipped.
func (r *Ranker) sweep(now time.Time) {
	for len(r.deadline) > 0 && !r.deadline[0].at.After(now) {
		d := r.deadline.pop()
		if b := r.boards[d.name]; b != nil && b.expireAt.Equal(d.at) {
			delete(r.boards, d.name)
		}
	}
	for len(r.forget) > 0 && !r.forget[0].at.After(now) {
		d := r.forget.pop()
		if a, ok := r.applied[d.name]; ok && a.until.Equal(d.at) {
			delete(r.applied, d.name)
		}
	}
}

// live returns the board unless missing or past its deadline (reads run
// under the shared lock, so they cannot sweep; they ignore what expired).
// The clock is read only for a board with a deadline.
func (r *Ranker) live(name string) *board {
	b := r.boards[name]
	if b == nil || (!b.expireAt.IsZero() && !b.expireAt.After(r.now())) {
		return nil
	}
	return b
}

func (r *Ranker) boardFor(name string) *board {
	b := r.boards[name]
	if b == nil {
		b = &board{m: newMembers(0)}
		r.boards[name] = b
	}
	return b
}

// clock returns now if lockWrite read the clock, else reads it: only
// writes that set a deadline or record an event need it.
func (r *Ranker) clock(now time.Time) time.Time {
	if now.IsZero() {
		return r.now()
	}
	return now
}

// setDeadline applies an update's ExpireAt; a deadline already past drops
// the board at once, as Redis's PEXPIREAT does.
func (r *Ranker) setDeadline(name string, b *board, at time.Time, now *time.Time) {
	if at.IsZero() || at.Equal(b.expireAt) {
		return
	}
	*now = r.clock(*now)
	if !at.After(*now) {
		delete(r.boards, name)
		return
	}
	b.expireAt = at
	r.deadline.push(deadline{at: at, name: name})
}

func (b *board) size() int { return b.m.live }

// score returns member's score and id.
func (b *board) score(member string) (float64, uint32, bool) {
	id, i, ok := b.m.find(member)
	if !ok {
		return 0, 0, false
	}
	return b.m.slots[i].score, id, true
}

// add adds delta to member's score (from 0 if missing), or sets it to
// delta if abs: one lookup either way.
func (b *board) add(member string, delta float64, abs bool) {
	id, i, ok := b.m.find(member)
	if !ok {
		id, rekey := b.m.add(member, delta)
		if rekey {
			b.tree.rekey(&b.m)
		}
		b.tree.insert(&b.m, item{delta, b.m.sortKey(member), id})
		return
	}
	old := b.m.slots[i].score
	score := delta
	if !abs {
		score += old
	}
	if score == old {
		return
	}
	key := b.m.sortKey(member)
	b.tree.delete(&b.m, item{old, key, id})
	b.m.slots[i].score = score
	b.tree.insert(&b.m, item{score, key, id})
}

func (b *board) remove(member string) {
	id, slot, ok := b.m.find(member)
	if !ok {
		return
	}
	b.tree.delete(&b.m, item{b.m.slots[slot].score, b.m.sortKey(member), id})
	b.m.remove(slot)
	if b.m.removed > 1024 && b.m.removed > b.m.live {
		b.compact()
	}
}

// compact renumbers the members in rank order and rebuilds the tree, which
// drops the bytes of removed members and the stale keys naming them: O(n),
// paid once per at least n removals.
func (b *board) compact() {
	old := b.tree.appendRange(make([]item, 0, b.tree.n), 0, b.tree.n)
	m := newMembers(len(old))
	for i, it := range old {
		old[i].id, _ = m.add(string(b.m.name(it.id)), it.score)
	}
	// The keys are taken once every name is in: the shared prefix may
	// have grown longer than the old arena's.
	for i := range old {
		old[i].key = m.idKey(old[i].id)
	}
	b.m, b.tree = m, build(old)
}

// newBoard builds a board of entries, in O(n log n) for the sort and O(n)
// for the rest, or reports a member listed twice.
func newBoard(entries []ranker.Entry) (*board, error) {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, ranker.Compare)
	b := &board{m: newMembers(len(sorted))}
	items := make([]item, len(sorted))
	for i, e := range sorted {
		if _, _, dup := b.m.find(e.Member); dup {
			return nil, ranker.DuplicateEntry(secondOf(entries, e.Member), e.Member)
		}
		id, _ := b.m.add(e.Member, e.Score)
		items[i] = item{score: e.Score, id: id}
	}
	// Keys once every name is in, with the prefix they all share.
	for i, e := range sorted {
		items[i].key = b.m.sortKey(e.Member)
	}
	b.tree = build(items)
	return b, nil
}

// secondOf returns the index of the second entry naming member.
func secondOf(entries []ranker.Entry, member string) int {
	named := func(e ranker.Entry) bool { return e.Member == member }
	first := slices.IndexFunc(entries, named)
	return first + 1 + slices.IndexFunc(entries[first+1:], named)
}

// Set implements ranker.Ranker.
func (r *Ranker) Set(ctx context.Context, updates ...ranker.Update) error {
	if err := ranker.ValidateUpdates(updates); err != nil {
		return errorf("set", err)
	}
	now, err := r.lockWrite(ctx, "set")
	if err != nil {
		return err
	}
	defer r.mu.Unlock()
	for _, u := range updates {
		if u.Remove {
			b := r.boards[u.Board]
			if b == nil {
				continue
			}
			b.remove(u.Member)
			if b.size() == 0 {
				// At once, not at the end of the call: a later update of
				// the call then starts a new board, without the old
				// deadline, as in Redis.
				delete(r.boards, u.Board)
				continue
			}
			r.setDeadline(u.Board, b, u.ExpireAt, &now)
			continue
		}
		b := r.boardFor(u.Board)
		b.add(u.Member, u.Score, true)
		r.setDeadline(u.Board, b, u.ExpireAt, &now)
	}
	return nil
}

// Incr implements ranker.Ranker.
func (r *Ranker) Incr(ctx context.Context, eventID string, updates ...ranker.Update) (int, error) {
	if err := ranker.ValidateIncr(eventID, updates); err != nil {
		return 0, errorf("incr", err)
	}
	now, err := r.lockWrite(ctx, "incr")
	if err != nil {
		return 0, err
	}
	defer r.mu.Unlock()
	now = r.clock(now)
	a, seen := r.applied[eventID]
	if !seen {
		a.to = make([]target, 0, len(updates))
	}
	// Each sighting of the event restarts its window, as the Redis
	// adapter's PEXPIRE does.
	a.until = now.Add(r.window)
	r.forget.push(deadline{at: a.until, name: eventID})
	n := 0
	for _, u := range updates {
		t := target{u.Board, u.Member}
		if slices.Contains(a.to, t) {
			continue
		}
		a.to = append(a.to, t)
		b := r.boardFor(u.Board)
		b.add(u.Member, u.Score, false)
		r.setDeadline(u.Board, b, u.ExpireAt, &now)
		n++
	}
	r.applied[eventID] = a
	return n, nil
}

// Remove implements ranker.Ranker.
func (r *Ranker) Remove(ctx context.Context, name string, members ...string) error {
	if err := ranker.ValidateBoard(name); err != nil {
		return errorf("remove", err)
	}
	if _, err := r.lockWrite(ctx, "remove"); err != nil {
		return err
	}
	defer r.mu.Unlock()
	b := r.boards[name]
	if b == nil {
		return nil
	}
	for _, m := range members {
		b.remove(m)
	}
	if b.size() == 0 {
		delete(r.boards, name) // an empty board does not exist, as in Redis
	}
	return nil
}

// Replace implements ranker.Ranker. The new board is built before the lock
// is taken, so readers wait only for the swap.
func (r *Ranker) Replace(ctx context.Context, name string, entries []ranker.Entry, expireAt time.Time) error {
	if err := ranker.ValidateEntryValues(name, entries); err != nil {
		return errorf("replace", err)
	}
	nb, err := newBoard(entries)
	if err != nil {
		return errorf("replace", err)
	}
	now, err := r.lockWrite(ctx, "replace")
	if err != nil {
		return err
	}
	defer r.mu.Unlock()
	delete(r.boards, name)
	if len(entries) == 0 {
		return nil
	}
	r.boards[name] = nb
	r.setDeadline(name, nb, expireAt, &now)
	return nil
}

// Delete implements ranker.Ranker.
func (r *Ranker) Delete(ctx context.Context, names ...string) error {
	if _, err := r.lockWrite(ctx, "delete"); err != nil {
		return err
	}
	defer r.mu.Unlock()
	for _, n := range names {
		delete(r.boards, n)
	}
	return nil
}

// RemoveMember implements ranker.Ranker. It holds the write lock for a
// lookup in every board, which is acceptable for a call made once per
// deleted account; within one process it is atomic, though the port does
// not promise that.
func (r *Ranker) RemoveMember(ctx context.Context, member string) error {
	if err := ranker.ValidateMember(member); err != nil {
		return errorf("remove member", err)
	}
	if _, err := r.lockWrite(ctx, "remove member"); err != nil {
		return err
	}
	defer r.mu.Unlock()
	for name, b := range r.boards {
		b.remove(member)
		if b.size() == 0 {
			delete(r.boards, name)
		}
	}
	return nil
}

// Rank implements ranker.Ranker.
func (r *Ranker) Rank(ctx context.Context, name, member string) (ranker.Entry, bool, error) {
	if err := ranker.ValidateBoard(name); err != nil {
		return ranker.Entry{}, false, errorf("rank", err)
	}
	if err := r.lockRead(ctx, "rank"); err != nil {
		return ranker.Entry{}, false, err
	}
	defer r.mu.RUnlock()
	b := r.live(name)
	if b == nil {
		return ranker.Entry{}, false, nil
	}
	s, id, ok := b.score(member)
	if !ok {
		return ranker.Entry{}, false, nil
	}
	return ranker.Entry{Member: member, Score: s, Rank: b.tree.rank(&b.m, item{s, b.m.sortKey(member), id}) + 1}, true, nil
}

// Top implements ranker.Ranker.
func (r *Ranker) Top(ctx context.Context, name string, offset, limit int) ([]ranker.Entry, error) {
	if err := ranker.ValidateRead(name, offset, limit); err != nil {
		return nil, errorf("top", err)
	}
	if err := r.lockRead(ctx, "top"); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	b := r.live(name)
	if b == nil {
		return nil, nil
	}
	return entries(b, offset, offset+limit), nil
}

// entries returns the entries at 0-based positions [lo, hi): one descent
// to the leaf of lo, then along the leaves.
func entries(b *board, lo, hi int) []ranker.Entry {
	if lo >= min(hi, b.tree.n) {
		return nil
	}
	if b.tree.isTiny() {
		var l leaf
		b.tree.tinyLeaf(&l)
		return entriesAt(b, &l, lo, lo, hi)
	}
	l, i := b.tree.locate(lo)
	return entriesAt(b, l, i, lo, hi)
}

// around returns the entries from k before the member at pos, found in
// leaf l at index i, to k after it, walking from l instead of descending
// again.
func around(b *board, pos int, l *leaf, i, k int) []ranker.Entry {
	lo := max(pos-k, 0)
	if l == nil { // a tiny tree
		return entries(b, lo, pos+k+1)
	}
	l, i = b.tree.back(l, i, pos-lo)
	return entriesAt(b, l, i, lo, pos+k+1)
}

// entriesAt returns the entries at positions [lo, hi), lo being index i of
// leaf l.
func entriesAt(b *board, l *leaf, i, lo, hi int) []ranker.Entry {
	hi = min(hi, b.tree.n)
	if lo >= hi {
		return nil
	}
	out := make([]ranker.Entry, hi-lo)
	// The names share one buffer: one allocation where a string per entry
	// would be hi-lo of them. It is sized for names of the board's mean
	// length, which saves reading every name twice; if it runs short, it
	// grows, and a Builder never rewrites what it holds, so each String
	// taken along the way stays valid.
	var sb strings.Builder
	sb.Grow(len(out) * b.m.meanName())
	for k := 0; k < len(out); l, i = b.tree.next(l), 0 {
		for ; i < int(l.n) && k < len(out); i++ {
			start := sb.Len()
			sb.Write(b.m.name(l.ids[i]))
			out[k] = ranker.Entry{Member: sb.String()[start:], Score: l.scores[i], Rank: lo + k + 1}
			k++
		}
	}
	return out
}

// Around implements ranker.Ranker.
func (r *Ranker) Around(ctx context.Context, name, member string, k int) ([]ranker.Entry, error) {
	if err := ranker.ValidateRead(name, k); err != nil {
		return nil, errorf("around", err)
	}
	if err := r.lockRead(ctx, "around"); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	b := r.live(name)
	if b == nil {
		return nil, nil
	}
	s, id, ok := b.score(member)
	if !ok {
		return nil, nil
	}
	pos, l, i := b.tree.where(&b.m, item{s, b.m.sortKey(member), id})
	return around(b, pos, l, i, k), nil
}

// Window implements ranker.Ranker under one read lock.
func (r *Ranker) Window(ctx context.Context, name, member string, offset, limit int, isAround bool) (ranker.Window, error) {
	if err := ranker.ValidateRead(name, offset, limit); err != nil {
		return ranker.Window{}, errorf("window", err)
	}
	if err := r.lockRead(ctx, "window"); err != nil {
		return ranker.Window{}, err
	}
	defer r.mu.RUnlock()
	var w ranker.Window
	b := r.live(name)
	if b == nil {
		return w, nil
	}
	w.Size = b.size()
	pos, l, i := -1, (*leaf)(nil), 0
	if member != "" {
		if s, id, ok := b.score(member); ok {
			pos, l, i = b.tree.where(&b.m, item{s, b.m.sortKey(member), id})
			w.Member, w.OnBoard = ranker.Entry{Member: member, Score: s, Rank: pos + 1}, true
		}
	}
	switch {
	case !isAround:
		w.Entries = entries(b, offset, offset+limit)
	case pos >= 0:
		w.Entries = around(b, pos, l, i, limit/2)
	}
	return w, nil
}

// Size implements ranker.Ranker.
func (r *Ranker) Size(ctx context.Context, name string) (int, error) {
	if err := ranker.ValidateBoard(name); err != nil {
		return 0, errorf("size", err)
	}
	if err := r.lockRead(ctx, "size"); err != nil {
		return 0, err
	}
	defer r.mu.RUnlock()
	if b := r.live(name); b != nil {
		return b.size(), nil
	}
	return 0, nil
}

// Scores implements ranker.Ranker.
func (r *Ranker) Scores(ctx context.Context, name string, members []string) ([]ranker.Entry, error) {
	if err := ranker.ValidateBoard(name); err != nil {
		return nil, errorf("scores", err)
	}
	if err := r.lockRead(ctx, "scores"); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	b := r.live(name)
	if b == nil {
		return nil, nil
	}
	var out []ranker.Entry
	for _, m := range members {
		if s, _, ok := b.score(m); ok {
			out = append(out, ranker.Entry{Member: m, Score: s})
		}
	}
	return out, nil
}

// ExpiresAt implements ranker.Ranker.
func (r *Ranker) ExpiresAt(ctx context.Context, name string) (time.Time, error) {
	if err := ranker.ValidateBoard(name); err != nil {
		return time.Time{}, errorf("expires at", err)
	}
	if err := r.lockRead(ctx, "expires at"); err != nil {
		return time.Time{}, err
	}
	defer r.mu.RUnlock()
	if b := r.live(name); b != nil {
		return b.expireAt, nil
	}
	return time.Time{}, nil
}

// Close implements ranker.Ranker: it frees the boards.
func (r *Ranker) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.boards, r.applied, r.deadline, r.forget = nil, nil, nil, nil
	return nil
}

// Stats are counts for metrics and for tests of bounded memory.
type Stats struct {
	Boards  int // boards held, including expired ones not yet swept
	Members int // entries over all boards held
	Events  int // event ids remembered for dedupe
}

// Stats returns the ranker's current counts.
func (r *Ranker) Stats() Stats {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := Stats{Boards: len(r.boards), Events: len(r.applied)}
	for _, b := range r.boards {
		s.Members += b.size()
	}
	return s
}

// deadline is a heap entry: name's deadline at.
type deadline struct {
	at   time.Time
	name string
}

// deadlines is a min-heap by at. It is written out rather than used
// through container/heap, whose Push and Pop box every entry: an
// allocation per Incr.
type deadlines []deadline

func (d *deadlines) push(x deadline) {
	h := append(*d, x)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].at.Before(h[p].at) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	*d = h
}

func (d *deadlines) pop() deadline {
	h := *d
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = deadline{}
	h = h[:last]
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h[c+1].at.Before(h[c].at) {
			c++
		}
		if !h[c].at.Before(h[i].at) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	*d = h
	return top
}
