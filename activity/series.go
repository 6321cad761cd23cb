package activity

import (
	"math"
	"slices"
	"time"
)

// Pause detection without timer events: a recording gap longer than
// pauseGapMinS (and than pauseGapMedianFactor sampling intervals) during
// which the athlete covered less than stationarySpeedMps on average is a
// pause (auto-pause of a device that does not write timer events, or a GPX
// logger that stopped while standing). A long gap while moving (tunnel,
// smart recording on a straight road) stays active.
const (
	pauseGapMinS          = 10.0
	pauseGapMedianFactor  = 5.0
	stationarySpeedMps    = 0.5
	movingSpeedFootMps    = 0.5 // below: standing, for moving time
	movingSpeedDefaultMps = 1.0
)

// series holds per-point figures derived once and shared by every metric.
// Index i describes point i; interval i is the time from point i-1 to i.
type series struct {
	t               []float64 // seconds since the first point
	dt              []float64 // active seconds of interval i (0 when paused; dt[0] = 0)
	dist            []float64 // cumulative distance at point i, m
	speed           []float64 // m/s at point i; NaN when unknown
	hasDist         bool      // dist is meaningful (distance stream or positions)
	hasSpeed        bool
	elapsedS        float64
	timerS          float64
	movingS         float64
	distanceM       float64
	maxSpeed        float64
	speedFromDevice bool
	medianIntervalS float64 // median time between points
}

// buildSeries derives the per-point series of rec. next is the first point
// of the following session of a multisport recording (zero otherwise): a
// session lasts until the next one starts, a moment its own points, which
// stop at the last whole-second record, do not reach.
func buildSeries(rec *Recording, next time.Time) *series {
	pts := rec.Points
	n := len(pts)
	s := &series{t: make([]float64, n), dt: make([]float64, n), dist: make([]float64, n), speed: make([]float64, n)}
	if n == 0 {
		s.timerS = timerFromEvents(rec.Timer, time.Time{}, time.Time{})
		s.distanceM = poolDistance(rec)
		return s
	}
	t0 := pts[0].Time
	for i := range pts {
		s.t[i] = pts[i].Time.Sub(t0).Seconds()
	}
	s.medianIntervalS = medianInterval(s.t)
	first, last := recordingBounds(pts, rec.Timer, next, s.medianIntervalS)
	s.elapsedS = last.Sub(first).Seconds()

	s.buildDistance(rec)
	if len(rec.Timer) > 0 && hasStart(rec.Timer) {
		s.markPausesFromEvents(pts, rec.Timer)
		s.timerS = timerFromEvents(rec.Timer, pts[0].Time, last)
	} else {
		s.markPausesFromGaps()
		for _, d := range s.dt {
			s.timerS += d
		}
		// The time from the last point to the end of the session (the next
		// session's start) was active: the timer ran into the next sport.
		s.timerS += last.Sub(pts[n-1].Time).Seconds()
	}
	s.buildSpeed(pts, rec.Sport.Info())
	// The timer may stop a second or more after the last point (the device
	// stopped it before the next record was due, see recordingBounds): the
	// athlete kept moving until then, and the device totals that distance
	// too. It is carried at the last point's speed. (Not so at a multisport
	// switch: the next session's first point carries on from the same
	// distance.)
	if stop, ok := closingStop(rec.Timer, pts[n-1].Time, last); ok && s.hasDist {
		if v := s.speed[n-1]; Has(v) && v > 0 {
			s.distanceM += stop.Sub(pts[n-1].Time).Seconds() * v
		}
	}
	return s
}

// closingStop is the stop event that closed the timer's last running
// period after the last point and no later than the end (last) found by
// recordingBounds; ok is false when there is none.
func closingStop(ev []TimerEvent, lastPoint, last time.Time) (stop time.Time, ok bool) {
	lastStart := -1
	for i, e := range ev {
		if e.Start {
			lastStart = i
		}
	}
	if lastStart < 0 {
		return time.Time{}, false
	}
	for _, e := range ev[lastStart+1:] {
		if !e.Start {
			return e.Time, e.Time.After(lastPoint) && !e.Time.After(last)
		}
	}
	return time.Time{}, false
}

// recordingBounds returns when the recording started and ended, from its
// points and timer events:
//
//   - The start is the first timer start when the timer's first event is a
//     start (devices log a fix or two before it), else the first point (a
//     first event that is a stop means the timer was already running: a
//     multisport session continuing the previous one's timer).
//   - The end is the last point, or the stop event that closes the last
//     running period when it comes within one sampling interval after the
//     last point: the device stopped its timer before the next record was
//     due, and it totals up to that stop. A stop event much later is not the
//     end: apps such as Zwift write their final stop long after the last
//     record, and devices add stop_disable events at power-off.
//   - In a multisport recording, a session without such a stop ends where
//     the next session's points start, when that is no longer than a pause
//     gap away (see pauseGapMinS).
func recordingBounds(pts []Point, ev []TimerEvent, next time.Time, medianS float64) (first, last time.Time) {
	first, last = pts[0].Time, pts[len(pts)-1].Time
	if len(ev) > 0 && ev[0].Start && ev[0].Time.Before(last) {
		first = ev[0].Time
	}
	window := time.Duration(math.Max(1, medianS) * float64(time.Second))
	lastStart := -1
	for i, e := range ev {
		if e.Start {
			lastStart = i
		}
	}
	closed := false
	for i := lastStart + 1; i < len(ev) && lastStart >= 0; i++ {
		if !ev[i].Start {
			if !ev[i].Time.Before(last) && ev[i].Time.Sub(last) <= window {
				last, closed = ev[i].Time, true
				// A pause (plain stop) followed by the end of the
				// activity (stop_all): the athlete stopped the timer, then
				// saved; the activity, and its elapsed time, lasted until
				// the save (Wahoo). The timer still ends at the pause.
				if !ev[i].All && i+1 < len(ev) && !ev[i+1].Start && ev[i+1].All {
					last = ev[i+1].Time
				}
			}
			break
		}
	}
	if !closed && !next.IsZero() && next.After(last) {
		gap := time.Duration(math.Max(pauseGapMinS, pauseGapMedianFactor*medianS) * float64(time.Second))
		if next.Sub(last) <= gap {
			last = sessionBoundary(last, next, medianS)
		}
	}
	return first, last
}

// sessionBoundary estimates when a multisport session ended, between its
// last point and the next session's first one. Timestamps are whole
// seconds. A device recording every second keeps its 1 s schedule across
// the switch, so the switch fell anywhere between the two points: the
// midpoint errs by at most half the gap. A device recording sparsely (smart
// recording, open-water swims) writes a point when the new session starts,
// so the switch is the next session's first point.
func sessionBoundary(last, next time.Time, medianS float64) time.Time {
	if medianS <= 1 {
		return last.Add(next.Sub(last) / 2)
	}
	return next
}

// medianInterval is the median time between consecutive points, in s.
func medianInterval(t []float64) float64 {
	if len(t) < 2 {
		return 0
	}
	intervals := make([]float64, 0, len(t)-1)
	for i := 1; i < len(t); i++ {
		intervals = append(intervals, t[i]-t[i-1])
	}
	slices.Sort(intervals)
	return intervals[len(intervals)/2]
}

func hasStart(ev []TimerEvent) bool {
	for _, e := range ev {
		if e.Start {
			return true
		}
	}
	return false
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// poolDistance is the distance of a pool swim without a distance stream:
// active lengths × pool length.
func poolDistance(rec *Recording) float64 {
	if rec.Lengths > 0 && Has(rec.PoolLengthM) {
		return float64(rec.Lengths) * rec.PoolLengthM
	}
	return 0
}

// buildDistance fills the cumulative distance: from the device's distance
// stream when most points carry one (it comes from a wheel sensor, a foot
// pod or the device's filtered GPS and is what the device totals), else the
// geodesic length of the track, else active pool lengths.
func (s *series) buildDistance(rec *Recording) {
	pts := rec.Points
	withDist := 0
	for i := range pts {
		if Has(pts[i].Distance) {
			withDist++
		}
	}
	if withDist > 0 && withDist*2 >= len(pts) {
		// A device stream may restart from zero (a new session written in
		// the same record stream): a drop counts as a restart.
		total, prev := 0.0, 0.0
		for i := range pts {
			if d := pts[i].Distance; Has(d) {
				if d >= prev {
					total += d - prev
				} else if prev-d > 100 {
					total += d
				}
				// A small step back is sensor jitter: ignore it.
				if d >= prev || prev-d > 100 {
					prev = d
				}
			}
			s.dist[i] = total
		}
		s.distanceM, s.hasDist = total, true
		return
	}
	total := 0.0
	prev := -1
	for i := range pts {
		if pts[i].HasPosition() {
			if prev >= 0 {
				total += haversine(pts[prev].Lat, pts[prev].Lon, pts[i].Lat, pts[i].Lon)
			}
			prev = i
			s.hasDist = true
		}
		s.dist[i] = total
	}
	s.distanceM = total
	if !s.hasDist {
		s.distanceM = poolDistance(rec)
	}
}

// markPausesFromEvents sets dt for every interval whose middle falls while
// the timer ran, per the device's start/stop events.
func (s *series) markPausesFromEvents(pts []Point, ev []TimerEvent) {
	k := 0
	running := false
	if len(ev) > 0 && pts[0].Time.Before(ev[0].Time) {
		running = !ev[0].Start // before a first stop, the timer ran
	}
	for i := 1; i < len(pts); i++ {
		mid := pts[i-1].Time.Add(pts[i].Time.Sub(pts[i-1].Time) / 2)
		for k < len(ev) && !ev[k].Time.After(mid) {
			running = ev[k].Start
			k++
		}
		if running {
			s.dt[i] = s.t[i] - s.t[i-1]
		}
	}
}

// timerFromEvents sums the periods between timer starts and stops. A
// recording that ends with the timer running is closed at its end (lastPoint:
// the last point, or the stop that closes it, see recordingBounds).
func timerFromEvents(ev []TimerEvent, firstPoint, lastPoint time.Time) float64 {
	var total time.Duration
	var startedAt time.Time
	running := false
	if len(ev) > 0 && !ev[0].Start && !firstPoint.IsZero() && ev[0].Time.After(firstPoint) {
		// A first event that is a stop: the timer was already running when
		// the recording began (a multisport session continuing the previous
		// session's timer, or a start event the device did not write).
		running, startedAt = true, firstPoint
	}
	for _, e := range ev {
		switch {
		case e.Start && !running:
			running, startedAt = true, e.Time
		case !e.Start && running:
			running = false
			end := e.Time
			if !lastPoint.IsZero() && end.After(lastPoint) {
				end = maxTime(lastPoint, startedAt) // nothing was recorded after the last point
			}
			if end.After(startedAt) {
				total += end.Sub(startedAt)
			}
		}
	}
	if running && lastPoint.After(startedAt) {
		total += lastPoint.Sub(startedAt)
	}
	return total.Seconds()
}

// markPausesFromGaps marks as active every interval that is not a pause per
// the gap rule (see pauseGapMinS).
func (s *series) markPausesFromGaps() {
	n := len(s.t)
	if n < 2 {
		return
	}
	gap := math.Max(pauseGapMinS, pauseGapMedianFactor*s.medianIntervalS)
	for i := 1; i < n; i++ {
		d := s.t[i] - s.t[i-1]
		if d > gap {
			if !s.hasDist || (s.dist[i]-s.dist[i-1])/d < stationarySpeedMps {
				continue
			}
		}
		s.dt[i] = d
	}
}

// buildSpeed sets the speed at each point: the device's speed stream when
// present, else distance over a window of at least speedWindowS seconds,
// which damps GPS jitter that would otherwise make the maximum meaningless.
// It also accumulates moving time: active intervals at or above the sport's
// walking pace threshold.
func (s *series) buildSpeed(pts []Point, info SportInfo) {
	const speedWindowS = 5.0
	withSpeed := 0
	for i := range pts {
		if Has(pts[i].Speed) {
			withSpeed++
		}
	}
	if withSpeed > 0 && withSpeed*2 >= len(pts) {
		s.speedFromDevice = true
		for i := range pts {
			s.speed[i] = pts[i].Speed
		}
	} else if s.hasDist {
		j := 0
		for i := range pts {
			for j < i && s.t[i]-s.t[j+1] >= speedWindowS {
				j++
			}
			if j < i && s.t[i]-s.t[j] > 0 && s.t[i]-s.t[j] <= 4*speedWindowS+pauseGapMinS {
				s.speed[i] = (s.dist[i] - s.dist[j]) / (s.t[i] - s.t[j])
			} else {
				s.speed[i] = Missing
			}
		}
	} else {
		for i := range s.speed {
			s.speed[i] = Missing
		}
	}
	threshold := movingSpeedDefaultMps
	if info.Family == FamilyFoot || info.Family == FamilySwim {
		threshold = movingSpeedFootMps
	}
	for i := range pts {
		v := s.speed[i]
		if Has(v) {
			s.hasSpeed = true
			if (i == 0 || s.dt[i] > 0) && v > s.maxSpeed && v <= info.MaxSpeedMps {
				s.maxSpeed = v
			}
		}
		if s.dt[i] == 0 {
			continue
		}
		if !Has(v) || v >= threshold {
			s.movingS += s.dt[i]
		}
	}
}
