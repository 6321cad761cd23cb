package auth_test

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/stridehq/stride/auth"
)

func TestPasswordRoundTrip(t *testing.T) {
	h := auth.HashPassword("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected hash format %q", h)
	}
	if h == auth.HashPassword("correct horse battery staple") {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"", false},
	} {
		ok, err := auth.VerifyPassword(h, tc.password)
		if err != nil || ok != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.password, ok, err, tc.want)
		}
	}
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	for _, h := range []string{
		"",
		"$2a$10$bcrypt",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$",
		"$argon2id$v=19$m=4294967295,t=2,p=1$c2FsdA$a2V5", // memory bomb
		"$argon2id$v=19$m=19456,t=0,p=1$c2FsdA$a2V5",
		"$argon2id$v=18$m=19456,t=2,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$a2V5",
	} {
		if _, err := auth.VerifyPassword(h, "x"); err == nil {
			t.Errorf("VerifyPassword accepted malformed hash %q", h)
		}
	}
}

func TestTokens(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	s, err := auth.NewSigner(key, "stride", 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tok, exp, err := s.Issue("user-1", "sess-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(15 * time.Minute)) {
		t.Fatalf("expiry %v", exp)
	}
	c, err := s.Verify(tok, now.Add(time.Minute))
	if err != nil || c.UserID != "user-1" || c.SessionID != "sess-1" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}

	other, _ := auth.NewSigner([]byte(strings.Repeat("o", 32)), "stride", time.Minute)
	forged, _, _ := other.Issue("user-1", "sess-1", now)
	otherIssuer, _ := auth.NewSigner(key, "elsewhere", time.Minute)
	foreign, _, _ := otherIssuer.Issue("user-1", "sess-1", now)
	none := unsignedToken(t, now)
	noSession, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Issuer: "stride", Subject: "user-1", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}).SignedString(key)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{
		"iss": "stride", "sub": "user-1", "sid": "s", "exp": now.Add(time.Hour).Unix(),
	}).SignedString(key)

	for name, tc := range map[string]struct {
		token string
		at    time.Time
	}{
		"expired":          {tok, now.Add(16 * time.Minute)},
		"forged signature": {forged, now},
		"other issuer":     {foreign, now},
		"alg none":         {none, now},
		"no session":       {noSession, now},
		"other algorithm":  {hs512, now},
		"garbage":          {"not.a.token", now},
		"truncated":        {tok[:len(tok)-3], now},
	} {
		if _, err := s.Verify(tc.token, tc.at); err == nil {
			t.Errorf("%s: token accepted", name)
		}
	}
	if _, err := auth.NewSigner([]byte("short"), "stride", time.Minute); err == nil {
		t.Error("short key accepted")
	}
}

func unsignedToken(t *testing.T, now time.Time) string {
	t.Helper()
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	body := enc.EncodeToString([]byte(`{"iss":"stride","sub":"user-1","sid":"sess-1","exp":` +
		strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + `}`))
	return header + "." + body + "."
}

func TestOpaqueTokens(t *testing.T) {
	a, ha := auth.NewOpaqueToken()
	b, _ := auth.NewOpaqueToken()
	if a == b || len(a) < 40 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if string(auth.HashOpaqueToken(a)) != string(ha) {
		t.Fatal("hash differs")
	}
}
