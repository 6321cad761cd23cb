package http

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/store"
)

// activityJSON is the seed's ActivitySession, in SI units.
type activityJSON struct {
	ID             string         `json:"id"`
	UserID         string         `json:"user_id"`
	UploadID       string         `json:"upload_id"`
	ParentID       *string        `json:"parent_id"`
	Sport          string         `json:"sport"`
	SubSport       *string        `json:"sub_sport"`
	Name           string         `json:"name"`
	Description    string         `json:"description"`
	Visibility     string         `json:"visibility"`
	Indoor         bool           `json:"indoor"`
	Virtual        bool           `json:"virtual"`
	StartTime      string         `json:"start_time"`
	EndTime        string         `json:"end_time"`
	LocalStartTime string         `json:"local_start_time"`
	TimeZone       *string        `json:"time_zone"`
	UTCOffsetS     *int           `json:"utc_offset_s"`
	ElapsedS       float64        `json:"elapsed_s"`
	MovingS        float64        `json:"moving_s"`
	DistanceM      float64        `json:"distance_m"`
	AscentM        float64        `json:"ascent_m"`
	DescentM       float64        `json:"descent_m"`
	AvgSpeedMps    float64        `json:"avg_speed_mps"`
	MaxSpeedMps    float64        `json:"max_speed_mps"`
	AvgHR          *float64       `json:"avg_hr"`
	MaxHR          *float64       `json:"max_hr"`
	Calories       float64        `json:"calories"`
	Polyline       *string        `json:"polyline"`
	BBox           []float64      `json:"bbox"`
	StartLatLng    []float64      `json:"start_latlng"`
	EndLatLng      []float64      `json:"end_latlng"`
	Device         *string        `json:"device"`
	Metrics        map[string]any `json:"metrics"`
	Children       []activityJSON `json:"children,omitempty"`
	CreatedAt      string         `json:"created_at"`
}

func toActivityJSON(a *stride.Activity, withDetails bool) activityJSON {
	j := activityJSON{
		ID: a.ID, UserID: a.UserID, UploadID: a.UploadID, ParentID: nonEmpty(a.ParentID), Sport: a.Sport, SubSport: nonEmpty(a.SubSport),
		Name: a.Name, Description: a.Description, Visibility: a.Visibility, Indoor: a.Indoor, Virtual: a.Virtual,
		StartTime: rfc3339(a.StartTime), EndTime: rfc3339(a.EndTime), LocalStartTime: a.LocalStart, TimeZone: nonEmpty(a.TimeZone),
		UTCOffsetS: a.UTCOffsetS, ElapsedS: a.ElapsedS, MovingS: a.MovingS, DistanceM: a.DistanceM, AscentM: a.AscentM,
		DescentM: a.DescentM, AvgSpeedMps: a.AvgSpeedMps, MaxSpeedMps: a.MaxSpeedMps, AvgHR: a.AvgHR, MaxHR: a.MaxHR,
		Calories: a.Calories, Polyline: nonEmpty(a.Polyline), BBox: a.BBox, StartLatLng: a.StartLatLng, EndLatLng: a.EndLatLng,
		Device: nonEmpty(a.Device), CreatedAt: rfc3339(a.CreatedAt), Metrics: map[string]any{},
	}
	if withDetails && len(a.Details) > 0 {
		_ = json.Unmarshal(a.Details, &j.Metrics)
	}
	for i := range a.Children {
		j.Children = append(j.Children, toActivityJSON(&a.Children[i], withDetails))
	}
	return j
}

func (s *Server) handleActivity(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	a, err := s.activities.Activity(r.Context(), p.User.ID, r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toActivityJSON(a, true))
}

// streamsJSON holds the requested streams by type, aligned by index;
// missing samples are null. latlng pairs are [lat, lon].
type streamsJSON struct {
	Points  int            `json:"points"`
	Streams map[string]any `json:"streams"`
}

func floats(v []float64) []*float64 {
	if v == nil {
		return nil
	}
	out := make([]*float64, len(v))
	for i := range v {
		if !math.IsNaN(v[i]) {
			out[i] = &v[i]
		}
	}
	return out
}

func (s *Server) handleStreams(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	var types []string
	if t := r.URL.Query().Get("types"); t != "" {
		types = strings.Split(t, ",")
	}
	st, err := s.activities.Streams(r.Context(), p.User.ID, r.PathValue("id"), types)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, encodeStreams(st))
}

func encodeStreams(st *activity.Streams) streamsJSON {
	out := streamsJSON{Points: len(st.Time), Streams: map[string]any{}}
	add := func(name string, v []float64) {
		if v != nil {
			out.Streams[name] = floats(v)
		}
	}
	add("time", st.Time)
	add("altitude", st.Altitude)
	add("heartrate", st.HeartRate)
	add("cadence", st.Cadence)
	add("watts", st.Watts)
	add("velocity", st.Velocity)
	add("distance", st.Distance)
	if st.LatLng != nil {
		ll := make([]*[2]float64, len(st.LatLng))
		for i := range st.LatLng {
			if !math.IsNaN(st.LatLng[i][0]) {
				ll[i] = &st.LatLng[i]
			}
		}
		out.Streams["latlng"] = ll
	}
	if out.Points == 0 {
		for _, v := range out.Streams {
			if f, ok := v.([]*float64); ok {
				out.Points = len(f)
			}
		}
	}
	return out
}

func (s *Server) handleUserActivities(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	page, err := pageParams(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q := r.URL.Query()
	f := store.ActivityFilter{Sport: q.Get("sport")}
	var v stride.Validation
	for field, dst := range map[string]*time.Time{"after": &f.After, "before": &f.Before} {
		if raw := q.Get(field); raw != "" {
			t, err := time.Parse(time.RFC3339, raw)
			if err != nil {
				v.Add(field, "must be an RFC 3339 time such as 2026-01-31T00:00:00Z")
			}
			*dst = t
		}
	}
	if err := v.Err(); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	list, next, err := s.activities.List(r.Context(), p.User.ID, r.PathValue("id"), f, page)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items := make([]activityJSON, len(list))
	for i := range list {
		items[i] = toActivityJSON(&list[i], false)
	}
	writeJSON(w, http.StatusOK, newList(items, next))
}

// ownActivity answers 404 for an activity the caller cannot see and 403 for
// one they can see but do not own.
func (s *Server) ownActivity(w http.ResponseWriter, r *http.Request, p *account.Principal) bool {
	a, err := s.activities.Activity(r.Context(), p.User.ID, r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return false
	}
	if a.UserID != p.User.ID || a.ParentID != "" {
		writeError(w, r, s.log, stride.Errorf(stride.EFORBIDDEN, "Only the athlete who recorded this activity may change it (a multisport leg changes with its parent)."))
		return false
	}
	return true
}

type activityPatch struct {
	Name        Optional[string] `json:"name"`
	Description Optional[string] `json:"description"`
	Visibility  Optional[string] `json:"visibility"`
	Sport       Optional[string] `json:"sport"`
}

func (s *Server) handlePatchActivity(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	if !s.ownActivity(w, r, p) {
		return
	}
	var req activityPatch
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var v stride.Validation
	for field, o := range map[string]Optional[string]{"name": req.Name, "visibility": req.Visibility, "sport": req.Sport} {
		if o.Set && o.Null {
			v.Add(field, "cannot be null")
		}
	}
	if err := v.Err(); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	upd := store.ActivityUpdate{Name: req.Name.Ptr(), Description: req.Description.Ptr(), Visibility: req.Visibility.Ptr(), Sport: req.Sport.Ptr()}
	if req.Description.Null {
		empty := ""
		upd.Description = &empty
	}
	a, err := s.uploads.UpdateActivity(r.Context(), p.User.ID, r.PathValue("id"), upd)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toActivityJSON(a, true))
}

func (s *Server) handleDeleteActivity(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	if !s.ownActivity(w, r, p) {
		return
	}
	if err := s.uploads.DeleteActivity(r.Context(), p.User.ID, r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
