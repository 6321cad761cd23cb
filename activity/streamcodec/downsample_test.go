package streamcodec

import (
	"math"
	"testing"

	"github.com/stridehq/stride/activity"
)

// ride is n points at 1 Hz with every column, altitude a gentle slope with
// one sharp summit at peak, heart rate missing in a run.
func ride(n, peak int) *activity.Streams {
	s := &activity.Streams{
		Time: make([]float64, n), LatLng: make([][2]float64, n), Altitude: make([]float64, n),
		HeartRate: make([]float64, n), Cadence: make([]float64, n), Watts: make([]float64, n),
		Velocity: make([]float64, n), Distance: make([]float64, n),
	}
	for i := range n {
		f := float64(i)
		s.Time[i] = f
		s.LatLng[i] = [2]float64{47 + f*1e-5, 8 + f*1e-5}
		s.Altitude[i] = 400 + f*0.01
		s.HeartRate[i] = 120 + math.Mod(f, 7)
		if i > n/3 && i < n/2 {
			s.HeartRate[i] = math.NaN()
		}
		s.Cadence[i] = 85
		s.Watts[i] = 200 + math.Mod(f, 11)
		s.Velocity[i] = 8
		s.Distance[i] = f * 8
	}
	if peak >= 0 {
		s.Altitude[peak] = 900
	}
	return s
}

func TestDownsample(t *testing.T) {
	tests := []struct {
		name      string
		n, max    int
		wantLen   int
		wantPeak  bool // the summit must be kept
		peakIndex int
	}{
		{"no limit", 100, 0, 100, true, 40},
		{"negative limit", 100, -1, 100, true, 40},
		{"already small enough", 100, 100, 100, true, 40},
		{"one point", 100, 1, 1, false, -1},
		{"two points", 100, 2, 2, false, -1},
		{"three points", 100, 3, 3, true, 40},
		{"hour to 500", 3600, 500, 500, true, 1234},
		{"hour to 10", 3600, 10, 10, true, 2999},
		{"one point more than the limit", 101, 100, 100, true, 57},
		{"empty", 0, 10, 0, false, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ride(tt.n, tt.peakIndex)
			got := Downsample(s, tt.max)
			if len(got.Time) != tt.wantLen {
				t.Fatalf("%d points, want %d", len(got.Time), tt.wantLen)
			}
			if tt.wantLen == 0 {
				return
			}
			if got.Time[0] != 0 {
				t.Errorf("first point not kept: time %v", got.Time[0])
			}
			if tt.wantLen > 1 && got.Time[len(got.Time)-1] != float64(tt.n-1) {
				t.Errorf("last point not kept: time %v", got.Time[len(got.Time)-1])
			}
			checkRowsOf(t, s, got)
			if tt.wantPeak {
				found := false
				for _, a := range got.Altitude {
					found = found || a == 900
				}
				if !found {
					t.Errorf("summit at %d dropped", tt.peakIndex)
				}
			}
		})
	}
}

// checkRowsOf fails unless every point of got is a point of s (the same
// values in every column, so the columns stay aligned), in increasing
// time order, and got has exactly s's columns.
func checkRowsOf(t *testing.T, s, got *activity.Streams) {
	t.Helper()
	prev := -1
	for k, tm := range got.Time {
		i := int(tm) // ride's time is the index
		if i <= prev {
			t.Fatalf("point %d (time %v) not after the previous one", k, tm)
		}
		prev = i
		for _, c := range scalars {
			w, g := (*c.col(s))[i], (*c.col(got))[k]
			if w != g && !(math.IsNaN(w) && math.IsNaN(g)) {
				t.Fatalf("point %d: %s %v, want %v (row %d)", k, c.name, g, w, i)
			}
		}
		if got.LatLng[k] != s.LatLng[i] {
			t.Fatalf("point %d: latlng %v, want %v", k, got.LatLng[k], s.LatLng[i])
		}
	}
}

// TestDownsampleCopies checks that the result never aliases the input,
// even when nothing is dropped.
func TestDownsampleCopies(t *testing.T) {
	s := ride(10, -1)
	for _, limit := range []int{0, 5} {
		got := Downsample(s, limit)
		got.Time[0], got.Altitude[0], got.LatLng[0][0] = -1, -1, -1
		if s.Time[0] != 0 || s.Altitude[0] != 400 || s.LatLng[0][0] != 47 {
			t.Fatalf("limit %d: writing the result changed the input", limit)
		}
	}
}

func TestDownsampleColumns(t *testing.T) {
	tests := []struct {
		name string
		s    *activity.Streams
	}{
		{"nil columns stay nil", &activity.Streams{Time: []float64{0, 1, 2, 3, 4}, HeartRate: []float64{1, 2, 3, 4, 5}}},
		{"no y column", &activity.Streams{Time: []float64{0, 1, 2, 3, 4}, LatLng: make([][2]float64, 5)}},
		{"no time", &activity.Streams{Altitude: []float64{1, 5, 1, 1, 1}}},
		{"y all missing", &activity.Streams{Time: []float64{0, 1, 2, 3, 4}, Altitude: []float64{nan, nan, nan, nan, nan}}},
		{"unequal lengths", &activity.Streams{Time: []float64{0, 1, 2, 3, 4, 5}, Altitude: []float64{1, 5, 1, 1, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Downsample(tt.s, 3)
			if n := longest(got); n != 3 || shortest(got) != 3 {
				t.Fatalf("columns of %d..%d points, want 3", shortest(got), n)
			}
			for _, c := range scalars {
				if (*c.col(got) == nil) != (*c.col(tt.s) == nil) {
					t.Errorf("%s: nil %v, want %v", c.name, *c.col(got) == nil, *c.col(tt.s) == nil)
				}
			}
			if (got.LatLng == nil) != (tt.s.LatLng == nil) {
				t.Errorf("latlng: nil %v, want %v", got.LatLng == nil, tt.s.LatLng == nil)
			}
		})
	}
	if Downsample(nil, 10) != nil {
		t.Error("Downsample(nil) is not nil")
	}
}
