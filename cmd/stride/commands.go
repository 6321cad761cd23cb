package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/auth"
	"github.com/stridehq/stride/sqlite"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s := newSettings("migrate", getenv, stderr)
	st := addStoreSettings(s)
	if err := s.parse(args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	db, err := openDatabase(ctx, st)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "schema is current at version %d\n", v)
		return nil
	}
	fmt.Fprintf(stdout, "applied migrations %v; schema is at version %d\n", applied, v)
	return nil
}

// runBackup copies the embedded data dir while the server runs: a snapshot
// of the database (VACUUM INTO reads one consistent view) and the signing
// key. Restoring is copying the files back into an empty data dir.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s := newSettings("backup", getenv, stderr)
	s.fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: stride backup [flags] DIR\n\nWrites a consistent copy of the embedded data dir to DIR (created; must not exist).")
		s.fs.PrintDefaults()
	}
	st := addStoreSettings(s)
	if err := s.parse(args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if s.fs.NArg() != 1 {
		s.fs.Usage()
		return errUsage
	}
	if !st.embedded() {
		return errors.New("backup copies the embedded SQLite data; for PostgreSQL use pg_dump or your provider's backups")
	}
	dest := s.fs.Arg(0)
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup destination %s already exists", dest)
	}
	if _, err := os.Stat(st.sqlitePath()); err != nil {
		return fmt.Errorf("no embedded database at %s: %w", st.sqlitePath(), err)
	}
	if err := os.MkdirAll(dest, 0o750); err != nil {
		return fmt.Errorf("create backup dir: %w", err)
	}
	db, err := sqlite.Open(ctx, st.sqlitePath())
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := db.Backup(ctx, filepath.Join(dest, "stride.db")); err != nil {
		return err
	}
	if err := copyIfExists(filepath.Join(*st.dataDir, "jwt.key"), filepath.Join(dest, "jwt.key")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s written to %s in %s\n", *st.dataDir, dest, time.Since(start).Round(time.Millisecond))
	return nil
}

func copyIfExists(src, dst string) error {
	raw, err := os.ReadFile(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	if err := os.WriteFile(dst, raw, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return nil
}

func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "-h" && args[0] != "--help") {
		fmt.Fprintln(stderr, "Usage: stride admin create --email EMAIL --name NAME (password from STRIDE_ADMIN_PASSWORD or --password-file)")
		return errUsage
	}
	s := newSettings("admin create", getenv, stderr)
	st := addStoreSettings(s)
	email := s.string("email", "", "the administrator's email")
	name := s.string("name", "Administrator", "the administrator's display name")
	passwordFile := s.string("password-file", "", "read the password from this file (else STRIDE_ADMIN_PASSWORD)")
	if err := s.parse(args[1:]); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	password := getenv("STRIDE_ADMIN_PASSWORD")
	if *passwordFile != "" {
		raw, err := os.ReadFile(*passwordFile)
		if err != nil {
			return fmt.Errorf("read password file: %w", err)
		}
		password = strings.TrimRight(string(raw), "\r\n")
	}
	if *email == "" || password == "" {
		return errors.New("admin create needs --email and a password (STRIDE_ADMIN_PASSWORD or --password-file)")
	}
	db, err := openDatabase(ctx, st)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := prepareSchema(ctx, db, true, slog.New(slog.NewTextHandler(stderr, nil))); err != nil {
		return err
	}
	// The signer is not used to create an account; any valid key will do.
	signer, err := auth.NewSigner([]byte(strings.Repeat("x", auth.MinKeyBytes)), "stride", time.Minute)
	if err != nil {
		return err
	}
	svc := account.New(db, signer, account.Config{Source: "stride/admin"}, slog.New(slog.NewTextHandler(stderr, nil)), time.Now)
	u, err := svc.CreateAdmin(ctx, *email, password, *name)
	if err != nil {
		var se *stride.Error
		if errors.As(err, &se) && len(se.Fields) > 0 {
			var msgs []string
			for _, f := range se.Fields {
				msgs = append(msgs, f.Field+" "+f.Message)
			}
			return fmt.Errorf("create admin: %s", strings.Join(msgs, "; "))
		}
		return fmt.Errorf("create admin: %w", err)
	}
	fmt.Fprintf(stdout, "administrator %s created with id %s\n", u.Email, u.ID)
	return nil
}
