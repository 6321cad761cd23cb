package http

import (
	"context"
	"net/http"
	"strings"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/standings"
)

// Standings is what the API needs to serve leaderboards, achievements and
// records.
type Standings interface {
	Leaderboard(ctx context.Context, viewerID string, q standings.BoardQuery) (*standings.BoardPage, error)
	Achievements(ctx context.Context, viewerID, userID string) ([]standings.AchievementView, error)
	Records(ctx context.Context, viewerID, userID string) ([]standings.RecordView, error)
}

func (s *Server) handleLeaderboard(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	metric, ok := leaderboard.ParseMetric(r.PathValue("type"))
	if !ok {
		writeError(w, r, s.log, stride.Errorf(stride.ENOTFOUND, "No leaderboard of type %q: use distance, duration, elevation, activities or a best effort (see the API reference).", r.PathValue("type")))
		return
	}
	page, err := pageParams(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q := r.URL.Query()
	bq := standings.BoardQuery{Metric: metric, Period: leaderboard.Week, Scope: standings.ScopeGlobal, Date: q.Get("date"), Page: page}
	var v stride.Validation
	if raw := q.Get("sport"); raw != "" && raw != leaderboard.AllSports {
		sport := activity.SportFromName(raw)
		if sport == activity.SportOther && !strings.EqualFold(raw, string(activity.SportOther)) {
			v.Add("sport", "is not a known sport")
		}
		bq.Sport = string(sport)
	}
	if raw := q.Get("period"); raw != "" {
		if bq.Period, ok = leaderboard.ParsePeriodKind(raw); !ok {
			v.Add("period", "must be week, month, year or all")
		}
	}
	switch raw := q.Get("scope"); raw {
	case "", standings.ScopeGlobal:
	case standings.ScopeFollowing:
		bq.Scope = raw
	default:
		v.Add("scope", "must be global or following")
	}
	switch q.Get("indoor") {
	case "", "include":
	case "exclude":
		bq.ExcludeIndoor = true
	default:
		v.Add("indoor", "must be include or exclude (indoor and virtual activities)")
	}
	switch q.Get("around") {
	case "":
	case "me":
		bq.AroundMe = true
		if q.Get("cursor") != "" {
			v.Add("cursor", "cannot be combined with around=me")
		}
	default:
		v.Add("around", "must be me")
	}
	if err := v.Err(); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	board, err := s.standings.Leaderboard(r.Context(), p.User.ID, bq)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, board)
}

// subjectUser is the {id} of a user path, where "me" is the caller.
func subjectUser(r *http.Request, p *account.Principal) string {
	if id := r.PathValue("id"); id != "me" {
		return id
	}
	return p.User.ID
}

func (s *Server) handleAchievements(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	list, err := s.standings.Achievements(r.Context(), p.User.ID, subjectUser(r, p))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) handleRecords(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	list, err := s.standings.Records(r.Context(), p.User.ID, subjectUser(r, p))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
}
