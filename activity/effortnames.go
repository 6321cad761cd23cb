package activity

import (
	"fmt"
	"slices"
)

// Effort names identify best efforts across activities, for personal
// records and best-effort leaderboards: "best_5k" is the fastest 5 km
// (seconds, lower is better), "power_20m" the best 20-minute average power
// (watts, higher is better).
var effortNames = map[string]string{
	"400m": "best_400m", "1k": "best_1k", "1 mile": "best_1mile", "5k": "best_5k",
	"10k": "best_10k", "half_marathon": "best_half_marathon", "marathon": "best_marathon",
}

// EffortInfo describes one named effort.
type EffortInfo struct {
	Name string
	// LowerIsBetter is true for times over a distance, false for power.
	LowerIsBetter bool
	Unit          string // "s" or "W"
	Label         string // for descriptions: "5 km", "20-minute power"
}

// Efforts lists every effort name Stride computes, in a stable order.
func Efforts() []EffortInfo { return slices.Clone(efforts) }

// LookupEffort returns the effort with that name.
func LookupEffort(name string) (EffortInfo, bool) {
	e, ok := effortsByName[name]
	return e, ok
}

// efforts and effortsByName are built once and never changed: the
// leaderboards look an effort up for every activity of an athlete on each
// of their events, and building the names with Sprintf every time was
// most of the projector's work on a long history.
var (
	efforts       = listEfforts()
	effortsByName = func() map[string]EffortInfo {
		m := make(map[string]EffortInfo, len(efforts))
		for _, e := range efforts {
			m[e.Name] = e
		}
		return m
	}()
)

func listEfforts() []EffortInfo {
	out := make([]EffortInfo, 0, len(bestEffortDistances)+len(bestPowerDurations))
	for _, d := range bestEffortDistances {
		out = append(out, EffortInfo{Name: effortNames[d.name], LowerIsBetter: true, Unit: "s", Label: distanceLabel(d.name)})
	}
	for _, s := range bestPowerDurations {
		out = append(out, EffortInfo{Name: powerEffortName(s), Unit: "W", Label: durationLabel(s) + " power"})
	}
	return out
}

// EffortValues returns an analysis's best efforts by effort name.
func (a *Analysis) EffortValues() map[string]float64 {
	out := map[string]float64{}
	for _, e := range a.Metrics.BestEfforts {
		if name, ok := effortNames[e.Name]; ok && e.ElapsedS > 0 {
			out[name] = e.ElapsedS
		}
	}
	if a.Metrics.Power != nil {
		for _, p := range a.Metrics.Power.Best {
			if p.Watts > 0 {
				out[powerEffortName(p.DurationS)] = p.Watts
			}
		}
	}
	return out
}

func powerEffortName(seconds int) string {
	switch {
	case seconds%60 == 0:
		return fmt.Sprintf("power_%dm", seconds/60)
	default:
		return fmt.Sprintf("power_%ds", seconds)
	}
}

func durationLabel(seconds int) string {
	switch {
	case seconds%3600 == 0:
		return fmt.Sprintf("%d-hour", seconds/3600)
	case seconds%60 == 0:
		return fmt.Sprintf("%d-minute", seconds/60)
	default:
		return fmt.Sprintf("%d-second", seconds)
	}
}

func distanceLabel(name string) string {
	switch name {
	case "400m":
		return "400 m"
	case "1k":
		return "1 km"
	case "5k":
		return "5 km"
	case "10k":
		return "10 km"
	case "half_marathon":
		return "half marathon"
	}
	return name
}
