package achievement

import (
	"slices"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
)

// Records returns the athlete's personal record progressions: walking
// through the activities oldest first, every best effort that beats the
// athlete's best so far for that effort is a record, with the one it beat.
// The result is ordered by effort (as activity.Efforts lists them), then
// oldest first; the last of each effort is the current record.
func Records(userID string, facts []stride.ActivityFacts) []stride.Record {
	ordered := slices.Clone(facts)
	slices.SortStableFunc(ordered, func(a, b stride.ActivityFacts) int {
		return chronological(a.StartTime, a.ActivityID, b.StartTime, b.ActivityID)
	})
	// One walk through the history, each activity's own efforts looked
	// up, instead of one walk per effort: this runs on every event of the
	// athlete.
	efforts := activity.Efforts()
	index := make(map[string]int, len(efforts))
	for i, e := range efforts {
		index[e.Name] = i
	}
	progressions := make([][]stride.Record, len(efforts))
	for _, f := range ordered {
		for name, v := range f.Efforts {
			i, ok := index[name]
			if !ok || v <= 0 {
				continue
			}
			e, p := efforts[i], progressions[i]
			r := stride.Record{UserID: userID, Effort: e.Name, ActivityID: f.ActivityID, AchievedAt: f.StartTime.UTC(), Value: v}
			if len(p) > 0 {
				best := p[len(p)-1]
				if !(e.LowerIsBetter && v < best.Value || !e.LowerIsBetter && v > best.Value) {
					continue
				}
				prev := best.Value
				r.PreviousValue, r.PreviousActivityID = &prev, best.ActivityID
			}
			progressions[i] = append(p, r)
		}
	}
	var out []stride.Record
	for _, p := range progressions {
		out = append(out, p...)
	}
	return out
}

// Current returns the latest record of each effort from a progression
// ordered as Records orders it.
func Current(progression []stride.Record) []stride.Record {
	var out []stride.Record
	for i, r := range progression {
		if i+1 == len(progression) || progression[i+1].Effort != r.Effort {
			out = append(out, r)
		}
	}
	return out
}

// Changes compares what was stored with what was just computed and returns
// what is new: achievements of a type not stored before, and records (by
// effort and activity) not stored before. These are what the projection
// announces (achievement.unlocked, record.set); a recomputation that finds
// the same sets announces nothing, which is what makes redelivery silent.
func Changes(storedA, computedA []stride.Achievement, storedR, computedR []stride.Record) (unlocked []stride.Achievement, set []stride.Record) {
	haveA := map[string]bool{}
	for _, a := range storedA {
		haveA[a.Type] = true
	}
	for _, a := range computedA {
		if !haveA[a.Type] {
			unlocked = append(unlocked, a)
		}
	}
	type key struct{ effort, activity string }
	haveR := map[key]bool{}
	for _, r := range storedR {
		haveR[key{r.Effort, r.ActivityID}] = true
	}
	for _, r := range computedR {
		if !haveR[key{r.Effort, r.ActivityID}] {
			set = append(set, r)
		}
	}
	return unlocked, set
}

// Same reports whether two achievement sets and record progressions are
// equal, whatever their order, so that an unchanged recomputation writes
// nothing.
func Same(a, b []stride.Achievement, ra, rb []stride.Record) bool {
	if len(a) != len(b) || len(ra) != len(rb) {
		return false
	}
	byType := make(map[string]stride.Achievement, len(a))
	for _, x := range a {
		byType[x.Type] = x
	}
	for _, y := range b {
		x, ok := byType[y.Type]
		if !ok || x.ActivityID != y.ActivityID || !x.AchievedAt.Equal(y.AchievedAt) || x.Value != y.Value || x.Description != y.Description {
			return false
		}
	}
	type key struct{ effort, activity string }
	byKey := make(map[key]stride.Record, len(ra))
	for _, x := range ra {
		byKey[key{x.Effort, x.ActivityID}] = x
	}
	for _, y := range rb {
		x, ok := byKey[key{y.Effort, y.ActivityID}]
		if !ok || !x.AchievedAt.Equal(y.AchievedAt) || x.Value != y.Value || x.PreviousActivityID != y.PreviousActivityID ||
			(x.PreviousValue == nil) != (y.PreviousValue == nil) || (x.PreviousValue != nil && *x.PreviousValue != *y.PreviousValue) {
			return false
		}
	}
	return true
}
