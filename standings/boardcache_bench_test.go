package standings

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/ranker/memrank"
)

// BenchmarkLeaderboardTop100 reads the top 100 of a board of 100,000
// athletes on the in-memory ranker, as GET /api/v1/leaderboards does
// (read, then encode), without and with the board cache, for a viewer far
// down the board and one on the page. The names are all cached.
func BenchmarkLeaderboardTop100(b *testing.B) {
	ctx := context.Background()
	rk := memrank.New(memrank.Options{})
	defer rk.Close()
	const n = 100_000
	st := &readStore{memStore: newMemStore(), names: map[string]string{}}
	q := BoardQuery{Metric: leaderboard.Distance, Period: leaderboard.All, Scope: ScopeGlobal, Page: stride.Page{Limit: 100}}
	board, err := (&Reader{now: time.Now}).resolve(&stride.User{}, q)
	if err != nil {
		b.Fatal(err)
	}
	entries := make([]ranker.Entry, n)
	for i := range entries {
		id := fmt.Sprintf("0195f3c2-%04x-7000-8000-%012x", i%65536, i)
		entries[i] = ranker.Entry{Member: id, Score: float64(1_000_000 + i*7%n)}
		st.names[id] = fmt.Sprintf("Athlete number %d", i)
	}
	if err := rk.Replace(ctx, board.Name(), entries, time.Time{}); err != nil {
		b.Fatal(err)
	}
	top, err := rk.Top(ctx, board.Name(), 0, 100)
	if err != nil {
		b.Fatal(err)
	}
	far := &stride.User{ID: entries[n/2].Member, Name: st.names[entries[n/2].Member]}
	onPage := &stride.User{ID: top[50].Member, Name: st.names[top[50].Member]}

	for _, c := range []struct {
		name   string
		ttl    time.Duration
		viewer *stride.User
		encode func(*BoardPage) ([]byte, error)
	}{
		{"uncached/Marshal", 0, far, marshalPage},
		{"cached/Marshal", time.Hour, far, marshalPage},
		{"cached/AppendJSON", time.Hour, far, appendPage},
		{"cached/onPage/AppendJSON", time.Hour, onPage, appendPage},
		{"uncached/read", 0, far, nil},
		{"cached/read", time.Hour, far, nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := NewReader(st, rk, time.Now)
			r.BoardCacheTTL = c.ttl
			var size int
			b.ReportAllocs()
			for b.Loop() {
				page, err := r.Leaderboard(ctx, c.viewer, q)
				if err != nil {
					b.Fatal(err)
				}
				if c.encode != nil {
					body, err := c.encode(page)
					if err != nil {
						b.Fatal(err)
					}
					size = len(body)
				}
			}
			b.ReportMetric(float64(size), "bytes/body")
		})
	}
}

func marshalPage(p *BoardPage) ([]byte, error) { return json.Marshal(p) }

func appendPage(p *BoardPage) ([]byte, error) { return p.AppendJSON(nil) }
