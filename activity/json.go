package activity

import (
	"bytes"
	"encoding/json"
	"time"
)

// JSONActivity is the body of a JSON upload (POST /api/v1/activities with
// Content-Type application/json). Optional numbers are pointers so that an
// absent field is told apart from zero.
type JSONActivity struct {
	Sport      string      `json:"sport"`
	StartTime  time.Time   `json:"start_time"`
	Name       string      `json:"name,omitempty"`
	ElapsedS   *float64    `json:"elapsed_s,omitempty"`
	DistanceM  *float64    `json:"distance_m,omitempty"`
	Calories   *float64    `json:"calories,omitempty"`
	ExternalID string      `json:"external_id,omitempty"`
	Points     []JSONPoint `json:"points"`
}

// JSONPoint is one point of a JSON upload.
type JSONPoint struct {
	T     time.Time `json:"t"`
	Lat   *float64  `json:"lat,omitempty"`
	Lon   *float64  `json:"lon,omitempty"`
	Ele   *float64  `json:"ele,omitempty"`
	HR    *float64  `json:"hr,omitempty"`
	Cad   *float64  `json:"cad,omitempty"`
	Power *float64  `json:"power,omitempty"`
	Speed *float64  `json:"speed,omitempty"`
}

func parseJSON(data []byte, lim Limits) (*Recording, []Warning, error) {
	var a JSONActivity
	d := json.NewDecoder(bytes.NewReader(trimBOMAndSpace(data)))
	if err := d.Decode(&a); err != nil {
		return nil, nil, wrapError(CodeCorrupt, err, "malformed JSON activity")
	}
	return fromJSON(&a, lim)
}

// FromJSON turns a decoded JSON upload into a cleaned Recording, as Parse
// does for files. The upload's elapsed_s, distance_m and calories are the
// device's summary. Points beyond lim.MaxPoints are refused.
func FromJSON(a *JSONActivity, lim Limits) (*Recording, []Warning, error) {
	rec, warnings, err := fromJSON(a, lim.withDefaults())
	if err != nil {
		return nil, warnings, err
	}
	warnings = append(warnings, Clean(rec)...)
	if !rec.hasData() {
		return nil, warnings, newError(CodeNoData, "the JSON activity has no point with a time and no elapsed_s or distance_m")
	}
	return rec, warnings, nil
}

func fromJSON(a *JSONActivity, lim Limits) (*Recording, []Warning, error) {
	if a == nil {
		return nil, nil, newError(CodeNoData, "no JSON activity")
	}
	if len(a.Points) > lim.MaxPoints {
		return nil, nil, newError(CodeTooLarge, "%d points, the limit is %d", len(a.Points), lim.MaxPoints)
	}
	r := newRecording(FormatJSON)
	r.Sport = SportFromName(a.Sport)
	r.Name = a.Name
	r.ExternalID = a.ExternalID
	r.StartTime = a.StartTime.UTC()
	if a.ElapsedS != nil {
		r.Summary.ElapsedS = *a.ElapsedS
	}
	if a.DistanceM != nil {
		r.Summary.DistanceM = *a.DistanceM
	}
	if a.Calories != nil {
		r.Summary.Calories = *a.Calories
	}
	var warnings []Warning
	untimed := 0
	r.Points = make([]Point, 0, len(a.Points))
	for i := range a.Points {
		jp := &a.Points[i]
		if jp.T.IsZero() {
			untimed++
			continue
		}
		p := newPoint(jp.T.UTC())
		p.Lat, p.Lon = opt(jp.Lat), opt(jp.Lon)
		p.Altitude = opt(jp.Ele)
		p.HeartRate = opt(jp.HR)
		p.Cadence = opt(jp.Cad)
		p.Power = opt(jp.Power)
		p.Speed = opt(jp.Speed)
		r.Points = append(r.Points, p)
	}
	if untimed > 0 {
		warnings = append(warnings, Warning{Code: WarnMissingTime, Count: untimed, Detail: "points without \"t\" were dropped"})
	}
	if r.StartTime.IsZero() && len(r.Points) > 0 {
		r.StartTime = r.Points[0].Time
	}
	return r, warnings, nil
}

func opt(v *float64) float64 {
	if v == nil {
		return Missing
	}
	return *v
}
