package streamcodec

import (
	"math"

	"github.com/stridehq/stride/activity"
)

// Downsample returns at most maxPoints of the streams' points, for the
// API's optional resolution parameter; maxPoints <= 0 or a stream already
// small enough returns a copy of every point. The result never shares
// memory with s.
//
// The points are chosen by largest-triangle-three-buckets (LTTB,
// Steinarsson 2013): the first and last points are kept, the points between
// are cut into maxPoints-2 buckets of equal count (so, at a fixed recording
// rate, of equal duration), and from each bucket the point kept is the one
// forming the largest triangle, in the (time, y) plane, with the point kept
// from the previous bucket and the mean of the next bucket. Unlike taking
// every k-th point, this keeps the peaks and troughs of y (a summit, a
// sprint) that a chart must show. y is the first column present among
// altitude, velocity, heart rate, watts, cadence and distance, since
// elevation profiles are the most common chart; a point is kept or dropped
// in every column together, so that the columns stay aligned. Columns of
// unequal lengths (which activity.Analyze never makes) are cut to the
// shortest.
func Downsample(s *activity.Streams, maxPoints int) *activity.Streams {
	if s == nil {
		return nil
	}
	n := shortest(s)
	if maxPoints <= 0 || n <= maxPoints {
		return take(s, n, nil)
	}
	if maxPoints < 3 {
		idx := []int{0, n - 1}
		return take(s, n, idx[:maxPoints])
	}
	return take(s, n, lttb(xSeries(s, n), ySeries(s, n), maxPoints))
}

// xSeries is time, or the index when time is absent; missing times take
// the previous one so that the areas stay finite.
func xSeries(s *activity.Streams, n int) []float64 {
	if s.Time == nil {
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(i)
		}
		return x
	}
	return filled(s.Time[:n])
}

// ySeries is the series whose shape LTTB preserves, zeros when there is
// none (the buckets then yield their first points: an even selection).
func ySeries(s *activity.Streams, n int) []float64 {
	for _, col := range [][]float64{s.Altitude, s.Velocity, s.HeartRate, s.Watts, s.Cadence, s.Distance} {
		if col != nil {
			return filled(col[:n])
		}
	}
	return make([]float64, n)
}

// filled copies a column with each missing sample replaced by the previous
// present one (the first present one for leading gaps, 0 if none).
func filled(col []float64) []float64 {
	out := make([]float64, len(col))
	last := 0.0
	for _, v := range col {
		if !math.IsNaN(v) {
			last = v
			break
		}
	}
	for i, v := range col {
		if !math.IsNaN(v) {
			last = v
		}
		out[i] = last
	}
	return out
}

// lttb returns the indices of the m (3 <= m < len(x)) points kept.
func lttb(x, y []float64, m int) []int {
	n := len(x)
	every := float64(n-2) / float64(m-2)
	idx := make([]int, 0, m)
	idx = append(idx, 0)
	a := 0
	for i := range m - 2 {
		// The mean of the next bucket (the last point for the last bucket).
		next0 := min(int(float64(i+1)*every)+1, n-1)
		next1 := min(int(float64(i+2)*every)+1, n)
		var mx, my float64
		for j := next0; j < next1; j++ {
			mx += x[j]
			my += y[j]
		}
		mx /= float64(next1 - next0)
		my /= float64(next1 - next0)

		lo := int(float64(i)*every) + 1
		hi := min(int(float64(i+1)*every)+1, n-1)
		pick, best := lo, -1.0
		for j := lo; j < hi; j++ {
			area := math.Abs((x[a]-mx)*(y[j]-y[a]) - (x[a]-x[j])*(my-y[a]))
			if area > best {
				pick, best = j, area
			}
		}
		idx = append(idx, pick)
		a = pick
	}
	return append(idx, n-1)
}

// shortest is the length of the shortest non-nil column.
func shortest(s *activity.Streams) int {
	n := -1
	for _, c := range scalars {
		if col := *c.col(s); col != nil && (n < 0 || len(col) < n) {
			n = len(col)
		}
	}
	if s.LatLng != nil && (n < 0 || len(s.LatLng) < n) {
		n = len(s.LatLng)
	}
	return max(n, 0)
}

// take copies the points at idx (the first n points when idx is nil) of
// every non-nil column.
func take(s *activity.Streams, n int, idx []int) *activity.Streams {
	pick := func(col []float64) []float64 {
		if col == nil {
			return nil
		}
		if idx == nil {
			return append([]float64{}, col[:n]...)
		}
		out := make([]float64, len(idx))
		for k, i := range idx {
			out[k] = col[i]
		}
		return out
	}
	out := &activity.Streams{}
	for _, c := range scalars {
		*c.col(out) = pick(*c.col(s))
	}
	if s.LatLng != nil {
		if idx == nil {
			out.LatLng = append([][2]float64{}, s.LatLng[:n]...)
		} else {
			out.LatLng = make([][2]float64, len(idx))
			for k, i := range idx {
				out.LatLng[k] = s.LatLng[i]
			}
		}
	}
	return out
}
