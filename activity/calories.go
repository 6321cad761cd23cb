package activity

import "math"

// estimateCalories computes energy in kcal without the device's figure, by
// the best method the data allows:
//
//  1. "power" (cycling with a power meter): mechanical work in kJ equals
//     the energy spent in kcal, because human gross efficiency (~24 %) and
//     the kJ→kcal factor (1/4.184) nearly cancel.
//  2. "heart_rate": Keytel et al. (2005), from heart rate, weight, age and
//     sex, integrated over the samples that carry heart rate; the rest of
//     the timer time is counted by MET.
//  3. "met": MET of the sport × weight × timer hours.
func estimateCalories(pts []Point, s *series, ath resolvedAthlete, info SportInfo, timerS float64) (float64, string) {
	if info.Family == FamilyCycle {
		if p := powerSeries(pts, s); len(p) > 0 {
			work := 0.0
			for _, w := range p {
				work += w
			}
			if work > 0 {
				return math.Round(work / 1000), "power"
			}
		}
	}
	metPerS := info.MET * ath.weightKg / 3600 // kcal per second
	var kcal, covered float64
	for i := range pts {
		hr := pts[i].HeartRate
		if !Has(hr) {
			continue
		}
		w := sampleWeight(s, i)
		kcal += keytelKcalPerMin(hr, ath) / 60 * w
		covered += w
	}
	if covered > 0 {
		kcal += math.Max(timerS-covered, 0) * metPerS
		return math.Round(kcal), "heart_rate"
	}
	return math.Round(timerS * metPerS), "met"
}

// keytelKcalPerMin is Keytel's energy expenditure (kJ/min converted to
// kcal/min) for a heart rate; unknown sex averages the two equations.
// Heart rates at rest give small or negative values, floored at 1 MET.
func keytelKcalPerMin(hr float64, ath resolvedAthlete) float64 {
	male := (-55.0969 + 0.6309*hr + 0.1988*ath.weightKg + 0.2017*ath.age) / 4.184
	female := (-20.4022 + 0.4472*hr - 0.1263*ath.weightKg + 0.074*ath.age) / 4.184
	var v float64
	switch ath.sex {
	case "male":
		v = male
	case "female":
		v = female
	default:
		v = (male + female) / 2
	}
	rest := ath.weightKg / 60 // 1 MET = 1 kcal/kg/h
	return math.Max(v, rest)
}
