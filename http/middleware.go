package http

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/internal/logctx"
)

// requestState is shared by the middleware and the handlers of one request;
// it lives in the context so inner layers can fill in what outer ones log.
type requestState struct {
	id     string
	route  string
	client string
	user   string
}

type stateKey struct{}

func stateOf(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

func requestID(ctx context.Context) string {
	if st := stateOf(ctx); st != nil {
		return st.id
	}
	return ""
}

func clientAddr(ctx context.Context) string {
	if st := stateOf(ctx); st != nil {
		return st.client
	}
	return ""
}

// observe is the outermost layer: request id, client address, panic
// recovery, the access log line and the metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &requestState{id: incomingRequestID(r), client: s.clientAddr(r)}
		ctx := context.WithValue(r.Context(), stateKey{}, st)
		ctx = logctx.With(ctx, slog.String("request_id", st.id))
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-ID", st.id)
		rw := &responseWriter{ResponseWriter: w, state: st, req: r, log: s.log, status: http.StatusOK}

		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if !rw.wroteHeader {
					writeError(rw, r, s.log, fmt.Errorf("panic: %v", v))
				}
			}
			route := st.route
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			s.metrics.observe(route, rw.status, elapsed)
			s.log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
				slog.Int("status", rw.status), slog.Int64("bytes", rw.bytes), slog.Duration("duration", elapsed),
				slog.String("client", st.client), slog.String("user_id", st.user))
		}()
		next.ServeHTTP(rw, r)
	})
}

// incomingRequestID keeps a caller's X-Request-ID when it is sane, so a trace
// can span a proxy and Stride, and makes one otherwise.
func incomingRequestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-ID"); id != "" && len(id) <= 64 && !strings.ContainsFunc(id, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')
	}) {
		return id
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// clientAddr is the peer's address, or, when the peer is a trusted proxy,
// the right-most X-Forwarded-For entry that is not itself a trusted proxy
// (entries further left can be forged by the client).
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !s.trusted(a) {
			return a.String()
		}
	}
	return host
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	return slices.ContainsFunc(s.cfg.TrustedProxies, func(p netip.Prefix) bool { return p.Contains(a) })
}

// cors answers preflight requests and labels responses for allowed origins.
func (s *Server) cors(next http.Handler) http.Handler {
	allowAll := slices.Contains(s.cfg.CORSOrigins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !(allowAll || slices.Contains(s.cfg.CORSOrigins, origin)) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Location, Retry-After, X-Request-ID")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding, Idempotency-Key, X-Request-ID")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authedHandler is a handler that needs a signed-in caller.
type authedHandler func(w http.ResponseWriter, r *http.Request, p *account.Principal)

// authed resolves the bearer token before calling h; without a valid one the
// answer is 401 with a WWW-Authenticate challenge.
func (s *Server) authed(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="stride"`)
			writeError(w, r, s.log, stride.Errorf(stride.EUNAUTHORIZED, "Sign in and send the access token as 'Authorization: Bearer <token>'."))
			return
		}
		p, err := s.accounts.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if stride.ErrorCode(err) == stride.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="stride", error="invalid_token"`)
			}
			writeError(w, r, s.log, err)
			return
		}
		if st := stateOf(r.Context()); st != nil {
			st.user = p.User.ID
		}
		h(w, r.WithContext(logctx.With(r.Context(), slog.String("user_id", p.User.ID))), p)
	}
}

// responseWriter records the status and size, and turns the router's own
// plain-text 404 and 405 answers into problem details.
type responseWriter struct {
	http.ResponseWriter
	state       *requestState
	req         *http.Request
	log         *slog.Logger
	status      int
	bytes       int64
	wroteHeader bool
	swallow     bool
}

func (w *responseWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	if w.state.route == "" && (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) &&
		strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.swallow = true
		w.Header().Del("X-Content-Type-Options")
		code, msg := stride.ENOTFOUND, "No such endpoint."
		if status == http.StatusMethodNotAllowed {
			code, msg = codeMethodNotAllowed, "This endpoint does not accept "+w.req.Method+"; see the Allow header."
		}
		w.wroteHeader = true // writeError calls back into WriteHeader
		w.status = status
		writeError(&headerOnly{w}, w.req, w.log, stride.Errorf(code, "%s", msg))
		return
	}
	w.wroteHeader = true
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flush, deadlines).
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// headerOnly writes straight to the underlying writer, bypassing the
// swallowing of the router's plain-text body.
type headerOnly struct{ w *responseWriter }

func (h *headerOnly) Header() http.Header { return h.w.ResponseWriter.Header() }
func (h *headerOnly) WriteHeader(status int) {
	h.w.ResponseWriter.WriteHeader(status)
}
func (h *headerOnly) Write(b []byte) (int, error) {
	n, err := h.w.ResponseWriter.Write(b)
	h.w.bytes += int64(n)
	return n, err
}
