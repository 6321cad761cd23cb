package activity

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusDir finds the shared test corpus: $STRIDE_CORPUS, or shared/corpus
// next to the repository root, found by walking up from the package
// directory. Without it the test is skipped, except in CI where a missing
// corpus is a failure (a silently skipped accuracy test proves nothing).
func corpusDir(tb testing.TB) string {
	tb.Helper()
	if dir := os.Getenv("STRIDE_CORPUS"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "expected.jsonl")); err != nil {
			tb.Fatalf("STRIDE_CORPUS=%s has no expected.jsonl: %v", dir, err)
		}
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, "..", "shared", "corpus")
		if _, err := os.Stat(filepath.Join(candidate, "expected.jsonl")); err == nil {
			return filepath.Clean(candidate)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	msg := "test corpus not found: set STRIDE_CORPUS or place it at ../shared/corpus next to the repository root"
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}
