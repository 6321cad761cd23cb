package activity

import "math"

// Heart-rate zones as fractions of the heart rate reserve (Karvonen):
// zone 1 below 60 %, 2: 60–70 %, 3: 70–80 %, 4: 80–90 %, 5: 90 % and above.
var hrZoneBounds = []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1.0}

// lthrReserveFraction places the lactate threshold at 85 % of the heart rate
// reserve, the reference for hrTSS (one hour at threshold = 100).
const lthrReserveFraction = 0.85

// sampleWeight is the time a sample stands for: the active time until the
// next sample (sample-and-hold, as devices average), or, for the last one,
// the median interval.
func sampleWeight(s *series, i int) float64 {
	if i+1 < len(s.dt) {
		return s.dt[i+1]
	}
	if i > 0 {
		return s.dt[i]
	}
	return 1
}

// heartRateAverages returns the time-weighted mean heart rate over timer
// time and the maximum sample.
func heartRateAverages(pts []Point, s *series) (avg, maxHR float64) {
	var sum, weight, plain float64
	count := 0
	for i := range pts {
		hr := pts[i].HeartRate
		if !Has(hr) {
			continue
		}
		maxHR = math.Max(maxHR, hr)
		w := sampleWeight(s, i)
		sum += hr * w
		weight += w
		plain += hr
		count++
	}
	switch {
	case weight > 0:
		avg = sum / weight
	case count > 0:
		avg = plain / float64(count)
	}
	return avg, maxHR
}

func heartRateZones(pts []Point, s *series, ath resolvedAthlete) *HeartRateMetrics {
	reserve := ath.maxHR - ath.restingHR
	m := &HeartRateMetrics{MaxHRUsed: ath.maxHR, RestingHRUsed: ath.restingHR}
	for z := 0; z < 5; z++ {
		m.Zones = append(m.Zones, HRZone{
			Zone:   z + 1,
			MinBPM: math.Round(ath.restingHR + hrZoneBounds[z]*reserve),
			MaxBPM: math.Round(ath.restingHR + hrZoneBounds[z+1]*reserve),
		})
	}
	m.Zones[0].MinBPM = 0 // zone 1 takes everything below zone 2
	any := false
	for i := range pts {
		hr := pts[i].HeartRate
		if !Has(hr) {
			continue
		}
		any = true
		frac := (hr - ath.restingHR) / reserve
		z := 0
		for z < 4 && frac >= hrZoneBounds[z+1] {
			z++
		}
		m.Zones[z].Seconds += sampleWeight(s, i)
	}
	if !any {
		return nil
	}
	return m
}

// banisterFactor is the Banister TRIMP weighting y = k·e^(b·x) of a heart
// rate reserve fraction x, by sex; unknown sex averages both curves.
func banisterFactor(x float64, sex string) float64 {
	male := 0.64 * math.Exp(1.92*x)
	female := 0.86 * math.Exp(1.67*x)
	switch sex {
	case "male":
		return male
	case "female":
		return female
	}
	return (male + female) / 2
}

// trainingLoad computes Banister's TRIMP, Σ minutes × x × y(x), and hrTSS,
// TRIMP relative to one hour at the lactate threshold.
func trainingLoad(pts []Point, s *series, ath resolvedAthlete) *TrainingLoad {
	reserve := ath.maxHR - ath.restingHR
	trimp := 0.0
	any := false
	for i := range pts {
		hr := pts[i].HeartRate
		if !Has(hr) {
			continue
		}
		any = true
		x := math.Min(math.Max((hr-ath.restingHR)/reserve, 0), 1)
		trimp += sampleWeight(s, i) / 60 * x * banisterFactor(x, ath.sex)
	}
	if !any {
		return nil
	}
	hourAtThreshold := 60 * lthrReserveFraction * banisterFactor(lthrReserveFraction, ath.sex)
	return &TrainingLoad{TRIMP: round1(trimp), HRTSS: round1(trimp / hourAtThreshold * 100)}
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// cadenceMetrics averages non-zero cadence over time. Most devices record
// running cadence per leg (strides/min); Stride reports steps/min, so a foot
// sport whose typical cadence is below 120 is doubled (no one runs or walks
// at under 120 steps/min for long, while 60–100 strides/min is normal).
func cadenceMetrics(pts []Point, s *series, fam Family) *CadenceMetrics {
	var sum, weight, maxC float64
	for i := range pts {
		c := pts[i].Cadence
		if !Has(c) || c <= 0 {
			continue
		}
		w := sampleWeight(s, i)
		sum += c * w
		weight += w
		maxC = math.Max(maxC, c)
	}
	if weight == 0 {
		return nil
	}
	m := &CadenceMetrics{Avg: sum / weight, Max: maxC, Unit: "rpm", factor: 1}
	if fam == FamilyFoot {
		m.Unit = "spm"
		if m.Avg < 120 {
			m.factor = 2
			m.Avg *= 2
			m.Max *= 2
		}
	}
	if fam == FamilySwim || fam == FamilyWater {
		m.Unit = "strokes_per_min"
	}
	m.Avg = round1(m.Avg)
	return m
}
