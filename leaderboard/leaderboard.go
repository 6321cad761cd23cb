// Package leaderboard is the domain of Stride's leaderboards: which boards an
// activity counts on, the calendar periods, and an athlete's score on each
// board computed from their activities. It has no I/O: the projection reads
// activity facts from the store, calls Scores, and writes the result to a
// ranker.
//
// # Boards
//
// A board ranks athletes by one Metric (a total such as distance, or a best
// effort such as the fastest 5 km) over one calendar Period, for one sport
// or all sports, in one Tier and one Env:
//
//   - Tier public counts public activities only: it backs the global scope,
//     which anyone can read. Tier followers also counts followers-only
//     activities: it backs the following scope, read only for the athletes
//     the reader follows (and the reader). Private activities count nowhere.
//   - Env all counts every activity; Env outdoor leaves out indoor and
//     virtual ones (treadmill, trainer, Zwift).
//
// An activity counts in the period of its local start date (its own time
// zone), so a run at 23:30 on Sunday in Tokyo is in that week for its
// athlete wherever the server is.
package leaderboard

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
)

// Metric is what a board ranks.
type Metric string

// Total metrics; every effort name (activity.Efforts) is a Metric too.
const (
	Distance   Metric = "distance"   // metres
	Duration   Metric = "duration"   // moving seconds (elapsed for a manual entry)
	Elevation  Metric = "elevation"  // metres climbed
	Activities Metric = "activities" // count
)

// Totals are the metrics that sum over activities.
var Totals = []Metric{Distance, Duration, Elevation, Activities}

// Metrics lists every metric, totals first, then efforts.
func Metrics() []Metric {
	out := slices.Clone(Totals)
	for _, e := range activity.Efforts() {
		out = append(out, Metric(e.Name))
	}
	return out
}

// ParseMetric checks a metric name.
func ParseMetric(s string) (Metric, bool) {
	if slices.Contains(Totals, Metric(s)) {
		return Metric(s), true
	}
	if _, ok := activity.LookupEffort(s); ok {
		return Metric(s), true
	}
	return "", false
}

// LowerIsBetter is true for best efforts timed over a distance: the board
// stores their negated seconds so that the ranker's higher-first order puts
// the fastest first. Value and Score convert.
func (m Metric) LowerIsBetter() bool {
	e, ok := activity.LookupEffort(string(m))
	return ok && e.LowerIsBetter
}

// IsEffort reports whether the metric is a best effort rather than a total.
func (m Metric) IsEffort() bool {
	_, ok := activity.LookupEffort(string(m))
	return ok
}

// Score converts a metric value to the ranker's score (higher is better).
func (m Metric) Score(value float64) float64 {
	if m.LowerIsBetter() {
		return -value
	}
	return value
}

// Value converts a ranker score back to the metric's value.
func (m Metric) Value(score float64) float64 {
	if m.LowerIsBetter() {
		return -score
	}
	return score
}

// Tier is which activities a board counts, by visibility.
type Tier string

const (
	TierPublic    Tier = "public"
	TierFollowers Tier = "followers"
)

// Env is whether a board counts indoor and virtual activities.
type Env string

const (
	EnvAll     Env = "all"
	EnvOutdoor Env = "outdoor"
)

// AllSports is the Sport of boards over every sport.
const AllSports = "all"

// Board identifies one leaderboard.
type Board struct {
	Metric Metric
	Sport  string // a sport name, or AllSports
	Period Period
	Tier   Tier
	Env    Env
}

// Name is the board's ranker name, e.g.
// "distance:running:week:2026-W47:public:all". Sport and metric names hold
// no colon.
func (b Board) Name() string {
	return strings.Join([]string{string(b.Metric), b.Sport, string(b.Period.Kind), b.Period.Key, string(b.Tier), string(b.Env)}, ":")
}

// ExpireAt is when the board may be dropped: its period's end plus the
// retention of its kind; zero for all-time boards.
func (b Board) ExpireAt() time.Time { return b.Period.ExpireAt() }

// Update is one athlete's score on one board, as computed from the store:
// Present false means the athlete has nothing on that board and must be
// taken off it.
type Update struct {
	Board   Board
	Score   float64
	Present bool
}

// Touched names what one activity counted (or counts) for: its sport and
// local date. An activity's boards are those of every period holding the
// date, for its sport and for all sports.
type Touched struct {
	Sport     string
	LocalDate string // YYYY-MM-DD
	// Efforts names the best efforts the activity had (or has): with the
	// efforts of every fact, the effort boards worth writing. An athlete
	// without a 5 km best is never written to a 5 km board, so one who
	// records no efforts costs the 4 totals per board group, not 16.
	Efforts []string
}

// Scores computes the athlete's score on every board touched: for each
// touched date, the week, month and year holding it and all time; for each
// touched sport and all sports; both tiers and both envs; every metric.
// facts are all the athlete's activities (store.ActivityFacts); the result
// sets the boards where the athlete has something and removes them from
// the others, so applying it is idempotent and corrects any earlier write.
func Scores(facts []stride.ActivityFacts, touched []Touched) ([]Update, error) {
	periods := map[Period]struct{}{AllTime: {}}
	sports := map[string]struct{}{AllSports: {}}
	for _, t := range touched {
		day, err := time.Parse(time.DateOnly, t.LocalDate)
		if err != nil {
			return nil, fmt.Errorf("touched date %q: %w", t.LocalDate, err)
		}
		for _, k := range []PeriodKind{Week, Month, Year} {
			periods[PeriodOf(k, day)] = struct{}{}
		}
		if t.Sport != "" {
			sports[t.Sport] = struct{}{}
		}
	}
	metrics := relevantMetrics(facts, touched)
	var out []Update
	for _, p := range sortedPeriods(periods) {
		acc := accumulate(facts, p)
		for _, sport := range sortedKeys(sports) {
			for _, tier := range []Tier{TierPublic, TierFollowers} {
				for _, env := range []Env{EnvAll, EnvOutdoor} {
					for _, m := range metrics {
						u := Update{Board: Board{Metric: m, Sport: sport, Period: p, Tier: tier, Env: env}}
						u.Score, u.Present = scoreOn(acc, groupKey{sport, tier, env}, m)
						out = append(out, u)
					}
				}
			}
		}
	}
	return out, nil
}

// relevantMetrics are the totals and the efforts any of the athlete's
// activities has, or a touched one had, in the order of Metrics.
func relevantMetrics(facts []stride.ActivityFacts, touched []Touched) []Metric {
	had := map[string]bool{}
	for _, f := range facts {
		for name := range f.Efforts {
			had[name] = true
		}
	}
	for _, t := range touched {
		for _, name := range t.Efforts {
			had[name] = true
		}
	}
	out := slices.Clone(Totals)
	for _, m := range Metrics()[len(Totals):] {
		if had[string(m)] {
			out = append(out, m)
		}
	}
	return out
}

// Rebuild computes every board the athlete is on, over all their
// activities: the rebuild path (stride replay leaderboards).
func Rebuild(facts []stride.ActivityFacts) []Update {
	periods := map[Period]struct{}{}
	for _, f := range facts {
		if !counts(f) {
			continue
		}
		day, err := time.Parse(time.DateOnly, f.LocalDate)
		if err != nil {
			continue
		}
		for _, k := range []PeriodKind{Week, Month, Year} {
			periods[PeriodOf(k, day)] = struct{}{}
		}
		periods[AllTime] = struct{}{}
	}
	metrics := Metrics()
	var out []Update
	for _, p := range sortedPeriods(periods) {
		acc := accumulate(facts, p)
		for _, g := range sortedGroups(acc) {
			for _, m := range metrics {
				if score, ok := scoreOn(acc, g, m); ok {
					out = append(out, Update{Board: Board{Metric: m, Sport: g.sport, Period: p, Tier: g.tier, Env: g.env}, Score: score, Present: true})
				}
			}
		}
	}
	return out
}

// scoreOn is the athlete's score on one board. A followers-tier board is
// only read for the athletes a reader follows, by member, never ranked
// whole: so it holds an athlete only where followers-only activities make
// their score differ from the public one, and readers fall back to the
// public board (FollowersFallback). For an athlete who records in public
// that halves what the boards hold.
func scoreOn(acc map[groupKey]*totals, g groupKey, m Metric) (float64, bool) {
	score, ok := acc[g].scoreOf(m)
	if g.tier != TierFollowers || !ok {
		return score, ok
	}
	public, pok := acc[groupKey{g.sport, TierPublic, g.env}].scoreOf(m)
	if pok && public == score {
		return 0, false
	}
	return score, true
}

// FollowersFallback is the board a following-scope read falls back to for
// the athletes the followers-tier board b does not hold.
func FollowersFallback(b Board) Board {
	b.Tier = TierPublic
	return b
}

type groupKey struct {
	sport string
	tier  Tier
	env   Env
}

type totals struct {
	distance, duration, elevation float64
	count                         int
	// counted holds the multisport activities whose legs were already
	// counted: a triathlon's legs count once on the all-sports board.
	counted map[string]struct{}
	efforts map[string]float64 // best score so far (Metric.Score: higher is better)
}

func (t *totals) scoreOf(m Metric) (float64, bool) {
	if t == nil {
		return 0, false
	}
	return t.score(m)
}

func (t *totals) score(m Metric) (float64, bool) {
	switch m {
	case Distance:
		return t.distance, t.distance > 0
	case Duration:
		return t.duration, t.duration > 0
	case Elevation:
		return t.elevation, t.elevation > 0
	case Activities:
		return float64(t.count), t.count > 0
	}
	s, ok := t.efforts[string(m)]
	return s, ok
}

// counts reports whether an activity counts on any board at all: private
// activities never do, nor the transitions between multisport legs.
func counts(f stride.ActivityFacts) bool {
	if f.Sport == string(activity.SportTransition) {
		return false
	}
	return f.Visibility == stride.VisibilityPublic || f.Visibility == stride.VisibilityFollowers
}

// accumulate sums the facts within period p by sport, tier and env.
func accumulate(facts []stride.ActivityFacts, p Period) map[groupKey]*totals {
	acc := map[groupKey]*totals{}
	// The groups of one sport, by tier and env, found with one lookup per
	// fact instead of one per group: this loop runs over the athlete's
	// whole history on every event.
	type sportGroups struct {
		sport string
		by    [2][2]*totals // [followers, public][all, outdoor]
	}
	bySport := map[string]*sportGroups{}
	groupsOf := func(sport string) *sportGroups {
		g := bySport[sport]
		if g == nil {
			g = &sportGroups{sport: sport}
			bySport[sport] = g
		}
		return g
	}
	allSports := groupsOf(AllSports)
	tiers, envs := [2]Tier{TierFollowers, TierPublic}, [2]Env{EnvAll, EnvOutdoor}
	first, last := p.Bounds()
	type effortScore struct {
		name  string
		score float64
	}
	var efforts []effortScore
	for _, f := range facts {
		if !counts(f) || (p.Kind != All && (f.LocalDate < first || f.LocalDate > last)) {
			continue
		}
		public := f.Visibility == stride.VisibilityPublic
		outdoor := !f.Indoor && !f.Virtual
		duration := f.MovingS
		if duration <= 0 {
			duration = f.ElapsedS
		}
		// The fact's effort scores, once for the up to eight groups it
		// counts in.
		efforts = efforts[:0]
		for name, v := range f.Efforts {
			if v > 0 {
				efforts = append(efforts, effortScore{name, Metric(name).Score(v)})
			}
		}
		for _, g := range [2]*sportGroups{groupsOf(f.Sport), allSports} {
			for ti, tier := range tiers {
				if tier == TierPublic && !public {
					continue
				}
				for ei, env := range envs {
					if env == EnvOutdoor && !outdoor {
						continue
					}
					t := g.by[ti][ei]
					if t == nil {
						t = &totals{}
						g.by[ti][ei] = t
						acc[groupKey{g.sport, tier, env}] = t
					}
					t.distance += max(f.DistanceM, 0)
					t.duration += max(duration, 0)
					t.elevation += max(f.AscentM, 0)
					// A standalone activity is one fact; the legs of a
					// multisport activity count it once. Only legs need
					// the set.
					if f.ParentID == "" {
						t.count++
					} else if _, dup := t.counted[f.ParentID]; !dup {
						if t.counted == nil {
							t.counted = map[string]struct{}{}
						}
						t.counted[f.ParentID] = struct{}{}
						t.count++
					}
					for _, e := range efforts {
						if t.efforts == nil {
							t.efforts = map[string]float64{}
						}
						if best, seen := t.efforts[e.name]; !seen || e.score > best {
							t.efforts[e.name] = e.score
						}
					}
				}
			}
		}
	}
	return acc
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedPeriods(m map[Period]struct{}) []Period {
	out := make([]Period, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Period) int { return strings.Compare(string(a.Kind)+a.Key, string(b.Kind)+b.Key) })
	return out
}

func sortedGroups(m map[groupKey]*totals) []groupKey {
	out := make([]groupKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b groupKey) int {
		return cmp.Or(strings.Compare(a.sport, b.sport), strings.Compare(string(a.tier), string(b.tier)), strings.Compare(string(a.env), string(b.env)))
	})
	return out
}
