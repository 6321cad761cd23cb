package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stridehq/stride/internal/e2e"
)

// strideBin is the binary the end-to-end tests run, built once.
var strideBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stride-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	strideBin, err = e2e.BuildBinary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCommand calls run in-process with an environment of its own.
func runCommand(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestCommandLine(t *testing.T) {
	out, _, err := runCommand(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "stride ") {
		t.Fatalf("version: %q %v", out, err)
	}
	if _, errOut, err := runCommand(t, nil, "frobnicate"); err == nil || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %v %q", err, errOut)
	}
	if _, errOut, err := runCommand(t, nil); err == nil || !strings.Contains(errOut, "Usage:") {
		t.Fatalf("no command: %v %q", err, errOut)
	}
	// Every serve flag's help names its environment variable.
	_, errOut, err := runCommand(t, nil, "serve", "-h")
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"STRIDE_ADDR", "STRIDE_DATA_DIR", "STRIDE_DATABASE_URL", "STRIDE_JWT_SECRET", "STRIDE_ROLE"} {
		if !strings.Contains(errOut, env) {
			t.Errorf("serve -h does not mention %s", env)
		}
	}
}

func TestServeRefusesBadSettings(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"split role on embedded": {nil, []string{"--role", "api"}, "needs networked adapters"},
		"unknown role":           {nil, []string{"--role", "both"}, "use all, api or worker"},
		"bad env duration":       {map[string]string{"STRIDE_ACCESS_TOKEN_TTL": "soon"}, nil, "STRIDE_ACCESS_TOKEN_TTL"},
		"short jwt secret":       {map[string]string{"STRIDE_JWT_SECRET": "short"}, nil, "at least 32"},
		"bad registration":       {nil, []string{"--registration", "maybe"}, "open, invite or closed"},
		"bad proxy":              {nil, []string{"--trusted-proxies", "10.0.0.0/99"}, "trusted proxy"},
		"bad log format":         {nil, []string{"--log-format", "xml"}, "text or json"},
		"half bootstrap admin":   {map[string]string{"STRIDE_BOOTSTRAP_ADMIN_EMAIL": "a@b.co"}, nil, "both"},
		"not postgres":           {map[string]string{"STRIDE_DATABASE_URL": "mysql://x"}, nil, "postgres://"},
		"no background share":    {nil, []string{"--background-share", "0"}, "--background-share between 1 and 100"},
		"negative yield rate":    {map[string]string{"STRIDE_BACKGROUND_YIELD_RPS": "-1"}, nil, "--background-yield-rps"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0"}, tc.args...)
			_, _, err := runCommand(t, tc.env, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestMigrateWithMigrationsOffAtStart(t *testing.T) {
	dir := t.TempDir()
	// A server that may not migrate refuses a database it does not know...
	_, _, err := runCommand(t, nil, "serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--migrate-on-start=false")
	if err == nil || !strings.Contains(err.Error(), "stride migrate") {
		t.Fatalf("serve on an unmigrated database: %v", err)
	}
	// ...until the operator migrates.
	out, _, err := runCommand(t, nil, "migrate", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "applied migrations [1") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	out, _, err = runCommand(t, nil, "migrate", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "schema is current") {
		t.Fatalf("second migrate: %q %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stride.db")); err != nil {
		t.Fatal(err)
	}
}
