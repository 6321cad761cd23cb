// Command seedboard fills a Stride PostgreSQL database (already migrated
// with `stride migrate`) with athletes for the leaderboard load benchmark
// (scripts/load/leaderboard.sh, docs/benchmarks.md "Leaderboards through
// the API"). It writes, with COPY:
//
//   - N users ("Athlete <i>", email athlete<i>@seed.invalid, public by
//     default, a password hash nobody can log in with);
//   - one public outdoor running activity per user, on -date, with a
//     distance distinct from every other user's (1 km + a permutation of
//     0.1 m steps), so every board has N members and no ties;
//   - -tokens sessions, for users spread evenly over the board's ranks, and
//     an access token for each (HS256, issuer "stride", as `stride serve`
//     signs them with the same secret), written comma-separated to
//     -tokens-out.
//
// With -redis-url it also writes ONE board straight into Redis through the
// ranker port (redis.Open + Replace): -board, default the all-time distance
// board of every sport, public tier, indoor included
// ("distance:all:all:all:public:all"), with the N users and their
// distances, which is what the projection would write there. The other
// boards of those activities are not written to Redis.
//
// Flags:
//
//	-database-url   postgres://... of the migrated database (with search_path for a schema)
//	-n              number of athletes (default 100000)
//	-date           local date of every activity (default today, UTC)
//	-tokens         sessions and access tokens to mint (default 64)
//	-tokens-out     file for the tokens (default tokens.txt)
//	-jwt-secret     signing secret (default $STRIDE_JWT_SECRET)
//	-token-ttl      lifetime of the tokens (default 2h)
//	-redis-url      redis://... to seed -board there (default: none)
//	-redis-prefix   key prefix, as `stride serve --redis-prefix` (default stride)
//	-board          board to seed in Redis (default distance:all:all:all:public:all)
//
// Run: go run ./scripts/load/seedboard -database-url ... -n 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/auth"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/redis"
)

func main() {
	var (
		dbURL       = flag.String("database-url", "", "postgres:// URL of the migrated database")
		n           = flag.Int("n", 100000, "number of athletes")
		date        = flag.String("date", time.Now().UTC().Format(time.DateOnly), "local date of every activity")
		tokens      = flag.Int("tokens", 64, "sessions and access tokens to mint")
		tokensOut   = flag.String("tokens-out", "tokens.txt", "file for the tokens, comma-separated")
		secret      = flag.String("jwt-secret", os.Getenv("STRIDE_JWT_SECRET"), "access-token signing secret")
		ttl         = flag.Duration("token-ttl", 2*time.Hour, "lifetime of the minted tokens")
		redisURL    = flag.String("redis-url", "", "seed -board in this Redis (redis://...)")
		redisPrefix = flag.String("redis-prefix", "stride", "Redis key prefix, as stride serve --redis-prefix")
		board       = flag.String("board", "", "board to seed in Redis (default the all-time distance board, all sports, public)")
	)
	flag.Parse()
	if err := run(*dbURL, *n, *date, *tokens, *tokensOut, *secret, *ttl, *redisURL, *redisPrefix, *board); err != nil {
		fmt.Fprintln(os.Stderr, "seedboard:", err)
		os.Exit(1)
	}
}

func run(dbURL string, n int, date string, tokens int, tokensOut, secret string, ttl time.Duration,
	redisURL, redisPrefix, board string) error {
	if dbURL == "" || n < 1 || tokens < 0 || tokens > n {
		return fmt.Errorf("need -database-url, -n >= 1 and 0 <= -tokens <= -n")
	}
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return fmt.Errorf("-date: %w", err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)

	start := time.Now()
	base := start.Add(-time.Duration(n) * time.Millisecond)
	ids := make([]string, n)
	dist := make([]float64, n)
	// A permutation of 0..n-1 (a multiplier coprime with n), so that ranks
	// are not the order of creation.
	mult := 7919
	for gcd(mult, n) != 1 {
		mult += 2
	}
	for i := range n {
		ids[i] = stride.NewID(base.Add(time.Duration(i) * time.Millisecond))
		dist[i] = 1000 + float64(int64(i)*int64(mult)%int64(n))/10
	}
	now := start.UTC()
	i := 0
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"users"},
		[]string{"id", "email", "password_hash", "name", "role", "status", "units", "default_visibility", "created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			i++
			created := base.Add(time.Duration(i-1) * time.Millisecond).UTC()
			return []any{ids[i-1], fmt.Sprintf("athlete%d@seed.invalid", i-1), "!seeded", fmt.Sprintf("Athlete %d", i-1),
				"athlete", "active", "metric", stride.VisibilityPublic, created, created}, nil
		})); err != nil {
		return fmt.Errorf("copy users: %w", err)
	}
	fmt.Printf("users: %d in %s\n", n, time.Since(start).Round(time.Millisecond))

	t := time.Now()
	startTime := day.Add(7 * time.Hour)
	i = 0
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"activities"},
		[]string{"id", "user_id", "upload_id", "sport", "name", "visibility", "start_time", "end_time", "local_start", "local_date",
			"elapsed_s", "timer_s", "moving_s", "distance_m", "ascent_m", "descent_m", "avg_speed_mps", "max_speed_mps", "calories",
			"created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			i++
			k := i - 1
			elapsed := dist[k] / 3
			return []any{"A" + ids[k][1:], ids[k], "U" + ids[k][1:], "running", "Seeded run", stride.VisibilityPublic,
				startTime, startTime.Add(time.Duration(elapsed * float64(time.Second))), startTime.Format("2006-01-02T15:04:05"), date,
				elapsed, elapsed, elapsed, dist[k], 10.0, 10.0, 3.0, 4.0, dist[k] / 15, now, now}, nil
		})); err != nil {
		return fmt.Errorf("copy activities: %w", err)
	}
	fmt.Printf("activities: %d in %s\n", n, time.Since(t).Round(time.Millisecond))

	if tokens > 0 {
		if len(secret) < auth.MinKeyBytes {
			return fmt.Errorf("-jwt-secret (or STRIDE_JWT_SECRET) of %d+ bytes is needed to mint tokens", auth.MinKeyBytes)
		}
		signer, err := auth.NewSigner([]byte(secret), "stride", ttl)
		if err != nil {
			return err
		}
		toks := make([]string, 0, tokens)
		rows := make([][]any, 0, tokens)
		for k := range tokens {
			u := ids[k*n/tokens] // users spread over the ranks (distances are a permutation)
			sid := stride.NewID(now)
			rows = append(rows, []any{sid, u, now, now.Add(ttl)})
			tok, _, err := signer.Issue(u, sid, now)
			if err != nil {
				return err
			}
			toks = append(toks, tok)
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"sessions"}, []string{"id", "user_id", "created_at", "expires_at"},
			pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy sessions: %w", err)
		}
		if err := os.WriteFile(tokensOut, []byte(strings.Join(toks, ",")), 0o600); err != nil {
			return err
		}
		fmt.Printf("tokens: %d in %s\n", tokens, tokensOut)
	}
	if _, err := conn.Exec(ctx, "ANALYZE users; ANALYZE activities; ANALYZE sessions"); err != nil {
		return err
	}

	if redisURL != "" {
		if board == "" {
			board = leaderboard.Board{Metric: leaderboard.Distance, Sport: leaderboard.AllSports,
				Period: leaderboard.PeriodOf(leaderboard.All, day), Tier: leaderboard.TierPublic, Env: leaderboard.EnvAll}.Name()
		}
		t := time.Now()
		rk, err := redis.Open(ctx, redisURL, redis.Options{Prefix: redisPrefix + ":"})
		if err != nil {
			return err
		}
		defer rk.Close()
		entries := make([]ranker.Entry, n)
		for k := range n {
			entries[k] = ranker.Entry{Member: ids[k], Score: dist[k]}
		}
		if err := rk.Replace(ctx, board, entries, time.Time{}); err != nil {
			return err
		}
		size, err := rk.Size(ctx, board)
		if err != nil {
			return err
		}
		fmt.Printf("redis board %s: %d members in %s\n", board, size, time.Since(t).Round(time.Millisecond))
	}
	return nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
