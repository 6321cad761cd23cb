package activity

import "time"

// Athlete is what analysis needs to know about the athlete. Every field is
// optional; a zero value takes the default documented in docs/metrics.md and
// the Analysis lists which defaults it used.
type Athlete struct {
	MaxHR     float64   `json:"max_hr,omitempty"`     // bpm; default 208 − 0.7 × age (Tanaka), 190 without an age
	RestingHR float64   `json:"resting_hr,omitempty"` // bpm; default 60
	FTP       float64   `json:"ftp,omitempty"`        // W; default 2.5 W/kg × weight
	WeightKg  float64   `json:"weight_kg,omitempty"`  // default 70 kg
	BirthDate time.Time `json:"birth_date,omitempty"` // age is taken at the activity's start
	Age       int       `json:"age,omitempty"`        // used when BirthDate is zero; default 35
	Sex       string    `json:"sex,omitempty"`        // "male", "female"; otherwise formulas average both
	// TimeZone is the athlete's profile zone (IANA name, e.g. "Europe/Paris"):
	// the activity's zone when the file has no position to look it up from.
	TimeZone string `json:"time_zone,omitempty"`
}

// Defaults applied to a zero Athlete field.
const (
	DefaultRestingHR     = 60.0
	DefaultWeightKg      = 70.0
	DefaultAge           = 35
	DefaultMaxHRNoAge    = 190.0
	DefaultFTPWattsPerKg = 2.5
)

// resolvedAthlete is an Athlete with every default applied, and the list of
// fields that took a default.
type resolvedAthlete struct {
	maxHR, restingHR, ftp, weightKg float64
	age                             float64
	sex                             string
	defaults                        []string
}

func (a Athlete) resolve(at time.Time) resolvedAthlete {
	r := resolvedAthlete{maxHR: a.MaxHR, restingHR: a.RestingHR, ftp: a.FTP, weightKg: a.WeightKg, sex: a.Sex}
	ageKnown := true
	switch {
	case !a.BirthDate.IsZero() && !at.IsZero() && at.After(a.BirthDate):
		r.age = float64(yearsBetween(a.BirthDate, at))
	case a.Age > 0:
		r.age = float64(a.Age)
	default:
		r.age = DefaultAge
		ageKnown = false
		r.defaults = append(r.defaults, "age")
	}
	if r.weightKg <= 0 {
		r.weightKg = DefaultWeightKg
		r.defaults = append(r.defaults, "weight_kg")
	}
	if r.maxHR <= 0 {
		if ageKnown {
			r.maxHR = 208 - 0.7*r.age
		} else {
			r.maxHR = DefaultMaxHRNoAge
		}
		r.defaults = append(r.defaults, "max_hr")
	}
	if r.restingHR <= 0 || r.restingHR >= r.maxHR {
		r.restingHR = DefaultRestingHR
		r.defaults = append(r.defaults, "resting_hr")
	}
	if r.ftp <= 0 {
		r.ftp = DefaultFTPWattsPerKg * r.weightKg
		r.defaults = append(r.defaults, "ftp")
	}
	if r.sex != "male" && r.sex != "female" {
		r.sex = ""
		r.defaults = append(r.defaults, "sex")
	}
	return r
}

func yearsBetween(from, to time.Time) int {
	y := to.Year() - from.Year()
	if to.YearDay() < from.YearDay() {
		y--
	}
	return max(y, 0)
}
