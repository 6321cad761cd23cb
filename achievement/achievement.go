// Package achievement is the domain of badges and personal records: a
// declarative rule set evaluated over an athlete's activities. It has no I/O.
//
// Evaluation is a pure function of the activities (store.ActivityFacts,
// oldest first): the projection recomputes the whole set after every
// upload, edit or delete and stores the result, so awarding is idempotent
// (a redelivered event computes the same set) and a deleted activity takes
// away what only it earned. Each achievement is dated by the activity that
// first met the rule. Private activities count: achievements are the
// athlete's own; who may see them is the read side's business.
package achievement

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
)

// Rule is one achievement. Exactly one of Count, Single, Total and Streak
// is set. Adding an achievement is adding a Rule to Rules.
type Rule struct {
	Type        string
	Description string
	// Count: the athlete's Count-th activity.
	Count int
	// Single: one activity meeting a threshold.
	Single *Single
	// Total: the running total of a metric crossing a threshold.
	Total *Total
	// Streak: active N days (or ISO weeks) in a row, by local date.
	Streak *Streak
}

// Single is met by one activity.
type Single struct {
	// Runs limits the rule to running sports (road, trail, treadmill,
	// virtual).
	Runs         bool
	MinDistanceM float64
	MinElapsedS  float64
}

// Total metrics.
const (
	TotalDistance  = "distance"  // metres
	TotalElevation = "elevation" // metres climbed
)

// Total is met when the sum over the athlete's activities reaches
// Threshold.
type Total struct {
	Metric    string
	Threshold float64
}

// Streak units.
const (
	Days  = "day"
	Weeks = "week"
)

// Streak is met by N consecutive active days or weeks.
type Streak struct {
	Unit string
	N    int
}

// Rules is Stride's achievement set.
var Rules = []Rule{
	{Type: "first_activity", Description: "Recorded a first activity", Count: 1},
	{Type: "activities_10", Description: "Recorded 10 activities", Count: 10},
	{Type: "activities_100", Description: "Recorded 100 activities", Count: 100},
	{Type: "5k_runner", Description: "5K Runner: ran 5 km or more in one run", Single: &Single{Runs: true, MinDistanceM: 5000}},
	{Type: "10k_runner", Description: "10K Runner: ran 10 km or more in one run", Single: &Single{Runs: true, MinDistanceM: 10000}},
	{Type: "half_marathoner", Description: "Half Marathoner: ran a half marathon distance in one run", Single: &Single{Runs: true, MinDistanceM: 21097.5}},
	{Type: "marathoner", Description: "Marathoner: ran a marathon distance in one run", Single: &Single{Runs: true, MinDistanceM: 42195}},
	{Type: "hour_of_power", Description: "Hour of Power: an activity of 60 minutes or more", Single: &Single{MinElapsedS: 3600}},
	{Type: "distance_100km", Description: "100 km in total", Total: &Total{TotalDistance, 100_000}},
	{Type: "distance_1000km", Description: "1,000 km in total", Total: &Total{TotalDistance, 1_000_000}},
	{Type: "distance_10000km", Description: "10,000 km in total", Total: &Total{TotalDistance, 10_000_000}},
	{Type: "elevation_1000m", Description: "1,000 m climbed in total", Total: &Total{TotalElevation, 1000}},
	{Type: "elevation_8849m", Description: "Everest: 8,849 m climbed in total", Total: &Total{TotalElevation, 8849}},
	{Type: "elevation_100000m", Description: "100,000 m climbed in total", Total: &Total{TotalElevation, 100_000}},
	{Type: "streak_days_7", Description: "Active 7 days in a row", Streak: &Streak{Days, 7}},
	{Type: "streak_days_30", Description: "Active 30 days in a row", Streak: &Streak{Days, 30}},
	{Type: "streak_weeks_4", Description: "Active 4 weeks in a row", Streak: &Streak{Weeks, 4}},
	{Type: "streak_weeks_12", Description: "Active 12 weeks in a row", Streak: &Streak{Weeks, 12}},
}

// Validate checks a rule set: unique types, exactly one condition each,
// sensible thresholds. A test runs it on Rules.
func Validate(rules []Rule) error {
	seen := map[string]bool{}
	for _, r := range rules {
		if r.Type == "" || seen[r.Type] {
			return fmt.Errorf("rule %q: empty or duplicate type", r.Type)
		}
		seen[r.Type] = true
		n := 0
		if r.Count > 0 {
			n++
		}
		if r.Single != nil {
			n++
			if r.Single.MinDistanceM <= 0 && r.Single.MinElapsedS <= 0 {
				return fmt.Errorf("rule %q: single rule without threshold", r.Type)
			}
		}
		if r.Total != nil {
			n++
			if (r.Total.Metric != TotalDistance && r.Total.Metric != TotalElevation) || r.Total.Threshold <= 0 {
				return fmt.Errorf("rule %q: bad total", r.Type)
			}
		}
		if r.Streak != nil {
			n++
			if (r.Streak.Unit != Days && r.Streak.Unit != Weeks) || r.Streak.N < 2 {
				return fmt.Errorf("rule %q: bad streak", r.Type)
			}
		}
		if n != 1 {
			return fmt.Errorf("rule %q: %d conditions, want exactly 1", r.Type, n)
		}
	}
	return nil
}

// session is one activity as achievements see it: a multisport activity's
// legs merged into one (a triathlon is one activity of its whole length),
// transitions included in its time but not its sports.
type session struct {
	id        string
	start     time.Time
	localDate string
	distanceM float64
	elapsedS  float64
	ascentM   float64
	run       bool
	runM      float64 // the longest running leg
}

func isRun(sport string) bool {
	switch activity.Sport(sport) {
	case activity.SportRunning, activity.SportTrailRunning, activity.SportTreadmillRunning, activity.SportVirtualRunning:
		return true
	}
	return false
}

func sessions(facts []stride.ActivityFacts) []session {
	var out []session
	index := map[string]int{}
	for _, f := range facts {
		id := f.ActivityID
		if f.ParentID != "" {
			id = f.ParentID
		}
		i, ok := index[id]
		if !ok {
			i = len(out)
			index[id] = i
			out = append(out, session{id: id, start: f.StartTime, localDate: f.LocalDate})
		}
		s := &out[i]
		if f.StartTime.Before(s.start) {
			s.start, s.localDate = f.StartTime, f.LocalDate
		}
		s.distanceM += max(f.DistanceM, 0)
		s.elapsedS += max(f.ElapsedS, 0)
		s.ascentM += max(f.AscentM, 0)
		if isRun(f.Sport) {
			s.run = true
			s.runM = max(s.runM, f.DistanceM)
		}
	}
	slices.SortStableFunc(out, func(a, b session) int { return chronological(a.start, a.id, b.start, b.id) })
	return out
}

// chronological orders activities by start, then id: the order in which
// an athlete earns things, the same on every recomputation.
func chronological(startA time.Time, idA string, startB time.Time, idB string) int {
	if c := startA.Compare(startB); c != 0 {
		return c
	}
	return strings.Compare(idA, idB)
}

// Evaluate returns the achievements the activities earn under rules.
// facts must all be one athlete's.
func Evaluate(userID string, facts []stride.ActivityFacts, rules []Rule) []stride.Achievement {
	var out []stride.Achievement
	earned := map[string]bool{}
	award := func(r Rule, s session, value float64) {
		earned[r.Type] = true
		out = append(out, stride.Achievement{UserID: userID, Type: r.Type, ActivityID: s.id,
			AchievedAt: s.start.UTC(), Value: value, Description: r.Description})
	}
	var distance, elevation float64
	days := map[int]bool{}  // active local days, as days since the epoch
	weeks := map[int]bool{} // active ISO weeks, as the day number of their Monday / 7
	for n, s := range sessions(facts) {
		distance += s.distanceM
		elevation += s.ascentM
		day, dayOK := dayNumber(s.localDate)
		if dayOK {
			days[day] = true
			weeks[weekNumber(day)] = true
		}
		for _, r := range rules {
			if earned[r.Type] {
				continue
			}
			switch {
			case r.Count > 0:
				if n+1 >= r.Count {
					award(r, s, float64(r.Count))
				}
			case r.Single != nil:
				c := r.Single
				d := s.distanceM
				if c.Runs {
					if !s.run {
						continue
					}
					d = s.runM
				}
				if d >= c.MinDistanceM && s.elapsedS >= c.MinElapsedS {
					if c.MinDistanceM > 0 {
						award(r, s, d)
					} else {
						award(r, s, s.elapsedS)
					}
				}
			case r.Total != nil:
				total := distance
				if r.Total.Metric == TotalElevation {
					total = elevation
				}
				if total >= r.Total.Threshold {
					award(r, s, r.Total.Threshold)
				}
			case r.Streak != nil && dayOK:
				set, at := days, day
				if r.Streak.Unit == Weeks {
					set, at = weeks, weekNumber(day)
				}
				if run(set, at, r.Streak.N) >= r.Streak.N {
					award(r, s, float64(r.Streak.N))
				}
			}
		}
	}
	return out
}

// run returns the length of the run of consecutive members of set through
// at, looking at most n back and n forward (an activity uploaded late can
// close a gap in the middle of a streak).
func run(set map[int]bool, at, n int) int {
	length := 1
	for i := at - 1; set[i] && length < n; i-- {
		length++
	}
	for i := at + 1; set[i] && length < n; i++ {
		length++
	}
	return length
}

var epoch = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

func dayNumber(localDate string) (int, bool) {
	d, err := time.Parse(time.DateOnly, localDate)
	if err != nil {
		return 0, false
	}
	return int(d.Sub(epoch).Hours() / 24), true
}

// weekNumber numbers ISO weeks: 1970-01-01 was a Thursday, so shifting by 3
// days makes every Monday start a new number.
func weekNumber(day int) int {
	d := day + 3
	if d < 0 {
		return (d - 6) / 7
	}
	return d / 7
}
