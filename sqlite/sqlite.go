// Package sqlite is the embedded store adapter: one SQLite file in the data
// directory, pure Go (modernc.org/sqlite, no cgo), in WAL mode with
// synchronous=FULL because an accepted upload must survive a power cut.
//
// Writes go through one connection (SQLite allows one writer at a time; a
// pool of writers would only queue on the file lock with SQLITE_BUSY), reads
// through a pool of read-only connections that WAL lets run beside it.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is the SQLite store. It implements store.Store.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB
	// group batches upload acceptances into shared commits on write.
	group *committer
	// readStmts holds the hot read queries prepared on the read pool.
	readStmts *stmtCache
	hotState
}

// Options tune an opened database; the zero value is the default.
type Options struct {
	GroupCommit GroupCommitOptions
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path. It does not
// migrate: call Migrate, so that operators can choose when schema changes run.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opts Options) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	pragmas := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"synchronous(FULL)", // fsync the WAL on every commit: a 202 promises durability
		"foreign_keys(1)",
		"busy_timeout(10000)",
		"temp_store(MEMORY)",
	} {
		pragmas.Add("_pragma", p)
	}
	write, err := sql.Open("sqlite", "file:"+path+"?"+pragmas.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)

	pragmas.Add("_pragma", "query_only(1)")
	read, err := sql.Open("sqlite", "file:"+path+"?"+pragmas.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s for reading: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, 2*runtime.GOMAXPROCS(0)))
	read.SetMaxIdleConns(max(4, 2*runtime.GOMAXPROCS(0)))

	db := &DB{path: path, write: write, read: read, readStmts: newStmtCache(read)}
	// The writer connection creates the file and switches it to WAL before
	// any reader opens it.
	if err := db.write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.group = newCommitter(write, opts.GroupCommit)
	return db, nil
}

// Close stops the committer, after it has committed and answered what was
// queued, then closes both pools.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.close()
	}
	db.hotMu.Lock()
	if db.hot != nil {
		db.hot.close()
	}
	db.hotMu.Unlock()
	return errors.Join(db.readStmts.close(), db.read.Close(), db.write.Close())
}

// Ping checks that both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite writer: %w", err)
	}
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite reader: %w", err)
	}
	return nil
}

// Pragma returns the value of a pragma as the writer connection sees it.
func (db *DB) Pragma(ctx context.Context, name string) (string, error) {
	var v string
	if err := db.write.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
		return "", fmt.Errorf("read pragma %s: %w", name, err)
	}
	return v, nil
}

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
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
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
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixMicro())
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
	var exists int
	err := db.write.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&exists)
	if err != nil || exists == 0 {
		return 0, err
	}
	var v sql.NullInt64
	if err := db.write.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Backup writes a consistent copy of the live database to dest (which must
// not exist) without stopping writers: VACUUM INTO reads one snapshot.
func (db *DB) Backup(ctx context.Context, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s already exists", dest)
	}
	// A connection of its own: the readers are query_only, which SQLite
	// applies to VACUUM INTO's target too, and the writer must stay free.
	conn, err := sql.Open("sqlite", "file:"+db.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	return nil
}

func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func isForeignKeyViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

func notFound(what string) error {
	return stride.Errorf(stride.ENOTFOUND, "%s not found.", what)
}

// micros and fromMicros convert between time.Time and the stored integer.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// LatestVersion is the newest migration this binary carries.
func (db *DB) LatestVersion() (int, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	migrations, err := store.LoadMigrations(sub)
	return len(migrations), err
}
