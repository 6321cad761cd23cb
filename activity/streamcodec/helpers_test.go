package streamcodec

import (
	"math"
	"testing"

	"github.com/stridehq/stride/activity"
)

// tolerance is the largest difference the quantization allows for a
// column of a given unit scale: half a unit, plus float rounding of the
// value itself.
func tolerance(scale, v float64) float64 {
	return 0.5/scale + math.Abs(v)*1e-15
}

// checkEqual fails unless got has the same columns as want (nil exactly
// where want is nil), the same NaN positions, and values within the
// quantization of each column.
func checkEqual(t *testing.T, name string, want, got *activity.Streams) {
	t.Helper()
	for _, c := range scalars {
		checkSeries(t, name+" "+c.name, *c.col(want), *c.col(got), c.scale)
	}
	if (want.LatLng == nil) != (got.LatLng == nil) || len(want.LatLng) != len(got.LatLng) {
		t.Fatalf("%s latlng: got %d points (nil %v), want %d (nil %v)", name, len(got.LatLng), got.LatLng == nil, len(want.LatLng), want.LatLng == nil)
	}
	lat := func(ll [][2]float64, k int) []float64 {
		if ll == nil {
			return nil
		}
		out := make([]float64, len(ll))
		for i := range ll {
			out[i] = ll[i][k]
		}
		return out
	}
	checkSeries(t, name+" latitude", lat(want.LatLng, 0), lat(got.LatLng, 0), scaleDegree)
	checkSeries(t, name+" longitude", lat(want.LatLng, 1), lat(got.LatLng, 1), scaleDegree)
}

func checkSeries(t *testing.T, name string, want, got []float64, scale float64) {
	t.Helper()
	if (want == nil) != (got == nil) || len(want) != len(got) {
		t.Fatalf("%s: got %d points (nil %v), want %d (nil %v)", name, len(got), got == nil, len(want), want == nil)
	}
	for i := range want {
		w, g := want[i], got[i]
		if math.IsNaN(w) != math.IsNaN(g) {
			t.Fatalf("%s[%d]: got %v, want %v", name, i, g, w)
		}
		if !math.IsNaN(w) && math.Abs(w-g) > tolerance(scale, w) {
			t.Fatalf("%s[%d]: got %v, want %v (tolerance %v)", name, i, g, w, tolerance(scale, w))
		}
	}
}

// longest is the length of the longest column (shortest's counterpart).
func longest(s *activity.Streams) int {
	n := len(s.LatLng)
	for _, c := range scalars {
		n = max(n, len(*c.col(s)))
	}
	return n
}
