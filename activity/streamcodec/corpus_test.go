package streamcodec

import (
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/internal/testenv"
)

// corpusDir is the shared device corpus (internal/testenv: STRIDE_CORPUS,
// or ../shared/corpus beside the repository; missing is fatal in CI).
func corpusDir(tb testing.TB) string { return testenv.Corpus(tb) }

// corpusStreams are the streams of one corpus file.
type corpusStreams struct {
	name    string
	streams *activity.Streams
}

// loadCorpus parses and analyses every good corpus file (the bad/ ones
// have no streams worth storing) and returns their streams, sorted by
// name. It fails if the corpus yields no streams at all, so that a broken
// corpus cannot make the tests pass vacuously.
func loadCorpus(tb testing.TB) []corpusStreams {
	tb.Helper()
	root := corpusDir(tb)
	var out []corpusStreams
	for _, dir := range []string{"fit", "gpx", "tcx"} {
		files, err := filepath.Glob(filepath.Join(root, dir, "*"))
		if err != nil {
			tb.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				tb.Fatal(err)
			}
			rec, _, err := activity.Parse(data, activity.FileHint{Filename: file}, activity.Limits{})
			if err != nil {
				tb.Logf("%s: skipped: %v", file, err)
				continue
			}
			a := activity.Analyze(rec, activity.Athlete{})
			if a.Streams == nil || len(a.Streams.Time) == 0 {
				continue
			}
			out = append(out, corpusStreams{name: dir + "/" + filepath.Base(file), streams: a.Streams})
		}
	}
	if len(out) == 0 {
		tb.Fatalf("corpus %s gave no streams", root)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// TestCorpusRoundTrip encodes every corpus activity, checks the decoded
// streams against the originals, and logs the size per point (the figures
// of docs/benchmarks.md: go test -run TestCorpusRoundTrip -v).
func TestCorpusRoundTrip(t *testing.T) {
	var bytes, points int
	minBPP, maxBPP := math.Inf(1), 0.0
	var minName, maxName string
	for _, c := range loadCorpus(t) {
		b, err := Encode(c.streams)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		checkEqual(t, c.name, c.streams, got)
		n := len(c.streams.Time)
		bytes += len(b)
		points += n
		bpp := float64(len(b)) / float64(n)
		if bpp < minBPP {
			minBPP, minName = bpp, c.name
		}
		if bpp > maxBPP {
			maxBPP, maxName = bpp, c.name
		}
		t.Logf("%-50s %7d points %8d bytes %6.2f B/point", c.name, n, len(b), bpp)
	}
	t.Logf("total: %d points, %d bytes, %.2f B/point; per file min %.2f (%s), max %.2f (%s)",
		points, bytes, float64(bytes)/float64(points), minBPP, minName, maxBPP, maxName)
}
