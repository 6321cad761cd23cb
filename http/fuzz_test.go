package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/auth"
	stridehttp "github.com/stridehq/stride/http"
	"github.com/stridehq/stride/sqlite/sqlitetest"
)

// newAPI serves the real API over a real SQLite store.
func newAPI(t testing.TB) http.Handler {
	t.Helper()
	db := sqlitetest.Open(t)
	signer, err := auth.NewSigner([]byte(strings.Repeat("f", 32)), "stride", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	accounts := account.New(db, signer, account.Config{}, log, time.Now)
	reg := prometheus.NewRegistry()
	return stridehttp.New(stridehttp.Config{}, stridehttp.Services{Accounts: accounts, Ready: db.Ping}, reg, reg, log).Handler()
}

// FuzzAuthRequests throws arbitrary bodies at the public auth endpoints: no
// input may crash the server, answer 5xx, or produce anything but a JSON
// success or a problem with the documented status codes.
func FuzzAuthRequests(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@example.com","password":"a long passphrase","name":"A"}`,
		`{"email":"a@example.com","password":"a long passphrase"}`,
		`{"refresh_token":"abc"}`,
		`{"email":1}`, `[]`, `null`, `{"email":"x","email":"y"}`, `{"name":"\u0000"}`, `{`, ``,
		`{"email":"a@example.com","password":"` + strings.Repeat("p", 300) + `","name":"A"}`,
		`{"invite_code":"", "email":"b@example.com","password":"a long passphrase","name":"` + strings.Repeat("é", 101) + `"}`,
	} {
		for ep := range 3 {
			f.Add(uint8(ep), []byte(seed))
		}
	}
	api := newAPI(f)
	endpoints := []string{"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh"}
	allowed := map[int]bool{200: true, 201: true, 400: true, 401: true, 403: true, 409: true, 413: true, 422: true, 429: true}
	f.Fuzz(func(t *testing.T, ep uint8, body []byte) {
		path := endpoints[int(ep)%len(endpoints)]
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("%s %q → %d %s", path, body, rec.Code, rec.Body)
		}
		ct := rec.Header().Get("Content-Type")
		if wantProblem := rec.Code >= 400; wantProblem != (ct == "application/problem+json") || !slices.Contains([]string{"application/json", "application/problem+json"}, ct) {
			t.Fatalf("%s → %d with content type %q", path, rec.Code, ct)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s → invalid JSON %q", path, rec.Body)
		}
	})
}
