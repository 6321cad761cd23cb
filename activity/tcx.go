package activity

import (
	"encoding/xml"
	"errors"
	"time"
)

// tcxHandler reads Garmin Training Center XML v2: activities, laps with
// their totals, and track points with position, altitude, distance, heart
// rate, cadence and the ActivityExtension v2 speed, run cadence and watts.
// Several Activity elements are merged into one recording.
type tcxHandler struct {
	rec       *Recording
	maxPoints int
	sport     string
	creator   string
	inPoint   bool
	inLap     bool
	cur       Point
	curTimed  bool
	untimed   int
	lap       Lap
	lapCad    float64
	activity  int
}

func parseTCX(data []byte, lim Limits) (*Recording, []Warning, error) {
	h := &tcxHandler{rec: newRecording(FormatTCX), maxPoints: lim.MaxPoints}
	h.rec.Points = make([]Point, 0, min(len(data)/250+16, lim.MaxPoints))
	var warnings []Warning
	err := walkXML(data, h)
	switch {
	case errors.Is(err, errTooManyPoints):
		return nil, nil, newError(CodeTooLarge, "TCX file has more than %d track points", lim.MaxPoints)
	case errors.Is(err, errXMLEntities):
		return nil, nil, wrapError(CodeCorrupt, err, "unsafe TCX")
	case errors.Is(err, errTruncatedXML) && len(h.rec.Points) > 0:
		warnings = append(warnings, Warning{Code: WarnTruncated,
			Detail: "TCX document ends before its elements are closed; kept the complete track points"})
	case err != nil && len(h.rec.Points) > 0:
		// A structural error after complete points (an unclosed element, a
		// stray end tag): keep what was read before it, say so.
		warnings = append(warnings, Warning{Code: WarnDecodeError,
			Detail: "malformed TCX (" + err.Error() + "); kept the complete track points before the error"})
	case err != nil:
		if len(trimBOMAndSpace(data)) == 0 {
			return nil, nil, newError(CodeNoData, "the TCX file is empty")
		}
		return nil, nil, wrapError(CodeCorrupt, err, "malformed TCX")
	}
	if h.activity == 0 {
		return nil, warnings, newError(CodeNoData, "the TCX file has no <Activity> (courses and workouts are not activities)")
	}
	if h.untimed > 0 {
		warnings = append(warnings, Warning{Code: WarnMissingTime, Count: h.untimed,
			Detail: "TCX track points without <Time> were dropped"})
	}
	r := h.rec
	r.Sport = SportFromName(h.sport)
	r.Device = h.creator
	r.Summary = sumLaps(r.Laps)
	switch {
	case len(r.Laps) > 0 && !r.Laps[0].StartTime.IsZero():
		r.StartTime = r.Laps[0].StartTime
	case len(r.Points) > 0:
		r.StartTime = r.Points[0].Time
	}
	return r, warnings, nil
}

// sumLaps builds the device summary of a TCX file from its laps: TCX has no
// session element, the laps' totals are the device's own figures.
func sumLaps(laps []Lap) DeviceSummary {
	s := emptySummary()
	var hrWeighted, hrTime, cadWeighted, cadTime float64
	for _, l := range laps {
		s.TimerS = addPresent(s.TimerS, l.TimerS)
		s.DistanceM = addPresent(s.DistanceM, l.DistanceM)
		s.Calories = addPresent(s.Calories, l.Calories)
		s.MaxHR = maxPresent(s.MaxHR, l.MaxHR)
		s.MaxSpeed = maxPresent(s.MaxSpeed, l.MaxSpeed)
		s.MaxPower = maxPresent(s.MaxPower, l.MaxPower)
		if Has(l.AvgHR) && Has(l.TimerS) {
			hrWeighted += l.AvgHR * l.TimerS
			hrTime += l.TimerS
		}
		if Has(l.AvgCadence) && Has(l.TimerS) {
			cadWeighted += l.AvgCadence * l.TimerS
			cadTime += l.TimerS
		}
	}
	if hrTime > 0 {
		s.AvgHR = hrWeighted / hrTime
	}
	if cadTime > 0 {
		s.AvgCadence = cadWeighted / cadTime
	}
	if Has(s.DistanceM) && Has(s.TimerS) && s.TimerS > 0 {
		s.AvgSpeed = s.DistanceM / s.TimerS
	}
	// A TCX lap has no elapsed time: the span from the first lap start to
	// the end of the last lap is the best the file says about it.
	if n := len(laps); n > 0 && Has(laps[n-1].TimerS) && !laps[0].StartTime.IsZero() {
		end := laps[n-1].StartTime.Add(time.Duration(laps[n-1].TimerS * float64(time.Second)))
		s.ElapsedS = end.Sub(laps[0].StartTime).Seconds()
	}
	return s
}

func addPresent(acc, v float64) float64 {
	if !Has(v) {
		return acc
	}
	if !Has(acc) {
		return v
	}
	return acc + v
}

func maxPresent(acc, v float64) float64 {
	if !Has(v) {
		return acc
	}
	if !Has(acc) || v > acc {
		return v
	}
	return acc
}

func (h *tcxHandler) start(stack []string, attrs []xml.Attr) error {
	switch stack[len(stack)-1] {
	case "Activity":
		h.activity++
		if v, ok := attr(attrs, "Sport"); ok && h.sport == "" {
			h.sport = v
		}
	case "Lap":
		h.inLap = true
		h.lap = newLap(time.Time{})
		h.lapCad = Missing
		if v, ok := attr(attrs, "StartTime"); ok {
			h.lap.StartTime, _ = parseXMLTime([]byte(v))
		}
	case "Trackpoint":
		if len(h.rec.Points) >= h.maxPoints {
			return errTooManyPoints
		}
		h.inPoint = true
		h.curTimed = false
		h.cur = newPoint(time.Time{})
	}
	return nil
}

func (h *tcxHandler) end(stack []string, text []byte) error {
	name := stack[len(stack)-1]
	parent := xmlParent(stack)
	if h.inPoint {
		p := &h.cur
		switch name {
		case "Trackpoint":
			h.inPoint = false
			if !h.curTimed {
				h.untimed++
				return nil
			}
			h.rec.Points = append(h.rec.Points, h.cur)
		case "Time":
			p.Time, h.curTimed = parseXMLTime(text)
		case "LatitudeDegrees":
			p.Lat = parseCoordinate(string(text))
		case "LongitudeDegrees":
			p.Lon = parseCoordinate(string(text))
		case "AltitudeMeters":
			p.Altitude = parseNumber(text)
		case "DistanceMeters":
			p.Distance = parseNumber(text)
		case "Value":
			if parent == "HeartRateBpm" {
				p.HeartRate = parseNumber(text)
			}
		case "Cadence", "RunCadence":
			p.Cadence = parseNumber(text)
		case "Speed":
			p.Speed = parseNumber(text)
		case "Watts":
			p.Power = parseNumber(text)
		}
		return nil
	}
	if h.inLap {
		l := &h.lap
		switch name {
		case "Lap":
			h.inLap = false
			if !Has(l.AvgCadence) {
				l.AvgCadence = h.lapCad
			}
			h.rec.Laps = append(h.rec.Laps, h.lap)
		case "TotalTimeSeconds":
			l.TimerS = parseNumber(text)
		case "DistanceMeters":
			l.DistanceM = parseNumber(text)
		case "MaximumSpeed":
			l.MaxSpeed = parseNumber(text)
		case "Calories":
			l.Calories = parseNumber(text)
		case "Value":
			switch parent {
			case "AverageHeartRateBpm":
				l.AvgHR = parseNumber(text)
			case "MaximumHeartRateBpm":
				l.MaxHR = parseNumber(text)
			}
		case "Cadence":
			h.lapCad = parseNumber(text)
		case "AvgRunCadence":
			l.AvgCadence = parseNumber(text)
		case "AvgSpeed":
			l.AvgSpeed = parseNumber(text)
		case "AvgWatts":
			l.AvgPower = parseNumber(text)
		case "MaxWatts":
			l.MaxPower = parseNumber(text)
		case "TriggerMethod":
			l.Trigger = string(text)
		}
		return nil
	}
	switch name {
	case "Name":
		if parent == "Creator" && h.creator == "" {
			h.creator = string(text)
		}
	case "Notes":
		if parent == "Activity" && h.rec.Name == "" {
			h.rec.Name = string(text)
		}
	case "Id":
		if parent == "Activity" && h.rec.ExternalID == "" {
			h.rec.ExternalID = string(text)
		}
	}
	return nil
}
