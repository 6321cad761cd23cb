package stride

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Roles an account can hold.
const (
	RoleAthlete = "athlete"
	RoleAdmin   = "admin"
)

// Account statuses. A disabled account cannot sign in and its tokens stop
// working at once.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
)

// Visibility of what an athlete records.
const (
	VisibilityPublic    = "public"
	VisibilityFollowers = "followers"
	VisibilityPrivate   = "private"
)

// User is an athlete's account and profile. Body measures are SI (metres,
// kilograms); zero values mean "not given".
type User struct {
	ID                string
	Email             string
	Name              string
	Role              string
	Status            string
	BirthDate         *Date
	HeightM           *float64
	WeightKg          *float64
	Gender            string // "", female, male, other
	Goals             string
	TimeZone          string // IANA name; "" means UTC
	Units             string // metric | imperial: a display preference only
	RestingHR         *int
	MaxHR             *int
	FTPW              *int
	DefaultVisibility string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Date is a calendar date without a time zone, such as a birth date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads an ISO 8601 calendar date (2006-01-02).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, err
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

func (d Date) String() string {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// ProfileUpdate holds the fields of a PATCH; a nil field is left unchanged.
// The Clear* flags set an optional field back to "not given".
type ProfileUpdate struct {
	Name              *string
	BirthDate         *Date
	ClearBirthDate    bool
	HeightM           *float64
	ClearHeight       bool
	WeightKg          *float64
	ClearWeight       bool
	Gender            *string
	Goals             *string
	TimeZone          *string
	Units             *string
	RestingHR         *int
	ClearRestingHR    bool
	MaxHR             *int
	ClearMaxHR        bool
	FTPW              *int
	ClearFTP          bool
	DefaultVisibility *string
}

// Apply copies the update onto u after validating it against u's resulting
// state (for example, resting heart rate must stay below max heart rate).
func (p ProfileUpdate) Apply(u *User, now time.Time) error {
	next := *u
	if p.Name != nil {
		next.Name = strings.TrimSpace(*p.Name)
	}
	setOpt(&next.BirthDate, p.BirthDate, p.ClearBirthDate)
	setOpt(&next.HeightM, p.HeightM, p.ClearHeight)
	setOpt(&next.WeightKg, p.WeightKg, p.ClearWeight)
	if p.Gender != nil {
		next.Gender = *p.Gender
	}
	if p.Goals != nil {
		next.Goals = *p.Goals
	}
	if p.TimeZone != nil {
		next.TimeZone = *p.TimeZone
	}
	if p.Units != nil {
		next.Units = *p.Units
	}
	setOpt(&next.RestingHR, p.RestingHR, p.ClearRestingHR)
	setOpt(&next.MaxHR, p.MaxHR, p.ClearMaxHR)
	setOpt(&next.FTPW, p.FTPW, p.ClearFTP)
	if p.DefaultVisibility != nil {
		next.DefaultVisibility = *p.DefaultVisibility
	}
	if err := next.Validate(now); err != nil {
		return err
	}
	next.UpdatedAt = now
	*u = next
	return nil
}

func setOpt[T any](dst **T, v *T, clear bool) {
	switch {
	case clear:
		*dst = nil
	case v != nil:
		c := *v
		*dst = &c
	}
}

// Limits on profile values: wide enough for every human athlete, narrow
// enough to catch unit mistakes (centimetres sent as metres, pounds as kg).
const (
	MaxNameLen  = 100
	MaxGoalsLen = 2000
	MaxEmailLen = 254
)

// Validate checks the profile's fields. now bounds the birth date.
func (u *User) Validate(now time.Time) error {
	var v Validation
	if n := utf8.RuneCountInString(u.Name); n == 0 || n > MaxNameLen {
		v.Add("name", "must be 1 to %d characters", MaxNameLen)
	}
	if !ValidEmail(u.Email) {
		v.Add("email", "must be a valid email address")
	}
	if u.BirthDate != nil {
		bd := time.Date(u.BirthDate.Year, u.BirthDate.Month, u.BirthDate.Day, 0, 0, 0, 0, time.UTC)
		if bd.After(now) || bd.Year() < now.Year()-130 {
			v.Add("birth_date", "must be a past date within the last 130 years")
		}
	}
	if u.HeightM != nil && (*u.HeightM < 0.5 || *u.HeightM > 2.8) {
		v.Add("height_m", "must be between 0.5 and 2.8 metres")
	}
	if u.WeightKg != nil && (*u.WeightKg < 20 || *u.WeightKg > 400) {
		v.Add("weight_kg", "must be between 20 and 400 kg")
	}
	switch u.Gender {
	case "", "female", "male", "other":
	default:
		v.Add("gender", "must be one of female, male, other")
	}
	if utf8.RuneCountInString(u.Goals) > MaxGoalsLen {
		v.Add("goals", "must be at most %d characters", MaxGoalsLen)
	}
	if u.TimeZone != "" {
		if _, err := time.LoadLocation(u.TimeZone); err != nil || u.TimeZone == "Local" {
			v.Add("time_zone", "must be an IANA time zone name such as Europe/Paris")
		}
	}
	switch u.Units {
	case "metric", "imperial":
	default:
		v.Add("units", "must be metric or imperial")
	}
	if u.RestingHR != nil && (*u.RestingHR < 20 || *u.RestingHR > 150) {
		v.Add("resting_hr", "must be between 20 and 150 bpm")
	}
	if u.MaxHR != nil && (*u.MaxHR < 80 || *u.MaxHR > 250) {
		v.Add("max_hr", "must be between 80 and 250 bpm")
	}
	if u.RestingHR != nil && u.MaxHR != nil && *u.RestingHR >= *u.MaxHR {
		v.Add("resting_hr", "must be below max_hr")
	}
	if u.FTPW != nil && (*u.FTPW < 30 || *u.FTPW > 700) {
		v.Add("ftp_w", "must be between 30 and 700 W")
	}
	switch u.DefaultVisibility {
	case VisibilityPublic, VisibilityFollowers, VisibilityPrivate:
	default:
		v.Add("default_visibility", "must be one of public, followers, private")
	}
	return v.Err()
}

// NormalizeEmail lowercases and trims an address so that one mailbox maps
// to one account however it is typed.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail reports whether s is a bare address (no display name).
func ValidEmail(s string) bool {
	if s == "" || len(s) > MaxEmailLen {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}

// Follow is one edge of the follow graph.
type Follow struct {
	FollowerID string
	FolloweeID string
	CreatedAt  time.Time
}

// Page asks for one page of a list: at most Limit items after the opaque
// cursor. Cursors are produced by the store and are only meaningful to it.
type Page struct {
	Limit  int
	Cursor string
}

// Page size bounds for every list endpoint.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 200
)
