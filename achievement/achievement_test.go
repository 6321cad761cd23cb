package achievement

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
)

func day(date string, hour int) time.Time {
	d, _ := time.Parse(time.DateOnly, date)
	return d.Add(time.Duration(hour) * time.Hour)
}

func act(id, sport, date string, km, minutes, climb float64) stride.ActivityFacts {
	return stride.ActivityFacts{ActivityID: id, UserID: "u", Sport: sport, StartTime: day(date, 7), LocalDate: date,
		Visibility: stride.VisibilityPublic, DistanceM: km * 1000, ElapsedS: minutes * 60, MovingS: minutes * 60, AscentM: climb}
}

func TestRulesAreValid(t *testing.T) {
	if err := Validate(Rules); err != nil {
		t.Fatal(err)
	}
	bad := [][]Rule{
		{{Type: "x", Count: 1}, {Type: "x", Count: 2}},
		{{Type: "y"}},
		{{Type: "z", Count: 1, Single: &Single{MinDistanceM: 1}}},
		{{Type: "s", Streak: &Streak{Unit: "month", N: 3}}},
		{{Type: "t", Total: &Total{Metric: "calories", Threshold: 1}}},
	}
	for i, rs := range bad {
		if Validate(rs) == nil {
			t.Errorf("bad rule set %d accepted", i)
		}
	}
}

func earned(as []stride.Achievement) map[string]stride.Achievement {
	m := map[string]stride.Achievement{}
	for _, a := range as {
		m[a.Type] = a
	}
	return m
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name  string
		facts []stride.ActivityFacts
		want  map[string]string // type → activity that earned it
		not   []string
	}{
		{
			name:  "nothing",
			facts: nil,
			not:   []string{"first_activity"},
		},
		{
			name:  "a 5 km run earns 5K Runner; a 4.99 km one does not",
			facts: []stride.ActivityFacts{act("a", "running", "2026-11-01", 4.99, 30, 0), act("b", "trail_running", "2026-11-03", 5, 40, 0)},
			want:  map[string]string{"first_activity": "a", "5k_runner": "b"},
			not:   []string{"10k_runner", "hour_of_power"},
		},
		{
			name:  "a long ride is no run, but an hour of power",
			facts: []stride.ActivityFacts{act("r", "cycling", "2026-11-01", 50, 95, 400)},
			want:  map[string]string{"hour_of_power": "r"},
			not:   []string{"5k_runner"},
		},
		{
			name: "totals are dated by the activity that crossed them",
			facts: []stride.ActivityFacts{act("a", "cycling", "2026-01-01", 60, 120, 600), act("b", "cycling", "2026-01-10", 39.9, 90, 300),
				act("c", "running", "2026-01-11", 0.2, 2, 100)},
			want: map[string]string{"distance_100km": "c", "elevation_1000m": "c"},
			not:  []string{"distance_1000km", "elevation_8849m"},
		},
		{
			name: "seven local days in a row",
			facts: func() []stride.ActivityFacts {
				var fs []stride.ActivityFacts
				for i, d := range []string{"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07"} {
					fs = append(fs, act(string(rune('a'+i)), "walking", d, 2, 20, 0))
				}
				return fs
			}(),
			want: map[string]string{"streak_days_7": "g"},
		},
		{
			name: "a gap breaks the streak",
			facts: func() []stride.ActivityFacts {
				var fs []stride.ActivityFacts
				for i, d := range []string{"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08"} {
					fs = append(fs, act(string(rune('a'+i)), "walking", d, 2, 20, 0))
				}
				return fs
			}(),
			not: []string{"streak_days_7"},
		},
		{
			name: "four ISO weeks in a row, across a year end",
			facts: []stride.ActivityFacts{act("a", "running", "2026-12-14", 3, 20, 0), act("b", "running", "2026-12-27", 3, 20, 0),
				act("c", "running", "2027-01-01", 3, 20, 0), act("d", "running", "2027-01-04", 3, 20, 0)},
			want: map[string]string{"streak_weeks_4": "d"},
		},
		{
			name: "a triathlon is one activity whose run leg counts",
			facts: func() []stride.ActivityFacts {
				legs := []stride.ActivityFacts{act("s", "open_water_swimming", "2026-06-01", 1.5, 30, 0), act("c", "cycling", "2026-06-01", 40, 70, 0),
					act("r", "running", "2026-06-01", 10, 45, 0)}
				for i := range legs {
					legs[i].ParentID = "tri"
					legs[i].StartTime = legs[i].StartTime.Add(time.Duration(i) * time.Hour)
				}
				return legs
			}(),
			want: map[string]string{"first_activity": "tri", "10k_runner": "tri", "hour_of_power": "tri"},
			not:  []string{"activities_10"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := earned(Evaluate("u", tt.facts, Rules))
			for typ, id := range tt.want {
				if a, ok := got[typ]; !ok || a.ActivityID != id {
					t.Errorf("%s: got %+v, want earned by %s", typ, a, id)
				}
			}
			for _, typ := range tt.not {
				if _, ok := got[typ]; ok {
					t.Errorf("%s earned, want not", typ)
				}
			}
		})
	}
}

func TestRecordsProgression(t *testing.T) {
	facts := []stride.ActivityFacts{act("a", "running", "2026-01-01", 5, 30, 0), act("b", "running", "2026-02-01", 5, 28, 0),
		act("c", "running", "2026-03-01", 5, 29, 0), act("d", "cycling", "2026-03-02", 30, 60, 0)}
	facts[0].Efforts = map[string]float64{"best_5k": 1800}
	facts[1].Efforts = map[string]float64{"best_5k": 1700, "best_1k": 300}
	facts[2].Efforts = map[string]float64{"best_5k": 1750, "best_1k": 290}
	facts[3].Efforts = map[string]float64{"power_20m": 250}
	rs := Records("u", facts)
	type row struct {
		effort, activity, prevActivity string
		value                          float64
	}
	var got []row
	for _, r := range rs {
		got = append(got, row{r.Effort, r.ActivityID, r.PreviousActivityID, r.Value})
	}
	want := []row{{"best_1k", "b", "", 300}, {"best_1k", "c", "b", 290}, {"best_5k", "a", "", 1800}, {"best_5k", "b", "a", 1700}, {"power_20m", "d", "", 250}}
	if len(got) != len(want) {
		t.Fatalf("records %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	cur := Current(rs)
	if len(cur) != 3 || cur[1].ActivityID != "b" || *cur[1].PreviousValue != 1800 {
		t.Errorf("current records %+v", cur)
	}

	// Deleting the record run brings the earlier one back, announcing
	// nothing new.
	without := []stride.ActivityFacts{facts[0], facts[2], facts[3]}
	after := Records("u", without)
	_, set := Changes(nil, nil, rs, after)
	for _, r := range set {
		if r.ActivityID == "c" && r.Effort == "best_5k" {
			continue // c now beats a: a record that did not exist before
		}
		t.Errorf("unexpected new record %+v", r)
	}
	if Same(nil, nil, rs, after) {
		t.Error("progressions differ but Same says equal")
	}
	if !Same(nil, nil, rs, Records("u", facts)) {
		t.Error("recomputation not Same")
	}
}

func TestChangesAnnounceOnlyNew(t *testing.T) {
	facts := []stride.ActivityFacts{act("a", "running", "2026-01-01", 6, 30, 0)}
	first := Evaluate("u", facts, Rules)
	unlocked, _ := Changes(nil, first, nil, nil)
	if len(unlocked) != 2 { // first_activity, 5k_runner
		t.Fatalf("unlocked %+v", unlocked)
	}
	again, _ := Changes(first, Evaluate("u", facts, Rules), nil, nil)
	if len(again) != 0 {
		t.Errorf("a recomputation announced %+v", again)
	}
}

// Records walks the history once; the obvious walk, once per effort, is
// the reference it must agree with on random histories (ties in start
// time, efforts missing, zero and equal values included).
func TestRecordsAgreesWithOneWalkPerEffort(t *testing.T) {
	reference := func(facts []stride.ActivityFacts) []stride.Record {
		ordered := slices.Clone(facts)
		slices.SortStableFunc(ordered, func(a, b stride.ActivityFacts) int {
			return chronological(a.StartTime, a.ActivityID, b.StartTime, b.ActivityID)
		})
		var out []stride.Record
		for _, e := range activity.Efforts() {
			var best *stride.Record
			for _, f := range ordered {
				v, ok := f.Efforts[e.Name]
				if !ok || v <= 0 || best != nil && !(e.LowerIsBetter && v < best.Value || !e.LowerIsBetter && v > best.Value) {
					continue
				}
				r := stride.Record{UserID: "u", Effort: e.Name, ActivityID: f.ActivityID, AchievedAt: f.StartTime.UTC(), Value: v}
				if best != nil {
					prev := best.Value
					r.PreviousValue, r.PreviousActivityID = &prev, best.ActivityID
				}
				out = append(out, r)
				best = &out[len(out)-1]
			}
		}
		return out
	}
	names := []string{"best_400m", "best_1k", "best_5k", "power_5m", "power_20m", "not_an_effort"}
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 3))
		var facts []stride.ActivityFacts
		for i := range 200 {
			f := act(fmt.Sprintf("a%03d", rng.IntN(1000)), "running", fmt.Sprintf("2026-%02d-%02d", 1+rng.IntN(12), 1+rng.IntN(28)), 5, 30, 0)
			f.ActivityID += fmt.Sprint(i)
			f.Efforts = map[string]float64{}
			for _, n := range names {
				if rng.IntN(3) == 0 {
					f.Efforts[n] = float64(rng.IntN(5)) * 100 // zeros and ties
				}
			}
			facts = append(facts, f)
		}
		if got, want := Records("u", facts), reference(facts); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: %d records, the reference %d", seed, len(got), len(want))
		}
	}
}
