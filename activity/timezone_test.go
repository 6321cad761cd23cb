package activity

import (
	"testing"
	"time"
)

func TestTimeZone(t *testing.T) {
	jan := time.Date(2024, 1, 15, 7, 0, 0, 0, time.UTC)
	jul := time.Date(2024, 7, 15, 7, 0, 0, 0, time.UTC)
	track := func(start time.Time, lat, lon float64) []Point {
		pts := make([]Point, 3)
		for i := range pts {
			pts[i] = newPoint(start.Add(time.Duration(i) * time.Second))
			pts[i].Lat, pts[i].Lon = lat+float64(i)*1e-4, lon
		}
		return pts
	}
	indoor := func(start time.Time) []Point {
		return []Point{newPoint(start), newPoint(start.Add(time.Second))}
	}
	tests := []struct {
		name        string
		sport       Sport
		points      []Point
		fileOffset  *int
		athleteZone string
		wantZone    string
		wantSource  string
		wantOffset  *int // nil: no offset, no local start time
	}{
		{"GPX in Ljubljana, summer", SportCycling, track(jul, 46.05, 14.51), nil, "", "Europe/Ljubljana", TimeZoneFromPosition, intp(7200)},
		{"GPX in Ljubljana, winter", SportCycling, track(jan, 46.05, 14.51), nil, "", "Europe/Ljubljana", TimeZoneFromPosition, intp(3600)},
		{"position beats the profile", SportRunning, track(jan, 40.7128, -74.0060), nil, "Europe/Paris", "America/New_York", TimeZoneFromPosition, intp(-5 * 3600)},
		{"Kona, FIT offset kept", SportRunning, track(jul, 19.64, -155.99), intp(-36000), "", "Pacific/Honolulu", TimeZoneFromPosition, intp(-36000)},
		{"indoor: the profile zone", SportIndoorCycling, indoor(jul), nil, "America/Denver", "America/Denver", TimeZoneFromAthlete, intp(-6 * 3600)},
		{"indoor FIT: profile zone agreeing with the file", SportIndoorCycling, indoor(jul), intp(-6 * 3600), "America/Denver", "America/Denver", TimeZoneFromAthlete, intp(-6 * 3600)},
		{"indoor FIT: profile zone contradicting the file", SportIndoorCycling, indoor(jul), intp(3600), "America/Denver", "", "", intp(3600)},
		{"virtual ride: game-world positions ignored", SportVirtualCycling, track(jul, -11.64, 166.95), nil, "Europe/London", "Europe/London", TimeZoneFromAthlete, intp(3600)},
		{"indoor without profile: unknown", SportIndoorCycling, indoor(jul), nil, "", "", "", nil},
		{"unknown profile zone name", SportIndoorCycling, indoor(jul), nil, "Mars/Olympus", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecording(FormatGPX)
			rec.Sport, rec.Points, rec.StartTime = tt.sport, tt.points, tt.points[0].Time
			if tt.fileOffset != nil {
				rec.LocalOffsetS, rec.HasLocalOffset = *tt.fileOffset, true
			}
			a := Analyze(rec, Athlete{TimeZone: tt.athleteZone})
			if a.TimeZone != tt.wantZone || a.TimeZoneSource != tt.wantSource {
				t.Errorf("zone %q (%q), want %q (%q)", a.TimeZone, a.TimeZoneSource, tt.wantZone, tt.wantSource)
			}
			switch {
			case tt.wantOffset == nil && (a.UTCOffsetS != nil || a.LocalStartTime != ""):
				t.Errorf("offset %v, local start %q; want none", *a.UTCOffsetS, a.LocalStartTime)
			case tt.wantOffset != nil && (a.UTCOffsetS == nil || *a.UTCOffsetS != *tt.wantOffset):
				t.Errorf("offset %v, want %d", a.UTCOffsetS, *tt.wantOffset)
			case tt.wantOffset != nil:
				want := rec.StartTime.In(time.FixedZone("", *tt.wantOffset)).Format(time.RFC3339)
				if a.LocalStartTime != want {
					t.Errorf("local start %q, want %q", a.LocalStartTime, want)
				}
			}
		})
	}
}

func intp(v int) *int { return &v }
