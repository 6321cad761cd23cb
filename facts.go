package stride

import "time"

// ActivityFacts is what achievements, records and leaderboards know of one
// activity: its summary, never its points. Only activities that count are
// facts: a standalone activity, or each leg of a multisport activity (the
// legs carry the sports; their parent would count them twice).
type ActivityFacts struct {
	ActivityID string
	// ParentID is the multisport activity of a leg, "" for a standalone one.
	ParentID  string
	UserID    string
	Sport     string
	StartTime time.Time
	// LocalDate is the activity's start date in its own time zone
	// (YYYY-MM-DD), or in UTC when the zone is unknown: the day it counts
	// for in periods and streaks.
	LocalDate  string
	Visibility string
	Indoor     bool
	Virtual    bool
	DistanceM  float64
	MovingS    float64
	ElapsedS   float64
	AscentM    float64
	// Efforts are the activity's best efforts by name (see
	// activity.EffortNames): seconds for a distance, watts for a duration.
	Efforts map[string]float64
}

// Achievement is a badge an athlete earned. The set of an athlete's
// achievements is a function of their activities: it is recomputed when an
// activity is added, edited or deleted, and Type is unique per athlete.
type Achievement struct {
	UserID string
	// Type names the rule, e.g. "5k_runner", "distance_100km",
	// "streak_days_7".
	Type string
	// ActivityID is the activity that earned it; AchievedAt that
	// activity's start time.
	ActivityID  string
	AchievedAt  time.Time
	Value       float64
	Description string
}

// Record is a personal record: the athlete's best value of one effort at
// the time it was set, with the record it beat. An athlete's records form a
// progression per effort; the latest is the current record.
type Record struct {
	UserID string
	// Effort names the best effort (see activity.EffortNames).
	Effort     string
	ActivityID string
	AchievedAt time.Time
	// Value is seconds for a distance effort, watts for a power effort.
	Value float64
	// PreviousValue and PreviousActivityID are the record this one beat,
	// nil and "" for the first.
	PreviousValue      *float64
	PreviousActivityID string
}

// LocalDate is the date an activity counts for: the date part of its local
// start time (RFC 3339 with the athlete's offset) when known, else the UTC
// date of its start.
func LocalDate(localStart string, start time.Time) string {
	if len(localStart) >= 10 {
		if _, err := time.Parse(time.DateOnly, localStart[:10]); err == nil {
			return localStart[:10]
		}
	}
	return start.UTC().Format(time.DateOnly)
}
