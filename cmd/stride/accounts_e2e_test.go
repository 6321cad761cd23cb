package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/stridehq/stride/internal/e2e"
	"github.com/stridehq/stride/internal/testenv"
)

const testSecret = "e2e-secret-that-is-at-least-32-bytes-long"

// backend is one way to run the server: its extra environment and a way to
// list every text value stored, to prove deletions.
type backend struct {
	name  string
	env   func(t *testing.T) []string
	store func(t *testing.T, srv *e2e.Server, env []string) storedText
}

type storedText func(t *testing.T, needle string) []string

var backends = []backend{
	{name: "sqlite", env: func(*testing.T) []string { return nil }, store: sqliteText},
	{name: "postgres", env: func(t *testing.T) []string {
		return []string{"STRIDE_DATABASE_URL=" + testenv.PostgresSchema(t)}
	}, store: postgresText},
}

func startServer(t *testing.T, b backend, extra ...string) (*e2e.Server, *e2e.Client, []string) {
	t.Helper()
	env := append(b.env(t), "STRIDE_JWT_SECRET="+testSecret, "STRIDE_LOG_FORMAT=json")
	env = append(env, extra...)
	srv := e2e.Start(t, strideBin, t.TempDir(), env...)
	return srv, e2e.NewClient(t, srv.URL), env
}

type grant struct {
	User struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Name  string `json:"name"`
		Role  string `json:"role"`
	} `json:"user"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

func register(t *testing.T, c *e2e.Client, email, name string) grant {
	t.Helper()
	r := c.Do("POST", "/api/v1/auth/register", "", map[string]string{"email": email, "password": "a long passphrase", "name": name})
	if r.Status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", email, r.Status, r.Body)
	}
	var g grant
	r.JSON(t, &g)
	if r.Header.Get("Location") != "/api/v1/users/"+g.User.ID || g.AccessToken == "" || g.RefreshToken == "" {
		t.Fatalf("register answer: %s (Location %q)", r.Body, r.Header.Get("Location"))
	}
	return g
}

func wantStatus(t *testing.T, r *e2e.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}

func wantProblem(t *testing.T, r *e2e.Response, status int, code string) e2e.Problem {
	t.Helper()
	wantStatus(t, r, status)
	p := r.Problem(t)
	if p.Code != code {
		t.Fatalf("problem code %q, want %q: %s", p.Code, code, r.Body)
	}
	return p
}

func TestAccountLifecycle(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv, c, env := startServer(t, b)
			g := register(t, c, "Rider@Example.com", "Rider")
			if g.User.Email != "rider@example.com" || g.User.Role != "athlete" {
				t.Fatalf("registered user %+v", g.User)
			}

			r := c.Do("POST", "/api/v1/auth/login", "", map[string]string{"email": "rider@example.com", "password": "a long passphrase"})
			wantStatus(t, r, http.StatusOK)
			var login grant
			r.JSON(t, &login)

			r = c.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken})
			wantStatus(t, r, http.StatusOK)
			var refreshed grant
			r.JSON(t, &refreshed)
			if refreshed.RefreshToken == login.RefreshToken {
				t.Fatal("refresh token did not rotate")
			}

			r = c.Do("GET", "/api/v1/users/me", refreshed.AccessToken, nil)
			wantStatus(t, r, http.StatusOK)
			var me map[string]any
			r.JSON(t, &me)
			if me["id"] != g.User.ID || me["units"] != "metric" {
				t.Fatalf("me = %v", me)
			}

			r = c.Do("PATCH", "/api/v1/users/me", refreshed.AccessToken, map[string]any{
				"name": "Rider Two", "weight_kg": 68.5, "max_hr": 187, "resting_hr": 45, "ftp_w": 250,
				"time_zone": "Europe/Paris", "birth_date": "1991-04-12", "gender": "female", "default_visibility": "private",
			})
			wantStatus(t, r, http.StatusOK)
			r.JSON(t, &me)
			if me["name"] != "Rider Two" || me["weight_kg"] != 68.5 || me["time_zone"] != "Europe/Paris" || me["birth_date"] != "1991-04-12" {
				t.Fatalf("patched me = %v", me)
			}
			// null clears an optional field; absent fields stay.
			r = c.Do("PATCH", "/api/v1/users/me", refreshed.AccessToken, []byte(`{"weight_kg": null}`))
			wantStatus(t, r, http.StatusOK)
			r.JSON(t, &me)
			if me["weight_kg"] != nil || me["max_hr"] != float64(187) {
				t.Fatalf("after clearing weight: %v", me)
			}

			// The first session's tokens still work; logging it out ends them.
			wantStatus(t, c.Do("GET", "/api/v1/users/me", g.AccessToken, nil), http.StatusOK)
			wantStatus(t, c.Do("POST", "/api/v1/auth/logout", g.AccessToken, nil), http.StatusNoContent)
			wantProblem(t, c.Do("GET", "/api/v1/users/me", g.AccessToken, nil), http.StatusUnauthorized, "unauthorized")
			wantProblem(t, c.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": g.RefreshToken}), http.StatusUnauthorized, "unauthorized")

			// A reused refresh token revokes its whole session.
			wantProblem(t, c.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken}), http.StatusUnauthorized, "unauthorized")
			wantProblem(t, c.Do("GET", "/api/v1/users/me", refreshed.AccessToken, nil), http.StatusUnauthorized, "unauthorized")

			// Delete from a fresh session; everything of the account goes.
			r = c.Do("POST", "/api/v1/auth/login", "", map[string]string{"email": "rider@example.com", "password": "a long passphrase"})
			wantStatus(t, r, http.StatusOK)
			r.JSON(t, &login)
			friend := register(t, c, "friend@example.com", "Friend")
			wantStatus(t, c.Do("POST", "/api/v1/users/"+friend.User.ID+"/follow", login.AccessToken, nil), http.StatusNoContent)
			wantStatus(t, c.Do("POST", "/api/v1/users/"+g.User.ID+"/follow", friend.AccessToken, nil), http.StatusNoContent)
			wantStatus(t, c.Do("DELETE", "/api/v1/users/me", login.AccessToken, nil), http.StatusNoContent)
			wantProblem(t, c.Do("GET", "/api/v1/users/me", login.AccessToken, nil), http.StatusUnauthorized, "unauthorized")
			wantProblem(t, c.Do("POST", "/api/v1/auth/login", "", map[string]string{"email": "rider@example.com", "password": "a long passphrase"}), http.StatusUnauthorized, "unauthorized")
			wantProblem(t, c.Do("GET", "/api/v1/users/"+g.User.ID, friend.AccessToken, nil), http.StatusNotFound, "not_found")

			// The deletion's own event (user.deleted, for the leaderboards)
			// names the account until the relay publishes it, at its next
			// poll: wait for that, then search with the server stopped.
			text := b.store(t, srv, env)
			for deadline := time.Now().Add(30 * time.Second); len(text(t, g.User.ID)) > 0 && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
			}
			srv.Stop(t)
			for _, needle := range []string{g.User.ID, "rider@example.com", "Rider Two"} {
				if hits := text(t, needle); len(hits) > 0 {
					t.Errorf("deleted account's %q is still stored in %v", needle, hits)
				}
			}
			if hits := text(t, friend.User.ID); len(hits) == 0 {
				t.Error("the search found nothing of the remaining user: it is not looking")
			}
		})
	}
}

// sqliteText searches every text and blob column of every table.
func sqliteText(t *testing.T, srv *e2e.Server, _ []string) storedText {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(srv.DataDir, "stride.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return func(t *testing.T, needle string) []string {
		tables := queryStrings(t, db, `SELECT name FROM sqlite_schema WHERE type = 'table'`)
		var hits []string
		for _, table := range tables {
			cols := queryStrings(t, db, `SELECT name FROM pragma_table_info(?)`, table)
			for _, col := range cols {
				n := queryStrings(t, db, fmt.Sprintf(`SELECT count(*) FROM %q WHERE instr(CAST(%q AS TEXT), ?) > 0`, table, col), needle)
				if n[0] != "0" {
					hits = append(hits, table+"."+col)
				}
			}
		}
		return hits
	}
}

func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// postgresText searches every column of every table in the test's schema.
func postgresText(t *testing.T, _ *e2e.Server, env []string) storedText {
	var url string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "STRIDE_DATABASE_URL="); ok {
			url = v
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return func(t *testing.T, needle string) []string {
		rows, err := conn.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`)
		if err != nil {
			t.Fatal(err)
		}
		type col struct{ table, column string }
		cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (col, error) {
			var c col
			return c, r.Scan(&c.table, &c.column)
		})
		if err != nil {
			t.Fatal(err)
		}
		var hits []string
		for _, c := range cols {
			var n int
			q := fmt.Sprintf(`SELECT count(*) FROM %s WHERE position($1 in %s::text) > 0`,
				pgx.Identifier{c.table}.Sanitize(), pgx.Identifier{c.column}.Sanitize())
			if err := conn.QueryRow(ctx, q, needle).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if n > 0 {
				hits = append(hits, c.table+"."+c.column)
			}
		}
		return hits
	}
}

func TestBadInputIsRefusedCleanly(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			_, c, _ := startServer(t, b)
			g := register(t, c, "taken@example.com", "Taken")
			reg := "/api/v1/auth/register"
			for name, tc := range map[string]struct {
				body   any
				header []string
				status int
				code   string
				field  string
			}{
				"malformed json":       {[]byte(`{"email": "x@y.co",`), nil, 400, "malformed", ""},
				"not an object":        {[]byte(`[1,2]`), nil, 400, "malformed", ""},
				"wrong type":           {[]byte(`{"email": 42, "password": "a long passphrase", "name": "N"}`), nil, 400, "malformed", "email"},
				"unknown field":        {[]byte(`{"email": "u@example.com", "password": "a long passphrase", "name": "N", "admin": true}`), nil, 400, "malformed", "admin"},
				"trailing data":        {[]byte(`{"email": "u@example.com", "password": "a long passphrase", "name": "N"} {}`), nil, 400, "malformed", ""},
				"empty body":           {[]byte(``), nil, 400, "malformed", ""},
				"oversized":            {[]byte(`{"name": "` + strings.Repeat("x", 70_000) + `"}`), nil, 413, "too_large", ""},
				"wrong content type":   {[]byte(`email=x`), []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported", ""},
				"duplicate email":      {map[string]string{"email": "TAKEN@example.com", "password": "a long passphrase", "name": "N"}, nil, 409, "conflict", ""},
				"weak password":        {map[string]string{"email": "weak@example.com", "password": "short", "name": "N"}, nil, 422, "invalid", "password"},
				"common password":      {map[string]string{"email": "weak@example.com", "password": "password123", "name": "N"}, nil, 422, "invalid", "password"},
				"missing fields":       {map[string]string{"email": "m@example.com"}, nil, 422, "invalid", "password"},
				"bad email":            {map[string]string{"email": "not-an-email", "password": "a long passphrase", "name": "N"}, nil, 422, "invalid", "email"},
				"name with no letters": {map[string]string{"email": "n@example.com", "password": "a long passphrase", "name": "   "}, nil, 422, "invalid", "name"},
			} {
				t.Run(name, func(t *testing.T) {
					p := wantProblem(t, c.Do("POST", reg, "", tc.body, tc.header...), tc.status, tc.code)
					if tc.field != "" && !hasField(p, tc.field) {
						t.Fatalf("problem does not name field %q: %+v", tc.field, p)
					}
				})
			}
			// Nothing half-written: the refused registrations left no account.
			for _, email := range []string{"u@example.com", "weak@example.com", "m@example.com", "n@example.com"} {
				wantProblem(t, c.Do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": "a long passphrase"}), 401, "unauthorized")
			}

			patches := map[string]struct {
				body  string
				field string
			}{
				"heart rates":     {`{"resting_hr": 90, "max_hr": 85}`, "resting_hr"},
				"unknown zone":    {`{"time_zone": "Mars/Olympus"}`, "time_zone"},
				"future birth":    {`{"birth_date": "2999-01-01"}`, "birth_date"},
				"bad date":        {`{"birth_date": "12/04/1991"}`, "birth_date"},
				"null name":       {`{"name": null}`, "name"},
				"weight in grams": {`{"weight_kg": 68000}`, "weight_kg"},
			}
			for name, tc := range patches {
				p := wantProblem(t, c.Do("PATCH", "/api/v1/users/me", g.AccessToken, []byte(tc.body)), 422, "invalid")
				if !hasField(p, tc.field) {
					t.Errorf("%s: problem does not name %q: %+v", name, tc.field, p)
				}
			}
			wantProblem(t, c.Do("PATCH", "/api/v1/users/me", g.AccessToken, []byte(`{"max_hr": "fast"}`)), 400, "malformed")
			wantProblem(t, c.Do("PATCH", "/api/v1/users/me", g.AccessToken, []byte(`{"email": "new@example.com"}`)), 400, "malformed")
			var me map[string]any
			r := c.Do("GET", "/api/v1/users/me", g.AccessToken, nil)
			r.JSON(t, &me)
			if me["resting_hr"] != nil || me["name"] != "Taken" {
				t.Fatalf("a refused patch changed the profile: %v", me)
			}
			wantProblem(t, c.Do("GET", "/api/v1/users/"+g.User.ID+"/followers?limit=0", g.AccessToken, nil), 422, "invalid")
			wantProblem(t, c.Do("GET", "/api/v1/users/"+g.User.ID+"/followers?cursor=bogus", g.AccessToken, nil), 422, "invalid")
			wantProblem(t, c.Do("POST", "/api/v1/users/"+g.User.ID+"/follow", g.AccessToken, nil), 422, "invalid")
			wantProblem(t, c.Undocumented().Do("GET", "/api/v1/nothing-here", g.AccessToken, nil), 404, "not_found")
		})
	}
}

func hasField(p e2e.Problem, field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

func TestTokensThatMustNotWork(t *testing.T) {
	_, c, _ := startServer(t, backends[0])
	g := register(t, c, "tok@example.com", "Tok")
	var claims jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(g.AccessToken, &claims); err != nil {
		t.Fatal(err)
	}
	sign := func(method jwt.SigningMethod, key any, mutate func(jwt.MapClaims)) string {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		mutate(c)
		s, err := jwt.NewWithClaims(method, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	for name, token := range map[string]string{
		"expired":        sign(jwt.SigningMethodHS256, []byte(testSecret), func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }),
		"forged":         sign(jwt.SigningMethodHS256, []byte("another-secret-of-at-least-32-bytes!!"), func(jwt.MapClaims) {}),
		"alg none":       sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, func(jwt.MapClaims) {}),
		"other user":     sign(jwt.SigningMethodHS256, []byte(testSecret), func(c jwt.MapClaims) { c["sub"] = "someone-else" }),
		"unknown sess":   sign(jwt.SigningMethodHS256, []byte(testSecret), func(c jwt.MapClaims) { c["sid"] = "no-such-session" }),
		"no expiry":      sign(jwt.SigningMethodHS256, []byte(testSecret), func(c jwt.MapClaims) { delete(c, "exp") }),
		"garbage":        "not-a-token",
		"refresh as jwt": g.RefreshToken,
	} {
		t.Run(name, func(t *testing.T) {
			r := c.Do("GET", "/api/v1/users/me", token, nil)
			wantProblem(t, r, 401, "unauthorized")
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("no WWW-Authenticate challenge: %v", r.Header)
			}
		})
	}
	wantProblem(t, c.Do("GET", "/api/v1/users/me", "", nil, "Authorization", "Basic dXNlcjpwYXNz"), 401, "unauthorized")
}

func TestLoginThrottleCannotLockTheVictimOut(t *testing.T) {
	_, c, _ := startServer(t, backends[0], "STRIDE_TRUSTED_PROXIES=127.0.0.1")
	register(t, c, "victim@example.com", "Victim")
	attacker := []string{"X-Forwarded-For", "203.0.113.7"}
	wrong := map[string]string{"email": "victim@example.com", "password": "not the passphrase"}
	for range 5 {
		wantProblem(t, c.Do("POST", "/api/v1/auth/login", "", wrong, attacker...), 401, "unauthorized")
	}
	r := c.Do("POST", "/api/v1/auth/login", "", wrong, attacker...)
	wantProblem(t, r, 429, "rate_limited")
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// Even the right password waits from the attacking address...
	right := map[string]string{"email": "victim@example.com", "password": "a long passphrase"}
	wantProblem(t, c.Do("POST", "/api/v1/auth/login", "", right, attacker...), 429, "rate_limited")
	// ...but the victim, from home, signs in at once.
	wantStatus(t, c.Do("POST", "/api/v1/auth/login", "", right, "X-Forwarded-For", "198.51.100.23"), 200)
	// A client cannot dodge the limit by forging X-Forwarded-For from an
	// untrusted peer: here the proxy (127.0.0.1) is trusted and appends the
	// real peer last, so a forged left-most entry changes nothing.
	wantProblem(t, c.Do("POST", "/api/v1/auth/login", "", wrong, "X-Forwarded-For", "1.2.3.4, 203.0.113.7"), 429, "rate_limited")
}

func TestAdministration(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			_, c, _ := startServer(t, b, "STRIDE_BOOTSTRAP_ADMIN_EMAIL=root@example.com",
				"STRIDE_BOOTSTRAP_ADMIN_PASSWORD=admin passphrase 1", "STRIDE_REGISTRATION=invite")
			r := c.Do("POST", "/api/v1/auth/login", "", map[string]string{"email": "root@example.com", "password": "admin passphrase 1"})
			wantStatus(t, r, 200)
			var admin grant
			r.JSON(t, &admin)
			if admin.User.Role != "admin" {
				t.Fatalf("bootstrap admin role %q", admin.User.Role)
			}

			// Invite-only registration.
			p := wantProblem(t, c.Do("POST", "/api/v1/auth/register", "", map[string]string{"email": "a@example.com", "password": "a long passphrase", "name": "A"}), 403, "registration")
			if !hasField(p, "invite_code") {
				t.Fatalf("problem does not name invite_code: %+v", p)
			}
			r = c.Do("POST", "/api/v1/admin/invites", admin.AccessToken, nil)
			wantStatus(t, r, 201)
			var inv struct{ Code string }
			r.JSON(t, &inv)
			r = c.Do("POST", "/api/v1/auth/register", "", map[string]string{"email": "a@example.com", "password": "a long passphrase", "name": "A", "invite_code": inv.Code})
			wantStatus(t, r, 201)
			var athlete grant
			r.JSON(t, &athlete)
			wantProblem(t, c.Do("POST", "/api/v1/auth/register", "", map[string]string{"email": "b@example.com", "password": "a long passphrase", "name": "B", "invite_code": inv.Code}), 403, "registration")

			// Athletes cannot see that admin routes exist.
			wantProblem(t, c.Do("GET", "/api/v1/admin/users", athlete.AccessToken, nil), 404, "not_found")
			wantProblem(t, c.Do("PATCH", "/api/v1/admin/users/"+admin.User.ID, athlete.AccessToken, map[string]string{"status": "disabled"}), 404, "not_found")
			wantProblem(t, c.Do("POST", "/api/v1/admin/invites", athlete.AccessToken, nil), 404, "not_found")

			r = c.Do("GET", "/api/v1/admin/users?limit=1", admin.AccessToken, nil)
			wantStatus(t, r, 200)
			var page struct {
				Items      []map[string]any `json:"items"`
				NextCursor *string          `json:"next_cursor"`
			}
			r.JSON(t, &page)
			if len(page.Items) != 1 || page.NextCursor == nil {
				t.Fatalf("first page: %s", r.Body)
			}
			r = c.Do("GET", "/api/v1/admin/users?limit=1&cursor="+*page.NextCursor, admin.AccessToken, nil)
			r.JSON(t, &page)
			if len(page.Items) != 1 || page.Items[0]["id"] != athlete.User.ID || page.NextCursor != nil {
				t.Fatalf("second page: %s", r.Body)
			}

			// Disabling takes effect on the very next request.
			wantStatus(t, c.Do("GET", "/api/v1/users/me", athlete.AccessToken, nil), 200)
			wantStatus(t, c.Do("PATCH", "/api/v1/admin/users/"+athlete.User.ID, admin.AccessToken, map[string]string{"status": "disabled"}), 200)
			wantProblem(t, c.Do("GET", "/api/v1/users/me", athlete.AccessToken, nil), 401, "unauthorized")
			wantProblem(t, c.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": athlete.RefreshToken}), 401, "unauthorized")
			wantProblem(t, c.Do("POST", "/api/v1/auth/login", "", map[string]string{"email": "a@example.com", "password": "a long passphrase"}), 401, "unauthorized")
			wantProblem(t, c.Do("PATCH", "/api/v1/admin/users/"+athlete.User.ID, admin.AccessToken, map[string]string{"status": "gone"}), 422, "invalid")
			wantProblem(t, c.Do("PATCH", "/api/v1/admin/users/nobody", admin.AccessToken, map[string]string{"status": "active"}), 404, "not_found")
			wantStatus(t, c.Do("PATCH", "/api/v1/admin/users/"+athlete.User.ID, admin.AccessToken, map[string]string{"status": "active"}), 200)
			wantStatus(t, c.Do("POST", "/api/v1/auth/login", "", map[string]string{"email": "a@example.com", "password": "a long passphrase"}), 200)
		})
	}
}

func TestFollowGraph(t *testing.T) {
	_, c, _ := startServer(t, backends[0])
	star := register(t, c, "star@example.com", "Star")
	var fans []grant
	for i := range 3 {
		fans = append(fans, register(t, c, fmt.Sprintf("fan%d@example.com", i), fmt.Sprintf("Fan %d", i)))
		wantStatus(t, c.Do("POST", "/api/v1/users/"+star.User.ID+"/follow", fans[i].AccessToken, nil), 204)
	}
	wantStatus(t, c.Do("POST", "/api/v1/users/"+star.User.ID+"/follow", fans[0].AccessToken, nil), 204) // idempotent
	wantProblem(t, c.Do("POST", "/api/v1/users/nobody/follow", fans[0].AccessToken, nil), 404, "not_found")

	var ids []string
	cursor := ""
	for range 5 {
		r := c.Do("GET", "/api/v1/users/"+star.User.ID+"/followers?limit=2"+cursor, star.AccessToken, nil)
		wantStatus(t, r, 200)
		var page struct {
			Items      []struct{ ID, Name, Since string } `json:"items"`
			NextCursor *string                            `json:"next_cursor"`
		}
		r.JSON(t, &page)
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *page.NextCursor
	}
	if len(ids) != 3 || ids[0] != fans[2].User.ID {
		t.Fatalf("followers newest first: %v (fans %s %s %s)", ids, fans[0].User.ID, fans[1].User.ID, fans[2].User.ID)
	}
	r := c.Do("GET", "/api/v1/users/"+fans[1].User.ID+"/following", star.AccessToken, nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.Body), star.User.ID) {
		t.Fatalf("following: %s", r.Body)
	}
	wantStatus(t, c.Do("DELETE", "/api/v1/users/"+star.User.ID+"/follow", fans[1].AccessToken, nil), 204)
	wantStatus(t, c.Do("DELETE", "/api/v1/users/"+star.User.ID+"/follow", fans[1].AccessToken, nil), 204)
	r = c.Do("GET", "/api/v1/users/"+fans[1].User.ID+"/following", star.AccessToken, nil)
	if strings.Contains(string(r.Body), star.User.ID) {
		t.Fatalf("still following after unfollow: %s", r.Body)
	}
	// Public profiles show no private fields.
	r = c.Do("GET", "/api/v1/users/"+star.User.ID, fans[0].AccessToken, nil)
	wantStatus(t, r, 200)
	if strings.Contains(string(r.Body), "star@example.com") {
		t.Fatalf("public profile leaks the email: %s", r.Body)
	}
}

func TestOperationalEndpoints(t *testing.T) {
	_, c, _ := startServer(t, backends[0], "STRIDE_CORS_ORIGINS=https://app.example.com")
	wantStatus(t, c.Do("GET", "/healthz", "", nil), 200)
	wantStatus(t, c.Do("GET", "/readyz", "", nil), 200)
	r := c.Do("GET", "/healthz", "", nil, "X-Request-ID", "trace-abc-123")
	if r.Header.Get("X-Request-ID") != "trace-abc-123" {
		t.Fatalf("request id not echoed: %v", r.Header)
	}
	wantProblem(t, c.Undocumented().Do("PUT", "/healthz", "", nil), 405, "method_not_allowed")
	r = c.Do("GET", "/metrics", "", nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.Body), `stride_http_requests_total{route="GET /healthz",status="200"}`) {
		t.Fatalf("metrics lack the request counter:\n%.2000s", r.Body)
	}
	// The embedded store's group commit: an accepted upload is a request
	// the committer answered after a commit.
	g := register(t, c, "ops@example.com", "Ops")
	uploadWorkouts(t, c, g.AccessToken, 0, 1)
	body := string(c.Do("GET", "/metrics", "", nil).Body)
	for _, name := range []string{"stride_sqlite_commits_total", "stride_sqlite_commit_requests_total"} {
		if !regexp.MustCompile(`(?m)^` + name + ` [1-9]`).MatchString(body) {
			t.Errorf("metrics lack %s above 0", name)
		}
	}
	if !strings.Contains(body, "stride_sqlite_commit_queue_full_total ") {
		t.Error("metrics lack stride_sqlite_commit_queue_full_total")
	}
	req, _ := http.NewRequest("OPTIONS", c.URL()+"/api/v1/users/me", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	req.Header.Set("Origin", "https://evil.example.com")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("unknown origin allowed: %v", resp.Header)
	}
}

func TestBackupWhileServing(t *testing.T) {
	srv, c, _ := startServer(t, backends[0])
	register(t, c, "kept@example.com", "Kept")
	dest := filepath.Join(t.TempDir(), "backup")
	out, _, err := runCommand(t, nil, "backup", "--data-dir", srv.DataDir, dest)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !strings.Contains(out, "written to") {
		t.Fatalf("backup output %q", out)
	}
	srv.Stop(t)
	// Restore: start a server on the copy; the account and its key are there.
	restored := e2e.Start(t, strideBin, dest, "STRIDE_LOG_FORMAT=json")
	rc := e2e.NewClient(t, restored.URL)
	wantStatus(t, rc.Do("POST", "/api/v1/auth/login", "", map[string]string{"email": "kept@example.com", "password": "a long passphrase"}), 200)
	if _, _, err := runCommand(t, nil, "backup", "--data-dir", srv.DataDir, dest); err == nil {
		t.Fatal("backup overwrote an existing destination")
	}
}

func TestAdminCreateCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"STRIDE_ADMIN_PASSWORD": "operator passphrase"}
	out, _, err := runCommand(t, env, "admin", "create", "--data-dir", dir, "--email", "ops@example.com", "--name", "Ops")
	if err != nil || !strings.Contains(out, "administrator ops@example.com created") {
		t.Fatalf("admin create: %q %v", out, err)
	}
	if _, _, err := runCommand(t, env, "admin", "create", "--data-dir", dir, "--email", "ops@example.com"); err == nil {
		t.Fatal("a second admin with the same email was created")
	}
	if _, _, err := runCommand(t, map[string]string{"STRIDE_ADMIN_PASSWORD": "short"}, "admin", "create", "--data-dir", dir, "--email", "x@example.com"); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("weak admin password: %v", err)
	}
	srv := e2e.Start(t, strideBin, dir, "STRIDE_LOG_FORMAT=json")
	c := e2e.NewClient(t, srv.URL)
	r := c.Do("POST", "/api/v1/auth/login", "", map[string]string{"email": "ops@example.com", "password": "operator passphrase"})
	wantStatus(t, r, 200)
	var g grant
	r.JSON(t, &g)
	if g.User.Role != "admin" {
		t.Fatalf("role %q", g.User.Role)
	}
}
