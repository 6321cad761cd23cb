package activity

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestHysteresisGain(t *testing.T) {
	cases := []struct {
		name       string
		v          []float64
		threshold  float64
		gain, loss float64
	}{
		{"flat", []float64{100, 100, 100}, 3, 0, 0},
		{"noise below threshold", []float64{100, 102, 100, 102, 100}, 3, 0, 0},
		{"one climb", []float64{100, 105, 110, 120}, 3, 20, 0},
		{"climb and descent", []float64{100, 120, 110, 90}, 3, 20, 30},
		{"noise on a climb", []float64{100, 110, 109, 120, 119, 130}, 3, 30, 0},
		{"empty", nil, 3, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, l := hysteresisGain(c.v, c.threshold)
			if g != c.gain || l != c.loss {
				t.Errorf("gain %v loss %v, want %v %v", g, l, c.gain, c.loss)
			}
		})
	}
}

func TestNormalizedPowerAndBest(t *testing.T) {
	steady := make([]float64, 600)
	for i := range steady {
		steady[i] = 200
	}
	if np := normalizedPower(steady); math.Abs(np-200) > 1e-9 {
		t.Errorf("steady 200 W: NP %v, want 200", np)
	}
	// Alternating 0/400 W every 60 s: the average is 200 W but NP is higher.
	surges := make([]float64, 1200)
	for i := range surges {
		if (i/60)%2 == 1 {
			surges[i] = 400
		}
	}
	if np := normalizedPower(surges); np <= 250 {
		t.Errorf("surges: NP %v, want well above the 200 W average", np)
	}
	if normalizedPower(steady[:10]) != 0 {
		t.Error("NP of a 10 s effort should be 0 (shorter than the window)")
	}
	w, at, ok := bestAverage(surges, 60)
	if !ok || w != 400 || at != 60 {
		t.Errorf("best 60 s: %v W at %d (ok %v), want 400 W at 60", w, at, ok)
	}
	if _, _, ok := bestAverage(surges, 5000); ok {
		t.Error("best 5000 s of a 1200 s ride should not exist")
	}
}

// seriesFor builds a recording of points every second at the given speeds.
func recordingAtSpeeds(speeds []float64) *Recording {
	r := newRecording(FormatJSON)
	r.Sport = SportRunning
	start := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	dist := 0.0
	for i, v := range speeds {
		p := newPoint(start.Add(time.Duration(i) * time.Second))
		dist += v
		p.Distance = dist
		p.HeartRate = 150
		r.Points = append(r.Points, p)
	}
	return r
}

func TestBestEffortsAndSplits(t *testing.T) {
	// 3 km: the first 2 km at 4 m/s, the last at 5 m/s.
	var speeds []float64
	for d := 0.0; d < 3000; {
		v := 4.0
		if d >= 2000 {
			v = 5
		}
		speeds = append(speeds, v)
		d += v
	}
	rec := recordingAtSpeeds(speeds)
	a := Analyze(rec, Athlete{})
	var oneK *BestEffort
	for i := range a.Metrics.BestEfforts {
		if a.Metrics.BestEfforts[i].Name == "1k" {
			oneK = &a.Metrics.BestEfforts[i]
		}
	}
	if oneK == nil || math.Abs(oneK.ElapsedS-200) > 1 {
		t.Fatalf("best 1k %+v, want 200 s (the last km at 5 m/s)", oneK)
	}
	for _, e := range a.Metrics.BestEfforts {
		if e.DistanceM > 3000 {
			t.Errorf("best effort %s longer than the run", e.Name)
		}
	}
	if n := len(a.Metrics.SplitsKm); n != 3 {
		t.Fatalf("%d km splits, want 3", n)
	}
	if s := a.Metrics.SplitsKm[0]; math.Abs(s.ElapsedS-250) > 1 || s.AvgHR != 150 {
		t.Errorf("first split %+v, want 250 s at 150 bpm", s)
	}
}

func TestPausesFromTimerEvents(t *testing.T) {
	rec := recordingAtSpeeds(make([]float64, 0))
	start := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	// Points every second for 100 s, the timer stopped from 30 s to 60 s.
	for i := 0; i <= 100; i++ {
		if i > 30 && i < 60 {
			continue
		}
		p := newPoint(start.Add(time.Duration(i) * time.Second))
		p.Distance = float64(3 * i)
		rec.Points = append(rec.Points, p)
	}
	rec.Timer = []TimerEvent{{Time: start, Start: true}, {Time: start.Add(30 * time.Second)}, {Time: start.Add(60 * time.Second), Start: true}, {Time: start.Add(100 * time.Second)}}
	a := Analyze(rec, Athlete{})
	if a.ElapsedS != 100 || a.TimerS != 70 {
		t.Errorf("elapsed %v timer %v, want 100 and 70", a.ElapsedS, a.TimerS)
	}
}

func TestPausesFromGaps(t *testing.T) {
	rec := newRecording(FormatGPX)
	rec.Sport = SportCycling
	start := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	add := func(sec int, lat float64) {
		p := newPoint(start.Add(time.Duration(sec) * time.Second))
		p.Lat, p.Lon = lat, 14.5
		rec.Points = append(rec.Points, p)
	}
	for i := 0; i < 60; i++ {
		add(i, 46+float64(i)*0.0001) // ~11 m/s
	}
	// 10 minutes standing still, then riding on.
	for i := 0; i < 60; i++ {
		add(660+i, 46+float64(59+i)*0.0001)
	}
	a := Analyze(rec, Athlete{})
	if math.Abs(a.TimerS-118) > 1 || a.ElapsedS != 719 {
		t.Errorf("timer %v elapsed %v, want 118 (the 10-minute stop excluded) and 719", a.TimerS, a.ElapsedS)
	}
}

func TestCleanDropsSpikesAndMergesDuplicates(t *testing.T) {
	rec := newRecording(FormatGPX)
	rec.Sport = SportRunning
	start := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	lats := []float64{46.0000, 46.0000, 46.0001, 46.5, 46.0002, 46.0003}
	secs := []int{0, 0, 1, 2, 3, 4} // a duplicate second, then a 55 km jump
	for i := range lats {
		p := newPoint(start.Add(time.Duration(secs[i]) * time.Second))
		p.Lat, p.Lon = lats[i], 14.5
		if i == 1 {
			p.HeartRate = 120
		}
		rec.Points = append(rec.Points, p)
	}
	w := Clean(rec)
	if !hasWarning(w, WarnDuplicateTime) || !hasWarning(w, WarnGPSSpike) {
		t.Fatalf("warnings %+v, want duplicate_time and gps_spike", w)
	}
	if len(rec.Points) != 5 || rec.Points[0].HeartRate != 120 {
		t.Errorf("points %d, first HR %v: want 5 points, the duplicate's HR merged", len(rec.Points), rec.Points[0].HeartRate)
	}
	if rec.Points[2].HasPosition() {
		t.Error("the 55 km spike kept its position")
	}
}

func TestSportMapping(t *testing.T) {
	cases := []struct {
		sport, sub string
		want       Sport
		indoor     bool
		virtual    bool
	}{
		{"running", "treadmill", SportTreadmillRunning, true, false},
		{"running", "generic", SportRunning, false, false},
		{"cycling", "virtual_activity", SportVirtualCycling, true, true},
		{"cycling", "indoor_cycling", SportIndoorCycling, true, false},
		{"swimming", "lap_swimming", SportPoolSwimming, true, false},
		{"swimming", "open_water", SportOpenWaterSwimming, false, false},
		{"transition", "", SportTransition, false, false},
		{"generic", "", SportOther, false, false},
	}
	for _, c := range cases {
		got := SportFromFIT(c.sport, c.sub)
		info := got.Info()
		if got != c.want || info.Indoor != c.indoor || info.Virtual != c.virtual {
			t.Errorf("%s/%s: %s indoor %v virtual %v, want %s %v %v", c.sport, c.sub, got, info.Indoor, info.Virtual, c.want, c.indoor, c.virtual)
		}
	}
	for name, want := range map[string]Sport{"Running": SportRunning, "Biking": SportCycling, "9": SportRunning, "Other": SportOther, "VirtualRide": SportVirtualCycling} {
		if got := SportFromName(name); got != want {
			t.Errorf("SportFromName(%q) = %s, want %s", name, got, want)
		}
	}
	for _, s := range Sports {
		if _, ok := LookupSport(s.Name); !ok || s.MET <= 0 || s.MaxSpeedMps <= 0 {
			t.Errorf("sport %+v incomplete", s)
		}
	}
}

func TestRouteSimplification(t *testing.T) {
	var pts []Point
	start := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	// A straight line with 1 m of jitter: simplifies to its two ends.
	for i := 0; i < 500; i++ {
		p := newPoint(start.Add(time.Duration(i) * time.Second))
		p.Lat, p.Lon = 46+float64(i)*0.0001, 14.5+float64(i%2)*0.00001
		pts = append(pts, p)
	}
	r := buildRoute(pts)
	if r.polyline == "" || len(r.bbox) != 4 || r.start[0] != 46 {
		t.Fatalf("route %+v", r)
	}
	if r.bbox[1] != 46 || r.bbox[3] != round6(46+499*0.0001) {
		t.Errorf("bbox %v", r.bbox)
	}
	if len(r.polyline) > 30 {
		t.Errorf("polyline %q: a jittered straight line should simplify to a few points", r.polyline)
	}
}

func TestErrorsMatchSentinels(t *testing.T) {
	_, _, err := Parse([]byte("hello world, not an activity"), FileHint{}, Limits{})
	var perr *Error
	if !errors.As(err, &perr) || perr.Code != CodeUnsupportedFormat || !errors.Is(err, ErrUnsupportedFormat) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want unsupported_format matching ErrUnsupportedFormat only", err)
	}
	_, _, err = Parse(make([]byte, 100), FileHint{}, Limits{MaxInputBytes: 10})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want too_large", err)
	}
}

func TestComputeElevation(t *testing.T) {
	start := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	// rec builds a 1 Hz recording with the given altitudes; timer events
	// (offsets in s, alternately stop and start) pause it.
	rec := func(alt []float64, stopStart ...int) *Recording {
		r := newRecording(FormatFIT)
		r.Sport = SportCycling
		for i, a := range alt {
			p := newPoint(start.Add(time.Duration(i) * time.Second))
			p.Altitude = a
			r.Points = append(r.Points, p)
		}
		if len(stopStart) > 0 {
			r.Timer = append(r.Timer, TimerEvent{Time: start, Start: true})
			for k, off := range stopStart {
				r.Timer = append(r.Timer, TimerEvent{Time: start.Add(time.Duration(off) * time.Second), Start: k%2 == 1})
			}
		}
		return r
	}
	ramp := func(n int, from, step float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = from + float64(i)*step
		}
		return out
	}
	// Whole-metre altitude flickering between two values around a real
	// 10 m climb (stepped profile, 1 m quantisation).
	flicker := append(append(ramp(20, 100, 0), ramp(11, 100, 1)...), ramp(20, 110, 0)...)
	for i := range flicker {
		if i%2 == 1 && i < 20 {
			flicker[i]++ // 100, 101, 100, 101…
		}
	}
	// Barometric noise of ±0.2 m on a 20 m climb.
	baro := ramp(200, 50, 0.1)
	for i := range baro {
		baro[i] += 0.2 * float64(i%3-1)
	}
	// A stepped profile that drifts 12 m during a 10-minute stop.
	drift := append(append(ramp(60, 200, 0), ramp(600, 200, 0.02)...), ramp(60, 212, 0)...)
	cases := []struct {
		name    string
		rec     *Recording
		ascent  float64
		tol     float64
		profile string
	}{
		{"stepped, whole metres: flicker ignored", rec(flicker), 10, 0, "smooth"},
		{"barometric noise on a climb", rec(baro), 19.9, 1, "smooth"},
		{"drift while the timer is stopped", rec(drift, 60, 660), 0, 0, "smooth"},
		{"same drift with the timer running", rec(drift), 12, 0.5, "smooth"},
		{"no altitude", rec(nil), 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := buildSeries(c.rec, time.Time{})
			e := computeElevation(c.rec.Points, s)
			if math.Abs(e.ascent-c.ascent) > c.tol+1e-9 || e.profile != c.profile {
				t.Errorf("ascent %.2f (%s), want %.2f±%.1f (%s)", e.ascent, e.profile, c.ascent, c.tol, c.profile)
			}
		})
	}
}

func TestRecordingBounds(t *testing.T) {
	t0 := time.Date(2024, 6, 1, 7, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	// points every step seconds over span seconds
	points := func(span, step int) []Point {
		var pts []Point
		for s := 0; s <= span; s += step {
			pts = append(pts, newPoint(at(float64(s))))
		}
		return pts
	}
	cases := []struct {
		name       string
		pts        []Point
		ev         []TimerEvent
		next       time.Time
		medianS    float64
		wantElapse float64
	}{
		{"last point", points(100, 1), nil, time.Time{}, 1, 100},
		{"stop just after the last point", points(100, 1), []TimerEvent{{Time: at(0), Start: true}, {Time: at(101)}}, time.Time{}, 1, 101},
		{"stop_all long after (app)", points(100, 1), []TimerEvent{{Time: at(0), Start: true}, {Time: at(135), All: true}}, time.Time{}, 1, 100},
		{"pause then stop_all: ends at stop_all", points(100, 1), []TimerEvent{{Time: at(0), Start: true}, {Time: at(101)}, {Time: at(109), All: true}}, time.Time{}, 1, 109},
		{"two stop_all: ends at the first", points(100, 1), []TimerEvent{{Time: at(0), Start: true}, {Time: at(100), All: true}, {Time: at(118), All: true}}, time.Time{}, 1, 100},
		{"multisport at 1 Hz: midpoint to the next session", points(100, 1), nil, at(102), 1, 101},
		{"multisport, smart recording: the next session's start", points(96, 6), nil, at(99), 6, 99},
		{"next session after a long gap: last point", points(100, 1), nil, at(200), 1, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			first, last := recordingBounds(c.pts, c.ev, c.next, c.medianS)
			if got := last.Sub(first).Seconds(); got != c.wantElapse {
				t.Errorf("elapsed %v, want %v", got, c.wantElapse)
			}
		})
	}
}

func TestDistanceToClosingStop(t *testing.T) {
	start := time.Date(2024, 6, 1, 7, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		ev   []TimerEvent
		want float64
	}{
		{"no events: last point", nil, 1000},
		{"stop 1 s after the last point: 1 s more at 10 m/s", []TimerEvent{{Time: start, Start: true}, {Time: start.Add(101 * time.Second)}}, 1010},
		{"stop at the last point", []TimerEvent{{Time: start, Start: true}, {Time: start.Add(100 * time.Second)}}, 1000},
		{"stop long after (app): last point", []TimerEvent{{Time: start, Start: true}, {Time: start.Add(135 * time.Second), All: true}}, 1000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := recordingAtSpeeds(append([]float64{0}, slicesRepeat(10, 100)...))
			r.Sport = SportCycling
			for i := range r.Points {
				r.Points[i].Time = start.Add(time.Duration(i) * time.Second)
				r.Points[i].Speed = 10
			}
			r.Timer = c.ev
			s := buildSeries(r, time.Time{})
			if math.Abs(s.distanceM-c.want) > 1e-6 {
				t.Errorf("distance %v, want %v", s.distanceM, c.want)
			}
		})
	}
}

func slicesRepeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}
