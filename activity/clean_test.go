package activity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A GPS logger without a clock fix writes one time on every point, here
// with two precisions (.2073437 and .207, as GPSBabel's 1901 files do). The
// track must stay whole and in file order, with no duration, instead of
// being sorted by the sub-millisecond difference and merged into two points.
func TestCleanOneTimeAtTwoPrecisions(t *testing.T) {
	gpx := `<?xml version="1.0"?>
<gpx version="1.0" creator="test" xmlns="http://www.topografix.com/GPX/1/0"><trk><trkseg>
<trkpt lat="46.4350" lon="13.7480"><time>1901-12-13T20:45:52.2073437Z</time></trkpt>
<trkpt lat="46.4360" lon="13.7480"><time>1901-12-13T20:45:52.207Z</time></trkpt>
<trkpt lat="46.4370" lon="13.7480"><time>1901-12-13T20:45:52.2073437Z</time></trkpt>
<trkpt lat="46.4380" lon="13.7480"><time>1901-12-13T20:45:52.2073437Z</time></trkpt>
</trkseg></trk></gpx>`
	rec, warns, err := Parse([]byte(gpx), FileHint{Filename: "one-time.gpx"}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Points) != 4 {
		t.Fatalf("%d points kept, want 4 (warnings %v)", len(rec.Points), warns)
	}
	for i, p := range rec.Points {
		if want := 46.4350 + 0.001*float64(i); p.Lat < want-1e-9 || p.Lat > want+1e-9 {
			t.Errorf("point %d at latitude %v, want %v: file order lost", i, p.Lat, want)
		}
		if !p.Time.Equal(rec.Points[0].Time) {
			t.Errorf("point %d at %v, first at %v", i, p.Time, rec.Points[0].Time)
		}
	}
	a := Analyze(rec, Athlete{})
	if a.ElapsedS != 0 || a.FromPoints.DistanceM < 300 || a.FromPoints.DistanceM > 340 {
		t.Errorf("elapsed %v s, distance %v m; want 0 s and the track's 333 m", a.ElapsedS, a.FromPoints.DistanceM)
	}
	// Cleaning again changes nothing.
	if again := Clean(rec); len(again) != len(warns) || len(rec.Points) != 4 {
		t.Errorf("second Clean: %v, %d points", again, len(rec.Points))
	}
}

// The corpus file the case comes from keeps its 184 points (a 2.7 km hike).
func TestCleanOneTimeCorpusFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusDir(t), "gpx", "gpsbabel-gpx10-hike-1901-times.gpx"))
	if err != nil {
		t.Fatal(err)
	}
	rec, warns, err := Parse(data, FileHint{Filename: "hike.gpx"}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Points) != 184 {
		t.Fatalf("%d points kept, want 184 (warnings %v)", len(rec.Points), warns)
	}
	var sawOneTime bool
	for _, w := range warns {
		sawOneTime = sawOneTime || (w.Code == WarnImplausibleTimes && strings.Contains(w.Detail, "same timestamp"))
		if w.Code == WarnDuplicateTime || w.Code == WarnTimeReordered || w.Code == WarnGPSSpike {
			t.Errorf("unexpected warning %v", w)
		}
	}
	if !sawOneTime {
		t.Errorf("no same-timestamp warning in %v", warns)
	}
	if d := Analyze(rec, Athlete{}).FromPoints.DistanceM; d < 2500 || d > 2900 {
		t.Errorf("distance %v m, want the hike's ≈ 2.7 km", d)
	}
}
