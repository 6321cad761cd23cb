package leaderboard

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PeriodKind is the length of a calendar period.
type PeriodKind string

const (
	Week  PeriodKind = "week" // ISO 8601: Monday to Sunday
	Month PeriodKind = "month"
	Year  PeriodKind = "year"
	All   PeriodKind = "all"
)

// ParsePeriodKind checks a period name.
func ParsePeriodKind(s string) (PeriodKind, bool) {
	switch k := PeriodKind(s); k {
	case Week, Month, Year, All:
		return k, true
	}
	return "", false
}

// Retention of old boards after their period ends: long enough to look back
// ("last week", "last month", "last year"), short enough that old periods
// never pile up in the ranker.
const (
	WeekRetention  = 8 * 7 * 24 * time.Hour
	MonthRetention = 13 // months
	YearRetention  = 3  // years
)

// Period is one calendar period: Key is "2026-W47", "2026-11", "2026" or
// "all".
type Period struct {
	Kind PeriodKind
	Key  string
}

// AllTime is the one period of kind All.
var AllTime = Period{Kind: All, Key: "all"}

// PeriodOf returns the period of kind k holding the date day (any time of
// that day; only its year, month and day are used).
func PeriodOf(k PeriodKind, day time.Time) Period {
	switch k {
	case Week:
		y, w := day.ISOWeek()
		return Period{Kind: Week, Key: fmt.Sprintf("%04d-W%02d", y, w)}
	case Month:
		return Period{Kind: Month, Key: fmt.Sprintf("%04d-%02d", day.Year(), day.Month())}
	case Year:
		return Period{Kind: Year, Key: fmt.Sprintf("%04d", day.Year())}
	}
	return AllTime
}

// Bounds returns the first and last dates of the period (YYYY-MM-DD); empty
// for all time.
func (p Period) Bounds() (first, last string) {
	start, end, ok := p.span()
	if !ok {
		return "", ""
	}
	return start.Format(time.DateOnly), end.AddDate(0, 0, -1).Format(time.DateOnly)
}

// Contains reports whether the local date (YYYY-MM-DD) falls in the period.
// Dates compare as strings because the format is fixed-width.
func (p Period) Contains(localDate string) bool {
	if p.Kind == All {
		return true
	}
	first, last := p.Bounds()
	return localDate >= first && localDate <= last
}

// ExpireAt is the end of the period plus its retention, at midnight UTC of
// that day: the latest local midnight anywhere is a few hours later, which
// retention covers. Zero for all time.
func (p Period) ExpireAt() time.Time {
	_, end, ok := p.span()
	if !ok {
		return time.Time{}
	}
	switch p.Kind {
	case Week:
		return end.Add(WeekRetention)
	case Month:
		return end.AddDate(0, MonthRetention, 0)
	}
	return end.AddDate(YearRetention, 0, 0)
}

// span returns the first day of the period and the first day after it.
// The key is parsed by hand: a rebuild asks this of every entry it makes,
// and fmt.Sscanf was a sixth of a rebuild's time.
func (p Period) span() (start, end time.Time, ok bool) {
	switch p.Kind {
	case Week:
		y, w, ok := keyNumbers(p.Key, "-W")
		if !ok {
			return start, end, false
		}
		// 4 January is always in ISO week 1.
		jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC)
		monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
		start = monday.AddDate(0, 0, 7*(w-1))
		return start, start.AddDate(0, 0, 7), true
	case Month:
		y, m, ok := keyNumbers(p.Key, "-")
		if !ok {
			return start, end, false
		}
		start = time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0), true
	case Year:
		y, err := strconv.Atoi(p.Key)
		if err != nil {
			return start, end, false
		}
		start = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(1, 0, 0), true
	}
	return start, end, false
}

// keyNumbers parses a period key of two numbers around sep: "2026-W47"
// with "-W", "2026-11" with "-".
func keyNumbers(key, sep string) (a, b int, ok bool) {
	as, bs, found := strings.Cut(key, sep)
	if !found {
		return 0, 0, false
	}
	a, errA := strconv.Atoi(as)
	b, errB := strconv.Atoi(bs)
	return a, b, errA == nil && errB == nil
}
