// Package sqlitetest opens migrated SQLite stores for the tests of the
// packages that run on the embedded store.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stridehq/stride/sqlite"
)

// Open returns a migrated store in a fresh file of t's temporary directory,
// closed when t ends.
func Open(t testing.TB) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "stride.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
