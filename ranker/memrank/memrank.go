// Package memrank is the in-memory ranker, Stride's embedded default: boards
// live in the process and are rebuilt from the store at start (the ranker
// port's Replace). Each board is a map from member to score plus an
// order-statistics B+ tree, so that rank, around and a page of the top are
// O(log n); boards past their deadline are dropped, and the record of
// applied event ids is kept only for the dedupe window, so memory stays
// bounded by the live periods.
package memrank

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
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
	applied  map[string]*appliedEvent
	forget   deadlines // event ids by the end of their dedupe window
}

var _ ranker.Ranker = (*Ranker)(nil)

type board struct {
	scores   map[string]float64
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
		applied: make(map[string]*appliedEvent),
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
	now := r.now()
	r.sweep(now)
	return now, nil
}

func (r *Ranker) lockRead(ctx context.Context, op string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, errorf(op, err)
	}
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return time.Time{}, errorf(op, ranker.ErrClosed)
	}
	return r.now(), nil
}

// sweep drops the boards and event records whose deadline has passed. Each
// deadline change pushes one heap entry; entries that no longer match the
// current deadline are stale and skipped.
func (r *Ranker) sweep(now time.Time) {
	for len(r.deadline) > 0 && !r.deadline[0].at.After(now) {
		d := heap.Pop(&r.deadline).(deadline)
		if b := r.boards[d.name]; b != nil && b.expireAt.Equal(d.at) {
			delete(r.boards, d.name)
		}
	}
	for len(r.forget) > 0 && !r.forget[0].at.After(now) {
		d := heap.Pop(&r.forget).(deadline)
		if a := r.applied[d.name]; a != nil && a.until.Equal(d.at) {
			delete(r.applied, d.name)
		}
	}
}

// live returns the board unless missing or past its deadline (reads run
// under the shared lock, so they cannot sweep; they ignore what expired).
func (r *Ranker) live(name string, now time.Time) *board {
	b := r.boards[name]
	if b == nil || (!b.expireAt.IsZero() && !b.expireAt.After(now)) {
		return nil
	}
	return b
}

func (r *Ranker) boardFor(name string) *board {
	b := r.boards[name]
	if b == nil {
		b = &board{scores: make(map[string]float64)}
		r.boards[name] = b
	}
	return b
}

// setDeadline applies an update's ExpireAt; a deadline already past drops
// the board at once, as Redis's PEXPIREAT does.
func (r *Ranker) setDeadline(name string, b *board, at, now time.Time) {
	if at.IsZero() || at.Equal(b.expireAt) {
		return
	}
	if !at.After(now) {
		delete(r.boards, name)
		return
	}
	b.expireAt = at
	heap.Push(&r.deadline, deadline{at: at, name: name})
}

func (b *board) set(member string, score float64) {
	if old, ok := b.scores[member]; ok {
		if old == score {
			return
		}
		b.tree.delete(item{old, member})
	}
	b.scores[member] = score
	b.tree.insert(item{score, member})
}

func (b *board) remove(member string) {
	if old, ok := b.scores[member]; ok {
		b.tree.delete(item{old, member})
		delete(b.scores, member)
	}
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
			if len(b.scores) == 0 {
				// At once, not at the end of the call: a later update of
				// the call then starts a new board, without the old
				// deadline, as in Redis.
				delete(r.boards, u.Board)
				continue
			}
			r.setDeadline(u.Board, b, u.ExpireAt, now)
			continue
		}
		b := r.boardFor(u.Board)
		b.set(u.Member, u.Score)
		r.setDeadline(u.Board, b, u.ExpireAt, now)
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
	a := r.applied[eventID]
	if a == nil {
		a = &appliedEvent{}
		r.applied[eventID] = a
	}
	// Each sighting of the event restarts its window, as the Redis
	// adapter's PEXPIRE does.
	a.until = now.Add(r.window)
	heap.Push(&r.forget, deadline{at: a.until, name: eventID})
	n := 0
	for _, u := range updates {
		t := target{u.Board, u.Member}
		if slices.Contains(a.to, t) {
			continue
		}
		a.to = append(a.to, t)
		b := r.boardFor(u.Board)
		b.set(u.Member, b.scores[u.Member]+u.Score)
		r.setDeadline(u.Board, b, u.ExpireAt, now)
		n++
	}
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
	if len(b.scores) == 0 {
		delete(r.boards, name) // an empty board does not exist, as in Redis
	}
	return nil
}

// Replace implements ranker.Ranker. The new board is built before the lock
// is taken, so readers wait only for the swap.
func (r *Ranker) Replace(ctx context.Context, name string, entries []ranker.Entry, expireAt time.Time) error {
	if err := ranker.ValidateEntries(name, entries); err != nil {
		return errorf("replace", err)
	}
	items := make([]item, len(entries))
	scores := make(map[string]float64, len(entries))
	for i, e := range entries {
		items[i] = item{e.Score, e.Member}
		scores[e.Member] = e.Score
	}
	slices.SortFunc(items, func(a, b item) int {
		return ranker.Compare(ranker.Entry{Member: a.member, Score: a.score}, ranker.Entry{Member: b.member, Score: b.score})
	})
	nb := &board{scores: scores, tree: build(items)}
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
	r.setDeadline(name, nb, expireAt, now)
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

// Rank implements ranker.Ranker.
func (r *Ranker) Rank(ctx context.Context, name, member string) (ranker.Entry, bool, error) {
	if err := ranker.ValidateBoard(name); err != nil {
		return ranker.Entry{}, false, errorf("rank", err)
	}
	now, err := r.lockRead(ctx, "rank")
	if err != nil {
		return ranker.Entry{}, false, err
	}
	defer r.mu.RUnlock()
	b := r.live(name, now)
	if b == nil {
		return ranker.Entry{}, false, nil
	}
	s, ok := b.scores[member]
	if !ok {
		return ranker.Entry{}, false, nil
	}
	return ranker.Entry{Member: member, Score: s, Rank: b.tree.rank(item{s, member}) + 1}, true, nil
}

// Top implements ranker.Ranker.
func (r *Ranker) Top(ctx context.Context, name string, offset, limit int) ([]ranker.Entry, error) {
	if err := ranker.ValidateRead(name, offset, limit); err != nil {
		return nil, errorf("top", err)
	}
	now, err := r.lockRead(ctx, "top")
	if err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	b := r.live(name, now)
	if b == nil {
		return nil, nil
	}
	return entries(b, offset, offset+limit), nil
}

// entries returns the entries at 0-based positions [lo, hi).
func entries(b *board, lo, hi int) []ranker.Entry {
	hi = min(hi, b.tree.n)
	if lo >= hi {
		return nil
	}
	// Sized up front: on a big board every allocation costs the collector
	// a scan of the board's pointers, so growth by append is not cheap.
	items := b.tree.appendRange(make([]item, 0, hi-lo), lo, hi)
	if len(items) == 0 {
		return nil
	}
	out := make([]ranker.Entry, len(items))
	for i, it := range items {
		out[i] = ranker.Entry{Member: it.member, Score: it.score, Rank: lo + i + 1}
	}
	return out
}

// Around implements ranker.Ranker.
func (r *Ranker) Around(ctx context.Context, name, member string, k int) ([]ranker.Entry, error) {
	if err := ranker.ValidateRead(name, k); err != nil {
		return nil, errorf("around", err)
	}
	now, err := r.lockRead(ctx, "around")
	if err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	b := r.live(name, now)
	if b == nil {
		return nil, nil
	}
	s, ok := b.scores[member]
	if !ok {
		return nil, nil
	}
	pos := b.tree.rank(item{s, member})
	return entries(b, max(pos-k, 0), pos+k+1), nil
}

// Size implements ranker.Ranker.
func (r *Ranker) Size(ctx context.Context, name string) (int, error) {
	if err := ranker.ValidateBoard(name); err != nil {
		return 0, errorf("size", err)
	}
	now, err := r.lockRead(ctx, "size")
	if err != nil {
		return 0, err
	}
	defer r.mu.RUnlock()
	if b := r.live(name, now); b != nil {
		return len(b.scores), nil
	}
	return 0, nil
}

// Scores implements ranker.Ranker.
func (r *Ranker) Scores(ctx context.Context, name string, members []string) ([]ranker.Entry, error) {
	if err := ranker.ValidateBoard(name); err != nil {
		return nil, errorf("scores", err)
	}
	now, err := r.lockRead(ctx, "scores")
	if err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	b := r.live(name, now)
	if b == nil {
		return nil, nil
	}
	var out []ranker.Entry
	for _, m := range members {
		if s, ok := b.scores[m]; ok {
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
	now, err := r.lockRead(ctx, "expires at")
	if err != nil {
		return time.Time{}, err
	}
	defer r.mu.RUnlock()
	if b := r.live(name, now); b != nil {
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
		s.Members += len(b.scores)
	}
	return s
}

// deadline is a heap entry: name's deadline at.
type deadline struct {
	at   time.Time
	name string
}

type deadlines []deadline

func (d deadlines) Len() int           { return len(d) }
func (d deadlines) Less(i, j int) bool { return d[i].at.Before(d[j].at) }
func (d deadlines) Swap(i, j int)      { d[i], d[j] = d[j], d[i] }
func (d *deadlines) Push(x any)        { *d = append(*d, x.(deadline)) }
func (d *deadlines) Pop() any {
	old := *d
	x := old[len(old)-1]
	*d = old[:len(old)-1]
	return x
}
