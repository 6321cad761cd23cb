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
	"net"
	"net/url"
	"os"
	"path/filepath"
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

// NATSURL is the external NATS the tests use: STRIDE_TEST_NATS_URL, or the
// machine's on 127.0.0.1:4222.
func NATSURL() string {
	if u := os.Getenv("STRIDE_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// AMQPURL is the RabbitMQ the tests use: STRIDE_TEST_AMQP_URL, or the
// machine's on 127.0.0.1:5672.
func AMQPURL() string {
	if u := os.Getenv("STRIDE_TEST_AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@127.0.0.1:5672/"
}

// RedisURL is the Redis the tests use: STRIDE_TEST_REDIS_URL, or the
// machine's on 127.0.0.1:6379, database 0. Tests never flush it: each uses
// a key prefix of its own (Name) and deletes its keys.
func RedisURL() string {
	if u := os.Getenv("STRIDE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Reachable fails or skips t (see Unavailable) when nothing listens at the
// URL's host.
func Reachable(t testing.TB, what, rawURL string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("%s url: %v", what, err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		Unavailable(t, what+" at "+u.Host, err)
	}
	_ = conn.Close()
}

// Corpus returns the directory of real device files: STRIDE_CORPUS, or
// ../shared/corpus beside the repository. Missing, it fails the test in CI
// and skips it elsewhere.
func Corpus(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("STRIDE_CORPUS"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			corpus := filepath.Join(dir, "..", "shared", "corpus")
			if _, err := os.Stat(filepath.Join(corpus, "expected.jsonl")); err != nil {
				Unavailable(t, "the device corpus (../shared/corpus)", err)
			}
			return corpus
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}
