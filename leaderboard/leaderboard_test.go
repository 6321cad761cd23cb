package leaderboard

import (
	"fmt"
	"testing"
	"time"

	"github.com/stridehq/stride"
)

func fact(id, sport, date, vis string, km float64) stride.ActivityFacts {
	d, _ := time.Parse(time.DateOnly, date)
	return stride.ActivityFacts{ActivityID: id, UserID: "u1", Sport: sport, StartTime: d.Add(8 * time.Hour),
		LocalDate: date, Visibility: vis, DistanceM: km * 1000, MovingS: km * 300, AscentM: km * 10}
}

func TestPeriodOf(t *testing.T) {
	tests := []struct {
		kind        PeriodKind
		date        string
		key         string
		first, last string
	}{
		{Week, "2026-11-22", "2026-W47", "2026-11-16", "2026-11-22"}, // a Sunday ends its ISO week
		{Week, "2026-11-23", "2026-W48", "2026-11-23", "2026-11-29"},
		{Week, "2027-01-01", "2026-W53", "2026-12-28", "2027-01-03"}, // ISO year differs from the calendar year
		{Week, "2024-12-30", "2025-W01", "2024-12-30", "2025-01-05"},
		{Month, "2024-02-29", "2024-02", "2024-02-01", "2024-02-29"},
		{Year, "2026-12-31", "2026", "2026-01-01", "2026-12-31"},
		{All, "2026-12-31", "all", "", ""},
	}
	for _, tt := range tests {
		d, _ := time.Parse(time.DateOnly, tt.date)
		p := PeriodOf(tt.kind, d)
		first, last := p.Bounds()
		if p.Key != tt.key || first != tt.first || last != tt.last {
			t.Errorf("%s of %s = %s [%s, %s], want %s [%s, %s]", tt.kind, tt.date, p.Key, first, last, tt.key, tt.first, tt.last)
		}
		if !p.Contains(tt.date) {
			t.Errorf("%s does not contain %s", p.Key, tt.date)
		}
	}
	if got := PeriodOf(Week, time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)).ExpireAt(); !got.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).Add(WeekRetention)) {
		t.Errorf("week expiry %v", got)
	}
	if !AllTime.ExpireAt().IsZero() {
		t.Error("all-time boards must not expire")
	}
	// A key that is not of its kind's form has no bounds and no expiry.
	for _, p := range []Period{{Week, "2026-47"}, {Week, "2026-Wxx"}, {Month, "2026"}, {Month, "2026-1a"}, {Year, "26y"}, {Year, ""}} {
		if first, last := p.Bounds(); first != "" || last != "" || !p.ExpireAt().IsZero() {
			t.Errorf("%s %q: bounds [%s, %s], expiry %v; want none", p.Kind, p.Key, first, last, p.ExpireAt())
		}
	}
}

func find(t *testing.T, ups []Update, name string) Update {
	t.Helper()
	for _, u := range ups {
		if u.Board.Name() == name {
			return u
		}
	}
	t.Fatalf("no update for board %s", name)
	return Update{}
}

func TestScores(t *testing.T) {
	facts := []stride.ActivityFacts{
		fact("a1", "running", "2026-11-16", stride.VisibilityPublic, 10),
		fact("a2", "running", "2026-11-22", stride.VisibilityFollowers, 5),
		fact("a3", "running", "2026-11-22", stride.VisibilityPrivate, 42),
		fact("a4", "cycling", "2026-11-23", stride.VisibilityPublic, 30),
		fact("a5", "running", "2026-10-31", stride.VisibilityPublic, 1),
	}
	facts[0].Efforts = map[string]float64{"best_5k": 1500, "best_1k": 290}
	facts[1].Efforts = map[string]float64{"best_5k": 1400}
	facts[2].Efforts = map[string]float64{"best_5k": 1000} // private: never counts
	indoor := fact("a6", "treadmill_running", "2026-11-20", stride.VisibilityPublic, 8)
	indoor.Indoor = true
	facts = append(facts, indoor)

	ups, err := Scores(facts, []Touched{{Sport: "running", LocalDate: "2026-11-22"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		board   string
		present bool
		score   float64
	}{
		{"distance:running:week:2026-W47:public:all", true, 10_000},
		{"distance:running:week:2026-W47:followers:all", true, 15_000},
		{"distance:all:week:2026-W47:public:all", true, 18_000},
		{"distance:all:week:2026-W47:public:outdoor", true, 10_000},
		{"activities:running:week:2026-W47:followers:all", true, 2},
		{"distance:running:month:2026-11:public:all", true, 10_000},
		{"distance:running:year:2026:public:all", true, 11_000},
		{"distance:all:all:all:public:all", true, 49_000},
		{"best_5k:running:week:2026-W47:public:all", true, -1500},
		{"best_5k:running:week:2026-W47:followers:all", true, -1400},
		// Followers-only activities change nothing here: the followers
		// tier leaves it to the public board.
		{"best_1k:running:month:2026-11:followers:outdoor", false, 0},
		{"best_1k:running:month:2026-11:public:outdoor", true, -290},
		{"elevation:running:week:2026-W47:public:all", true, 100},
	}
	for _, tt := range tests {
		u := find(t, ups, tt.board)
		if u.Present != tt.present || u.Score != tt.score {
			t.Errorf("%s = %v %v, want %v %v", tt.board, u.Present, u.Score, tt.present, tt.score)
		}
	}
	for _, u := range ups {
		if u.Board.Sport == "cycling" {
			t.Fatalf("untouched sport written: %s", u.Board.Name())
		}
		if u.Board.Metric == "power_20m" {
			t.Fatalf("no activity has power, yet %s is written", u.Board.Name())
		}
	}
}

func TestScoresRemovesWhatIsGone(t *testing.T) {
	// The only run of the week was deleted: the event says what it counted
	// for, and the athlete leaves the week's running boards.
	facts := []stride.ActivityFacts{fact("b1", "cycling", "2026-11-18", stride.VisibilityPublic, 20)}
	ups, err := Scores(facts, []Touched{{Sport: "running", LocalDate: "2026-11-17"}})
	if err != nil {
		t.Fatal(err)
	}
	if u := find(t, ups, "distance:running:week:2026-W47:public:all"); u.Present {
		t.Errorf("running board kept: %+v", u)
	}
	if u := find(t, ups, "distance:all:week:2026-W47:public:all"); !u.Present || u.Score != 20_000 {
		t.Errorf("all-sports board %+v, want 20000", u)
	}
	// A deleted run had a 5 km best: its effort boards lose the athlete
	// although no remaining activity has one.
	ups, err = Scores(facts, []Touched{{Sport: "running", LocalDate: "2026-11-17", Efforts: []string{"best_5k"}}})
	if err != nil {
		t.Fatal(err)
	}
	if u := find(t, ups, "best_5k:running:week:2026-W47:public:all"); u.Present {
		t.Errorf("5 km board kept: %+v", u)
	}
	if _, err := Scores(facts, []Touched{{Sport: "running", LocalDate: "17/11/2026"}}); err == nil {
		t.Error("bad date accepted")
	}
}

func TestMultisportCountsOnce(t *testing.T) {
	legs := []stride.ActivityFacts{
		fact("s1", "open_water_swimming", "2026-11-18", stride.VisibilityPublic, 1.5),
		fact("t1", "transition", "2026-11-18", stride.VisibilityPublic, 0.2),
		fact("c1", "cycling", "2026-11-18", stride.VisibilityPublic, 40),
		fact("r1", "running", "2026-11-18", stride.VisibilityPublic, 10),
	}
	for i := range legs {
		legs[i].ParentID = "tri"
	}
	ups := Rebuild(legs)
	for _, u := range ups {
		switch u.Board.Name() {
		case "activities:all:week:2026-W47:public:all":
			if u.Score != 1 {
				t.Errorf("a triathlon counts %v activities, want 1", u.Score)
			}
		case "distance:all:week:2026-W47:public:all":
			if u.Score != 51_500 {
				t.Errorf("triathlon distance %v, want 51500 (transitions do not count)", u.Score)
			}
		}
		if u.Board.Sport == "transition" {
			t.Errorf("transition counted: %s", u.Board.Name())
		}
	}
}

func TestRebuildMatchesScores(t *testing.T) {
	facts := []stride.ActivityFacts{
		fact("a1", "running", "2026-11-16", stride.VisibilityPublic, 10),
		fact("a2", "cycling", "2026-12-02", stride.VisibilityFollowers, 30),
		fact("a3", "running", "2025-01-01", stride.VisibilityPrivate, 3),
	}
	live, err := Scores(facts, []Touched{{Sport: "running", LocalDate: "2026-11-16"}, {Sport: "cycling", LocalDate: "2026-12-02"}, {Sport: "running", LocalDate: "2025-01-01"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, u := range live {
		if u.Present {
			want[u.Board.Name()] = u.Score
		}
	}
	got := map[string]float64{}
	for _, u := range Rebuild(facts) {
		got[u.Board.Name()] = u.Score
	}
	if len(got) != len(want) {
		t.Fatalf("rebuild writes %d boards, live %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: rebuild %v, live %v", k, got[k], v)
		}
	}
}

func TestParseMetric(t *testing.T) {
	for _, s := range []string{"distance", "duration", "elevation", "activities", "best_5k", "power_20m"} {
		if _, ok := ParseMetric(s); !ok {
			t.Errorf("%s refused", s)
		}
	}
	for _, s := range []string{"", "speed", "best_3k", "DISTANCE"} {
		if _, ok := ParseMetric(s); ok {
			t.Errorf("%s accepted", s)
		}
	}
	if m := Metric("best_5k"); m.Value(m.Score(1234)) != 1234 || m.Score(1234) != -1234 {
		t.Error("time efforts must rank the fastest first")
	}
}

// BenchmarkScores is the projector's board computation for one event of an
// athlete with a long history: every board of the touched day's periods,
// from all their activities (the store reads them; this is the rest).
func BenchmarkScores(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("activities=%d", n), func(b *testing.B) {
			facts := make([]stride.ActivityFacts, n)
			start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := range facts {
				d := start.AddDate(0, 0, i*2000/n).Format(time.DateOnly)
				facts[i] = fact(fmt.Sprintf("a%05d", i), []string{"running", "cycling"}[i%2], d, stride.VisibilityPublic, 5+float64(i%20))
			}
			last := facts[n-1]
			touched := []Touched{{Sport: last.Sport, LocalDate: last.LocalDate}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Scores(facts, touched); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
