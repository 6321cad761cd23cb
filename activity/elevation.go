package activity

import (
	"math"
	"slices"
)

// Elevation gain is counted on a smoothed altitude profile with hysteresis:
// a climb or descent counts only once it exceeds a threshold, so that noise
// going up and down by a metre does not add up to hundreds of metres.
// No file says where its altitude comes from, so the profile is classified
// by its measured noise (altitudeNoise, the median second difference) and
// each class has its smoothing window and threshold:
//
//   - stepped: the device filtered the altitude before writing it (Garmin
//     Edge, Wahoo, COROS, SRM): it holds a value until it changes, so most
//     second differences are exactly 0. Smoothing again would flatten real
//     climbs the device already cleaned; the only noise left is the
//     quantisation step (0.2 m for FIT altitude, 1 m for devices writing
//     whole metres), so the threshold is steppedHysteresisM or
//     steppedStepFactor quantisation steps, whichever is larger.
//   - smooth: barometric altitude sampled every second, with 0.1–0.3 m of
//     sensor noise: a short centred moving average, then the threshold.
//   - noisy: raw GPS altitude from phones and loggers, metres of noise
//     between fixes: a long moving average and a higher threshold.
//
// Altitude changes while the timer is stopped are not counted: devices
// total ascent only while recording, and a barometer drifts with the
// weather during a long stop (or the athlete is driven up a hill).
//
// The parameters were chosen on the corpus (they match the device's own
// ascent most often, and their neighbours do nearly as well; see the
// accuracy report in docs/metrics.md).
const (
	steppedNoiseMaxM   = 0.05 // median second difference below this: stepped profile
	steppedHysteresisM = 1.5
	steppedStepFactor  = 4.0
	smoothNoiseMaxM    = 0.35 // median second difference below this: smooth profile
	smoothWindowS      = 6.0
	smoothHysteresisM  = 3.0
	noisyWindowS       = 30.0
	noisyHysteresisM   = 4.0
)

type elevationResult struct {
	has             bool
	ascent, descent float64
	min, max        float64
	profile         string // "smooth" (stepped or barometric) or "noisy"
}

func computeElevation(pts []Point, s *series) elevationResult {
	var r elevationResult
	alt := make([]float64, 0, len(pts))
	ts := make([]float64, 0, len(pts))
	paused := make([]bool, 0, len(pts))
	gap := false // a paused interval since the last altitude sample
	for i := range pts {
		if i > 0 && s.dt[i] == 0 && s.t[i] > s.t[i-1] {
			gap = true
		}
		if Has(pts[i].Altitude) {
			alt = append(alt, pts[i].Altitude)
			ts = append(ts, s.t[i])
			paused = append(paused, gap && len(alt) > 1)
			gap = false
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
	noise := altitudeNoise(alt)
	active := withoutPauses(alt, paused)
	var profile []float64
	var threshold float64
	switch {
	case noise < steppedNoiseMaxM:
		r.profile = "smooth"
		profile = active
		threshold = math.Max(steppedHysteresisM, steppedStepFactor*altitudeStep(alt))
	case noise < smoothNoiseMaxM:
		r.profile = "smooth"
		profile = smoothByTime(ts, active, smoothWindowS)
		threshold = smoothHysteresisM
	default:
		r.profile = "noisy"
		profile = smoothByTime(ts, active, noisyWindowS)
		threshold = noisyHysteresisM
	}
	r.ascent, r.descent = hysteresisGain(profile, threshold)
	return r
}

// withoutPauses removes from the profile the altitude changes across paused
// intervals (paused[i]: the timer was stopped between samples i-1 and i),
// shifting what follows, so that no climb or descent is counted across them.
func withoutPauses(alt []float64, paused []bool) []float64 {
	out := make([]float64, len(alt))
	shift := 0.0
	for i := range alt {
		if i > 0 && paused[i] {
			shift += alt[i] - alt[i-1]
		}
		out[i] = alt[i] - shift
	}
	return out
}

// altitudeStep is the quantisation step of the altitude samples: the
// smallest non-zero change between consecutive samples (0.2 m for FIT's
// scaled altitude, 1 m for devices writing whole metres), 0 when none.
func altitudeStep(alt []float64) float64 {
	step := math.Inf(1)
	for i := 1; i < len(alt); i++ {
		// Below a millimetre is float rounding, not a step.
		if d := math.Abs(alt[i] - alt[i-1]); d > 1e-3 && d < step {
			step = d
		}
	}
	if math.IsInf(step, 1) {
		return 0
	}
	return step
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
