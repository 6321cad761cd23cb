// Package postgres is the store adapter for PostgreSQL, through pgx. It is
// chosen with STRIDE_DATABASE_URL=postgres://... and lets several Stride
// processes share one system of record.
//
// The schema is whatever search_path the URL selects (for example
// ?search_path=stride), so one database can hold several isolated Stride
// instances, as the tests do.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	neturl "net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is the PostgreSQL store. It implements store.Store.
type DB struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*DB)(nil)

// DefaultMaxConns sizes the pool when the URL does not (pool_max_conns).
// pgx's own default, the larger of 4 and the number of cores, left 60 of
// 64 concurrent uploads waiting for a connection on a 2-core machine while
// PostgreSQL could commit many more at once: 4,410 against 7,095 uploads/s
// with 16 (docs/benchmarks.md).
const DefaultMaxConns = 16

// Open connects to the database at url. It does not migrate.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !setsPoolMaxConns(url) {
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return &DB{pool: pool}, nil
}

// setsPoolMaxConns reports whether the connection string, a URL or
// keyword=value pairs, sizes the pool itself: pgxpool's config cannot tell
// a pool_max_conns it was given from its own default.
func setsPoolMaxConns(conn string) bool {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := neturl.Parse(conn)
		return err == nil && u.Query().Has("pool_max_conns")
	}
	for _, field := range strings.Fields(conn) {
		if key, _, _ := strings.Cut(field, "="); strings.TrimSpace(key) == "pool_max_conns" {
			return true
		}
	}
	return false
}

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// migrationLock is the advisory lock key that serializes migrations when
// several Stride processes start at once against one database.
const migrationLock = 0x5354524944 // "STRID"

// Migrate applies the migrations not yet applied, each in its own
// transaction, and returns their versions.
func (db *DB) Migrate(ctx context.Context) ([]int, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	migrations, err := store.LoadMigrations(sub)
	if err != nil {
		return nil, err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return nil, fmt.Errorf("migrate: take lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock) //nolint:errcheck // released with the session anyway
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	current, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if current > len(migrations) {
		return nil, fmt.Errorf("database schema version %d is newer than this binary knows (%d): run a newer stride", current, len(migrations))
	}
	var applied []int
	for _, m := range migrations[current:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// SchemaVersion returns the highest applied migration, 0 for a new database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v *int
	err := db.pool.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

func isViolation(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

func notFound(what string) error {
	return stride.Errorf(stride.ENOTFOUND, "%s not found.", what)
}

func unauthorized() error {
	return stride.Errorf(stride.EUNAUTHORIZED, "The session has ended; sign in again.")
}

// LatestVersion is the newest migration this binary carries.
func (db *DB) LatestVersion() (int, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	migrations, err := store.LoadMigrations(sub)
	return len(migrations), err
}
