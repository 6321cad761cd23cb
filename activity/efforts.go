package activity

import (
	"math"
	"sort"
)

// bestEffortDistances are the standard distances of running best efforts.
var bestEffortDistances = []struct {
	name string
	m    float64
}{
	{"400m", 400}, {"1k", 1000}, {"1 mile", 1609.344}, {"5k", 5000},
	{"10k", 10000}, {"half_marathon", 21097.5}, {"marathon", 42195},
}

// activeTime returns the cumulative timer time at each point.
func activeTime(s *series) []float64 {
	out := make([]float64, len(s.dt))
	acc := 0.0
	for i, d := range s.dt {
		acc += d
		out[i] = acc
	}
	return out
}

// bestEfforts finds, for each standard distance, the shortest timer time in
// which it was covered: a two-pointer sweep over cumulative distance, with
// the start of the effort interpolated inside the interval where it falls.
func bestEfforts(s *series) []BestEffort {
	if !s.hasDist || len(s.dist) < 2 {
		return nil
	}
	T := activeTime(s)
	var out []BestEffort
	for _, e := range bestEffortDistances {
		if s.distanceM < e.m {
			break
		}
		best, bestStart := math.Inf(1), 0.0
		i := 0
		for j := 1; j < len(s.dist); j++ {
			for i+1 < j && s.dist[j]-s.dist[i+1] >= e.m {
				i++
			}
			if s.dist[j]-s.dist[i] < e.m {
				continue
			}
			// The effort starts where the distance is dist[j] − m.
			startDist := s.dist[j] - e.m
			start := T[i]
			if seg := s.dist[i+1] - s.dist[i]; seg > 0 {
				start += (T[i+1] - T[i]) * (startDist - s.dist[i]) / seg
			}
			if d := T[j] - start; d > 0 && d < best {
				best, bestStart = d, start
			}
		}
		if !math.IsInf(best, 1) {
			out = append(out, BestEffort{Name: e.name, DistanceM: e.m, ElapsedS: math.Round(best*10) / 10, StartOffsetS: math.Round(bestStart)})
		}
	}
	return out
}

// maxSplits bounds the split list (1000 km in km splits): a corrupt file
// claiming an absurd distance must not make the analysis allocate without
// bound.
const maxSplits = 1000

// splits cuts the activity into consecutive pieces of length metres (1 km,
// 1 mile), the last one partial if at least 50 m long. Split boundaries are
// interpolated in time between the points around them.
func splits(pts []Point, s *series, length float64) []Split {
	if !s.hasDist || len(pts) < 2 || s.dist[len(s.dist)-1] < length/2 {
		return nil
	}
	T := activeTime(s)
	total := s.dist[len(s.dist)-1]
	at := func(d float64) (tm, alt float64) {
		k := sort.SearchFloat64s(s.dist, d)
		if k >= len(s.dist) {
			k = len(s.dist) - 1
		}
		if k == 0 {
			return T[0], altitudeNear(pts, 0)
		}
		seg := s.dist[k] - s.dist[k-1]
		f := 0.0
		if seg > 0 {
			f = (d - s.dist[k-1]) / seg
		}
		return T[k-1] + f*(T[k]-T[k-1]), altitudeNear(pts, k)
	}
	var out []Split
	hrIdx := 0
	for start := 0.0; start < total && len(out) < maxSplits; start += length {
		end := math.Min(start+length, total)
		if end-start < 50 && start > 0 {
			break
		}
		t0, a0 := at(start)
		t1, a1 := at(end)
		sp := Split{Index: len(out) + 1, DistanceM: math.Round((end-start)*10) / 10, ElapsedS: math.Round((t1-t0)*10) / 10}
		if t1 > t0 {
			sp.AvgSpeedMps = math.Round((end-start)/(t1-t0)*1000) / 1000
		}
		if Has(a0) && Has(a1) {
			sp.ElevationDeltaM = math.Round((a1-a0)*10) / 10
		}
		var hrSum, hrW float64
		for ; hrIdx < len(pts) && s.dist[hrIdx] <= end; hrIdx++ {
			if Has(pts[hrIdx].HeartRate) {
				w := sampleWeight(s, hrIdx)
				hrSum += pts[hrIdx].HeartRate * w
				hrW += w
			}
		}
		if hrW > 0 {
			sp.AvgHR = math.Round(hrSum / hrW)
		}
		out = append(out, sp)
	}
	return out
}

// altitudeNear returns the altitude at point k or the closest point before
// it that has one (Missing if none within a few points).
func altitudeNear(pts []Point, k int) float64 {
	for j := k; j >= 0 && j > k-10; j-- {
		if Has(pts[j].Altitude) {
			return pts[j].Altitude
		}
	}
	return Missing
}

func lapSummaries(laps []Lap) []LapSummary {
	out := make([]LapSummary, 0, len(laps))
	for i, l := range laps {
		out = append(out, LapSummary{
			Index: i + 1, StartTime: l.StartTime, ElapsedS: zeroIfMissing(l.ElapsedS), TimerS: zeroIfMissing(l.TimerS),
			DistanceM: zeroIfMissing(l.DistanceM), AvgSpeedMps: zeroIfMissing(l.AvgSpeed), MaxSpeedMps: zeroIfMissing(l.MaxSpeed),
			AvgHR: zeroIfMissing(l.AvgHR), MaxHR: zeroIfMissing(l.MaxHR), AvgPower: zeroIfMissing(l.AvgPower),
			AvgCadence: zeroIfMissing(l.AvgCadence), Calories: zeroIfMissing(l.Calories), Trigger: l.Trigger,
		})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func zeroIfMissing(v float64) float64 {
	if Has(v) {
		return v
	}
	return 0
}
