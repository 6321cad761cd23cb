package activity

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimits keep each fuzz input cheap while exercising the limit checks.
var fuzzLimits = Limits{MaxInputBytes: 4 << 20, MaxDecompressedBytes: 8 << 20, MaxPoints: 200_000, MaxSessions: 16}

// seedFromCorpus adds the corpus files with one of the extensions, keeping
// the seeds small so the fuzzer mutates fast.
func seedFromCorpus(f *testing.F, exts ...string) {
	root := corpusDir(f)
	for _, dir := range []string{"fit", "gpx", "tcx", "bad"} {
		for _, ext := range exts {
			files, _ := filepath.Glob(filepath.Join(root, dir, "*"+ext))
			for _, file := range files {
				if info, err := os.Stat(file); err != nil || info.Size() > 40<<10 {
					continue
				}
				data, err := os.ReadFile(file)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(data)
			}
		}
	}
}

// checkParse is the property every parser must hold on any input: no
// panic, an *Error on failure, and on success an analysis that is complete
// and encodable as JSON (a NaN would not be).
func checkParse(t *testing.T, data []byte, name string) {
	rec, _, err := Parse(data, FileHint{Filename: name}, fuzzLimits)
	if err != nil {
		var perr *Error
		if !errors.As(err, &perr) || perr.Code == "" {
			t.Fatalf("error %v is not an *activity.Error with a code", err)
		}
		return
	}
	a := Analyze(rec, Athlete{})
	if a.ElapsedS < 0 || a.TimerS < 0 || a.DistanceM < 0 {
		t.Fatalf("negative total: elapsed %v timer %v distance %v", a.ElapsedS, a.TimerS, a.DistanceM)
	}
	if _, err := json.Marshal(a); err != nil {
		t.Fatalf("analysis is not encodable: %v", err)
	}
}

// warmUp replaces the time-zone boundary lookup with a fixed zone while
// fuzzing: under the fuzzer's coverage instrumentation loading the
// boundaries takes longer than the 10 s the fuzzer allows one input (every
// worker process would load them), and the parsers are what is fuzzed. The
// rest of the time-zone path (zone loading, offsets) still runs.
func warmUp(f *testing.F) {
	saved := lookupZone
	lookupZone = func(lat, lon float64) string { return "Europe/Ljubljana" }
	f.Cleanup(func() { lookupZone = saved })
}

func FuzzParseFIT(f *testing.F) {
	warmUp(f)
	seedFromCorpus(f, ".fit")
	f.Add(synthFIT(60))
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, "upload.fit") })
}

func FuzzParseGPX(f *testing.F) {
	warmUp(f)
	seedFromCorpus(f, ".gpx")
	f.Add(synthGPX(20))
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, "upload.gpx") })
}

func FuzzParseTCX(f *testing.F) {
	warmUp(f)
	seedFromCorpus(f, ".tcx")
	f.Add(synthTCX(20))
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, "upload.tcx") })
}

func FuzzParseJSON(f *testing.F) {
	warmUp(f)
	f.Add(synthJSON(20))
	f.Add([]byte(`{"sport":"running","start_time":"2024-01-01T10:00:00Z","elapsed_s":60,"points":[]}`))
	f.Add([]byte(`{"sport":"x","points":[{"t":"2024-01-01T10:00:00Z","lat":1e308,"lon":-1e308,"hr":-5}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, "upload.json") })
}
