package activity

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadCorpus runs every file of corpus/bad and checks it ends as
// bad/README.md's "expected" column says: failed with a specific problem
// code, or done (possibly with a warning naming the repair).
func TestBadCorpus(t *testing.T) {
	root := filepath.Join(corpusDir(t), "bad")
	type outcome struct {
		// failCode: the file must fail with this code. Empty: it must parse.
		failCode string
		// warn: when parsing succeeds, a warning with this code is required.
		warn string
		// check inspects a successful result.
		check func(t *testing.T, rec *Recording, a *Analysis)
	}
	cases := map[string]outcome{
		"empty.fit":                        {failCode: CodeNoData},
		"empty.gpx":                        {failCode: CodeNoData},
		"empty.tcx":                        {failCode: CodeNoData},
		"truncated.fit":                    {warn: WarnTruncated, check: hasPoints},
		"wrong-crc.fit":                    {warn: WarnCRCMismatch, check: hasPoints},
		"bitflip-in-data-crc-mismatch.fit": {failCode: CodeCorrupt},
		"header-datasize-too-large.fit":    {warn: WarnTruncated, check: hasPoints},
		"header-datasize-too-small.fit":    {failCode: CodeCorrupt},
		"header-only.fit":                  {failCode: CodeNoData},
		"bad-magic.fit":                    {failCode: CodeUnsupportedFormat},
		"png-renamed.fit":                  {failCode: CodeUnsupportedFormat},
		"gzip-bomb-zeros.fit.gz":           {failCode: CodeTooLarge},
		"real-strava-android-header-size-exceeds-file.fit": {warn: WarnDecodeError, check: hasPoints},
		"real-unterminated-bad-crc.fit":                    {warn: WarnTruncated, check: hasPoints},
		"real-not-a-fit-header-size-zero.fit":              {failCode: CodeCorrupt},
		"real-invalid-basetype-in-file-id.fit":             {failCode: CodeCorrupt},
		"malformed-unclosed.gpx":                           {warn: WarnDecodeError, check: hasPoints},
		"malformed-mismatched-tags.tcx":                    {failCode: CodeCorrupt},
		"real-unbound-namespace-prefix.gpx": {check: func(t *testing.T, rec *Recording, a *Analysis) {
			hasPoints(t, rec, a)
			if a.DistanceM < 1000 || a.Metrics.Cadence == nil {
				t.Errorf("distance %.0f m, cadence %v: the track and its gpxdata:cadence extension should be read", a.DistanceM, a.Metrics.Cadence)
			}
		}},
		"billion-laughs.gpx": {failCode: CodeCorrupt},
		"xxe-etc-passwd.gpx": {failCode: CodeCorrupt},
		"xxe-etc-passwd.tcx": {failCode: CodeCorrupt},
		"latlon-nan-out-of-range.gpx": {warn: WarnInvalidPosition, check: func(t *testing.T, rec *Recording, a *Analysis) {
			withPos := 0
			for _, p := range rec.Points {
				if p.HasPosition() {
					withPos++
					if !validLatLon(p.Lat, p.Lon) {
						t.Errorf("invalid position kept: %v,%v", p.Lat, p.Lon)
					}
				}
			}
			if withPos != 2 {
				t.Errorf("%d points with a position, want the 2 valid ones", withPos)
			}
		}},
		"times-backwards.gpx": {warn: WarnTimeReordered, check: func(t *testing.T, rec *Recording, a *Analysis) {
			for i := 1; i < len(rec.Points); i++ {
				if !rec.Points[i].Time.After(rec.Points[i-1].Time) {
					t.Errorf("point %d at %v is not after %v", i, rec.Points[i].Time, rec.Points[i-1].Time)
				}
			}
			if a.ElapsedS < 0 || a.ElapsedS > 3600 {
				t.Errorf("elapsed %v s: the point a year back must not stretch the activity", a.ElapsedS)
			}
		}},
		"no-trackpoints.tcx": {check: func(t *testing.T, rec *Recording, a *Analysis) {
			if a.TimerS != 2400 || a.DistanceM != 6500 || a.Calories != 450 {
				t.Errorf("summary-only activity: timer %v s, distance %v m, calories %v; want 2400, 6500, 450", a.TimerS, a.DistanceM, a.Calories)
			}
		}},
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		name := e.Name()
		if name == "README.md" {
			continue
		}
		want, ok := cases[name]
		if !ok {
			t.Errorf("%s: no expected outcome in this table; add one from bad/README.md", name)
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, name))
			if err != nil {
				t.Fatal(err)
			}
			rec, warnings, err := Parse(data, FileHint{Filename: name}, Limits{})
			if err != nil {
				if strings.Contains(err.Error(), "root:") {
					t.Fatalf("error discloses file content: %v", err)
				}
				var perr *Error
				if !errors.As(err, &perr) {
					t.Fatalf("error %v is not an *activity.Error", err)
				}
				if want.failCode == "" {
					t.Fatalf("failed with %v, want success", err)
				}
				if perr.Code != want.failCode {
					t.Fatalf("failed with code %q (%v), want %q", perr.Code, err, want.failCode)
				}
				if perr.Detail == "" {
					t.Error("error without a detail")
				}
				return
			}
			if want.failCode != "" {
				t.Fatalf("parsed (%d points, warnings %v), want failure %q", len(rec.Points), warnings, want.failCode)
			}
			if want.warn != "" && !hasWarning(warnings, want.warn) {
				t.Errorf("warnings %+v lack %q", warnings, want.warn)
			}
			a := Analyze(rec, Athlete{})
			if a.ElapsedS < 0 || a.TimerS < 0 || a.MovingS < 0 {
				t.Errorf("negative duration: elapsed %v timer %v moving %v", a.ElapsedS, a.TimerS, a.MovingS)
			}
			if want.check != nil {
				want.check(t, rec, a)
			}
		})
	}
	if seen != len(cases) {
		t.Errorf("table has %d cases, corpus/bad has %d of them: a file went missing", len(cases), seen)
	}
}

func hasWarning(ws []Warning, code string) bool {
	for _, w := range ws {
		if w.Code == code {
			return true
		}
	}
	return false
}

func hasPoints(t *testing.T, rec *Recording, _ *Analysis) {
	t.Helper()
	if len(rec.Points) == 0 {
		t.Error("no point kept")
	}
}
