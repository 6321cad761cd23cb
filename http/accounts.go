package http

import (
	"context"
	"net/http"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/store"
)

// userJSON is the full profile, shown to its owner and to admins.
type userJSON struct {
	ID                string   `json:"id"`
	Email             string   `json:"email"`
	Name              string   `json:"name"`
	Role              string   `json:"role"`
	Status            string   `json:"status"`
	BirthDate         *string  `json:"birth_date"`
	HeightM           *float64 `json:"height_m"`
	WeightKg          *float64 `json:"weight_kg"`
	Gender            *string  `json:"gender"`
	Goals             string   `json:"goals"`
	TimeZone          *string  `json:"time_zone"`
	Units             string   `json:"units"`
	RestingHR         *int     `json:"resting_hr"`
	MaxHR             *int     `json:"max_hr"`
	FTPW              *int     `json:"ftp_w"`
	DefaultVisibility string   `json:"default_visibility"`
	CreatedAt         string   `json:"created_at"`
	UpdatedAt         string   `json:"updated_at"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toUserJSON(u *stride.User) userJSON {
	j := userJSON{
		ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Status: u.Status, HeightM: u.HeightM, WeightKg: u.WeightKg,
		Gender: nonEmpty(u.Gender), Goals: u.Goals, TimeZone: nonEmpty(u.TimeZone), Units: u.Units,
		RestingHR: u.RestingHR, MaxHR: u.MaxHR, FTPW: u.FTPW, DefaultVisibility: u.DefaultVisibility,
		CreatedAt: rfc3339(u.CreatedAt), UpdatedAt: rfc3339(u.UpdatedAt),
	}
	if u.BirthDate != nil {
		s := u.BirthDate.String()
		j.BirthDate = &s
	}
	return j
}

// publicUserJSON is what any signed-in athlete may see of another.
type publicUserJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type grantJSON struct {
	User         userJSON `json:"user"`
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int      `json:"expires_in"`
}

func toGrantJSON(g *account.Grant) grantJSON {
	return grantJSON{User: toUserJSON(g.User), AccessToken: g.AccessToken, RefreshToken: g.RefreshToken, TokenType: "Bearer", ExpiresIn: g.ExpiresIn}
}

// Responses carrying tokens must never be cached by a proxy.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

type registerRequest struct {
	Email      *string `json:"email"`
	Password   *string `json:"password"`
	Name       *string `json:"name"`
	InviteCode string  `json:"invite_code"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var v stride.Validation
	required(&v, "email", req.Email)
	required(&v, "password", req.Password)
	required(&v, "name", req.Name)
	if err := v.Err(); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	g, err := s.accounts.Register(r.Context(), account.RegisterInput{Email: *req.Email, Password: *req.Password, Name: *req.Name, InviteCode: req.InviteCode})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	noStore(w)
	w.Header().Set("Location", "/api/v1/users/"+g.User.ID)
	writeJSON(w, http.StatusCreated, toGrantJSON(g))
}

func required(v *stride.Validation, field string, value *string) {
	if value == nil {
		v.Add(field, "is required")
	}
}

type loginRequest struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var v stride.Validation
	required(&v, "email", req.Email)
	required(&v, "password", req.Password)
	if err := v.Err(); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	g, err := s.accounts.Login(r.Context(), *req.Email, *req.Password, clientAddr(r.Context()))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	noStore(w)
	writeJSON(w, http.StatusOK, toGrantJSON(g))
}

type refreshRequest struct {
	RefreshToken *string `json:"refresh_token"`
}

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var v stride.Validation
	required(&v, "refresh_token", req.RefreshToken)
	if err := v.Err(); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	g, err := s.accounts.Refresh(r.Context(), *req.RefreshToken)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	noStore(w)
	writeJSON(w, http.StatusOK, toGrantJSON(g))
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	if err := s.accounts.Logout(r.Context(), p); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	noStore(w)
	writeJSON(w, http.StatusOK, toUserJSON(p.User))
}

type profilePatch struct {
	Name              Optional[string]  `json:"name"`
	BirthDate         Optional[string]  `json:"birth_date"`
	HeightM           Optional[float64] `json:"height_m"`
	WeightKg          Optional[float64] `json:"weight_kg"`
	Gender            Optional[string]  `json:"gender"`
	Goals             Optional[string]  `json:"goals"`
	TimeZone          Optional[string]  `json:"time_zone"`
	Units             Optional[string]  `json:"units"`
	RestingHR         Optional[int]     `json:"resting_hr"`
	MaxHR             Optional[int]     `json:"max_hr"`
	FTPW              Optional[int]     `json:"ftp_w"`
	DefaultVisibility Optional[string]  `json:"default_visibility"`
}

// update turns the patch into a domain update. Fields that cannot be
// cleared refuse null; clearable text fields treat null as empty.
func (p profilePatch) update() (stride.ProfileUpdate, error) {
	var v stride.Validation
	var u stride.ProfileUpdate
	notNull := func(field string, set, null bool) {
		if set && null {
			v.Add(field, "cannot be null")
		}
	}
	notNull("name", p.Name.Set, p.Name.Null)
	notNull("units", p.Units.Set, p.Units.Null)
	notNull("default_visibility", p.DefaultVisibility.Set, p.DefaultVisibility.Null)
	u.Name, u.Units, u.DefaultVisibility = p.Name.Ptr(), p.Units.Ptr(), p.DefaultVisibility.Ptr()
	if p.BirthDate.Set && !p.BirthDate.Null {
		d, err := stride.ParseDate(p.BirthDate.Value)
		if err != nil {
			v.Add("birth_date", "must be a date as YYYY-MM-DD")
		} else {
			u.BirthDate = &d
		}
	}
	u.ClearBirthDate = p.BirthDate.Null
	u.HeightM, u.ClearHeight = p.HeightM.Ptr(), p.HeightM.Null
	u.WeightKg, u.ClearWeight = p.WeightKg.Ptr(), p.WeightKg.Null
	u.RestingHR, u.ClearRestingHR = p.RestingHR.Ptr(), p.RestingHR.Null
	u.MaxHR, u.ClearMaxHR = p.MaxHR.Ptr(), p.MaxHR.Null
	u.FTPW, u.ClearFTP = p.FTPW.Ptr(), p.FTPW.Null
	empty := ""
	for _, f := range []struct {
		opt Optional[string]
		dst **string
	}{{p.Gender, &u.Gender}, {p.Goals, &u.Goals}, {p.TimeZone, &u.TimeZone}} {
		switch {
		case f.opt.Null:
			*f.dst = &empty
		case f.opt.Set:
			*f.dst = f.opt.Ptr()
		}
	}
	return u, v.Err()
}

func (s *Server) handlePatchMe(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	var req profilePatch
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	upd, err := req.update()
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	u, err := s.accounts.UpdateProfile(r.Context(), p, upd)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	noStore(w)
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

func (s *Server) handleDeleteMe(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	if err := s.accounts.DeleteAccount(r.Context(), p); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	id := r.PathValue("id")
	u, err := s.accounts.User(r.Context(), id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, publicUserJSON{ID: u.ID, Name: u.Name})
}

func (s *Server) handleFollow(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	if err := s.accounts.Follow(r.Context(), p, r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleUnfollow(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	if err := s.accounts.Unfollow(r.Context(), p, r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type followJSON struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Since string `json:"since"`
}

type listJSON[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T any](items []T, next string) listJSON[T] {
	if items == nil {
		items = []T{}
	}
	return listJSON[T]{Items: items, NextCursor: nonEmpty(next)}
}

func (s *Server) handleFollowers(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	s.followList(w, r, s.accounts.Followers)
}

func (s *Server) handleFollowing(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	s.followList(w, r, s.accounts.Following)
}

func (s *Server) followList(w http.ResponseWriter, r *http.Request,
	list func(ctx context.Context, id string, page stride.Page) ([]store.FollowEntry, string, error)) {
	page, err := pageParams(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	entries, next, err := list(r.Context(), r.PathValue("id"), page)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items := make([]followJSON, len(entries))
	for i, e := range entries {
		items[i] = followJSON{ID: e.User.ID, Name: e.User.Name, Since: rfc3339(e.Since)}
	}
	writeJSON(w, http.StatusOK, newList(items, next))
}

func (s *Server) handleAdminListUsers(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	page, err := pageParams(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	users, next, err := s.accounts.ListUsers(r.Context(), p, page)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items := make([]userJSON, len(users))
	for i := range users {
		items[i] = toUserJSON(&users[i])
	}
	noStore(w)
	writeJSON(w, http.StatusOK, newList(items, next))
}

type adminUserPatch struct {
	Status *string `json:"status"`
}

func (s *Server) handleAdminPatchUser(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	if !p.IsAdmin() { // before reading the body: non-admins learn nothing
		writeError(w, r, s.log, stride.Errorf(stride.ENOTFOUND, "Not found."))
		return
	}
	var req adminUserPatch
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var v stride.Validation
	required(&v, "status", req.Status)
	if err := v.Err(); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	u, err := s.accounts.SetUserStatus(r.Context(), p, r.PathValue("id"), *req.Status)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

type inviteJSON struct {
	Code      string `json:"code"`
	ExpiresAt string `json:"expires_at"`
}

func (s *Server) handleAdminCreateInvite(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	code, exp, err := s.accounts.CreateInvite(r.Context(), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	noStore(w)
	writeJSON(w, http.StatusCreated, inviteJSON{Code: code, ExpiresAt: rfc3339(exp)})
}
