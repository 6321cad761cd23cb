// Package http is Stride's HTTP API: JSON under /api/v1, RFC 9457 problem
// details for every error, cursor pagination, bearer-token authentication on
// every route but a few public ones, and the operational endpoints (health,
// readiness, Prometheus metrics, the OpenAPI document).
package http

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/store"
)

// Accounts is what the API needs from the account service.
type Accounts interface {
	Register(ctx context.Context, in account.RegisterInput) (*account.Grant, error)
	Login(ctx context.Context, email, password, clientAddr string) (*account.Grant, error)
	Refresh(ctx context.Context, refreshToken string) (*account.Grant, error)
	Logout(ctx context.Context, p *account.Principal) error
	Authenticate(ctx context.Context, accessToken string) (*account.Principal, error)
	User(ctx context.Context, id string) (*stride.User, error)
	UpdateProfile(ctx context.Context, p *account.Principal, upd stride.ProfileUpdate) (*stride.User, error)
	DeleteAccount(ctx context.Context, p *account.Principal) error
	ListUsers(ctx context.Context, p *account.Principal, page stride.Page) ([]stride.User, string, error)
	SetUserStatus(ctx context.Context, p *account.Principal, id, status string) (*stride.User, error)
	CreateInvite(ctx context.Context, p *account.Principal) (string, time.Time, error)
	Follow(ctx context.Context, p *account.Principal, id string) error
	Unfollow(ctx context.Context, p *account.Principal, id string) error
	Followers(ctx context.Context, id string, page stride.Page) ([]store.FollowEntry, string, error)
	Following(ctx context.Context, id string, page stride.Page) ([]store.FollowEntry, string, error)
	CreateTicket(ctx context.Context, p *account.Principal) (string, time.Time, error)
	AuthenticateTicket(ctx context.Context, ticket string) (*account.Principal, error)
}

// Config holds the settings of the HTTP layer.
type Config struct {
	// CORSOrigins are the browser origins allowed to call the API; "*" allows
	// any origin (credentials are bearer tokens, never cookies).
	CORSOrigins []string
	// TrustedProxies are the networks whose X-Forwarded-For is believed when
	// finding the client's address.
	TrustedProxies []netip.Prefix
	// MetricsOnMainAddr serves /metrics beside the API.
	MetricsOnMainAddr bool
	// Version is reported by /healthz.
	Version string
	// MaxUploadBytes caps an upload body (before decompression).
	MaxUploadBytes int64
}

// Services are what the API serves.
type Services struct {
	Accounts   Accounts
	Uploads    Uploads
	Activities ActivityQueries
	Standings  Standings
	// Realtime, when set, serves the WebSocket endpoint.
	Realtime Realtime
	// Ready reports whether the server's dependencies answer.
	Ready func(ctx context.Context) error
}

// Server routes requests to the services.
type Server struct {
	cfg        Config
	accounts   Accounts
	uploads    Uploads
	activities ActivityQueries
	standings  Standings
	realtime   Realtime
	ready      func(ctx context.Context) error
	log        *slog.Logger
	metrics    *metrics
	mux        *http.ServeMux
	patterns   []string
}

// DefaultMaxUploadBytes is the default cap on an upload body.
const DefaultMaxUploadBytes = 32 << 20

// New builds the API; reg receives the HTTP metrics.
func New(cfg Config, svc Services, reg prometheus.Registerer, gatherer prometheus.Gatherer, log *slog.Logger) *Server {
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	s := &Server{cfg: cfg, accounts: svc.Accounts, uploads: svc.Uploads, activities: svc.Activities, standings: svc.Standings, realtime: svc.Realtime, ready: svc.Ready,
		log: log, metrics: newMetrics(reg, gatherer), mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *Server) routes() {
	// Public routes: only these answer without a bearer token.
	s.route("GET /healthz", s.handleHealth)
	s.route("GET /readyz", s.handleReady)
	s.route("GET /api/v1/openapi.json", s.handleOpenAPI)
	s.route("POST /api/v1/auth/register", s.handleRegister)
	s.route("POST /api/v1/auth/login", s.handleLogin)
	s.route("POST /api/v1/auth/refresh", s.handleRefresh)
	if s.cfg.MetricsOnMainAddr {
		s.route("GET /metrics", s.metrics.handler().ServeHTTP)
	}

	s.route("POST /api/v1/auth/logout", s.authed(s.handleLogout))
	s.route("GET /api/v1/users/me", s.authed(s.handleMe))
	s.route("PATCH /api/v1/users/me", s.authed(s.handlePatchMe))
	s.route("DELETE /api/v1/users/me", s.authed(s.handleDeleteMe))
	s.route("GET /api/v1/users/{id}", s.authed(s.handleUser))
	s.route("POST /api/v1/users/{id}/follow", s.authed(s.handleFollow))
	s.route("DELETE /api/v1/users/{id}/follow", s.authed(s.handleUnfollow))
	s.route("GET /api/v1/users/{id}/followers", s.authed(s.handleFollowers))
	s.route("GET /api/v1/users/{id}/following", s.authed(s.handleFollowing))
	s.route("GET /api/v1/admin/users", s.authed(s.handleAdminListUsers))
	s.route("PATCH /api/v1/admin/users/{id}", s.authed(s.handleAdminPatchUser))
	s.route("POST /api/v1/admin/invites", s.authed(s.handleAdminCreateInvite))

	s.route("POST /api/v1/activities", s.authed(s.handleUpload))
	s.route("GET /api/v1/uploads/{id}", s.authed(s.handleUploadStatus))
	s.route("GET /api/v1/activities/{id}", s.authed(s.handleActivity))
	s.route("PATCH /api/v1/activities/{id}", s.authed(s.handlePatchActivity))
	s.route("DELETE /api/v1/activities/{id}", s.authed(s.handleDeleteActivity))
	s.route("GET /api/v1/activities/{id}/streams", s.authed(s.handleStreams))
	s.route("GET /api/v1/users/{id}/activities", s.authed(s.handleUserActivities))
	s.route("GET /api/v1/users/{id}/achievements", s.authed(s.handleAchievements))
	s.route("GET /api/v1/users/{id}/records", s.authed(s.handleRecords))
	s.route("GET /api/v1/leaderboards/{type}", s.authed(s.handleLeaderboard))
	if s.realtime != nil {
		s.route("POST /api/v1/realtime/tickets", s.authed(s.handleCreateTicket))
		s.route("GET /api/v1/realtime/activity-stream", s.handleActivityStream)
	}
}

// route registers a handler and records its pattern for logs and metrics.
func (s *Server) route(pattern string, h http.HandlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if st := stateOf(r.Context()); st != nil {
			st.route = r.Pattern
		}
		h(w, r)
	})
}

// Routes lists every registered pattern, for the OpenAPI coverage test.
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }

// Handler returns the API with its middleware.
func (s *Server) Handler() http.Handler {
	return s.observe(s.cors(s.mux))
}

// OperationsHandler serves only health, readiness and metrics, for a
// worker process that takes no API traffic.
func (s *Server) OperationsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", s.metrics.handler())
	return s.observe(mux)
}

// MetricsHandler serves /metrics, for a separate metrics address.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler())
	return mux
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready", "err", err.Error())
		writeError(w, r, s.log, &stride.Error{Code: stride.EUNAVAILABLE, Message: "A dependency is not answering.", RetryAfter: 5})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
