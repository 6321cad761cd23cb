package activity

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Sensor ranges outside which a value cannot be real and is dropped.
var (
	heartRateRange   = [2]float64{20, 250}    // bpm
	cadenceRange     = [2]float64{0, 300}     // rpm or steps/min
	powerRange       = [2]float64{0, 3000}    // W: above track-sprint peaks
	altitudeRange    = [2]float64{-500, 9000} // m
	speedRange       = [2]float64{0, 120}     // m/s
	temperatureRange = [2]float64{-60, 70}    // °C
)

// timeClusterGap splits a recording into time clusters: points separated by
// more than this from all others are candidates for a broken device clock.
const timeClusterGap = 24 * time.Hour

// spikeMinJumpM is the smallest jump counted as a GPS spike: below it, the
// implied speed of two close fixes is dominated by GPS noise, not error.
const spikeMinJumpM = 30.0

// spikeResetAfter: after this many consecutive rejected fixes, the last
// accepted one is taken to be the wrong one and the track resumes.
const spikeResetAfter = 3

// Clean repairs a Recording in place and reports what it changed: invalid
// positions and out-of-range sensor values are removed (the point is kept
// with the value Missing), points are put in time order, points sharing a
// timestamp are merged, isolated points far away in time (a broken device
// clock) are dropped, and GPS spikes (fixes implying an impossible speed for
// the sport) lose their position. Parse and FromJSON call it; call it again
// after changing a Recording's sport by hand. It is idempotent.
func Clean(r *Recording) []Warning {
	var w []Warning
	for _, c := range r.Children {
		w = append(w, Clean(c)...)
	}
	// Laps and timer events come in file order; a damaged file may have
	// them out of order, which would make pause periods negative.
	sort.SliceStable(r.Laps, func(i, j int) bool { return r.Laps[i].StartTime.Before(r.Laps[j].StartTime) })
	sort.SliceStable(r.Timer, func(i, j int) bool { return r.Timer[i].Time.Before(r.Timer[j].Time) })
	if len(r.Points) == 0 {
		return w
	}
	w = appendCount(w, WarnInvalidPosition, dropInvalidPositions(r.Points), "points had an invalid latitude/longitude (NaN, infinite or out of range); their position was dropped")
	w = appendCount(w, WarnInvalidValue, dropInvalidValues(r.Points), "sensor values outside their physical range were dropped")
	// Every point carries the same time (a GPS logger without a clock fix,
	// as in GPX files dated 1901), possibly written with different
	// precisions (.207 and .2073437): sorting would shuffle the track and
	// merging would collapse it to one point. Keep the points in file order
	// at one time; durations are zero.
	oneTime := len(r.Points) > 2 && sameInstant(r.Points)
	if !oneTime {
		if n := sortByTime(r.Points); n > 0 {
			w = appendCount(w, WarnTimeReordered, n, "points were out of time order and were sorted")
		}
		var dropped int
		r.Points, dropped = dropTimeOutliers(r.Points)
		w = appendCount(w, WarnImplausibleTimes, dropped, "points far in time from the rest of the activity (device clock error) were dropped")
	}
	if oneTime {
		w = append(w, Warning{Code: WarnImplausibleTimes, Count: len(r.Points),
			Detail: "all points carry the same timestamp; the track is kept but has no duration"})
	} else {
		var merged int
		r.Points, merged = mergeDuplicateTimes(r.Points)
		w = appendCount(w, WarnDuplicateTime, merged, "points sharing a timestamp were merged")
	}
	if first := r.Points[0].Time; first.Year() < 1985 || first.Year() > 2100 {
		w = append(w, Warning{Code: WarnImplausibleTimes, Detail: "the device clock looks wrong: activity dated " + first.Format(time.RFC3339)})
	}
	if !oneTime { // without durations there is no speed to judge a fix by
		w = appendCount(w, WarnGPSSpike, dropGPSSpikes(r.Points, r.Sport.Info().MaxSpeedMps), "GPS fixes implying an impossible speed were dropped")
	}
	if r.StartTime.IsZero() || r.StartTime.After(r.Points[0].Time) {
		r.StartTime = r.Points[0].Time
	}
	return w
}

// sameInstantTolerance is how far apart two timestamps may be and still be
// one time written with different precisions.
const sameInstantTolerance = time.Millisecond

// sameInstant reports whether all points' times lie within
// sameInstantTolerance of each other, and if so sets them all to the
// earliest, so that no interval is negative.
func sameInstant(pts []Point) bool {
	lo, hi := pts[0].Time, pts[0].Time
	for _, p := range pts[1:] {
		if p.Time.Before(lo) {
			lo = p.Time
		}
		if p.Time.After(hi) {
			hi = p.Time
		}
	}
	if hi.Sub(lo) >= sameInstantTolerance {
		return false
	}
	for i := range pts {
		pts[i].Time = lo
	}
	return true
}

func appendCount(w []Warning, code string, n int, detail string) []Warning {
	if n == 0 {
		return w
	}
	return append(w, Warning{Code: code, Count: n, Detail: detail})
}

func validLatLon(lat, lon float64) bool {
	return Has(lat) && Has(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 &&
		!math.IsInf(lat, 0) && !math.IsInf(lon, 0)
}

func dropInvalidPositions(pts []Point) int {
	n := 0
	for i := range pts {
		p := &pts[i]
		if !Has(p.Lat) && !Has(p.Lon) {
			continue
		}
		if !validLatLon(p.Lat, p.Lon) {
			p.Lat, p.Lon = Missing, Missing
			n++
		}
	}
	return n
}

// dropInvalidValues removes values outside their physical range. A heart
// rate of 0 is how several formats write "no reading" and is dropped
// silently; other drops are counted.
func dropInvalidValues(pts []Point) int {
	n := 0
	clamp := func(v *float64, r [2]float64) {
		if Has(*v) && (*v < r[0] || *v > r[1]) {
			*v = Missing
			n++
		}
	}
	for i := range pts {
		p := &pts[i]
		if p.HeartRate == 0 {
			p.HeartRate = Missing
		}
		clamp(&p.HeartRate, heartRateRange)
		clamp(&p.Cadence, cadenceRange)
		clamp(&p.Power, powerRange)
		clamp(&p.Altitude, altitudeRange)
		clamp(&p.Speed, speedRange)
		clamp(&p.Temperature, temperatureRange)
		if Has(p.Distance) && (p.Distance < 0 || p.Distance > 1e8) {
			p.Distance = Missing
			n++
		}
	}
	return n
}

// sortByTime sorts points by time (stable, so equal times keep file order)
// and returns how many points were out of order.
func sortByTime(pts []Point) int {
	regressions := 0
	for i := 1; i < len(pts); i++ {
		if pts[i].Time.Before(pts[i-1].Time) {
			regressions++
		}
	}
	if regressions > 0 {
		slices.SortStableFunc(pts, func(a, b Point) int { return a.Time.Compare(b.Time) })
	}
	return regressions
}

// dropTimeOutliers removes small groups of points separated from the rest
// by more than timeClusterGap: a point dated a year before the others is a
// clock error, not a year-long activity. The largest group is always kept,
// and a group is dropped only if it holds at most max(2, 1%) of the points,
// so a genuinely long recording (a multi-day log) is left alone.
func dropTimeOutliers(pts []Point) ([]Point, int) {
	if len(pts) < 2 {
		return pts, 0
	}
	type span struct{ from, to int }
	var groups []span
	from := 0
	for i := 1; i < len(pts); i++ {
		if pts[i].Time.Sub(pts[i-1].Time) > timeClusterGap {
			groups = append(groups, span{from, i})
			from = i
		}
	}
	if len(groups) == 0 {
		return pts, 0
	}
	groups = append(groups, span{from, len(pts)})
	largest := 0
	for i, g := range groups {
		if g.to-g.from > groups[largest].to-groups[largest].from {
			largest = i
		}
	}
	small := max(2, len(pts)/100)
	out := pts[:0]
	dropped := 0
	for i, g := range groups {
		if i != largest && g.to-g.from <= small {
			dropped += g.to - g.from
			continue
		}
		out = append(out, pts[g.from:g.to]...)
	}
	return out, dropped
}

// mergeDuplicateTimes merges runs of points with the same timestamp into
// one: the first point's values win, missing ones are filled from the others
// (devices write a position record and a sensor record for the same second).
func mergeDuplicateTimes(pts []Point) ([]Point, int) {
	if len(pts) < 2 {
		return pts, 0
	}
	out := pts[:1]
	merged := 0
	for i := 1; i < len(pts); i++ {
		last := &out[len(out)-1]
		if !pts[i].Time.Equal(last.Time) {
			out = append(out, pts[i])
			continue
		}
		merged++
		q := &pts[i]
		if !last.HasPosition() && q.HasPosition() {
			last.Lat, last.Lon = q.Lat, q.Lon
		}
		fill(&last.Altitude, q.Altitude)
		fill(&last.HeartRate, q.HeartRate)
		fill(&last.Cadence, q.Cadence)
		fill(&last.Power, q.Power)
		fill(&last.Speed, q.Speed)
		fill(&last.Distance, q.Distance)
		fill(&last.Temperature, q.Temperature)
	}
	return out, merged
}

func fill(dst *float64, v float64) {
	if !Has(*dst) {
		*dst = v
	}
}

// dropGPSSpikes removes the position of fixes reached from the last good fix
// at more than maxSpeed (and by more than spikeMinJumpM). After
// spikeResetAfter rejections in a row the anchor itself is presumed wrong
// and the track resumes from the current fix.
func dropGPSSpikes(pts []Point, maxSpeed float64) int {
	anchor := -1
	rejected, dropped := 0, 0
	var pending []int
	for i := range pts {
		p := &pts[i]
		if !p.HasPosition() {
			continue
		}
		if anchor < 0 {
			anchor = i
			continue
		}
		a := &pts[anchor]
		d := haversine(a.Lat, a.Lon, p.Lat, p.Lon)
		dt := p.Time.Sub(a.Time).Seconds()
		if d > spikeMinJumpM && (dt <= 0 || d/dt > maxSpeed) {
			rejected++
			pending = append(pending, i)
			if rejected < spikeResetAfter {
				continue
			}
			// The anchor was the outlier: drop it and accept this run.
			pts[anchor].Lat, pts[anchor].Lon = Missing, Missing
			dropped++
			anchor = i
			rejected, pending = 0, pending[:0]
			continue
		}
		for _, j := range pending {
			pts[j].Lat, pts[j].Lon = Missing, Missing
			dropped++
		}
		anchor, rejected, pending = i, 0, pending[:0]
	}
	for _, j := range pending {
		pts[j].Lat, pts[j].Lon = Missing, Missing
		dropped++
	}
	return dropped
}
