// Package ranker is Stride's port to leaderboards: named boards of members
// (athlete ids) with float64 scores, higher first. The leaderboard
// projection builds the board names (for example
// "distance:running:week:2026-W47:global"); to the ranker they are opaque.
//
// Adapters live in their own packages (memrank, the embedded default, and
// redis) and all pass the suite in ranker/rankertest.
//
// # Ranks and ties
//
// Ranks are 1-based: the best member of a board has Rank 1. Members are
// ordered by score, higher first, and members with equal scores by member id
// ascending (byte-wise, as Go compares strings): with the same 10 km,
// "athlete-a" is ranked above "athlete-b". The rule is deterministic, so
// that a rebuilt board ranks exactly like the live one, and it is the order
// Redis keeps natively for equal scores, so every adapter can give it
// without extra work (see Less).
//
// # Idempotent writes
//
// The ranker is outside the store's transaction, and the bus delivers at
// least once, so a write may be made again after a crash between the ranker
// write and the ack. Two kinds of write are safe to repeat:
//
//   - Set writes absolute scores, recomputed from the store: repeating it
//     changes nothing.
//   - Incr adds deltas on behalf of one event, and records (event id, board,
//     member) in the same atomic step: a second Incr with the same event id
//     skips what was already applied. The record is kept for the adapter's
//     dedupe window (days; see the adapters), long enough for redeliveries
//     and dead-letter replays.
//
// # Expiry
//
// A board can have a deadline (Update.ExpireAt, Replace's expireAt): once it
// has passed, the board is gone, as if deleted, and its memory is freed. A
// weekly board, say, is given the end of its week plus a retention period,
// so old periods never accumulate. A write with a deadline already past
// leaves no board behind (a late event for an expired period is dropped).
package ranker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Ranker is a set of leaderboards. Every method is safe for concurrent use.
type Ranker interface {
	// Set gives members absolute scores, creating boards as needed, and
	// takes members off boards for updates with Remove. The updates are
	// applied in order, atomically and, in Redis, in one round trip: pass
	// all the boards one activity touches in one call, including those the
	// athlete no longer belongs on.
	Set(ctx context.Context, updates ...Update) error

	// Incr adds each update's Score to the member's score (a missing
	// member starts at 0) on behalf of the event eventID, atomically with
	// recording that the event was applied to that board and member. An
	// update already applied for this event id is skipped, so a redelivered
	// event never counts twice. It returns how many updates were applied
	// (0 for a full duplicate). All the updates of one call are one atomic
	// step and one round trip. An update with Remove is invalid here: a
	// removal is not a delta, and repeating it is already harmless.
	Incr(ctx context.Context, eventID string, updates ...Update) (applied int, err error)

	// Remove takes members off a board (a deleted account, or before
	// setting a recomputed score). Missing members are ignored.
	Remove(ctx context.Context, board string, members ...string) error

	// Replace swaps the whole board for entries (Member and Score are
	// used, Rank is ignored) atomically: readers see the old board or the
	// new one, never a mix. expireAt is the new board's deadline; zero means
	// none. Empty entries delete the board. This is the rebuild path.
	// Records of applied event ids are kept (by Delete too): an event the
	// rebuild already counted from the store stays skipped if redelivered.
	Replace(ctx context.Context, board string, entries []Entry, expireAt time.Time) error

	// Delete removes whole boards. Missing boards are ignored.
	Delete(ctx context.Context, boards ...string) error

	// RemoveMember takes member off every board it is on, deleting the
	// boards it leaves empty, as Remove does. Board names are opaque, so
	// the ranker cannot tell which boards hold a member: this is a pass
	// over the whole ranker, meant for the rare case that needs it (a
	// deleted account), not for the write path. It is not atomic across
	// boards (a reader may see the member gone from some boards and not
	// yet from others) and need not be: it is idempotent, so an
	// interrupted pass is finished by running it again. A missing member
	// is not an error.
	RemoveMember(ctx context.Context, member string) error

	// Rank returns a member's entry; ok is false when the member is not on
	// the board (or the board does not exist).
	Rank(ctx context.Context, board, member string) (e Entry, ok bool, err error)

	// Top returns up to limit entries starting at the 0-based position
	// offset in rank order (offset 0 is the entry with Rank 1). Successive
	// pages of a board that does not change have no gaps and no duplicates.
	Top(ctx context.Context, board string, offset, limit int) ([]Entry, error)

	// Around returns the member's entry with up to k entries on each side,
	// in rank order (fewer at the top and bottom of the board). It returns
	// nil when the member is not on the board.
	Around(ctx context.Context, board, member string, k int) ([]Entry, error)

	// Size returns the number of members on the board (0 if missing).
	Size(ctx context.Context, board string) (int, error)

	// Window is what a leaderboard page needs, read in one atomic step (one
	// lock, or one Redis round trip): the board's size, member's entry and
	// a page, all of one version of the board, where Size, Rank and
	// Top/Around would each pay a round trip and could see the board
	// change in between. The page is Top(offset, limit) or, when around
	// is true, Around(member, limit/2) (offset is then ignored). member
	// may be "": no entry is looked up, and an around page is empty.
	Window(ctx context.Context, board, member string, offset, limit int, around bool) (Window, error)

	// Scores returns the entries of those of members that are on the board,
	// in the order given, with Rank 0: the board-wide rank is not computed
	// (that would cost a lookup per member). It is the read for the
	// "following" scope; RankSubset ranks the result among itself.
	Scores(ctx context.Context, board string, members []string) ([]Entry, error)

	// ExpiresAt returns the board's deadline, or the zero time if it has
	// none or does not exist.
	ExpiresAt(ctx context.Context, board string) (time.Time, error)

	// Close releases the adapter's resources. Calls after Close fail with
	// ErrClosed.
	Close() error
}

// Update is one write to one board.
type Update struct {
	Board  string
	Member string
	// Score is the new score for Set, the delta for Incr.
	Score float64
	// ExpireAt, when not zero, becomes the board's deadline. Zero leaves the
	// deadline as it is (none for a new board). After a Remove it applies
	// only if the board still has members.
	ExpireAt time.Time
	// Remove, in Set, takes Member off Board instead of scoring it: the
	// leaderboard projection recomputes an athlete's scores for every board
	// an activity touches and must drop them, in the same atomic call, from
	// boards where they no longer have anything. Score is ignored, a missing
	// member or board is not an error, and a board whose last member goes
	// is deleted with its deadline, as by Delete. Incr rejects it.
	Remove bool
}

// Window is the result of Ranker.Window.
type Window struct {
	// Size is the number of members on the board (0 if missing).
	Size int
	// Member is the member's entry when OnBoard, else the zero Entry.
	Member  Entry
	OnBoard bool
	// Entries is the page, in rank order; empty when around and the
	// member is not on the board.
	Entries []Entry
}

// Entry is a member's place on a board.
type Entry struct {
	Member string
	Score  float64
	// Rank is 1-based; 0 where not computed (Scores).
	Rank int
}

var (
	// ErrInvalid is wrapped by every error about an argument: an empty
	// board, member or event id, a score that is not finite, a negative
	// offset, limit or k, a Remove given to Incr.
	ErrInvalid = errors.New("ranker: invalid argument")
	// ErrClosed is returned by every call after Close.
	ErrClosed = errors.New("ranker: closed")
)

// Less reports whether a ranks before b: higher score first, then member id
// ascending. It is the tie rule of every adapter.
func Less(a, b Entry) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Member < b.Member
}

// Compare is Less as a three-way comparison, for slices.SortFunc.
func Compare(a, b Entry) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	return cmp.Compare(a.Member, b.Member)
}

// RankSubset sorts entries by the tie rule and numbers them from 1: the
// ranking of a subset of a board, such as the athletes one follows, read
// with Scores.
func RankSubset(entries []Entry) {
	slices.SortFunc(entries, Compare)
	for i := range entries {
		entries[i].Rank = i + 1
	}
}

// ValidateUpdates checks the updates of a Set as every adapter must before
// writing, so that a bad batch fails whole rather than half applied. The
// Score of a Remove is not checked: it is ignored.
func ValidateUpdates(updates []Update) error {
	for i, u := range updates {
		if u.Board == "" {
			return fmt.Errorf("%w: update %d: empty board", ErrInvalid, i)
		}
		if u.Member == "" {
			return fmt.Errorf("%w: update %d: empty member", ErrInvalid, i)
		}
		if !u.Remove && (math.IsNaN(u.Score) || math.IsInf(u.Score, 0)) {
			return fmt.Errorf("%w: update %d: score %v is not finite", ErrInvalid, i, u.Score)
		}
	}
	return nil
}

// ValidateIncr checks the event id and updates of an Incr: those of a Set,
// without Remove.
func ValidateIncr(eventID string, updates []Update) error {
	if eventID == "" {
		return fmt.Errorf("%w: empty event id", ErrInvalid)
	}
	for i, u := range updates {
		if u.Remove {
			return fmt.Errorf("%w: update %d: Remove in Incr (use Set)", ErrInvalid, i)
		}
	}
	return ValidateUpdates(updates)
}

// ValidateEntries checks the entries of a Replace: members present, once
// each, with finite scores.
func ValidateEntries(board string, entries []Entry) error {
	if err := ValidateEntryValues(board, entries); err != nil {
		return err
	}
	seen := make(map[string]struct{}, len(entries))
	for i, e := range entries {
		if _, dup := seen[e.Member]; dup {
			return DuplicateEntry(i, e.Member)
		}
		seen[e.Member] = struct{}{}
	}
	return nil
}

// ValidateEntryValues is ValidateEntries without the check that each member
// is listed once: for an adapter that finds repeats while it builds the
// board, where a set of a million names built only to check them was a
// tenth of a rebuild.
func ValidateEntryValues(board string, entries []Entry) error {
	if board == "" {
		return fmt.Errorf("%w: empty board", ErrInvalid)
	}
	for i, e := range entries {
		if e.Member == "" {
			return fmt.Errorf("%w: entry %d: empty member", ErrInvalid, i)
		}
		if math.IsNaN(e.Score) || math.IsInf(e.Score, 0) {
			return fmt.Errorf("%w: entry %d: score %v is not finite", ErrInvalid, i, e.Score)
		}
	}
	return nil
}

// DuplicateEntry is the error for entry i of a Replace naming a member an
// earlier entry named.
func DuplicateEntry(i int, member string) error {
	return fmt.Errorf("%w: entry %d: member %q listed twice", ErrInvalid, i, member)
}

// ValidateBoard checks a board name.
func ValidateBoard(board string) error {
	if board == "" {
		return fmt.Errorf("%w: empty board", ErrInvalid)
	}
	return nil
}

// ValidateMember checks a member id.
func ValidateMember(member string) error {
	if member == "" {
		return fmt.Errorf("%w: empty member", ErrInvalid)
	}
	return nil
}

// ValidateRead checks a board and the non-negative counts of a read.
func ValidateRead(board string, counts ...int) error {
	if err := ValidateBoard(board); err != nil {
		return err
	}
	for _, n := range counts {
		if n < 0 {
			return fmt.Errorf("%w: negative count %d", ErrInvalid, n)
		}
	}
	return nil
}

// DefaultDedupeWindow is how long adapters remember that an event was
// applied, unless configured otherwise: longer than the bus's retries and
// than an operator's usual delay before replaying dead letters.
const DefaultDedupeWindow = 7 * 24 * time.Hour
