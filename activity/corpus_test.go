package activity

import (
	"testing"

	"github.com/stridehq/stride/internal/testenv"
)

// corpusDir is the shared device corpus (internal/testenv: STRIDE_CORPUS,
// or ../shared/corpus beside the repository; missing is fatal in CI).
func corpusDir(tb testing.TB) string { return testenv.Corpus(tb) }
