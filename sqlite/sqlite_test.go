package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stridehq/stride/sqlite"
	"github.com/stridehq/stride/sqlite/sqlitetest"
	"github.com/stridehq/stride/store"
	"github.com/stridehq/stride/store/storetest"
)

func openTestDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db := sqlitetest.Open(t)
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTestDB(t) })
}

// A 202 promises that the upload survives a crash, which only holds if every
// commit is fsynced to the write-ahead log.
func TestDurabilityPragmas(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	for name, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"} {
		got, err := db.Pragma(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", name, got, want)
		}
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	v, err := db.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
	applied, err := db.Migrate(ctx)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate applied %v, %v", applied, err)
	}
}

func TestBackup(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := db.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, dest); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
	copyDB, err := sqlite.Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	v, err := copyDB.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("backup schema version = %d, %v", v, err)
	}
}
