package standings

import (
	"net/url"
	"strings"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/leaderboard"
)

// ParseBoardQuery reads a leaderboard type and its parameters (sport,
// period, date, scope, indoor, around) as the API and the realtime
// subscriptions take them. Paging is the caller's.
func ParseBoardQuery(typ string, q url.Values) (BoardQuery, error) {
	metric, ok := leaderboard.ParseMetric(typ)
	if !ok {
		return BoardQuery{}, stride.Errorf(stride.ENOTFOUND, "No leaderboard of type %q: use distance, duration, elevation, activities or a best effort (see the API reference).", typ)
	}
	bq := BoardQuery{Metric: metric, Period: leaderboard.Week, Scope: ScopeGlobal, Date: q.Get("date")}
	var v stride.Validation
	if raw := q.Get("sport"); raw != "" && raw != leaderboard.AllSports {
		sport := activity.SportFromName(raw)
		if sport == activity.SportOther && !strings.EqualFold(raw, string(activity.SportOther)) {
			v.Add("sport", "is not a known sport")
		}
		bq.Sport = string(sport)
	}
	if raw := q.Get("period"); raw != "" {
		if bq.Period, ok = leaderboard.ParsePeriodKind(raw); !ok {
			v.Add("period", "must be week, month, year or all")
		}
	}
	switch raw := q.Get("scope"); raw {
	case "", ScopeGlobal:
	case ScopeFollowing:
		bq.Scope = raw
	default:
		v.Add("scope", "must be global or following")
	}
	switch q.Get("indoor") {
	case "", "include":
	case "exclude":
		bq.ExcludeIndoor = true
	default:
		v.Add("indoor", "must be include or exclude (indoor and virtual activities)")
	}
	switch q.Get("around") {
	case "":
	case "me":
		bq.AroundMe = true
		if q.Get("cursor") != "" {
			v.Add("cursor", "cannot be combined with around=me")
		}
	default:
		v.Add("around", "must be me")
	}
	return bq, v.Err()
}
