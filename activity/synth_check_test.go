package activity

import (
	"math"
	"testing"
)

// TestSynthesizedFormatsAgree parses the same synthesized hour written as
// FIT, GPX, TCX and JSON: every reader must see the same activity.
func TestSynthesizedFormatsAgree(t *testing.T) {
	const n = 3600
	files := map[string][]byte{"a.fit": synthFIT(n), "a.gpx": synthGPX(n), "a.tcx": synthTCX(n), "a.json": synthJSON(n)}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			rec, warnings, err := Parse(data, FileHint{Filename: name}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings on a clean file: %+v", warnings)
			}
			if len(rec.Points) != n {
				t.Fatalf("%d points, want %d", len(rec.Points), n)
			}
			a := Analyze(rec, Athlete{FTP: 250, MaxHR: 190, RestingHR: 50, WeightKg: 75, Age: 40, Sex: "male"})
			wantDist := 8.0 * (n - 1)
			if math.Abs(a.FromPoints.DistanceM-wantDist)/wantDist > 0.01 {
				t.Errorf("distance from points %.0f m, want %.0f ± 1 %%", a.FromPoints.DistanceM, wantDist)
			}
			if a.FromPoints.ElapsedS != n-1 || math.Abs(a.FromPoints.TimerS-(n-1)) > 1 {
				t.Errorf("elapsed %v timer %v, want %d", a.FromPoints.ElapsedS, a.FromPoints.TimerS, n-1)
			}
			if math.Abs(a.FromPoints.AvgHR-140) > 2 || math.Abs(a.FromPoints.MaxHR-155) > 1 {
				t.Errorf("avg HR %.1f max %v, want ≈140 and 155", a.FromPoints.AvgHR, a.FromPoints.MaxHR)
			}
			if a.Metrics.Power == nil || math.Abs(a.Metrics.Power.Avg-220) > 3 || a.Metrics.Power.Normalized < a.Metrics.Power.Avg {
				t.Errorf("power %+v, want avg ≈220 W and NP ≥ avg", a.Metrics.Power)
			}
			if len(a.Metrics.SplitsKm) != 29 {
				t.Errorf("%d km splits, want 29 (28.8 km)", len(a.Metrics.SplitsKm))
			}
			if a.Polyline == "" || len(a.BBox) != 4 || a.BBox[0] > a.BBox[2] || a.BBox[1] > a.BBox[3] {
				t.Errorf("route: polyline %q bbox %v", a.Polyline, a.BBox)
			}
			if a.Streams == nil || len(a.Streams.Time) != n || a.Streams.HeartRate == nil || a.Streams.Watts == nil {
				t.Errorf("streams incomplete")
			}
		})
	}
}
