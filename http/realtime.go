package http

import (
	"net/http"
	"strings"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
)

// Realtime serves WebSocket connections once the caller is authenticated.
type Realtime interface {
	Serve(w http.ResponseWriter, r *http.Request, p *account.Principal)
}

func (s *Server) handleCreateTicket(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	ticket, expires, err := s.accounts.CreateTicket(r.Context(), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"ticket": ticket, "expires_at": expires.UTC().Format(time.RFC3339)})
}

// handleActivityStream authenticates before the upgrade, so a refused
// client gets a problem document rather than a socket that closes at once:
// a bearer token (native clients) or a single-use ticket (browsers).
func (s *Server) handleActivityStream(w http.ResponseWriter, r *http.Request) {
	var (
		p   *account.Principal
		err error
	)
	if ticket := r.URL.Query().Get("ticket"); ticket != "" {
		p, err = s.accounts.AuthenticateTicket(r.Context(), ticket)
	} else if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") && token != "" {
		p, err = s.accounts.Authenticate(r.Context(), strings.TrimSpace(token))
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer realm="stride"`)
		err = stride.Errorf(stride.EUNAUTHORIZED, "Send 'Authorization: Bearer <token>', or a ticket from POST /api/v1/realtime/tickets as ?ticket=.")
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if st := stateOf(r.Context()); st != nil {
		st.user = p.User.ID
	}
	s.realtime.Serve(w, r, p)
}
