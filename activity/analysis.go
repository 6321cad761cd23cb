package activity

import (
	"math"
	"time"
)

// Analysis is the result of analysing a Recording: the summary the API
// exposes, in SI units, plus detailed Metrics. Summary figures are the
// device's own where the file has them (see Sources) and Stride's otherwise;
// FromPoints always holds what Stride computes from the points alone.
type Analysis struct {
	Sport          Sport     `json:"sport"`
	SubSport       string    `json:"sub_sport,omitempty"`
	Indoor         bool      `json:"indoor"`
	Virtual        bool      `json:"virtual"`
	StartTime      time.Time `json:"start_time"`
	EndTime        time.Time `json:"end_time"`
	LocalStartTime string    `json:"local_start_time,omitempty"` // RFC 3339 with the athlete's UTC offset at the start, when known
	UTCOffsetS     *int      `json:"utc_offset_s,omitempty"`     // from the file (FIT), else from TimeZone at the start
	TimeZone       string    `json:"time_zone,omitempty"`        // IANA name, from the start position or the athlete's profile
	TimeZoneSource string    `json:"time_zone_source,omitempty"` // "position" or "athlete" (TimeZoneFrom...)
	ElapsedS       float64   `json:"elapsed_s"`
	TimerS         float64   `json:"timer_s"`  // elapsed minus pauses (timer stops, auto-pause, recording gaps)
	MovingS        float64   `json:"moving_s"` // timer time while actually moving
	DistanceM      float64   `json:"distance_m"`
	AscentM        float64   `json:"ascent_m"`
	DescentM       float64   `json:"descent_m"`
	AvgSpeedMps    float64   `json:"avg_speed_mps"` // distance / timer time
	MaxSpeedMps    float64   `json:"max_speed_mps"`
	AvgHR          float64   `json:"avg_hr,omitempty"`
	MaxHR          float64   `json:"max_hr,omitempty"`
	Calories       float64   `json:"calories"` // kcal
	Polyline       string    `json:"polyline,omitempty"`
	BBox           []float64 `json:"bbox,omitempty"`         // [min_lon, min_lat, max_lon, max_lat]
	StartLatLng    []float64 `json:"start_latlng,omitempty"` // [lat, lng]
	EndLatLng      []float64 `json:"end_latlng,omitempty"`   // [lat, lng]

	Metrics Metrics `json:"metrics"`
	// Sources says, for each summary field taken from the device's own
	// summary, "device"; fields absent from Sources were computed.
	Sources    map[string]string `json:"sources,omitempty"`
	FromPoints Totals            `json:"from_points"`
	Children   []*Analysis       `json:"children,omitempty"`
	Streams    *Streams          `json:"-"`
}

// Totals are summary figures Stride computes from the points alone,
// ignoring every device summary (session, lap and upload totals).
type Totals struct {
	ElapsedS    float64 `json:"elapsed_s"`
	TimerS      float64 `json:"timer_s"`
	MovingS     float64 `json:"moving_s"`
	DistanceM   float64 `json:"distance_m"`
	AscentM     float64 `json:"ascent_m"`
	DescentM    float64 `json:"descent_m"`
	AvgSpeedMps float64 `json:"avg_speed_mps"`
	MaxSpeedMps float64 `json:"max_speed_mps"`
	AvgHR       float64 `json:"avg_hr,omitempty"`
	MaxHR       float64 `json:"max_hr,omitempty"`
	Calories    float64 `json:"calories"`
}

// Metrics are the detailed figures of an activity.
type Metrics struct {
	AvgPaceSPerKm    float64           `json:"avg_pace_s_per_km,omitempty"` // foot sports
	ElevationProfile string            `json:"elevation_profile,omitempty"` // "smooth" (barometric or device-filtered) or "noisy" (raw GPS)
	MinAltitudeM     *float64          `json:"min_altitude_m,omitempty"`
	MaxAltitudeM     *float64          `json:"max_altitude_m,omitempty"`
	SplitsKm         []Split           `json:"splits_km,omitempty"`
	SplitsMile       []Split           `json:"splits_mile,omitempty"`
	Laps             []LapSummary      `json:"laps,omitempty"`
	HeartRate        *HeartRateMetrics `json:"heart_rate,omitempty"`
	Cadence          *CadenceMetrics   `json:"cadence,omitempty"`
	Power            *PowerMetrics     `json:"power,omitempty"`
	TrainingLoad     *TrainingLoad     `json:"training_load,omitempty"`
	BestEfforts      []BestEffort      `json:"best_efforts,omitempty"`
	CaloriesMethod   string            `json:"calories_method"` // "device", "heart_rate" or "met"
	PoolLengths      int               `json:"pool_lengths,omitempty"`
	AthleteDefaults  []string          `json:"athlete_defaults,omitempty"` // Athlete fields that took a default
}

// Split is one kilometre or one mile of the activity.
type Split struct {
	Index           int     `json:"index"` // 1-based
	DistanceM       float64 `json:"distance_m"`
	ElapsedS        float64 `json:"elapsed_s"` // timer time taken, pauses excluded
	AvgSpeedMps     float64 `json:"avg_speed_mps"`
	AvgHR           float64 `json:"avg_hr,omitempty"`
	ElevationDeltaM float64 `json:"elevation_delta_m"`
}

// LapSummary is a lap as the file declares it, in SI units.
type LapSummary struct {
	Index       int       `json:"index"` // 1-based
	StartTime   time.Time `json:"start_time"`
	ElapsedS    float64   `json:"elapsed_s,omitempty"`
	TimerS      float64   `json:"timer_s,omitempty"`
	DistanceM   float64   `json:"distance_m,omitempty"`
	AvgSpeedMps float64   `json:"avg_speed_mps,omitempty"`
	MaxSpeedMps float64   `json:"max_speed_mps,omitempty"`
	AvgHR       float64   `json:"avg_hr,omitempty"`
	MaxHR       float64   `json:"max_hr,omitempty"`
	AvgPower    float64   `json:"avg_power,omitempty"`
	AvgCadence  float64   `json:"avg_cadence,omitempty"`
	Calories    float64   `json:"calories,omitempty"`
	Trigger     string    `json:"trigger,omitempty"`
}

// HeartRateMetrics are heart-rate zones computed with the athlete's heart
// rate reserve (Karvonen).
type HeartRateMetrics struct {
	MaxHRUsed     float64  `json:"max_hr_used"`
	RestingHRUsed float64  `json:"resting_hr_used"`
	Zones         []HRZone `json:"zones"`
}

// HRZone is time spent in one heart-rate zone.
type HRZone struct {
	Zone    int     `json:"zone"` // 1..5
	MinBPM  float64 `json:"min_bpm"`
	MaxBPM  float64 `json:"max_bpm"`
	Seconds float64 `json:"seconds"`
}

// CadenceMetrics: steps/min for foot sports, rpm for cycling, strokes/min
// for paddling and swimming.
type CadenceMetrics struct {
	Avg  float64 `json:"avg"` // time-weighted over non-zero samples
	Max  float64 `json:"max"`
	Unit string  `json:"unit"` // "spm", "rpm" or "strokes_per_min"

	factor float64 // raw cadence × factor = reported unit
}

// PowerMetrics are computed from the power stream.
type PowerMetrics struct {
	Avg             float64     `json:"avg"` // W, timer time, zeros included
	Max             float64     `json:"max"`
	Normalized      float64     `json:"normalized"` // NP, W
	IntensityFactor float64     `json:"intensity_factor"`
	TSS             float64     `json:"tss"`
	FTPUsed         float64     `json:"ftp_used"`
	Best            []BestPower `json:"best,omitempty"`
}

// BestPower is the highest average power over a duration.
type BestPower struct {
	DurationS    int     `json:"duration_s"`
	Watts        float64 `json:"watts"`
	StartOffsetS float64 `json:"start_offset_s"`
}

// TrainingLoad is the physiological cost of the activity from heart rate.
type TrainingLoad struct {
	TRIMP float64 `json:"trimp"`  // Banister
	HRTSS float64 `json:"hr_tss"` // TRIMP relative to one hour at threshold, ×100
}

// BestEffort is the fastest time over a standard distance within a run.
type BestEffort struct {
	Name         string  `json:"name"`
	DistanceM    float64 `json:"distance_m"`
	ElapsedS     float64 `json:"elapsed_s"`
	StartOffsetS float64 `json:"start_offset_s"`
}

// Streams are the cleaned point columns, aligned by index, for storage and
// for charts. A column is nil when the activity has no such data; inside a
// column, a missing sample is NaN (LatLng: both NaN).
type Streams struct {
	Time      []float64    // seconds since Analysis.StartTime
	LatLng    [][2]float64 // degrees
	Altitude  []float64    // m
	HeartRate []float64    // bpm
	Cadence   []float64    // spm or rpm, as Metrics.Cadence.Unit
	Watts     []float64    // W
	Velocity  []float64    // m/s
	Distance  []float64    // m, cumulative
}

// Analyze computes the metrics of a cleaned Recording (from Parse or
// FromJSON) for an athlete. It never fails: missing data just leaves the
// corresponding metrics empty. For a multisport recording the result has one
// child per session, and totals over them.
func Analyze(rec *Recording, ath Athlete) *Analysis {
	if len(rec.Children) > 0 {
		return analyzeMultisport(rec, ath)
	}
	return analyze(rec, ath, time.Time{})
}

// analyze analyses one session; next is the first point of the following
// session in a multisport recording, zero otherwise (see buildSeries).
func analyze(rec *Recording, ath Athlete, next time.Time) *Analysis {
	a := &Analysis{Sport: rec.Sport, SubSport: rec.SubSport, StartTime: rec.StartTime}
	info := rec.Sport.Info()
	a.Indoor, a.Virtual = info.Indoor, info.Virtual
	athlete := ath.resolve(rec.StartTime)
	a.Metrics.AthleteDefaults = athlete.defaults

	s := buildSeries(rec, next)
	t := &a.FromPoints
	t.ElapsedS = s.elapsedS
	t.TimerS = s.timerS
	t.MovingS = s.movingS
	t.DistanceM = s.distanceM
	t.MaxSpeedMps = s.maxSpeed
	if t.TimerS > 0 {
		t.AvgSpeedMps = t.DistanceM / t.TimerS
	}
	elev := computeElevation(rec.Points, s)
	t.AscentM, t.DescentM = elev.ascent, elev.descent
	a.Metrics.ElevationProfile = elev.profile
	if elev.has {
		a.Metrics.MinAltitudeM, a.Metrics.MaxAltitudeM = ptr(elev.min), ptr(elev.max)
	}
	t.AvgHR, t.MaxHR = heartRateAverages(rec.Points, s)

	// Reported figures: the device's where it has them.
	a.Sources = map[string]string{}
	sum := rec.Summary
	pick := func(name string, device, computed float64) float64 {
		if Has(device) {
			a.Sources[name] = "device"
			return device
		}
		return computed
	}
	a.ElapsedS = pick("elapsed_s", positive(sum.ElapsedS), t.ElapsedS)
	a.TimerS = pick("timer_s", positive(sum.TimerS), t.TimerS)
	a.MovingS = min(t.MovingS, a.TimerS)
	if t.MovingS == 0 {
		a.MovingS = a.TimerS
	}
	a.DistanceM = pick("distance_m", sum.DistanceM, t.DistanceM)
	a.AscentM = pick("ascent_m", sum.AscentM, t.AscentM)
	a.DescentM = pick("descent_m", sum.DescentM, t.DescentM)
	a.MaxSpeedMps = pick("max_speed_mps", sum.MaxSpeed, t.MaxSpeedMps)
	a.AvgHR = pick("avg_hr", positive(sum.AvgHR), t.AvgHR)
	a.MaxHR = pick("max_hr", positive(sum.MaxHR), t.MaxHR)
	if a.TimerS > 0 {
		a.AvgSpeedMps = a.DistanceM / a.TimerS
	}
	if Has(sum.AvgSpeed) && sum.AvgSpeed > 0 {
		a.AvgSpeedMps = sum.AvgSpeed
		a.Sources["avg_speed_mps"] = "device"
	}
	a.EndTime = a.StartTime.Add(time.Duration(a.ElapsedS * float64(time.Second)))
	// Heart rate zones and load, cadence, power.
	a.Metrics.HeartRate = heartRateZones(rec.Points, s, athlete)
	a.Metrics.TrainingLoad = trainingLoad(rec.Points, s, athlete)
	a.Metrics.Cadence = cadenceMetrics(rec.Points, s, info.Family)
	a.Metrics.Power = powerMetrics(rec.Points, s, athlete.ftp, info.Family)

	// Calories: device, else heart rate, else MET.
	t.Calories, a.Metrics.CaloriesMethod = estimateCalories(rec.Points, s, athlete, info, t.TimerS)
	if Has(sum.Calories) && sum.Calories > 0 {
		a.Calories = sum.Calories
		a.Sources["calories"] = "device"
		a.Metrics.CaloriesMethod = "device"
	} else {
		a.Calories = t.Calories
	}

	if info.Family == FamilyFoot && a.AvgSpeedMps > 0 {
		a.Metrics.AvgPaceSPerKm = 1000 / a.AvgSpeedMps
	}
	a.Metrics.SplitsKm = splits(rec.Points, s, 1000)
	a.Metrics.SplitsMile = splits(rec.Points, s, 1609.344)
	a.Metrics.Laps = lapSummaries(rec.Laps)
	if info.Family == FamilyFoot {
		a.Metrics.BestEfforts = bestEfforts(s)
	}
	a.Metrics.PoolLengths = rec.Lengths

	route := buildRoute(rec.Points)
	a.Polyline, a.BBox, a.StartLatLng, a.EndLatLng = route.polyline, route.bbox, route.start, route.end
	// A virtual activity's positions are in a game world (Zwift's Watopia
	// lies in the Pacific): they say nothing of where the athlete was.
	startPos := a.StartLatLng
	if info.Virtual {
		startPos = nil
	}
	if lt := resolveLocalTime(rec, a.StartTime, startPos, ath.TimeZone); lt.hasOffset {
		off := lt.offsetS
		a.UTCOffsetS = &off
		a.LocalStartTime = a.StartTime.In(time.FixedZone("", off)).Format(time.RFC3339)
		a.TimeZone, a.TimeZoneSource = lt.zone, lt.source
	}
	a.Streams = buildStreams(rec.Points, s, a.Metrics.Cadence)
	if len(a.Sources) == 0 {
		a.Sources = nil
	}
	return a
}

func positive(v float64) float64 {
	if Has(v) && v > 0 {
		return v
	}
	return Missing
}

func ptr(v float64) *float64 { return &v }

// analyzeMultisport analyses every session and sums them: distance, times,
// ascent and calories add up, heart rate is averaged weighted by timer time.
func analyzeMultisport(rec *Recording, ath Athlete) *Analysis {
	a := &Analysis{Sport: SportMultisport, StartTime: rec.StartTime}
	var hrWeighted, hrTime, ptsHRWeighted, ptsHRTime float64
	var pts []Point
	for i, c := range rec.Children {
		var next time.Time
		if i+1 < len(rec.Children) && len(rec.Children[i+1].Points) > 0 {
			next = rec.Children[i+1].Points[0].Time
		}
		var ca *Analysis
		if len(c.Children) > 0 {
			ca = analyzeMultisport(c, ath)
		} else {
			ca = analyze(c, ath, next)
		}
		a.Children = append(a.Children, ca)
		a.TimerS += ca.TimerS
		a.MovingS += ca.MovingS
		a.DistanceM += ca.DistanceM
		a.AscentM += ca.AscentM
		a.DescentM += ca.DescentM
		a.Calories += ca.Calories
		a.MaxSpeedMps = math.Max(a.MaxSpeedMps, ca.MaxSpeedMps)
		a.MaxHR = math.Max(a.MaxHR, ca.MaxHR)
		if ca.AvgHR > 0 {
			hrWeighted += ca.AvgHR * ca.TimerS
			hrTime += ca.TimerS
		}
		if ca.FromPoints.AvgHR > 0 {
			ptsHRWeighted += ca.FromPoints.AvgHR * ca.FromPoints.TimerS
			ptsHRTime += ca.FromPoints.TimerS
		}
		f := &a.FromPoints
		f.TimerS += ca.FromPoints.TimerS
		f.MovingS += ca.FromPoints.MovingS
		f.DistanceM += ca.FromPoints.DistanceM
		f.AscentM += ca.FromPoints.AscentM
		f.DescentM += ca.FromPoints.DescentM
		f.Calories += ca.FromPoints.Calories
		f.MaxSpeedMps = math.Max(f.MaxSpeedMps, ca.FromPoints.MaxSpeedMps)
		f.MaxHR = math.Max(f.MaxHR, ca.FromPoints.MaxHR)
		pts = append(pts, c.Points...)
	}
	if n := len(a.Children); n > 0 {
		first, last := a.Children[0], a.Children[n-1]
		a.StartTime = first.StartTime
		a.EndTime = last.EndTime
		a.ElapsedS = a.EndTime.Sub(a.StartTime).Seconds()
		a.FromPoints.ElapsedS = a.ElapsedS
		a.UTCOffsetS, a.LocalStartTime = first.UTCOffsetS, first.LocalStartTime
		a.TimeZone, a.TimeZoneSource = first.TimeZone, first.TimeZoneSource
	}
	if hrTime > 0 {
		a.AvgHR = hrWeighted / hrTime
	}
	if ptsHRTime > 0 {
		a.FromPoints.AvgHR = ptsHRWeighted / ptsHRTime
	}
	if a.TimerS > 0 {
		a.AvgSpeedMps = a.DistanceM / a.TimerS
	}
	if a.FromPoints.TimerS > 0 {
		a.FromPoints.AvgSpeedMps = a.FromPoints.DistanceM / a.FromPoints.TimerS
	}
	a.Metrics.CaloriesMethod = "sum_of_sessions"
	route := buildRoute(pts)
	a.Polyline, a.BBox, a.StartLatLng, a.EndLatLng = route.polyline, route.bbox, route.start, route.end
	a.Streams = concatStreams(a.StartTime, a.Children)
	return a
}
