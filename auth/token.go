package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinKeyBytes is the shortest signing key accepted: HMAC-SHA256 keys shorter
// than the hash output weaken it.
const MinKeyBytes = 32

// Signer issues and verifies access tokens: JWTs signed with HMAC-SHA256 and
// a key shared by every API node, so any node accepts any other's tokens.
type Signer struct {
	key    []byte
	issuer string
	ttl    time.Duration
}

// NewSigner returns a Signer; key must be at least MinKeyBytes long.
func NewSigner(key []byte, issuer string, ttl time.Duration) (*Signer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("signing key is %d bytes; at least %d are needed", len(key), MinKeyBytes)
	}
	if ttl <= 0 {
		return nil, errors.New("access token lifetime must be positive")
	}
	return &Signer{key: key, issuer: issuer, ttl: ttl}, nil
}

// TTL is how long an access token lives.
func (s *Signer) TTL() time.Duration { return s.ttl }

// Claims are what an access token asserts.
type Claims struct {
	UserID    string
	SessionID string
	ExpiresAt time.Time
}

type jwtClaims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// Issue signs an access token for a user's session.
func (s *Signer) Issue(userID, sessionID string, now time.Time) (string, time.Time, error) {
	exp := now.Add(s.ttl).Truncate(time.Second)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	})
	signed, err := tok.SignedString(s.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return signed, exp, nil
}

// ErrInvalidToken covers every reason a token is refused (bad signature,
// wrong algorithm, expired, malformed); the reason is not worth telling a
// client that might be probing.
var ErrInvalidToken = errors.New("invalid access token")

// Verify checks a token's signature, algorithm, issuer and expiry at now.
func (s *Signer) Verify(token string, now time.Time) (Claims, error) {
	var c jwtClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.key, nil },
		// Pinning the algorithm is what defeats "alg: none" and key-confusion
		// tokens.
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(s.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil || c.Subject == "" || c.SessionID == "" {
		return Claims{}, ErrInvalidToken
	}
	return Claims{UserID: c.Subject, SessionID: c.SessionID, ExpiresAt: c.ExpiresAt.Time}, nil
}

// NewOpaqueToken returns a random token for a client to hold (a refresh
// token or an invite code) and the SHA-256 under which it is stored, so a
// leaked database does not leak usable tokens.
func NewOpaqueToken() (token string, hash []byte) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails since Go 1.24
	token = base64.RawURLEncoding.EncodeToString(raw)
	return token, HashOpaqueToken(token)
}

// HashOpaqueToken returns the stored form of a token from NewOpaqueToken.
func HashOpaqueToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
