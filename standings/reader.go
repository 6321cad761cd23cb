package standings

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/achievement"
	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/store"
)

// ReadStore is what the Reader needs of the system of record.
type ReadStore interface {
	store.Standings
	UserByID(ctx context.Context, id string) (*stride.User, error)
	UserNames(ctx context.Context, ids []string) (map[string]string, error)
	IsFollowing(ctx context.Context, followerID, followeeID string) (bool, error)
	Following(ctx context.Context, userID string, page stride.Page) ([]store.FollowEntry, string, error)
}

// Reader serves leaderboards, achievements and records.
type Reader struct {
	store  ReadStore
	ranker ranker.Ranker
	now    func() time.Time
	names  *nameCache
	boards *boardCache
	// filling is set while the boards are being filled (BoardsFilling).
	filling atomic.Bool

	// BoardCacheTTL, when positive, enables the board cache: a page of a
	// global-scope board read without around=me (the top 100, say) is
	// read from the ranker once and served from memory for that long to
	// every viewer; only the viewer's own standing is read for each
	// request (none when they are on the cached page). What it allows:
	// the page's entries and the board's size may be up to BoardCacheTTL
	// older than the board (and names up to NameTTL plus BoardCacheTTL
	// older than a rename), except that a viewer on the cached page is
	// ranked where the page has them, and a viewer whose fresh rank falls
	// on the page but who is not on it gets an uncached read. Pages are
	// also dropped by BoardsChanged, so a write announced to this process
	// shows at once. Replacing boards from another process (stride
	// replay) is seen only after the TTL. Zero (the default) disables the
	// cache. Set it before the Reader serves.
	BoardCacheTTL time.Duration
	// BoardCacheSize bounds the number of pages cached (each board,
	// offset and limit is one page); DefaultBoardCacheSize if 0. When it is
	// full, expired pages and then arbitrary ones make room.
	BoardCacheSize int
}

// NewReader returns a Reader.
func NewReader(s ReadStore, r ranker.Ranker, now func() time.Time) *Reader {
	// The name cache keeps to the wall clock, not now: a clock a test
	// holds still for the periods must not keep names forever.
	return &Reader{store: s, ranker: r, now: now, names: newNameCache(NameTTL, MaxCachedNames, time.Now),
		boards: newBoardCache(time.Now)}
}

// BoardsFilling marks the boards as being filled: the in-memory ranker is
// rebuilt from the store at every start, which takes about a minute at a
// million athletes. Until BoardsFilled, leaderboard reads fail with
// EUNAVAILABLE and a Retry-After rather than show boards that are empty or
// half written.
func (r *Reader) BoardsFilling() { r.filling.Store(true) }

// BoardsFilled ends BoardsFilling.
func (r *Reader) BoardsFilled() { r.filling.Store(false) }

// errBoardsFilling is what a leaderboard read answers while the boards
// are being filled.
func errBoardsFilling() error {
	return &stride.Error{Code: stride.EUNAVAILABLE, Message: "The leaderboards are being rebuilt after a restart; try again shortly.",
		RetryAfter: 10}
}

// Scopes of a leaderboard read.
const (
	ScopeGlobal    = "global"
	ScopeFollowing = "following"
)

// MaxFollowingScope bounds the athletes a following-scope board ranks: the
// reader and up to this many of those they follow (newest follows first).
const MaxFollowingScope = 5000

// BoardQuery is a leaderboard read.
type BoardQuery struct {
	Metric leaderboard.Metric
	Sport  string // "" for all sports
	Period leaderboard.PeriodKind
	// Date picks the period holding it (YYYY-MM-DD); "" is today in the
	// reader's time zone.
	Date          string
	Scope         string
	ExcludeIndoor bool // leave out indoor and virtual activities
	AroundMe      bool
	Page          stride.Page
}

// Standing is one athlete's place on a board.
type Standing struct {
	Rank   int     `json:"rank"`
	UserID string  `json:"user_id"`
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
}

// BoardInfo describes the board read.
type BoardInfo struct {
	Type      string `json:"type"`
	Sport     string `json:"sport"`
	Period    string `json:"period"`
	PeriodKey string `json:"period_key"`
	From      string `json:"from,omitempty"`
	To        string `json:"to,omitempty"`
	Scope     string `json:"scope"`
	Indoor    string `json:"indoor"`
	Unit      string `json:"unit"`
	Athletes  int    `json:"athletes"`
}

// BoardPage is a page of a leaderboard. Entries may be shared with other
// reads of the same page (see Reader.BoardCacheTTL): do not modify them.
type BoardPage struct {
	Board      BoardInfo  `json:"board"`
	Entries    []Standing `json:"entries"`
	Me         *Standing  `json:"me"`
	NextCursor *string    `json:"next_cursor"`

	// entriesJSON, when not nil, is Entries encoded (a cached page's).
	entriesJSON []byte
}

func invalid(field, msg string) error {
	var v stride.Validation
	v.Add(field, "%s", msg)
	return v.Err()
}

// Leaderboard reads a page of a board for viewer, the caller as
// authentication loaded it (its time zone picks the current period).
func (r *Reader) Leaderboard(ctx context.Context, viewer *stride.User, q BoardQuery) (*BoardPage, error) {
	viewerID := viewer.ID
	b, err := r.resolve(viewer, q)
	if err != nil {
		return nil, err
	}
	if r.filling.Load() {
		return nil, errBoardsFilling()
	}
	offset, err := decodeOffset(q.Page.Cursor)
	if err != nil {
		return nil, err
	}
	limit := q.Page.Limit
	if limit <= 0 {
		limit = stride.DefaultPageLimit
	}
	limit = min(limit, stride.MaxPageLimit)
	page := &BoardPage{Board: describe(b, q.Scope), Entries: []Standing{}}

	var entries []ranker.Entry
	var me *ranker.Entry
	names := map[string]string{}
	switch q.Scope {
	case ScopeFollowing:
		members, err := r.followingScope(ctx, viewer, names)
		if err != nil {
			return nil, err
		}
		all, err := r.followingScores(ctx, b, members)
		if err != nil {
			return nil, err
		}
		ranker.RankSubset(all)
		page.Board.Athletes = len(all)
		for i := range all {
			if all[i].Member == viewerID {
				me = &all[i]
			}
		}
		switch {
		case q.AroundMe && me != nil:
			lo := max(me.Rank-1-limit/2, 0)
			entries = all[lo:min(lo+limit, len(all))]
		case q.AroundMe:
		default:
			if offset < len(all) {
				entries = all[offset:min(offset+limit, len(all))]
			}
			if offset+limit < len(all) {
				page.NextCursor = encodeOffset(offset + limit)
			}
		}
	default:
		if r.BoardCacheTTL > 0 && !q.AroundMe {
			return r.cachedLeaderboard(ctx, viewer, q, b, offset, limit, page)
		}
		return r.globalLeaderboard(ctx, viewer, q, b, offset, limit, page)
	}
	value := valueOf(q.Metric)
	for _, e := range entries {
		page.Entries = append(page.Entries, Standing{Rank: e.Rank, UserID: e.Member, Name: names[e.Member], Value: value(e.Score)})
	}
	if me != nil {
		page.Me = &Standing{Rank: me.Rank, UserID: viewerID, Name: viewer.Name, Value: value(me.Score)}
	}
	return page, nil
}

// globalLeaderboard fills page, of a global-scope board, with one ranker
// call: size, the viewer's entry and the page of one version of the board.
func (r *Reader) globalLeaderboard(ctx context.Context, viewer *stride.User, q BoardQuery, b leaderboard.Board, offset, limit int, page *BoardPage) (*BoardPage, error) {
	viewerID := viewer.ID
	w, err := r.ranker.Window(ctx, b.Name(), viewerID, offset, limit, q.AroundMe)
	if err != nil {
		return nil, fmt.Errorf("read board %s: %w", b.Name(), err)
	}
	page.Board.Athletes = w.Size
	if !q.AroundMe && offset+limit < w.Size {
		page.NextCursor = encodeOffset(offset + limit)
	}
	ids := make([]string, 0, len(w.Entries))
	for _, e := range w.Entries {
		if e.Member != viewerID {
			ids = append(ids, e.Member)
		}
	}
	names, err := r.names.lookup(ctx, ids, r.store.UserNames)
	if err != nil {
		return nil, err
	}
	// The viewer's own name is fresh from authentication.
	names[viewerID] = viewer.Name
	value := valueOf(q.Metric)
	for _, e := range w.Entries {
		page.Entries = append(page.Entries, Standing{Rank: e.Rank, UserID: e.Member, Name: names[e.Member], Value: value(e.Score)})
	}
	if w.OnBoard {
		page.Me = &Standing{Rank: w.Member.Rank, UserID: viewerID, Name: viewer.Name, Value: value(w.Member.Score)}
	}
	return page, nil
}

// resolve names the board a query reads, for a viewer whose time zone
// picks the current period.
func (r *Reader) resolve(viewer *stride.User, q BoardQuery) (leaderboard.Board, error) {
	day, err := r.day(q.Date, viewer.TimeZone)
	if err != nil {
		return leaderboard.Board{}, err
	}
	sport := q.Sport
	if sport == "" {
		sport = leaderboard.AllSports
	}
	b := leaderboard.Board{Metric: q.Metric, Sport: sport, Period: leaderboard.PeriodOf(q.Period, day), Tier: leaderboard.TierPublic, Env: leaderboard.EnvAll}
	if q.Scope == ScopeFollowing {
		b.Tier = leaderboard.TierFollowers
	}
	if q.ExcludeIndoor {
		b.Env = leaderboard.EnvOutdoor
	}
	return b, nil
}

// Resolve names the global board a query reads for the viewer: what a
// realtime subscription watches.
func (r *Reader) Resolve(ctx context.Context, viewerID string, q BoardQuery) (leaderboard.Board, error) {
	if q.Scope != ScopeGlobal || q.AroundMe {
		return leaderboard.Board{}, invalid("topic", "only global boards without around=me can be watched; read your own standing with GET")
	}
	viewer, err := r.store.UserByID(ctx, viewerID)
	if err != nil {
		return leaderboard.Board{}, fmt.Errorf("load viewer %s: %w", viewerID, err)
	}
	return r.resolve(viewer, q)
}

// Top reads the first limit entries of a global board with names: the
// state a realtime push sends to every watcher of the board.
func (r *Reader) Top(ctx context.Context, b leaderboard.Board, limit int) (*BoardPage, error) {
	if r.filling.Load() {
		return nil, errBoardsFilling()
	}
	w, err := r.ranker.Window(ctx, b.Name(), "", 0, limit, false)
	if err != nil {
		return nil, fmt.Errorf("read board %s: %w", b.Name(), err)
	}
	size, entries := w.Size, w.Entries
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.Member
	}
	names, err := r.names.lookup(ctx, ids, r.store.UserNames)
	if err != nil {
		return nil, err
	}
	page := &BoardPage{Board: describe(b, ScopeGlobal), Entries: []Standing{}}
	page.Board.Athletes = size
	value := valueOf(b.Metric)
	for _, e := range entries {
		page.Entries = append(page.Entries, Standing{Rank: e.Rank, UserID: e.Member, Name: names[e.Member], Value: value(e.Score)})
	}
	return page, nil
}

// describe is what a page says of its board.
func describe(b leaderboard.Board, scope string) BoardInfo {
	first, last := b.Period.Bounds()
	info := BoardInfo{Type: string(b.Metric), Sport: b.Sport, Period: string(b.Period.Kind), PeriodKey: b.Period.Key,
		From: first, To: last, Scope: scope, Indoor: "include", Unit: unit(b.Metric)}
	if b.Env == leaderboard.EnvOutdoor {
		info.Indoor = "exclude"
	}
	return info
}

// followingScores reads the scores of members on a followers-tier board,
// falling back to the public board for those it does not hold (see
// leaderboard.FollowersFallback).
func (r *Reader) followingScores(ctx context.Context, b leaderboard.Board, members []string) ([]ranker.Entry, error) {
	own, err := r.ranker.Scores(ctx, b.Name(), members)
	if err != nil {
		return nil, fmt.Errorf("read board %s: %w", b.Name(), err)
	}
	held := make(map[string]bool, len(own))
	for _, e := range own {
		held[e.Member] = true
	}
	rest := make([]string, 0, len(members)-len(own))
	for _, m := range members {
		if !held[m] {
			rest = append(rest, m)
		}
	}
	if len(rest) == 0 {
		return own, nil
	}
	public := leaderboard.FollowersFallback(b)
	more, err := r.ranker.Scores(ctx, public.Name(), rest)
	if err != nil {
		return nil, fmt.Errorf("read board %s: %w", public.Name(), err)
	}
	return append(own, more...), nil
}

// followingScope returns the reader and the athletes they follow, filling
// names on the way.
func (r *Reader) followingScope(ctx context.Context, viewer *stride.User, names map[string]string) ([]string, error) {
	members := []string{viewer.ID}
	names[viewer.ID] = viewer.Name
	page := stride.Page{Limit: stride.MaxPageLimit}
	for len(members) <= MaxFollowingScope {
		list, next, err := r.store.Following(ctx, viewer.ID, page)
		if err != nil {
			return nil, fmt.Errorf("list followed athletes of %s: %w", viewer.ID, err)
		}
		for _, f := range list {
			if len(members) > MaxFollowingScope {
				break
			}
			members = append(members, f.User.ID)
			names[f.User.ID] = f.User.Name
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	return members, nil
}

// day resolves the date that picks the period.
func (r *Reader) day(date, zone string) (time.Time, error) {
	if date != "" {
		d, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return time.Time{}, invalid("date", "must be a date, YYYY-MM-DD")
		}
		return d, nil
	}
	loc := time.UTC
	if zone != "" {
		if l, err := time.LoadLocation(zone); err == nil {
			loc = l
		}
	}
	y, m, d := r.now().In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}

// valueOf is m.Value with the metric looked up once, for a page of
// entries: the lookup walks (and builds) the list of efforts, a dozen
// allocations each time.
func valueOf(m leaderboard.Metric) func(score float64) float64 {
	if m.LowerIsBetter() {
		return func(score float64) float64 { return -score }
	}
	return func(score float64) float64 { return score }
}

func unit(m leaderboard.Metric) string {
	switch m {
	case leaderboard.Distance, leaderboard.Elevation:
		return "m"
	case leaderboard.Duration:
		return "s"
	case leaderboard.Activities:
		return "count"
	}
	if e, ok := activity.LookupEffort(string(m)); ok {
		return e.Unit
	}
	return ""
}

// Offsets are opaque to clients; a board that changes between pages can
// shift entries across a page boundary, as any ranked list does.
func encodeOffset(n int) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(n)))
	return &c
}

func decodeOffset(cursor string) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil && len(raw) > 1 && raw[0] == 'o' {
		if n, err := strconv.Atoi(string(raw[1:])); err == nil && n >= 0 && n <= 10_000_000 {
			return n, nil
		}
	}
	return 0, invalid("cursor", "is not a cursor this endpoint gave")
}

// visibleActivities returns, for a viewer looking at owner's standings,
// which of the owner's activities the viewer may see.
func (r *Reader) visibleActivities(ctx context.Context, viewerID, ownerID string) (func(activityID string) bool, error) {
	if viewerID == ownerID {
		return func(string) bool { return true }, nil
	}
	facts, err := r.store.ActivityFacts(ctx, ownerID)
	if err != nil {
		return nil, fmt.Errorf("load activity facts of %s: %w", ownerID, err)
	}
	follows, err := r.store.IsFollowing(ctx, viewerID, ownerID)
	if err != nil {
		return nil, err
	}
	visible := map[string]bool{}
	for _, f := range facts {
		a := stride.Activity{UserID: ownerID, Visibility: f.Visibility}
		if a.CanView(viewerID, follows) {
			visible[f.ActivityID] = true
			if f.ParentID != "" {
				visible[f.ParentID] = true
			}
		}
	}
	return func(id string) bool { return visible[id] }, nil
}

// owner checks that the athlete exists.
func (r *Reader) owner(ctx context.Context, userID string) error {
	u, err := r.store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if u.Status != stride.StatusActive {
		return stride.Errorf(stride.ENOTFOUND, "User not found.")
	}
	return nil
}

// Achievements lists an athlete's achievements, oldest first. Another
// viewer sees every badge but not the activity behind one it may not see.
func (r *Reader) Achievements(ctx context.Context, viewerID, userID string) ([]AchievementView, error) {
	if err := r.owner(ctx, userID); err != nil {
		return nil, err
	}
	list, err := r.store.Achievements(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("load achievements of %s: %w", userID, err)
	}
	canSee, err := r.visibleActivities(ctx, viewerID, userID)
	if err != nil {
		return nil, err
	}
	out := make([]AchievementView, 0, len(list))
	for _, a := range list {
		v := AchievementJSON(a)
		if !canSee(a.ActivityID) {
			v.ActivityID = ""
		}
		out = append(out, v)
	}
	return out, nil
}

// Records lists an athlete's current personal records, one per effort, each
// with the record it beat. A viewer other than the athlete sees only
// records set in activities they may see: a record from a private activity
// would reveal it.
func (r *Reader) Records(ctx context.Context, viewerID, userID string) ([]RecordView, error) {
	if err := r.owner(ctx, userID); err != nil {
		return nil, err
	}
	progression, err := r.store.Records(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("load records of %s: %w", userID, err)
	}
	canSee, err := r.visibleActivities(ctx, viewerID, userID)
	if err != nil {
		return nil, err
	}
	// The viewer's view of the progression is the progression of what they
	// can see, so the "previous" record shown is one they may see too.
	var visible []stride.Record
	for _, rec := range progression {
		if canSee(rec.ActivityID) {
			visible = append(visible, rec)
		}
	}
	if viewerID != userID {
		visible = reprogress(visible)
	}
	out := []RecordView{}
	for _, rec := range achievement.Current(visible) {
		out = append(out, RecordJSON(rec))
	}
	return out, nil
}

// reprogress relinks a filtered progression (ordered by effort, then
// oldest first) so that each record's previous is the one before it.
func reprogress(rs []stride.Record) []stride.Record {
	for i := range rs {
		rs[i].PreviousValue, rs[i].PreviousActivityID = nil, ""
		if i > 0 && rs[i-1].Effort == rs[i].Effort {
			prev := rs[i-1].Value
			rs[i].PreviousValue, rs[i].PreviousActivityID = &prev, rs[i-1].ActivityID
		}
	}
	return rs
}
