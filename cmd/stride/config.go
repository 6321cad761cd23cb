package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// settings binds flags to environment variables: each flag's default comes
// from its STRIDE_ variable when set, so a flag beats the environment, which
// beats the built-in default. Bad values in either are reported by name.
type settings struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []error
}

func newSettings(name string, getenv func(string) string, stderr io.Writer) *settings {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &settings{fs: fs, getenv: getenv}
}

func envName(flagName string) string {
	return "STRIDE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (s *settings) help(name, text string) string {
	return fmt.Sprintf("%s (env %s)", text, envName(name))
}

func (s *settings) string(name, def, text string) *string {
	if v := s.getenv(envName(name)); v != "" {
		def = v
	}
	return s.fs.String(name, def, s.help(name, text))
}

func (s *settings) bool(name string, def bool, text string) *bool {
	if v := s.getenv(envName(name)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s=%q: not a boolean", envName(name), v))
		}
		def = b
	}
	return s.fs.Bool(name, def, s.help(name, text))
}

func (s *settings) int64(name string, def int64, text string) *int64 {
	if v := s.getenv(envName(name)); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s=%q: not an integer", envName(name), v))
		}
		def = n
	}
	return s.fs.Int64(name, def, s.help(name, text))
}

func (s *settings) duration(name string, def time.Duration, text string) *time.Duration {
	if v := s.getenv(envName(name)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			s.errs = append(s.errs, fmt.Errorf("%s=%q: not a positive duration such as 15m", envName(name), v))
		}
		def = d
	}
	return s.fs.Duration(name, def, s.help(name, text))
}

func (s *settings) parse(args []string) error {
	if err := s.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	return errors.Join(s.errs...)
}

// errHelp is returned when -h was asked for: not a failure.
var errHelp = errors.New("help requested")

// storeSettings are shared by every command that opens the store.
type storeSettings struct {
	dataDir     *string
	databaseURL *string
}

func addStoreSettings(s *settings) storeSettings {
	return storeSettings{
		dataDir:     s.string("data-dir", "./stride-data", "directory for the embedded database, keys and files"),
		databaseURL: s.string("database-url", "", "PostgreSQL URL (postgres://...); empty uses embedded SQLite in the data dir"),
	}
}

func (st storeSettings) embedded() bool { return *st.databaseURL == "" }

func (st storeSettings) sqlitePath() string { return filepath.Join(*st.dataDir, "stride.db") }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parsePrefixes reads CIDRs or bare addresses (a bare address is a /32 or
// /128).
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range splitList(list) {
		if !strings.Contains(p, "/") {
			a, err := netip.ParseAddr(p)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", p, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pf, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", p, err)
		}
		out = append(out, pf.Masked())
	}
	return out, nil
}
