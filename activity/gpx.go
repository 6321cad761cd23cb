package activity

import (
	"encoding/xml"
	"errors"
	"time"
)

// gpxHandler collects track points of every track and segment of a GPX 1.0
// or 1.1 file, with the sensor extensions real exporters write: Garmin
// TrackPointExtension (hr, cad, atemp), Strava/other <power>, and the
// unprefixed or custom-prefixed <heartrate>, <cadence>, <speed>, <temp>
// elements of Amazfit, Movescount and others. Extensions are matched on the
// element's local name wherever they nest inside <extensions>.
type gpxHandler struct {
	rec       *Recording
	maxPoints int
	inPoint   bool
	cur       Point
	curTimed  bool
	untimed   int
	trackType string
	metaName  string
	metaTime  time.Time
	tracks    int
}

var errTooManyPoints = errors.New("too many points")

func parseGPX(data []byte, lim Limits) (*Recording, []Warning, error) {
	h := &gpxHandler{rec: newRecording(FormatGPX), maxPoints: lim.MaxPoints}
	h.rec.Points = make([]Point, 0, min(len(data)/120+16, lim.MaxPoints))
	var warnings []Warning
	err := walkXML(data, h)
	switch {
	case errors.Is(err, errTooManyPoints):
		return nil, nil, newError(CodeTooLarge, "GPX file has more than %d track points", lim.MaxPoints)
	case errors.Is(err, errXMLEntities):
		return nil, nil, wrapError(CodeCorrupt, err, "unsafe GPX")
	case errors.Is(err, errTruncatedXML) && len(h.rec.Points) > 0:
		warnings = append(warnings, Warning{Code: WarnTruncated,
			Detail: "GPX document ends before its elements are closed; kept the complete track points"})
	case err != nil && len(h.rec.Points) > 0:
		// A structural error after complete points (an unclosed element, a
		// stray end tag): keep what was read before it, say so.
		warnings = append(warnings, Warning{Code: WarnDecodeError,
			Detail: "malformed GPX (" + err.Error() + "); kept the complete track points before the error"})
	case err != nil:
		if len(data) == 0 || len(trimBOMAndSpace(data)) == 0 {
			return nil, nil, newError(CodeNoData, "the GPX file is empty")
		}
		return nil, nil, wrapError(CodeCorrupt, err, "malformed GPX")
	}
	if h.tracks == 0 && len(h.rec.Points) == 0 {
		return nil, warnings, newError(CodeNoData, "the GPX file has no track (<trk>); routes and waypoints alone are not an activity")
	}
	if h.untimed > 0 {
		if len(h.rec.Points) == 0 {
			return nil, warnings, newError(CodeNoData, "the GPX track has no timestamps: it is a planned route, not a recorded activity")
		}
		warnings = append(warnings, Warning{Code: WarnMissingTime, Count: h.untimed,
			Detail: "GPX track points without <time> were dropped"})
	}
	r := h.rec
	r.Sport = SportFromName(h.trackType)
	if r.Name == "" {
		r.Name = h.metaName
	}
	if len(r.Points) > 0 {
		r.StartTime = r.Points[0].Time
	} else {
		r.StartTime = h.metaTime
	}
	return r, warnings, nil
}

func (h *gpxHandler) start(stack []string, attrs []xml.Attr) error {
	switch stack[len(stack)-1] {
	case "trk":
		h.tracks++
	case "trkpt":
		if len(h.rec.Points) >= h.maxPoints {
			return errTooManyPoints
		}
		h.inPoint = true
		h.curTimed = false
		h.cur = newPoint(time.Time{})
		// Invalid coordinates are kept as NaN/out-of-range here and removed
		// with a warning by Clean, which also handles other formats.
		if v, ok := attr(attrs, "lat"); ok {
			h.cur.Lat = parseCoordinate(v)
		}
		if v, ok := attr(attrs, "lon"); ok {
			h.cur.Lon = parseCoordinate(v)
		}
	}
	return nil
}

// parseCoordinate parses lat/lon text, keeping out-of-range and infinite
// values (as +Inf) so that Clean can count them as invalid positions.
func parseCoordinate(s string) float64 {
	v := parseNumber([]byte(s))
	if !Has(v) {
		return invalidCoordinate
	}
	return v
}

// invalidCoordinate marks a coordinate that was present but unusable, so
// Clean can tell "no GPS" (Missing) from "garbage GPS" (warned about).
const invalidCoordinate = 1e9

func (h *gpxHandler) end(stack []string, text []byte) error {
	name := stack[len(stack)-1]
	if !h.inPoint {
		switch name {
		case "type":
			if xmlParent(stack) == "trk" && h.trackType == "" {
				h.trackType = string(text)
			}
		case "name":
			switch xmlParent(stack) {
			case "trk":
				if h.rec.Name == "" {
					h.rec.Name = string(text)
				}
			case "metadata", "gpx":
				h.metaName = string(text)
			}
		case "time":
			if p := xmlParent(stack); p == "metadata" || p == "gpx" {
				h.metaTime, _ = parseXMLTime(text)
			}
		}
		return nil
	}
	p := &h.cur
	switch name {
	case "trkpt":
		h.inPoint = false
		if !h.curTimed {
			h.untimed++
			return nil
		}
		h.rec.Points = append(h.rec.Points, h.cur)
	case "ele":
		p.Altitude = parseNumber(text)
	case "time":
		if xmlParent(stack) == "trkpt" {
			p.Time, h.curTimed = parseXMLTime(text)
		}
	case "hr", "heartrate", "HeartRate", "heartRate":
		p.HeartRate = parseNumber(text)
	case "cad", "cadence", "Cadence", "RunCadence":
		p.Cadence = parseNumber(text)
	case "power", "Power", "watts", "Watts", "PowerInWatts":
		p.Power = parseNumber(text)
	case "atemp", "temp", "Temperature", "temperature", "wtemp":
		p.Temperature = parseNumber(text)
	case "speed", "Speed":
		p.Speed = parseNumber(text)
	case "distance", "Distance":
		if xmlInside(stack, "extensions") {
			p.Distance = parseNumber(text)
		}
	}
	return nil
}
