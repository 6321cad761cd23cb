// Package testenv gives tests isolated slices of the machine's real servers:
// a PostgreSQL schema of their own, dropped afterwards, so that tests run in
// parallel against one server and leave nothing behind.
//
// A server that cannot be reached skips the test on a developer's machine
// but fails it in CI (CI=true): a green CI run must mean the adapters were
// really exercised.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Unavailable skips t, or fails it when running in CI.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI but unavailable: %v", what, err)
	}
	t.Skipf("%s unavailable (set CI=true to make this fatal): %v", what, err)
}

// PostgresURL is the server the tests use: STRIDE_TEST_DATABASE_URL, or the
// machine's PostgreSQL on 127.0.0.1:5432, database test.
func PostgresURL() string {
	if u := os.Getenv("STRIDE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// PostgresSchema creates an empty schema for t and returns a database URL
// whose search_path selects it. The schema is dropped when t ends.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := PostgresURL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		Unavailable(t, "PostgreSQL at "+redact(base), err)
	}
	defer conn.Close(ctx)
	schema := "stride_test_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	return strings.Replace(u.Redacted(), "xxxxx", "***", 1)
}

// Name returns a unique name with a readable prefix, for queues, streams and
// key prefixes on shared servers.
func Name(prefix string) string {
	return fmt.Sprintf("%s_%s", prefix, randomHex(5))
}
