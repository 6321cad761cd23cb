package http

import (
	"context"
	"net/http"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/standings"
)

// Standings is what the API needs to serve leaderboards, achievements and
// records.
type Standings interface {
	// Leaderboard takes the caller as authentication loaded it, so the
	// read need not load it again.
	Leaderboard(ctx context.Context, viewer *stride.User, q standings.BoardQuery) (*standings.BoardPage, error)
	Achievements(ctx context.Context, viewerID, userID string) ([]standings.AchievementView, error)
	Records(ctx context.Context, viewerID, userID string) ([]standings.RecordView, error)
}

func (s *Server) handleLeaderboard(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	page, err := pageParams(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	bq, err := standings.ParseBoardQuery(r.PathValue("type"), r.URL.Query())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	bq.Page = page
	board, err := s.standings.Leaderboard(r.Context(), p.User, bq)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// writeJSON, but a page the standings cache holds comes with its
	// entries encoded already: the same bytes json.Marshal would make.
	body, err := board.AppendJSON(nil)
	writeEncoded(w, http.StatusOK, body, err)
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
