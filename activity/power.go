package activity

import "math"

// Power metrics work on a 1 Hz power series over timer time: each sample
// holds until the next one (sample-and-hold, as devices record "smart"), a
// missing sample inside a power recording counts as 0 W (coasting, sensor
// dropout), and pauses are left out. A sample holds for at most
// maxPowerHoldS: a longer silent stretch is a dropout, not a steady effort.
const maxPowerHoldS = 10

// npWindowS is the rolling window of Normalized Power (Coggan).
const npWindowS = 30

// bestPowerDurations are the durations of the best-power curve for rides.
var bestPowerDurations = []int{5, 60, 300, 1200, 3600}

func powerSeries(pts []Point, s *series) []float64 {
	any := false
	for i := range pts {
		if Has(pts[i].Power) {
			any = true
			break
		}
	}
	if !any {
		return nil
	}
	out := make([]float64, 0, int(math.Min(s.timerS, float64(len(pts)*maxPowerHoldS)))+1)
	carry := 0.0 // fractional seconds not yet emitted
	for i := 0; i+1 < len(pts); i++ {
		d := s.dt[i+1]
		if d <= 0 {
			continue
		}
		carry += math.Min(d, maxPowerHoldS)
		w := pts[i].Power
		if !Has(w) {
			w = 0
		}
		for carry >= 1 {
			out = append(out, w)
			carry--
		}
	}
	return out
}

func powerMetrics(pts []Point, s *series, ftp float64, fam Family) *PowerMetrics {
	p := powerSeries(pts, s)
	if len(p) == 0 {
		return nil
	}
	m := &PowerMetrics{FTPUsed: ftp}
	sum := 0.0
	for _, w := range p {
		sum += w
		m.Max = math.Max(m.Max, w)
	}
	m.Avg = math.Round(sum / float64(len(p)))
	m.Normalized = math.Round(normalizedPower(p))
	if ftp > 0 && m.Normalized > 0 {
		m.IntensityFactor = math.Round(m.Normalized/ftp*1000) / 1000
		// TSS = (duration × NP × IF) / (FTP × 3600) × 100
		m.TSS = round1(float64(len(p)) * m.Normalized * (m.Normalized / ftp) / (ftp * 3600) * 100)
	}
	if fam == FamilyCycle {
		for _, d := range bestPowerDurations {
			if w, at, ok := bestAverage(p, d); ok {
				m.Best = append(m.Best, BestPower{DurationS: d, Watts: math.Round(w), StartOffsetS: float64(at)})
			}
		}
	}
	return m
}

// normalizedPower is the fourth root of the mean of the fourth power of the
// 30-second rolling average power. Shorter rides than the window have none.
func normalizedPower(p []float64) float64 {
	if len(p) < npWindowS {
		return 0
	}
	var window, acc float64
	n := 0
	for i, w := range p {
		window += w
		if i >= npWindowS {
			window -= p[i-npWindowS]
		}
		if i >= npWindowS-1 {
			avg := window / npWindowS
			acc += avg * avg * avg * avg
			n++
		}
	}
	return math.Pow(acc/float64(n), 0.25)
}

// bestAverage is the highest mean of d consecutive samples and where it
// starts (seconds of timer time).
func bestAverage(p []float64, d int) (best float64, at int, ok bool) {
	if d <= 0 || len(p) < d {
		return 0, 0, false
	}
	sum := 0.0
	for i := 0; i < d; i++ {
		sum += p[i]
	}
	best = sum
	for i := d; i < len(p); i++ {
		sum += p[i] - p[i-d]
		if sum > best {
			best, at = sum, i-d+1
		}
	}
	return best / float64(d), at, true
}
