// Command stride is the Stride server and its operator commands. main only
// wires the process to run, which tests call directly with their own
// arguments, environment and output.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "stride:", err)
		}
		os.Exit(2)
	}
}

// errUsage is returned after usage text has already been printed.
var errUsage = errors.New("usage")

const usage = `Stride: an event-driven fitness tracking backend.

Usage:
  stride serve [flags]          run the server (embedded defaults: SQLite in --data-dir)
  stride migrate [flags]        apply pending database migrations and exit
  stride backup [flags] DIR     write a consistent copy of the embedded data to DIR
  stride admin create [flags]   create an administrator account
  stride deadletters list|replay [flags] [ID ...]
                                list or re-queue the events a consumer group gave up on
  stride replay leaderboards|standings [flags]
                                rebuild leaderboards (in Redis) or achievements and
                                records from the database
  stride version                print the version
  stride help [COMMAND]         show help

Every flag can also be set by the environment variable shown in its help.
Run 'stride help COMMAND' for a command's flags.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, getenv, stdout, stderr)
	case "admin":
		return runAdmin(ctx, rest, getenv, stdout, stderr)
	case "deadletters":
		return runDeadLetters(ctx, rest, getenv, stdout, stderr)
	case "replay":
		return runReplay(ctx, rest, getenv, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "stride %s\n", version)
		return nil
	case "help", "-h", "--help":
		if len(rest) > 0 {
			return run(ctx, []string{rest[0], "-h"}, getenv, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "stride: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}
