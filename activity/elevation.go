package activity

import (
	"math"
	"slices"
)

// Elevation gain is counted on a smoothed altitude profile with hysteresis:
// a climb or descent counts only once it exceeds a threshold, so that noise
// going up and down by a metre does not add up to hundreds of metres.
// Barometric altitude and the altitude devices write after their own
// filtering are smooth (FIT files: 0.2 m steps, tiny second differences);
// raw GPS altitude from phones and loggers jumps by metres between fixes. No
// file says which it holds, so the profile is classified by its measured
// noise (see altitudeNoise) and each class has its smoothing window and
// threshold. The smooth-class parameters were chosen on the corpus: they
// match the device's own ascent most often (see the accuracy report).
const (
	smoothNoiseMaxM   = 0.35 // median second difference below this: smooth profile
	smoothWindowS     = 5.0
	smoothHysteresisM = 3.0
	noisyWindowS      = 30.0
	noisyHysteresisM  = 4.0
)

type elevationResult struct {
	has             bool
	ascent, descent float64
	min, max        float64
	profile         string // "smooth" or "noisy"
}

func computeElevation(pts []Point, s *series) elevationResult {
	var r elevationResult
	alt := make([]float64, 0, len(pts))
	ts := make([]float64, 0, len(pts))
	for i := range pts {
		if Has(pts[i].Altitude) {
			alt = append(alt, pts[i].Altitude)
			ts = append(ts, s.t[i])
		}
	}
	if len(alt) < 2 {
		return r
	}
	r.has = true
	r.min, r.max = math.Inf(1), math.Inf(-1)
	for _, a := range alt {
		r.min, r.max = math.Min(r.min, a), math.Max(r.max, a)
	}
	window, threshold := noisyWindowS, noisyHysteresisM
	r.profile = "noisy"
	if altitudeNoise(alt) < smoothNoiseMaxM {
		window, threshold = smoothWindowS, smoothHysteresisM
		r.profile = "smooth"
	}
	smoothed := smoothByTime(ts, alt, window)
	r.ascent, r.descent = hysteresisGain(smoothed, threshold)
	return r
}

// altitudeNoise is the median absolute second difference of the altitude
// samples: near zero for a barometer (smooth, 0.2 m steps), metres for GPS.
func altitudeNoise(alt []float64) float64 {
	if len(alt) < 3 {
		return 0
	}
	d := make([]float64, 0, len(alt)-2)
	for i := 1; i+1 < len(alt); i++ {
		d = append(d, math.Abs(alt[i]-(alt[i-1]+alt[i+1])/2))
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// smoothByTime is a centred moving average over a time window, computed with
// a running sum (O(n)).
func smoothByTime(ts, v []float64, window float64) []float64 {
	out := make([]float64, len(v))
	half := window / 2
	lo, hi := 0, 0
	sum := 0.0
	for i := range v {
		for hi < len(v) && ts[hi] <= ts[i]+half {
			sum += v[hi]
			hi++
		}
		for lo < i && ts[lo] < ts[i]-half {
			sum -= v[lo]
			lo++
		}
		out[i] = sum / float64(hi-lo)
	}
	return out
}

// hysteresisGain sums the rises and falls of v that exceed threshold from
// the last turning point: a swing smaller than the threshold is noise.
func hysteresisGain(v []float64, threshold float64) (gain, loss float64) {
	if len(v) == 0 {
		return 0, 0
	}
	ref, cand := v[0], v[0]
	dir := 0
	for _, x := range v[1:] {
		switch dir {
		case 0:
			if x-ref >= threshold {
				dir, cand = 1, x
			} else if ref-x >= threshold {
				dir, cand = -1, x
			}
		case 1:
			if x > cand {
				cand = x
			} else if cand-x >= threshold {
				gain += cand - ref
				ref, cand, dir = cand, x, -1
			}
		case -1:
			if x < cand {
				cand = x
			} else if x-cand >= threshold {
				loss += ref - cand
				ref, cand, dir = cand, x, 1
			}
		}
	}
	switch dir {
	case 1:
		gain += cand - ref
	case -1:
		loss += ref - cand
	}
	return gain, loss
}
