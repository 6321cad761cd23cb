// Package account is the application service for accounts: registration,
// sign-in with rotating refresh tokens, profiles, administration and the
// follow graph. It enforces the rules; the store only keeps the data.
package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/auth"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/store"
)

// Store is what the service needs from the system of record.
type Store interface {
	store.Users
	store.Sessions
	store.Follows
	store.Invites
	store.Tickets
}

// Registration modes.
const (
	RegistrationOpen   = "open"
	RegistrationInvite = "invite"
	RegistrationClosed = "closed"
)

// Config tunes the service.
type Config struct {
	Registration string        // open (default), invite or closed
	RefreshTTL   time.Duration // lifetime of one refresh token
	SessionTTL   time.Duration // a session ends this long after sign-in, however often it is refreshed
	InviteTTL    time.Duration
	// MaxConcurrentHashes bounds the memory argon2id may take at once.
	MaxConcurrentHashes int
	Throttle            ThrottleConfig
	// Source names this process in the events the service writes, as
	// the other services' source does ("stride/api"); "stride" if empty.
	Source string
	// AuthCacheTTL is how long an authenticated access token is trusted
	// without checking its signature and session again; 0 checks on
	// every request. Changes made through this service apply at once in
	// this process; changes made by another process (another API node)
	// when announced (Service.AuthChanged, Forget), within this TTL if the
	// announcement is lost.
	AuthCacheTTL time.Duration
	// AuthCacheSize bounds the tokens remembered (DefaultAuthCacheSize if
	// zero).
	AuthCacheSize int
}

// DefaultAuthCacheSize bounds the authentication cache: about 1 KB an
// entry, so at most a few tens of MB.
const DefaultAuthCacheSize = 20000

// EventUserDeleted is written with an account's deletion: the store's
// cascade removes what the account owned, but the projections kept
// outside the store (leaderboards) must be told.
const EventUserDeleted = "user.deleted"

// DeletedData is the payload of user.deleted.
type DeletedData struct {
	UserID string `json:"user_id"`
}

// Service implements the account use cases.
type Service struct {
	store    Store
	signer   *auth.Signer
	throttle *Throttle
	cfg      Config
	hashSlot chan struct{}
	log      *slog.Logger
	now      func() time.Time
	// dummyHash is verified against when an email is unknown, so that a
	// sign-in for a missing account takes as long as a wrong password.
	dummyHash string
	// principals is nil when Config.AuthCacheTTL is zero.
	principals *principalCache

	// AuthChanged, when set, is told of every change this service makes
	// that ends or alters an athlete's authentication (their id, or "" for
	// every athlete), after this process's cache has forgotten it: how
	// other API processes learn to forget it too, sooner than their TTL.
	// It must not block.
	AuthChanged func(userID string)
}

// Forget drops what the authentication cache holds for an athlete ("" for
// everyone): for a change another process made and announced.
func (s *Service) Forget(userID string) {
	if userID == "" {
		s.principals.forgetAll()
		return
	}
	s.principals.forgetUser(userID)
}

// forget drops an athlete's cached tokens here and announces it.
func (s *Service) forget(userID string) {
	s.Forget(userID)
	if s.AuthChanged != nil {
		s.AuthChanged(userID)
	}
}

// New returns a Service. now is the clock (time.Now in production).
func New(s Store, signer *auth.Signer, cfg Config, log *slog.Logger, now func() time.Time) *Service {
	if cfg.Registration == "" {
		cfg.Registration = RegistrationOpen
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 90 * 24 * time.Hour
	}
	if cfg.InviteTTL <= 0 {
		cfg.InviteTTL = 7 * 24 * time.Hour
	}
	if cfg.MaxConcurrentHashes <= 0 {
		cfg.MaxConcurrentHashes = 4
	}
	if cfg.Throttle == (ThrottleConfig{}) {
		cfg.Throttle = DefaultThrottle
	}
	if cfg.Source == "" {
		cfg.Source = "stride"
	}
	if cfg.AuthCacheSize <= 0 {
		cfg.AuthCacheSize = DefaultAuthCacheSize
	}
	return &Service{
		principals: newPrincipalCache(cfg.AuthCacheTTL, cfg.AuthCacheSize),
		store:      s, signer: signer, throttle: NewThrottle(cfg.Throttle), cfg: cfg,
		hashSlot: make(chan struct{}, cfg.MaxConcurrentHashes), log: log, now: now,
		dummyHash: auth.HashPassword("stride-dummy-password-for-timing"),
	}
}

// Grant is what a successful sign-in, registration or refresh returns.
type Grant struct {
	User         *stride.User
	AccessToken  string
	RefreshToken string
	ExpiresIn    int // seconds until the access token expires
}

// Principal is the authenticated caller of a request.
type Principal struct {
	User      *stride.User
	SessionID string
	// ExpiresAt is when the access token that authenticated the caller
	// expires: a long-lived connection must be given a new one by then.
	ExpiresAt time.Time
}

// IsAdmin reports whether the caller holds the admin role.
func (p *Principal) IsAdmin() bool { return p != nil && p.User.Role == stride.RoleAdmin }

// RegisterInput is a registration request.
type RegisterInput struct {
	Email      string
	Password   string
	Name       string
	InviteCode string
}

// Register creates an athlete account and signs it in.
func (s *Service) Register(ctx context.Context, in RegisterInput) (*Grant, error) {
	switch s.cfg.Registration {
	case RegistrationClosed:
		return nil, stride.Errorf(stride.EREGISTRATION, "Registration is closed on this server.")
	case RegistrationInvite:
		if in.InviteCode == "" {
			return nil, &stride.Error{Code: stride.EREGISTRATION, Message: "Registration on this server needs an invite code.",
				Fields: []stride.FieldError{{Field: "invite_code", Message: "is required"}}}
		}
	}
	u, err := s.newUser(in.Email, in.Password, in.Name, stride.RoleAthlete)
	if err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	var invite []byte
	if s.cfg.Registration == RegistrationInvite {
		invite = auth.HashOpaqueToken(in.InviteCode)
	}
	if err := s.store.CreateUser(ctx, u, hash, invite); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "account registered", "user_id", u.ID)
	return s.startSession(ctx, u)
}

// CreateAdmin creates an administrator directly, for the operator's
// `stride admin create` and the bootstrap setting; registration mode does not
// apply.
func (s *Service) CreateAdmin(ctx context.Context, email, password, name string) (*stride.User, error) {
	u, err := s.newUser(email, password, name, stride.RoleAdmin)
	if err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateUser(ctx, u, hash, nil); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Service) newUser(email, password, name, role string) (*stride.User, error) {
	now := s.now().UTC()
	email = stride.NormalizeEmail(email)
	u := &stride.User{
		ID: stride.NewID(now), Email: email, Name: strings.TrimSpace(name), Role: role, Status: stride.StatusActive,
		Units: "metric", DefaultVisibility: stride.VisibilityFollowers, CreatedAt: now, UpdatedAt: now,
	}
	var v stride.Validation
	if err := u.Validate(now); err != nil {
		var se *stride.Error
		if errors.As(err, &se) {
			for _, f := range se.Fields {
				v.Add(f.Field, "%s", f.Message)
			}
		}
	}
	if msg := PasswordProblem(password, email); msg != "" {
		v.Add("password", "%s", msg)
	}
	return u, v.Err()
}

// Password rules follow NIST SP 800-63B: length over composition rules, and
// no password that attackers try first.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 256
)

// PasswordProblem returns why password is too weak, or "".
func PasswordProblem(password, email string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return fmt.Sprintf("must be at most %d bytes", MaxPasswordLen)
	case distinctRunes(password) < 4:
		return "must not repeat a few characters"
	case commonPasswords[strings.ToLower(password)]:
		return "is one of the most common passwords"
	}
	if local, _, _ := strings.Cut(email, "@"); len(local) >= 4 && strings.Contains(strings.ToLower(password), strings.ToLower(local)) {
		return "must not contain your email address"
	}
	return ""
}

func distinctRunes(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// commonPasswords are the most frequent passwords of ten characters or more
// in public breach corpora; shorter ones are refused by length already.
var commonPasswords = map[string]bool{
	"1234567890": true, "qwertyuiop": true, "password12": true, "password123": true, "password1234": true,
	"1q2w3e4r5t": true, "0987654321": true, "1qaz2wsx3edc": true, "iloveyou12": true, "qwerty1234": true,
	"qwerty12345": true, "abcdefghij": true, "passw0rd123": true, "administrator": true, "football123": true,
	"baseball123": true, "letmein123": true, "welcome123": true, "1234qwerty": true, "q1w2e3r4t5": true,
	"zaq12wsxcde3": true, "asdfghjkl1": true, "123456789a": true, "a123456789": true, "1234567890q": true,
	"trustno1234": true, "password!1": true, "changeme123": true, "superman123": true, "princess123": true,
}

// hash runs argon2id in a bounded number of slots, so a burst of sign-ups
// cannot take the memory of the whole machine.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquireHashSlot(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashSlot }()
	return auth.HashPassword(password), nil
}

func (s *Service) verify(ctx context.Context, hash, password string) (bool, error) {
	if err := s.acquireHashSlot(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashSlot }()
	ok, err := auth.VerifyPassword(hash, password)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return ok, nil
}

func (s *Service) acquireHashSlot(ctx context.Context) error {
	select {
	case s.hashSlot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &stride.Error{Code: stride.EUNAVAILABLE, Message: "The server is busy; try again shortly.", RetryAfter: 1}
	}
}

// Login signs a user in with email and password from a client address.
func (s *Service) Login(ctx context.Context, email, password, clientAddr string) (*Grant, error) {
	email = stride.NormalizeEmail(email)
	now := s.now()
	if wait := s.throttle.Wait(email, clientAddr, now); wait > 0 {
		return nil, &stride.Error{Code: stride.ERATELIMITED,
			Message:    "Too many failed sign-ins from this address; wait before trying again.",
			RetryAfter: int((wait + time.Second - 1) / time.Second)}
	}
	invalid := stride.Errorf(stride.EUNAUTHORIZED, "The email or password is incorrect.")
	u, hash, err := s.store.UserCredentials(ctx, email)
	if stride.ErrorCode(err) == stride.ENOTFOUND {
		_, _ = s.verify(ctx, s.dummyHash, password)
		s.throttle.Failed(email, clientAddr, now)
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.verify(ctx, hash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.throttle.Failed(email, clientAddr, now)
		s.log.InfoContext(ctx, "sign-in failed", "user_id", u.ID, "client", clientAddr)
		return nil, invalid
	}
	s.throttle.Succeeded(email, clientAddr)
	if u.Status != stride.StatusActive {
		return nil, stride.Errorf(stride.EUNAUTHORIZED, "This account is disabled.")
	}
	return s.startSession(ctx, u)
}

func (s *Service) startSession(ctx context.Context, u *stride.User) (*Grant, error) {
	now := s.now().UTC()
	sess := store.Session{ID: stride.NewID(now), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	refresh, refreshHash := auth.NewOpaqueToken()
	err := s.store.CreateSession(ctx, sess, store.RefreshToken{
		Hash: refreshHash, SessionID: sess.ID, CreatedAt: now, ExpiresAt: minTime(now.Add(s.cfg.RefreshTTL), sess.ExpiresAt),
	})
	if err != nil {
		return nil, fmt.Errorf("start session for %s: %w", u.ID, err)
	}
	return s.grant(u, sess.ID, refresh, now)
}

func (s *Service) grant(u *stride.User, sessionID, refresh string, now time.Time) (*Grant, error) {
	access, exp, err := s.signer.Issue(u.ID, sessionID, now)
	if err != nil {
		return nil, err
	}
	return &Grant{User: u, AccessToken: access, RefreshToken: refresh, ExpiresIn: int(exp.Sub(now).Round(time.Second) / time.Second)}, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Refresh exchanges a refresh token for a new pair. Presenting a token twice
// revokes its whole session (the second presenter may be a thief).
func (s *Service) Refresh(ctx context.Context, refreshToken string) (*Grant, error) {
	now := s.now().UTC()
	next, nextHash := auth.NewOpaqueToken()
	sess, err := s.store.RotateRefreshToken(ctx, auth.HashOpaqueToken(refreshToken), store.RefreshToken{
		Hash: nextHash, CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL),
	}, now)
	if stride.ErrorCode(err) == stride.ETOKENREUSED {
		// The revoked session's athlete is not known here.
		s.forget("")
		s.log.WarnContext(ctx, "refresh token reused; its session was revoked")
		return nil, stride.Errorf(stride.EUNAUTHORIZED, "This refresh token was already used; the session has been revoked. Sign in again.")
	}
	if err != nil {
		return nil, err
	}
	u, err := s.store.SessionUser(ctx, sess.ID, now)
	if err != nil {
		return nil, err
	}
	return s.grant(u, sess.ID, next, now)
}

// Logout ends the caller's session: its refresh token and access tokens
// stop working at once.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	err := s.store.RevokeSession(ctx, p.User.ID, p.SessionID, s.now().UTC())
	s.forget(p.User.ID)
	return err
}

// Authenticate resolves an access token to its caller, checking that the
// session is live and the account active: on every request, or, with an
// authentication cache, once per token per Config.AuthCacheTTL.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (*Principal, error) {
	now := s.now()
	if p, ok := s.principals.get(accessToken, now); ok {
		return p, nil
	}
	claims, err := s.signer.Verify(accessToken, now)
	if err != nil {
		return nil, stride.Errorf(stride.EUNAUTHORIZED, "The access token is invalid or expired.")
	}
	st := s.principals.stampFor(claims.UserID)
	u, err := s.store.SessionUser(ctx, claims.SessionID, now.UTC())
	if err != nil {
		return nil, err
	}
	if u.ID != claims.UserID {
		return nil, stride.Errorf(stride.EUNAUTHORIZED, "The access token is invalid or expired.")
	}
	p := &Principal{User: u, SessionID: claims.SessionID, ExpiresAt: claims.ExpiresAt}
	s.principals.put(accessToken, p, st, now)
	return p, nil
}

// UpdateProfile applies a partial update to the caller's profile.
func (s *Service) UpdateProfile(ctx context.Context, p *Principal, upd stride.ProfileUpdate) (*stride.User, error) {
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if err := upd.Apply(u, s.now().UTC()); err != nil {
		return nil, err
	}
	if err := s.store.UpdateProfile(ctx, u); err != nil {
		return nil, err
	}
	s.forget(u.ID)
	return u, nil
}

// User returns a user for a caller: any signed-in caller may see any
// account's public profile.
func (s *Service) User(ctx context.Context, id string) (*stride.User, error) {
	return s.store.UserByID(ctx, id)
}

// DeleteAccount deletes the caller's account and everything it owns, and
// writes user.deleted in the same transaction.
func (s *Service) DeleteAccount(ctx context.Context, p *Principal) error {
	id := p.User.ID
	ev, err := ingest.NewOutboxEvent(s.cfg.Source, EventUserDeleted, id, id, DeletedData{UserID: id}, s.now().UTC())
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, id, ev); err != nil {
		return err
	}
	s.forget(id)
	s.log.InfoContext(ctx, "account deleted", "user_id", p.User.ID)
	return nil
}

// ListUsers lists every account; admins only.
func (s *Service) ListUsers(ctx context.Context, p *Principal, page stride.Page) ([]stride.User, string, error) {
	if !p.IsAdmin() {
		return nil, "", stride.Errorf(stride.ENOTFOUND, "Not found.")
	}
	return s.store.ListUsers(ctx, page)
}

// SetUserStatus enables or disables an account; admins only. A disabled
// account's tokens stop working on the next request.
func (s *Service) SetUserStatus(ctx context.Context, p *Principal, id, status string) (*stride.User, error) {
	if !p.IsAdmin() {
		return nil, stride.Errorf(stride.ENOTFOUND, "Not found.")
	}
	if status != stride.StatusActive && status != stride.StatusDisabled {
		return nil, &stride.Error{Code: stride.EINVALID, Message: "The request has invalid fields.",
			Fields: []stride.FieldError{{Field: "status", Message: "must be active or disabled"}}}
	}
	if id == p.User.ID && status == stride.StatusDisabled {
		return nil, stride.Errorf(stride.EINVALID, "Administrators cannot disable their own account.")
	}
	if err := s.store.SetUserStatus(ctx, id, status, s.now().UTC()); err != nil {
		return nil, err
	}
	s.forget(id)
	s.log.InfoContext(ctx, "account status changed", "user_id", id, "status", status, "by", p.User.ID)
	return s.store.UserByID(ctx, id)
}

// CreateInvite makes a single-use registration code; admins only.
func (s *Service) CreateInvite(ctx context.Context, p *Principal) (code string, expires time.Time, err error) {
	if !p.IsAdmin() {
		return "", time.Time{}, stride.Errorf(stride.ENOTFOUND, "Not found.")
	}
	now := s.now().UTC()
	code, hash := auth.NewOpaqueToken()
	expires = now.Add(s.cfg.InviteTTL)
	if err := s.store.CreateInvite(ctx, store.Invite{CodeHash: hash, CreatedBy: p.User.ID, CreatedAt: now, ExpiresAt: expires}); err != nil {
		return "", time.Time{}, err
	}
	return code, expires, nil
}

// TicketTTL is how long a realtime ticket can be used: long enough to
// open a socket right after buying it, too short to be worth stealing.
const TicketTTL = 30 * time.Second

// CreateTicket trades the caller's access token for a single-use ticket
// that opens one WebSocket (browsers cannot send the token on the upgrade).
func (s *Service) CreateTicket(ctx context.Context, p *Principal) (ticket string, expires time.Time, err error) {
	now := s.now().UTC()
	ticket, hash := auth.NewOpaqueToken()
	expires = now.Add(TicketTTL)
	if err := s.store.CreateTicket(ctx, store.Ticket{Hash: hash, UserID: p.User.ID, SessionID: p.SessionID,
		TokenExpiresAt: p.ExpiresAt, ExpiresAt: expires}); err != nil {
		return "", time.Time{}, err
	}
	return ticket, expires, nil
}

// AuthenticateTicket uses a ticket, once. The connection it opens lasts as
// long as the access token it was bought with, and is renewed the same way.
func (s *Service) AuthenticateTicket(ctx context.Context, ticket string) (*Principal, error) {
	now := s.now().UTC()
	t, err := s.store.ConsumeTicket(ctx, auth.HashOpaqueToken(ticket), now)
	if err != nil {
		return nil, err
	}
	u, err := s.store.SessionUser(ctx, t.SessionID, now)
	if err != nil {
		return nil, err
	}
	if u.ID != t.UserID {
		return nil, stride.Errorf(stride.EUNAUTHORIZED, "The ticket is unknown, used or expired.")
	}
	return &Principal{User: u, SessionID: t.SessionID, ExpiresAt: t.TokenExpiresAt}, nil
}

// Follow makes the caller follow another athlete.
func (s *Service) Follow(ctx context.Context, p *Principal, id string) error {
	return s.store.Follow(ctx, p.User.ID, id, s.now().UTC())
}

// Unfollow stops following; it is not an error if the caller did not follow.
func (s *Service) Unfollow(ctx context.Context, p *Principal, id string) error {
	if _, err := s.store.UserByID(ctx, id); err != nil {
		return err
	}
	return s.store.Unfollow(ctx, p.User.ID, id)
}

// Followers lists who follows user id, newest first.
func (s *Service) Followers(ctx context.Context, id string, page stride.Page) ([]store.FollowEntry, string, error) {
	if _, err := s.store.UserByID(ctx, id); err != nil {
		return nil, "", err
	}
	return s.store.Followers(ctx, id, page)
}

// Following lists whom user id follows, newest first.
func (s *Service) Following(ctx context.Context, id string, page stride.Page) ([]store.FollowEntry, string, error) {
	if _, err := s.store.UserByID(ctx, id); err != nil {
		return nil, "", err
	}
	return s.store.Following(ctx, id, page)
}

// PurgeSessions removes sessions that ended more than a day ago; the server
// runs it periodically so the tables do not grow without bound.
func (s *Service) PurgeSessions(ctx context.Context) (int64, error) {
	return s.store.PurgeSessions(ctx, s.now().UTC().Add(-24*time.Hour))
}
