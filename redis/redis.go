// Package redis is the ranker port on Redis sorted sets, chosen by
// STRIDE_REDIS_URL: boards are shared by every API and worker process and
// survive their restarts.
//
// # Layout
//
// With the default prefix "stride:lb:", board B is the sorted set
// "stride:lb:b:B", and the record of an event E's applied increments is the
// hash "stride:lb:e:E" (one field per board and member, expiring with the
// dedupe window). Scores are stored negated, so that ZRANK/ZRANGE, which
// order equal scores by member ascending, give exactly the port's order —
// higher score first, ties by member id ascending — where ZREVRANK would
// order ties by member descending.
//
// # Atomicity and round trips
//
// Incr is one Lua script per call: for each update, HSETNX the (board,
// member) field of the event's hash, and only if it was new, ZINCRBY and
// PEXPIREAT. Redis runs a script atomically, so a redelivered event, or two
// workers handling the same event at once, apply it once; a crash after the
// script and before the bus ack is harmless. All the boards of one activity
// go in one script call: one round trip. Set is one MULTI/EXEC pipeline;
// Rank and Around are read scripts (one round trip, one consistent view).
// RemoveMember alone spans many round trips and is not atomic (see it).
//
// The scripts touch several keys, so on Redis Cluster all of one call's
// boards and its event hash would need one hash slot; this adapter is meant
// for a single Redis server, reached by a redis:// or rediss:// URL (Open
// does not speak to Sentinel or Cluster).
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stridehq/stride/ranker"
)

// DefaultPrefix is the key prefix when Options.Prefix is empty.
const DefaultPrefix = "stride:lb:"

// Options configure a Ranker.
type Options struct {
	// Prefix is put before every key, so that several deployments (or
	// tests) can share one Redis. DefaultPrefix if empty.
	Prefix string
	// DedupeWindow is how long an event's applied increments are
	// remembered; ranker.DefaultDedupeWindow if zero.
	DedupeWindow time.Duration
}

// Ranker is a ranker.Ranker on Redis.
type Ranker struct {
	rdb     goredis.UniversalClient
	owned   bool // Close closes rdb
	prefix  string
	window  time.Duration
	closed  atomic.Bool
	incr    *goredis.Script
	rank    *goredis.Script
	around  *goredis.Script
	replace *goredis.Script
	// windows sends concurrent Window calls in shared pipelines.
	windows *readPipeline
}

var _ ranker.Ranker = (*Ranker)(nil)

// removeMemberBatch is how many board keys RemoveMember asks SCAN for at a
// time and sends ZREMs to in one pipelined round trip.
const removeMemberBatch = 1000

// replaceChunk is how many members go in one ZADD when a board is rebuilt,
// and replacePipeline how many ZADDs go in one round trip: big enough that
// a million members take a few dozen round trips, small enough that no
// single command blocks Redis for long.
const (
	replaceChunk    = 1000
	replacePipeline = 50
)

// Open connects to the Redis at url (redis://[user:password@]host:port/db,
// or rediss:// for TLS), checks it answers, and returns a ranker that closes
// the connection on Close.
func Open(ctx context.Context, url string, opts Options) (*Ranker, error) {
	o, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis ranker: parse url: %w", err)
	}
	rdb := goredis.NewClient(o)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redis ranker: ping %s: %w", o.Addr, err)
	}
	r := New(rdb, opts)
	r.owned = true
	return r, nil
}

// New returns a ranker on a client the caller keeps owning: Close does not
// close it.
func New(rdb goredis.UniversalClient, opts Options) *Ranker {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.DedupeWindow <= 0 {
		opts.DedupeWindow = ranker.DefaultDedupeWindow
	}
	return &Ranker{
		windows: newReadPipeline(rdb, goredis.NewScript(windowScript)),
		rdb:     rdb,
		prefix:  opts.Prefix,
		window:  opts.DedupeWindow,
		incr:    goredis.NewScript(incrScript),
		rank:    goredis.NewScript(rankScript),
		around:  goredis.NewScript(aroundScript),
		replace: goredis.NewScript(replaceScript),
	}
}

// incrScript: KEYS[1] is the event's hash, KEYS[2..] the boards, one per
// update; ARGV[1] the hash's lifetime in ms, then for each update: member,
// negated delta, deadline in Unix ms ("0": leave the board's). The field
// names the board by its length and key, so that no board and member pair
// can spell another's.
const incrScript = `
local applied = 0
for i = 2, #KEYS do
  local a = (i - 2) * 3 + 2
  local member = ARGV[a]
  if redis.call('HSETNX', KEYS[1], #KEYS[i] .. ':' .. KEYS[i] .. member, '1') == 1 then
    redis.call('ZINCRBY', KEYS[i], ARGV[a + 1], member)
    if ARGV[a + 2] ~= '0' then
      redis.call('PEXPIREAT', KEYS[i], ARGV[a + 2])
    end
    applied = applied + 1
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return applied
`

// rankScript returns {position, stored score} or nil.
const rankScript = `
local r = redis.call('ZRANK', KEYS[1], ARGV[1])
if not r then return false end
return {r, redis.call('ZSCORE', KEYS[1], ARGV[1])}
`

// aroundScript returns {first position, {member, score, ...}} or nil.
const aroundScript = `
local r = redis.call('ZRANK', KEYS[1], ARGV[1])
if not r then return false end
local k = tonumber(ARGV[2])
local lo = r - k
if lo < 0 then lo = 0 end
return {lo, redis.call('ZRANGE', KEYS[1], lo, r + k, 'WITHSCORES')}
`

// windowScript: ARGV[1] is the member ("" for none), ARGV[2] the offset,
// ARGV[3] the limit, ARGV[4] "1" for a page around the member. It returns
// {size, member's position or -1, member's stored score or "", first
// position of the page, {member, score, ...}}: -1 and "" rather than nil,
// which would end the Lua table there. A board past its deadline is gone
// already (Redis expires the key), so it reads as missing here too.
const windowScript = `
local n = redis.call('ZCARD', KEYS[1])
if n == 0 then return {0, -1, '', 0, {}} end
local r, s = -1, ''
if ARGV[1] ~= '' then
  local p = redis.call('ZRANK', KEYS[1], ARGV[1])
  if p then
    r = p
    s = redis.call('ZSCORE', KEYS[1], ARGV[1])
  end
end
local limit = tonumber(ARGV[3])
local lo, hi
if ARGV[4] == '1' then
  if r < 0 then return {n, r, s, 0, {}} end
  local k = math.floor(limit / 2)
  lo, hi = r - k, r + k
  if lo < 0 then lo = 0 end
else
  if limit == 0 then return {n, r, s, 0, {}} end
  lo = tonumber(ARGV[2])
  hi = lo + limit - 1
end
return {n, r, s, lo, redis.call('ZRANGE', KEYS[1], lo, hi, 'WITHSCORES')}
`

// replaceScript swaps the filled temporary key KEYS[1] in as the board
// KEYS[2] and sets its deadline (ARGV[1], Unix ms, "0" for none) in the
// same atomic step: RENAME would otherwise carry the temporary key's own
// safety expiry over to the board.
const replaceScript = `
redis.call('RENAME', KEYS[1], KEYS[2])
if ARGV[1] == '0' then
  redis.call('PERSIST', KEYS[2])
else
  redis.call('PEXPIREAT', KEYS[2], ARGV[1])
end
return 1
`

func (r *Ranker) boardKey(board string) string { return r.prefix + "b:" + board }
func (r *Ranker) eventKey(id string) string    { return r.prefix + "e:" + id }

func (r *Ranker) check(ctx context.Context, op string) error {
	if r.closed.Load() {
		return fmt.Errorf("redis ranker: %s: %w", op, ranker.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis ranker: %s: %w", op, err)
	}
	return nil
}

func wrap(op, board string, err error) error {
	return fmt.Errorf("redis ranker: %s %q: %w", op, board, err)
}

// stored is the score as kept in Redis; see the package comment.
func stored(score float64) float64 { return -score }

// fromStored negates back, without turning 0 into -0.
func fromStored(s float64) float64 {
	if s == 0 {
		return 0
	}
	return -s
}

func deadlineArg(at time.Time) string {
	if at.IsZero() {
		return "0"
	}
	// A deadline at or before the epoch must still mean "expire now", not
	// "no deadline".
	return strconv.FormatInt(max(at.UnixMilli(), 1), 10)
}

// Set implements ranker.Ranker: one MULTI/EXEC pipeline of ZADDs and ZREMs
// (PEXPIREAT on a key a ZREM emptied is a no-op, as the port wants), so the
// batch is atomic and one round trip.
func (r *Ranker) Set(ctx context.Context, updates ...ranker.Update) error {
	if err := ranker.ValidateUpdates(updates); err != nil {
		return fmt.Errorf("redis ranker: set: %w", err)
	}
	if err := r.check(ctx, "set"); err != nil {
		return err
	}
	if len(updates) == 0 {
		return nil
	}
	_, err := r.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		for _, u := range updates {
			k := r.boardKey(u.Board)
			if u.Remove {
				// ZREM of the last member deletes the key and its
				// deadline, which is the port's empty board.
				p.ZRem(ctx, k, u.Member)
			} else {
				p.ZAdd(ctx, k, goredis.Z{Score: stored(u.Score), Member: u.Member})
			}
			if !u.ExpireAt.IsZero() {
				p.PExpireAt(ctx, k, time.UnixMilli(max(u.ExpireAt.UnixMilli(), 1)))
			}
		}
		return nil
	})
	if err != nil {
		return wrap("set", updates[0].Board, err)
	}
	return nil
}

// Incr implements ranker.Ranker with incrScript.
func (r *Ranker) Incr(ctx context.Context, eventID string, updates ...ranker.Update) (int, error) {
	if err := ranker.ValidateIncr(eventID, updates); err != nil {
		return 0, fmt.Errorf("redis ranker: incr: %w", err)
	}
	if err := r.check(ctx, "incr"); err != nil {
		return 0, err
	}
	if len(updates) == 0 {
		return 0, nil
	}
	keys := make([]string, 1, 1+len(updates))
	keys[0] = r.eventKey(eventID)
	args := make([]any, 1, 1+3*len(updates))
	args[0] = r.window.Milliseconds()
	for _, u := range updates {
		keys = append(keys, r.boardKey(u.Board))
		args = append(args, u.Member, stored(u.Score), deadlineArg(u.ExpireAt))
	}
	n, err := r.incr.Run(ctx, r.rdb, keys, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("redis ranker: incr event %q: %w", eventID, err)
	}
	return n, nil
}

// Remove implements ranker.Ranker.
func (r *Ranker) Remove(ctx context.Context, board string, members ...string) error {
	if err := ranker.ValidateBoard(board); err != nil {
		return fmt.Errorf("redis ranker: remove: %w", err)
	}
	if err := r.check(ctx, "remove"); err != nil {
		return err
	}
	if len(members) == 0 {
		return nil
	}
	ms := make([]any, len(members))
	for i, m := range members {
		ms[i] = m
	}
	if err := r.rdb.ZRem(ctx, r.boardKey(board), ms...).Err(); err != nil {
		return wrap("remove", board, err)
	}
	return nil
}

// Replace implements ranker.Ranker: the entries are written, pipelined, to
// a temporary key that expires by itself if this process dies half way;
// replaceScript then renames it over the board, atomically.
func (r *Ranker) Replace(ctx context.Context, board string, entries []ranker.Entry, expireAt time.Time) error {
	if err := ranker.ValidateEntries(board, entries); err != nil {
		return fmt.Errorf("redis ranker: replace: %w", err)
	}
	if err := r.check(ctx, "replace"); err != nil {
		return err
	}
	key := r.boardKey(board)
	if len(entries) == 0 {
		if err := r.rdb.Unlink(ctx, key).Err(); err != nil {
			return wrap("replace", board, err)
		}
		return nil
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	tmp := r.prefix + "tmp:" + hex.EncodeToString(b)
	cleanup := func() {
		// Best effort with a fresh context: ctx may be what failed.
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.rdb.Unlink(c, tmp).Err()
	}
	for start := 0; start < len(entries); {
		_, err := r.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			if start == 0 {
				// The safety expiry is set with the first chunk, before
				// anything else could leak.
				p.ZAdd(ctx, tmp, zs(entries[:min(replaceChunk, len(entries))])...)
				p.PExpire(ctx, tmp, time.Hour)
				start = min(replaceChunk, len(entries))
			}
			for range replacePipeline {
				if start == len(entries) {
					break
				}
				end := min(start+replaceChunk, len(entries))
				p.ZAdd(ctx, tmp, zs(entries[start:end])...)
				start = end
			}
			return nil
		})
		if err != nil {
			cleanup()
			return wrap("replace", board, err)
		}
	}
	if err := r.replace.Run(ctx, r.rdb, []string{tmp, key}, deadlineArg(expireAt)).Err(); err != nil {
		cleanup()
		return wrap("replace", board, err)
	}
	return nil
}

func zs(entries []ranker.Entry) []goredis.Z {
	out := make([]goredis.Z, len(entries))
	for i, e := range entries {
		out[i] = goredis.Z{Score: stored(e.Score), Member: e.Member}
	}
	return out
}

// Delete implements ranker.Ranker. UNLINK frees big boards in the
// background instead of blocking Redis while it does.
func (r *Ranker) Delete(ctx context.Context, boards ...string) error {
	if err := r.check(ctx, "delete"); err != nil {
		return err
	}
	if len(boards) == 0 {
		return nil
	}
	keys := make([]string, len(boards))
	for i, b := range boards {
		keys[i] = r.boardKey(b)
	}
	if err := r.rdb.Unlink(ctx, keys...).Err(); err != nil {
		return wrap("delete", boards[0], err)
	}
	return nil
}

// RemoveMember implements ranker.Ranker: it SCANs the adapter's board keys
// (by its prefix, so other deployments sharing the Redis are not touched)
// and sends a ZREM to each, a batch of keys per pipelined round trip. SCAN
// does not block Redis the way KEYS would, and returns every key that
// exists for the whole scan; a ZREM that empties a board deletes it. The
// batches are not one transaction, so a reader can see the member on some
// boards and not others until the pass ends, and a failure leaves it half
// done; calling again completes it, since ZREM of a missing member is a
// no-op.
func (r *Ranker) RemoveMember(ctx context.Context, member string) error {
	if err := ranker.ValidateMember(member); err != nil {
		return fmt.Errorf("redis ranker: remove member: %w", err)
	}
	if err := r.check(ctx, "remove member"); err != nil {
		return err
	}
	pattern := globEscape(r.boardKey("")) + "*"
	keys := make([]string, 0, removeMemberBatch)
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		_, err := r.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range keys {
				p.ZRem(ctx, k, member)
			}
			return nil
		})
		keys = keys[:0]
		return err
	}
	iter := r.rdb.Scan(ctx, 0, pattern, removeMemberBatch).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == removeMemberBatch {
			if err := flush(); err != nil {
				return fmt.Errorf("redis ranker: remove member %q: %w", member, err)
			}
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("redis ranker: remove member %q: scan: %w", member, err)
	}
	if err := flush(); err != nil {
		return fmt.Errorf("redis ranker: remove member %q: %w", member, err)
	}
	return nil
}

// globEscape quotes the characters SCAN's MATCH treats as a pattern, so a
// prefix is matched literally whatever it contains.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Rank implements ranker.Ranker.
func (r *Ranker) Rank(ctx context.Context, board, member string) (ranker.Entry, bool, error) {
	if err := ranker.ValidateBoard(board); err != nil {
		return ranker.Entry{}, false, fmt.Errorf("redis ranker: rank: %w", err)
	}
	if err := r.check(ctx, "rank"); err != nil {
		return ranker.Entry{}, false, err
	}
	res, err := r.rank.RunRO(ctx, r.rdb, []string{r.boardKey(board)}, member).Slice()
	if errors.Is(err, goredis.Nil) {
		return ranker.Entry{}, false, nil
	}
	if err != nil {
		return ranker.Entry{}, false, wrap("rank", board, err)
	}
	pos, ok1 := res[0].(int64)
	s, ok2 := res[1].(string)
	score, err := strconv.ParseFloat(s, 64)
	if !ok1 || !ok2 || err != nil {
		return ranker.Entry{}, false, wrap("rank", board, fmt.Errorf("unexpected reply %v", res))
	}
	return ranker.Entry{Member: member, Score: fromStored(score), Rank: int(pos) + 1}, true, nil
}

// Top implements ranker.Ranker.
func (r *Ranker) Top(ctx context.Context, board string, offset, limit int) ([]ranker.Entry, error) {
	if err := ranker.ValidateRead(board, offset, limit); err != nil {
		return nil, fmt.Errorf("redis ranker: top: %w", err)
	}
	if err := r.check(ctx, "top"); err != nil {
		return nil, err
	}
	if limit == 0 {
		return nil, nil
	}
	zs, err := r.rdb.ZRangeWithScores(ctx, r.boardKey(board), int64(offset), int64(offset+limit-1)).Result()
	if err != nil {
		return nil, wrap("top", board, err)
	}
	return fromZ(zs, offset), nil
}

func fromZ(zs []goredis.Z, offset int) []ranker.Entry {
	if len(zs) == 0 {
		return nil
	}
	out := make([]ranker.Entry, len(zs))
	for i, z := range zs {
		m, _ := z.Member.(string)
		out[i] = ranker.Entry{Member: m, Score: fromStored(z.Score), Rank: offset + i + 1}
	}
	return out
}

// Around implements ranker.Ranker.
func (r *Ranker) Around(ctx context.Context, board, member string, k int) ([]ranker.Entry, error) {
	if err := ranker.ValidateRead(board, k); err != nil {
		return nil, fmt.Errorf("redis ranker: around: %w", err)
	}
	if err := r.check(ctx, "around"); err != nil {
		return nil, err
	}
	res, err := r.around.RunRO(ctx, r.rdb, []string{r.boardKey(board)}, member, k).Slice()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("around", board, err)
	}
	lo, ok1 := res[0].(int64)
	flat, ok2 := res[1].([]any)
	if !ok1 || !ok2 || len(flat)%2 != 0 {
		return nil, wrap("around", board, fmt.Errorf("unexpected reply %v", res))
	}
	out := make([]ranker.Entry, len(flat)/2)
	for i := range out {
		m, ok1 := flat[2*i].(string)
		s, ok2 := flat[2*i+1].(string)
		score, err := strconv.ParseFloat(s, 64)
		if !ok1 || !ok2 || err != nil {
			return nil, wrap("around", board, fmt.Errorf("unexpected reply %v", flat))
		}
		out[i] = ranker.Entry{Member: m, Score: fromStored(score), Rank: int(lo) + i + 1}
	}
	return out, nil
}

// Window implements ranker.Ranker with windowScript: one round trip, shared
// with the other calls waiting at the time (pipeline.go).
func (r *Ranker) Window(ctx context.Context, board, member string, offset, limit int, around bool) (ranker.Window, error) {
	if err := ranker.ValidateRead(board, offset, limit); err != nil {
		return ranker.Window{}, fmt.Errorf("redis ranker: window: %w", err)
	}
	if err := r.check(ctx, "window"); err != nil {
		return ranker.Window{}, err
	}
	flag := "0"
	if around {
		flag = "1"
	}
	res, err := r.windows.run(ctx, []string{r.boardKey(board)}, member, offset, limit, flag)
	if err != nil {
		return ranker.Window{}, wrap("window", board, err)
	}
	bad := func() (ranker.Window, error) {
		return ranker.Window{}, wrap("window", board, fmt.Errorf("unexpected reply %v", res))
	}
	if len(res) != 5 {
		return bad()
	}
	size, ok1 := res[0].(int64)
	pos, ok2 := res[1].(int64)
	score, ok3 := res[2].(string)
	lo, ok4 := res[3].(int64)
	flat, ok5 := res[4].([]any)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || len(flat)%2 != 0 {
		return bad()
	}
	w := ranker.Window{Size: int(size)}
	if pos >= 0 {
		s, err := strconv.ParseFloat(score, 64)
		if err != nil {
			return bad()
		}
		w.Member, w.OnBoard = ranker.Entry{Member: member, Score: fromStored(s), Rank: int(pos) + 1}, true
	}
	if len(flat) > 0 {
		w.Entries = make([]ranker.Entry, len(flat)/2)
	}
	for i := range w.Entries {
		m, ok1 := flat[2*i].(string)
		s, ok2 := flat[2*i+1].(string)
		score, err := strconv.ParseFloat(s, 64)
		if !ok1 || !ok2 || err != nil {
			return bad()
		}
		w.Entries[i] = ranker.Entry{Member: m, Score: fromStored(score), Rank: int(lo) + i + 1}
	}
	return w, nil
}

// Size implements ranker.Ranker.
func (r *Ranker) Size(ctx context.Context, board string) (int, error) {
	if err := ranker.ValidateBoard(board); err != nil {
		return 0, fmt.Errorf("redis ranker: size: %w", err)
	}
	if err := r.check(ctx, "size"); err != nil {
		return 0, err
	}
	n, err := r.rdb.ZCard(ctx, r.boardKey(board)).Result()
	if err != nil {
		return 0, wrap("size", board, err)
	}
	return int(n), nil
}

// Scores implements ranker.Ranker with ZMSCORE (one round trip for the
// whole set of members).
func (r *Ranker) Scores(ctx context.Context, board string, members []string) ([]ranker.Entry, error) {
	if err := ranker.ValidateBoard(board); err != nil {
		return nil, fmt.Errorf("redis ranker: scores: %w", err)
	}
	if err := r.check(ctx, "scores"); err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 2+len(members))
	args = append(args, "ZMSCORE", r.boardKey(board))
	for _, m := range members {
		args = append(args, m)
	}
	// go-redis's ZMScore reads a missing member as 0; the raw reply keeps
	// the nil that tells them apart.
	res, err := r.rdb.Do(ctx, args...).Slice()
	if err != nil {
		return nil, wrap("scores", board, err)
	}
	var out []ranker.Entry
	for i, v := range res {
		if v == nil {
			continue
		}
		var score float64
		switch s := v.(type) {
		case string:
			score, err = strconv.ParseFloat(s, 64)
		case float64: // RESP3 doubles
			score = s
		default:
			err = fmt.Errorf("unexpected reply %T", v)
		}
		if err != nil {
			return nil, wrap("scores", board, err)
		}
		out = append(out, ranker.Entry{Member: members[i], Score: fromStored(score)})
	}
	return out, nil
}

// ExpiresAt implements ranker.Ranker with PEXPIRETIME (Redis 7).
func (r *Ranker) ExpiresAt(ctx context.Context, board string) (time.Time, error) {
	if err := ranker.ValidateBoard(board); err != nil {
		return time.Time{}, fmt.Errorf("redis ranker: expires at: %w", err)
	}
	if err := r.check(ctx, "expires at"); err != nil {
		return time.Time{}, err
	}
	ms, err := r.rdb.Do(ctx, "PEXPIRETIME", r.boardKey(board)).Int64()
	if err != nil {
		return time.Time{}, wrap("expires at", board, err)
	}
	if ms < 0 { // -1: no deadline, -2: no board
		return time.Time{}, nil
	}
	return time.UnixMilli(ms), nil
}

// Close implements ranker.Ranker. It stops the read pipeline, and closes
// the client only if Open made it.
func (r *Ranker) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	r.windows.close()
	if !r.owned {
		return nil
	}
	if err := r.rdb.Close(); err != nil {
		return fmt.Errorf("redis ranker: close: %w", err)
	}
	return nil
}
